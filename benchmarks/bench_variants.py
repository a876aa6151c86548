"""Every attention operation trained on both tasks: the variants grid serially and on a 2-worker LocalCluster.

Run from the repository root: ``python -m benchmarks.bench_variants`` (not a test: timings depend on
the machine and its load; ``--quick``: four operations, 100 steps). The table goes to
benchmarks/results/variants.json. The subset is one seed of the default grid
(:data:`sinkcheck.sweep.variants.DEFAULT_GRID`: every built-in operation x both tasks x 1 and 2
heads, seed 0, each task at its default steps), a third of it; it is trained twice in the same run
through :func:`sinkcheck.sweep.variants.run_grid`, each into a fresh store (whose database records
every run's time): serially in-process (``workers=1``) and with ``workers=2`` (cluster startup
included). Printed:

- the speed-up, serial time / 2-worker time (goal >= 1.7 on 2 cores);
- per operation and task, the mean time of one run (serial, over the two head counts);
- the default grid's estimated time with 2 workers, 3 x the subset's (it has 3 seeds), against
  the goal of 15 minutes;
- whether the two runs' results are identical;
- the machine's 1-minute load average before and after each run (other processes on the same
  cores slow the 2-worker run more than the serial one).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks import record
from sinkcheck.runtime.db import ResultsDB
from sinkcheck.sweep import variants as SV

QUICK = ("softmax", "sink_logit", "sigmoid_bias", "gated_elem")
"""The operations of ``--quick``."""

LOADS: list[tuple[float, float]] = []
"""The 1-minute load average before and after each timed run."""


def timed(store: Path, **kw) -> tuple[float, list[dict], dict]:
    """Wall time, the results, and each run's own time by (operation, task) from the store's database."""
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    runs = SV.run_grid(store=store, progress=False, **kw)
    elapsed = time.perf_counter() - t0
    LOADS.append((load, os.getloadavg()[0]))
    times = defaultdict(list)
    with ResultsDB(store) as db:
        for row in db.rows():
            times[(row["params"]["attention"], row["params"]["task"])].append(row["wall_time"])
    return elapsed, runs, times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="four operations, 100 steps")
    args = ap.parse_args()
    kw = {"ops": QUICK, "steps": 100} if args.quick else {}
    kw["seeds"] = (0,)
    root = Path(tempfile.mkdtemp(prefix="bench-variants-"))
    t_serial, serial, times = timed(root / "serial", workers=1, **kw)
    t_cluster, cluster, _ = timed(root / "cluster", workers=2, **kw)
    speedup = t_serial / t_cluster
    estimate = 3 * t_cluster  # the default grid: 3 seeds of this subset
    same = serial == cluster
    rows = [[op, task, f"{statistics.mean(ts):.2f} s", f"{max(ts):.2f} s"] for (op, task), ts in times.items()]
    rows += [["all (serial, workers=1)", f"{len(serial)} runs", f"{t_serial:.1f} s", "—"],
             ["all (workers=2, startup included)", f"{len(cluster)} runs", f"{t_cluster:.1f} s", "—"]]
    notes = [f"{'met' if speedup >= 1.7 else 'MISSED'}: speed-up serial / 2 workers {speedup:.2f} >= 1.7",
             f"{'met' if estimate < 900 else 'MISSED'}: the default grid (3 seeds) with 2 workers, estimated "
             f"3 x {t_cluster:.1f} s = {estimate / 60:.1f} min < 15 min" + (" (--quick: 100 steps)" if args.quick else ""),
             f"{'met' if same else 'MISSED'}: the two runs' results are identical",
             "load average (1 min) before / after: serial {:.2f} / {:.2f}, 2 workers {:.2f} / {:.2f}".format(
                 *LOADS[0], *LOADS[1])]
    for r in rows:
        print(" | ".join(r))
    print("\n".join(notes))
    record.write("variants", "Attention operations on both tasks, serial against 2 workers",
                 "python -m benchmarks.bench_variants" + (" --quick" if args.quick else ""),
                 ["operation", "task", "mean time of one run (serial) / total", "slowest run"], rows, notes)
    return 0 if speedup >= 1.7 and estimate < 900 and same else 1


if __name__ == "__main__":
    sys.exit(main())
