"""Span reduction pays: the r x r program costs the same at every d; the naive d x d one does not.

Run from the repository root: ``python -m benchmarks.bench_span_reduction`` (not a test: timings
depend on the machine; ``--quick``: d = 16, 32, 64, 1024, one run each). One instance family
(C = 2, n = 2, r_eta = 2, lam = 1, seed 0) is solved at d = 16 ... 4096 with the reduced program
and, at d <= 32 only, with the naive one (the baseline, in the same run); the two certified
brackets [opt_lower, opt] must overlap, and the reduced time at the largest d must stay within
twice its time at d = 64 (median of 5 runs, solver time plus set-up). Two nuisance scales:
delta = sqrt(d) / 4, where the instance has the same Gram matrix (up to the factor d) at every d so
only the size changes, and delta = 1, where the geometry changes with d as in the bounds. The table
goes to benchmarks/results/span_reduction.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from benchmarks import record
from sinkcheck.construct.sinkdiag.min_cost import min_cost
from sinkcheck.construct.sinkdiag.instance import sample_instance


NAIVE_MAX_D = 32
"""The naive program's PSD cone has (2d)(2d+1)/2 entries: at d = 64 it already needs GBs."""

COLUMNS = ["nuisance", "pattern", "d", "reduced OPT", "reduced", "naive OPT", "naive", "brackets overlap"]
"""The table's columns."""


def timed(inst, pattern, reduce, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sol = min_cost(inst, pattern, reduce=reduce)
        times.append(time.perf_counter() - t0)
    return sol, statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="d = 16, 32, 64, 1024, one run each")
    args = ap.parse_args()
    ds, runs = ((16, 32, 64, 1024), 1) if args.quick else ((16, 32, 64, 256, 1024, 4096), 5)
    ok, rows, notes = True, [], []
    for mode in ("delta = sqrt(d)/4", "delta = 1"):
        for pattern in ("sink", "diag"):
            reduced = {}
            for d in ds:
                delta = np.sqrt(d) / 4 if mode.startswith("delta = sqrt") else 1.0
                inst = sample_instance(d, 2, 2, 2, 1.0, 1.0, seed=0, delta=delta)
                sol, sec = timed(inst, pattern, True, runs)
                reduced[d] = sec
                cells = [mode, pattern, str(d), f"{sol.opt:.9g}", f"{sec:.3f} s", "—", "—", "—"]
                if d <= NAIVE_MAX_D:
                    nsol, nsec = timed(inst, pattern, False, runs)
                    agree = sol.opt_lower <= nsol.opt and nsol.opt_lower <= sol.opt  # certified brackets overlap
                    ok &= agree
                    cells[5:] = [f"{nsol.opt:.9g}", f"{nsec:.3f} s", "yes" if agree else "NO"]
                rows.append(cells)
                print(" | ".join(cells), flush=True)
            top = ds[-1]
            flat = reduced[top] <= 2 * reduced[64]
            ok &= flat
            notes.append(f"{'met' if flat else 'MISSED'}: {mode}, {pattern}: reduced time(d = {top}) / time(d = 64) = "
                         f"{reduced[top] / reduced[64]:.2f} <= 2")
            print(notes[-1])
    record.write("span_reduction", "Span reduction: the r x r program against the naive d x d one",
                 "python -m benchmarks.bench_span_reduction" + (" --quick" if args.quick else ""), COLUMNS, rows, notes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
