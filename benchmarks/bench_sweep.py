"""The sweep engine: 200 Section 7 tasks (C <= 6) serially and on a 2-worker LocalCluster.

Run from the repository root: ``python -m benchmarks.bench_sweep`` (not a test: timings depend on
the machine and its load; ``--quick``: 40 tasks). The table goes to benchmarks/results/sweep.json. One random SPEC of 200 sinkdiag tasks (C 1..6, d 16..64, r_eta 1..3,
n 2..3, lambda log-uniform in [0.1, 20], H1/H2/fallback on and off) is swept twice into fresh
directories, in the same run: serially in-process (``--workers 0``) and on an embedded LocalCluster
of 2 single-threaded worker processes. The cluster is started and its workers import sinkcheck
before the clock starts (startup is printed separately). Printed:

- the speed-up, serial sweep time / cluster sweep time (goal >= 1.7 on 2 cores);
- the per-task overhead of the engine: for the serial run, (sweep time - sum of task times) / 200
  (database commit, counterexample file, bookkeeping); for the cluster, (2 x sweep time - sum of
  task times) / 200 (also scheduling, transfer and idle workers at the end); each as a share of the
  median task time (goal <= 5 %);
- whether the two exports are byte-identical.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import record
from sinkcheck.runtime import engine
from sinkcheck.runtime.db import ResultsDB
from sinkcheck.sweep.resume import run_sweep
from sinkcheck.sweep.spec import parse

SPEC = {"kind": "sinkdiag", "seed": 0, "random": 200, "parameters": {
    "C": {"range": [1, 6]}, "d": {"range": [16, 64]}, "r_eta": {"range": [1, 3]}, "n": [2, 3],
    "lam": {"range": [0.1, 20.0], "log": True}, "centred": [True, False], "equal_norms": [True, False],
    "fallback": [True, False]}}


def timed_sweep(spec_dict: dict, out: Path, **kw) -> tuple[float, list[float]]:
    """Sweep time and the task times the database recorded."""
    spec = parse(spec_dict)
    t0 = time.perf_counter()
    run_sweep(spec, out, **kw)
    elapsed = time.perf_counter() - t0
    with ResultsDB(out) as db:
        return elapsed, [r["wall_time"] for r in db.rows()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 tasks instead of 200")
    args = ap.parse_args()
    spec = SPEC | {"random": 40} if args.quick else SPEC
    root = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    n = len(parse(spec).tasks)
    t_serial, w_serial = timed_sweep(spec, root / "serial", workers=0)
    t0 = time.perf_counter()
    with engine.session(workers=2) as client:
        client.run(lambda: __import__("sinkcheck.sweep.kinds") and __import__("sinkcheck.evaluate.sinkdiag_eval"))
        startup = time.perf_counter() - t0
        t_cluster, w_cluster = timed_sweep(spec, root / "cluster", client=client)
    median = statistics.median(w_serial)
    over_serial = (t_serial - sum(w_serial)) / n
    over_cluster = (2 * t_cluster - sum(w_cluster)) / n
    same = (root / "serial" / "rows.jsonl").read_bytes() == (root / "cluster" / "rows.jsonl").read_bytes()
    speedup = t_serial / t_cluster
    rows = [["serial (--workers 0)", f"{t_serial:.2f} s", "—", f"{sum(w_serial):.2f} s",
             f"{over_serial * 1e3:.2f} ms ({100 * over_serial / median:.1f} %)"],
            ["LocalCluster, 2 workers", f"{t_cluster:.2f} s", f"{startup:.2f} s", f"{sum(w_cluster):.2f} s",
             f"{over_cluster * 1e3:.2f} ms ({100 * over_cluster / median:.1f} %)"]]
    ok = same and speedup >= 1.7 and over_serial <= 0.05 * median
    notes = [f"{n} tasks; median task {median * 1e3:.1f} ms",
             f"{'met' if speedup >= 1.7 else 'MISSED'}: speed-up serial / cluster {speedup:.2f} >= 1.7 "
             f"(with startup {t_serial / (t_cluster + startup):.2f})",
             f"{'met' if over_serial <= 0.05 * median else 'MISSED'}: serial overhead per task <= 5 % of the median task",
             f"{'met' if same else 'MISSED'}: the two exports are byte-identical"]
    for r in rows:
        print(" | ".join(r))
    print("\n".join(notes))
    record.write("sweep", "The sweep engine, serial against a 2-worker LocalCluster",
                 "python -m benchmarks.bench_sweep" + (" --quick" if args.quick else ""),
                 ["run", "sweep time", "cluster startup", "sum of task times", "engine overhead per task (share of median)"],
                 rows, notes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
