"""The sweep engine: 200 Section 7 tasks (C <= 6) serially and on a 2-worker LocalCluster.

Run from the repository root: ``python benchmarks/bench_sweep.py`` (not a test: timings depend on
the machine and its load). One random SPEC of 200 sinkdiag tasks (C 1..6, d 16..64, r_eta 1..3,
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

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sinkcheck.runtime import engine
from sinkcheck.runtime.db import ResultsDB
from sinkcheck.sweep.resume import run_sweep
from sinkcheck.sweep.spec import parse

SPEC = {"kind": "sinkdiag", "seed": 0, "random": 200, "parameters": {
    "C": {"range": [1, 6]}, "d": {"range": [16, 64]}, "r_eta": {"range": [1, 3]}, "n": [2, 3],
    "lam": {"range": [0.1, 20.0], "log": True}, "centred": [True, False], "equal_norms": [True, False],
    "fallback": [True, False]}}


def timed_sweep(out: Path, **kw) -> tuple[float, list[float]]:
    """Sweep time and the task times the database recorded."""
    spec = parse(SPEC)
    t0 = time.perf_counter()
    run_sweep(spec, out, **kw)
    elapsed = time.perf_counter() - t0
    with ResultsDB(out) as db:
        return elapsed, [r["wall_time"] for r in db.rows()]


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    n = len(parse(SPEC).tasks)
    t_serial, w_serial = timed_sweep(root / "serial", workers=0)
    t0 = time.perf_counter()
    with engine.session(workers=2) as client:
        client.run(lambda: __import__("sinkcheck.sweep.kinds") and __import__("sinkcheck.evaluate.sinkdiag_eval"))
        startup = time.perf_counter() - t0
        t_cluster, w_cluster = timed_sweep(root / "cluster", client=client)
    median = statistics.median(w_serial)
    over_serial = (t_serial - sum(w_serial)) / n
    over_cluster = (2 * t_cluster - sum(w_cluster)) / n
    same = (root / "serial" / "rows.jsonl").read_bytes() == (root / "cluster" / "rows.jsonl").read_bytes()
    speedup = t_serial / t_cluster
    print(f"{n} tasks; median task {median * 1e3:.1f} ms, sum of task times {sum(w_serial):.2f} s (serial), "
          f"{sum(w_cluster):.2f} s (cluster)")
    print(f"serial (--workers 0): {t_serial:.2f} s; engine overhead per task {over_serial * 1e3:.2f} ms "
          f"= {100 * over_serial / median:.1f} % of the median task")
    print(f"LocalCluster, 2 workers: {t_cluster:.2f} s (+ {startup:.2f} s startup); overhead per task "
          f"{over_cluster * 1e3:.2f} ms = {100 * over_cluster / median:.1f} % of the median task")
    print(f"speed-up {speedup:.2f} (goal >= 1.7); with startup {t_serial / (t_cluster + startup):.2f}; "
          f"exports byte-identical: {same}")
    return 0 if same and speedup >= 1.7 and over_serial <= 0.05 * median else 1


if __name__ == "__main__":
    sys.exit(main())
