"""Span reduction pays: the r x r program costs the same at every d; the naive d x d one does not.

Run from the repository root: ``python benchmarks/bench_span_reduction.py`` (not a test: timings
depend on the machine). One instance family (C = 2, n = 2, r_eta = 2, lam = 1, seed 0) is solved
at d = 16 ... 4096 with the reduced program and, at d <= 32 only, with the naive one; the two
certified brackets [opt_lower, opt] must overlap, and the reduced time at d = 4096 must stay within twice
its time at d = 64 (median of 5 runs, solver time plus set-up). Two nuisance scales: delta = sqrt(d) / 4, where
the instance has the same Gram matrix (up to the factor d) at every d so only the size changes,
and delta = 1, where the geometry changes with d as in the bounds.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from sinkcheck.construct.sinkdiag.min_cost import min_cost
from sinkcheck.construct.sinkdiag.instance import sample_instance


NAIVE_MAX_D = 32
"""The naive program's PSD cone has (2d)(2d+1)/2 entries: at d = 64 it already needs GBs."""


def timed(inst, pattern, reduce):
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        sol = min_cost(inst, pattern, reduce=reduce)
        runs.append(time.perf_counter() - t0)
    return sol, statistics.median(runs)


def main() -> int:
    ok = True
    for mode in ("delta = sqrt(d)/4", "delta = 1"):
        print(f"-- nuisance scale {mode}")
        for pattern in ("sink", "diag"):
            reduced = {}
            for d in (16, 32, 64, 256, 1024, 4096):
                delta = np.sqrt(d) / 4 if mode.startswith("delta = sqrt") else 1.0
                inst = sample_instance(d, 2, 2, 2, 1.0, 1.0, seed=0, delta=delta)
                sol, sec = timed(inst, pattern, True)
                opt = sol.opt
                reduced[d] = sec
                line = f"{pattern:4s} d={d:5d} reduced OPT={opt:.9g} time={sec:.3f}s"
                if d <= NAIVE_MAX_D:
                    nsol, nsec = timed(inst, pattern, False)
                    nopt = nsol.opt
                    agree = sol.opt_lower <= nopt and nsol.opt_lower <= opt  # certified brackets overlap
                    ok &= agree
                    line += f" | naive OPT={nopt:.9g} time={nsec:.3f}s agree={agree}"
                print(line, flush=True)
            flat = reduced[4096] <= 2 * reduced[64]
            ok &= flat
            print(f"{pattern}: time(4096) / time(64) = {reduced[4096] / reduced[64]:.2f} (<= 2: {flat})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
