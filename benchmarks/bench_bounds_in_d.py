"""The path of ``sinkcheck bounds`` is flat in d: evaluate() at d = 16384 within 1.3x of d = 64.

Run from the repository root: ``python benchmarks/bench_bounds_in_d.py`` (not a test: timings depend
on the machine). One instance family (C = 4, n = 3, r_eta = 6, lam = 1, seed 0) is evaluated
(both minimum-cost programs, both constructions, the four bounds) at d = 64 ... 16384, median of
3 runs each. The baseline, in the same run, is the r_eff of the code before issue #19: the spectrum
of the d x d matrix Sigma_D (it is kept here only, as the benchmark's baseline).
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from sinkcheck.construct.sinkdiag.instance import sample_instance
from sinkcheck.verify.measure.sinkdiag_eval import evaluate


def median_time(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def dense_r_eff(inst) -> float:
    """The baseline: r_eff from eigvalsh of the d x d Sigma_D."""
    ev = np.linalg.eigvalsh(inst.Sigma_D)
    return float(ev.sum() / ev[-1])


def main() -> int:
    rows = []
    for d in (64, 1024, 4096, 16384):
        inst = sample_instance(d=d, C=4, n=3, r_eta=6, lam=1.0, kappa=1.0, seed=0)
        t = median_time(lambda: evaluate(inst, True))
        base = median_time(lambda: dense_r_eff(inst), runs=1) if d <= 4096 else float("nan")
        rows.append((d, t, base))
        print(f"d = {d:6d}: evaluate {t:7.3f} s; baseline r_eff alone (d x d spectrum) {base:7.3f} s", flush=True)
    ratio = rows[-1][1] / rows[0][1]
    print(f"evaluate at d = 16384 / at d = 64: {ratio:.2f} (goal <= 1.3)")
    return 0 if ratio <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
