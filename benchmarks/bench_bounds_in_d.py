"""``sinkcheck bounds`` is flat in d: the command at d = 16384 within 1.3x of d = 64 (issue #19).

Run from the repository root: ``python benchmarks/bench_bounds_in_d.py`` (not a test: timings depend
on the machine). One instance family (C = 4, n = 3, r_eta = 6, lam = 1, seed 0) at d = 64 ... 16384.

Two goals, both checked in one run (exit status 1 when either is missed):

- the command: the wall time of ``sinkcheck bounds --d D --C 4 --n 3 --r-eta 6 --no-progress`` in a
  new process (imports included, as issue #19 timed it), median of 3 runs, at d = 16384 within 1.3x
  of d = 64;
- the code path: the time of evaluate() (both minimum-cost programs, both constructions, the four
  bounds) outside the two solves, median of 3 runs, at d = 16384 within OUTSIDE_GROWTH seconds of
  d = 64. These are the steps whose cost grows with d; the solves' own times are as min_cost
  records them.

evaluate()'s own ratio is printed too, with the spread of the diagonal program and the solver that
certified it: the spread grows as sqrt(d), and above min_cost.BADLY_SCALED the diagonal program is
solved Clarabel first, which at this size takes longer than SCS at d = 64 (docs/sink_vs_diagonal.md).
The baseline, in the same run, is the r_eff of the code before issue #19: the spectrum of the d x d
matrix Sigma_D (it is kept here only, as the benchmark's baseline).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np

from sinkcheck.solvers import ladder as margin_program
from sinkcheck.construct.sinkdiag.min_cost import min_cost, scaled_program
from sinkcheck.construct.sinkdiag.instance import sample_instance
from sinkcheck.evaluate import sinkdiag_eval
from sinkcheck.evaluate.sinkdiag_eval import evaluate


GOAL = 1.3
OUTSIDE_GROWTH = 0.05  # seconds


def median_time(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def evaluate_timed(inst) -> tuple[float, float, str]:
    """Median over 3 runs of evaluate()'s wall time and of its time outside the two solves
    (margin_program.solve, as each solve records it), and the solver of the diagonal program."""
    solves = []

    def recorded(*args, **kwargs):
        sol = min_cost(*args, **kwargs)
        solves.append(sol)
        return sol

    sinkdiag_eval.min_cost = recorded
    try:
        total, outside = [], []
        for _ in range(3):
            solves.clear()
            t0 = time.perf_counter()
            evaluate(inst, True)
            total.append(time.perf_counter() - t0)
            outside.append(total[-1] - sum(s.seconds for s in solves))
    finally:
        sinkdiag_eval.min_cost = min_cost
    return statistics.median(total), statistics.median(outside), solves[-1].solver


def command_time(d: int) -> float:
    """Median over 3 runs of the wall time of ``sinkcheck bounds`` on the family at this d, in a new process."""
    cmd = [sys.executable, "-m", "sinkcheck", "bounds", "--d", str(d), "--C", "4", "--n", "3", "--r-eta", "6",
           "--no-progress"]
    return median_time(lambda: subprocess.run(cmd, check=True, capture_output=True))


def dense_r_eff(inst) -> float:
    """The baseline: r_eff from eigvalsh of the d x d Sigma_D."""
    ev = np.linalg.eigvalsh(inst.Sigma_D)
    return float(ev.sum() / ev[-1])


def main() -> int:
    rows = []
    for d in (64, 1024, 4096, 16384):
        inst = sample_instance(d=d, C=4, n=3, r_eta=6, lam=1.0, kappa=1.0, seed=0)
        cmd = command_time(d)
        t, outside, diag_solver = evaluate_timed(inst)
        base = median_time(lambda: dense_r_eff(inst), runs=1) if d <= 4096 else float("nan")
        _, Z, cons = scaled_program(inst, "diag")
        rows.append((cmd, t, outside))
        print(f"d = {d:6d}: sinkcheck bounds {cmd:6.2f} s; evaluate {t:6.3f} s ({outside:6.3f} s outside the "
              f"solves; diag spread {margin_program.spread(Z, cons):5.1f}, certified by {diag_solver}); "
              f"baseline r_eff alone (d x d spectrum) {base:7.3f} s", flush=True)
    (cmd0, t0, out0), (cmd1, t1, out1) = rows[0], rows[-1]
    print(f"sinkcheck bounds at d = 16384 / at d = 64: {cmd1 / cmd0:.2f} (goal <= {GOAL})")
    print(f"evaluate outside the solves, d = 16384 minus d = 64: {out1 - out0:.3f} s (goal <= {OUTSIDE_GROWTH} s)")
    print(f"evaluate at d = 16384 / at d = 64: {t1 / t0:.2f} (no goal: the diagonal program's solver differs)")
    return 0 if cmd1 / cmd0 <= GOAL and out1 - out0 <= OUTSIDE_GROWTH else 1


if __name__ == "__main__":
    sys.exit(main())
