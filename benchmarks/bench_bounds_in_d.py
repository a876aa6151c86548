"""``sinkcheck bounds`` is flat in d: the command at d = 16384 within 1.3x of d = 64 (issue #19).

Run from the repository root: ``python -m benchmarks.bench_bounds_in_d`` (not a test: timings depend
on the machine; ``--quick``: d = 64 and 4096, one run each, the goals then read at d = 4096). One
instance family (C = 4, n = 3, r_eta = 6, lam = 1, seed 0) at d = 64 ... 16384. The table goes to
benchmarks/results/bounds_in_d.json.

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

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np

from benchmarks import record
from sinkcheck.solvers.program import spread
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


def evaluate_timed(inst, runs: int = 3) -> tuple[float, float, str]:
    """Median over ``runs`` runs of evaluate()'s wall time and of its time outside the two solves
    (as each min_cost call records it), and the solver of the diagonal program."""
    solves = []

    def recorded(*args, **kwargs):
        sol = min_cost(*args, **kwargs)
        solves.append(sol)
        return sol

    sinkdiag_eval.min_cost = recorded
    try:
        total, outside = [], []
        for _ in range(runs):
            solves.clear()
            t0 = time.perf_counter()
            evaluate(inst, True)
            total.append(time.perf_counter() - t0)
            outside.append(total[-1] - sum(s.seconds for s in solves))
    finally:
        sinkdiag_eval.min_cost = min_cost
    return statistics.median(total), statistics.median(outside), solves[-1].solver


def command_time(d: int, runs: int = 3) -> float:
    """Median over ``runs`` runs of the wall time of ``sinkcheck bounds`` on the family at this d, in a new process."""
    cmd = [sys.executable, "-m", "sinkcheck", "bounds", "--d", str(d), "--C", "4", "--n", "3", "--r-eta", "6",
           "--no-progress"]
    return median_time(lambda: subprocess.run(cmd, check=True, capture_output=True), runs)


def dense_r_eff(inst) -> float:
    """The baseline: r_eff from eigvalsh of the d x d Sigma_D."""
    ev = np.linalg.eigvalsh(inst.Sigma_D)
    return float(ev.sum() / ev[-1])


COLUMNS = ["d", "sinkcheck bounds", "evaluate", "outside the solves", "diag spread", "diag certified by",
           "baseline: r_eff from the d x d spectrum"]
"""The table's columns."""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="d = 64 and 4096, one run each")
    args = ap.parse_args()
    ds, runs = ((64, 4096), 1) if args.quick else ((64, 1024, 4096, 16384), 3)
    rows, table = [], []
    for d in ds:
        inst = sample_instance(d=d, C=4, n=3, r_eta=6, lam=1.0, kappa=1.0, seed=0)
        cmd = command_time(d, runs)
        t, outside, diag_solver = evaluate_timed(inst, runs)
        base = median_time(lambda: dense_r_eff(inst), runs=1) if d <= 4096 else float("nan")
        _, Z, cons = scaled_program(inst, "diag")
        rows.append((cmd, t, outside))
        table.append([str(d), f"{cmd:.2f} s", f"{t:.3f} s", f"{outside:.3f} s", f"{spread(Z, cons):.1f}", diag_solver,
                      "—" if np.isnan(base) else f"{base:.3f} s"])
        print(" | ".join(table[-1]), flush=True)
    (cmd0, t0, out0), (cmd1, t1, out1) = rows[0], rows[-1]
    top = ds[-1]
    notes = [f"{'met' if cmd1 / cmd0 <= GOAL else 'MISSED'}: sinkcheck bounds at d = {top} / at d = 64: "
             f"{cmd1 / cmd0:.2f} <= {GOAL}",
             f"{'met' if out1 - out0 <= OUTSIDE_GROWTH else 'MISSED'}: evaluate outside the solves, d = {top} minus "
             f"d = 64: {out1 - out0:.3f} s <= {OUTSIDE_GROWTH} s",
             f"evaluate at d = {top} / at d = 64: {t1 / t0:.2f} (no goal: the diagonal program's solver differs)"]
    print("\n".join(notes))
    record.write("bounds_in_d", "sinkcheck bounds in d",
                 "python -m benchmarks.bench_bounds_in_d" + (" --quick" if args.quick else ""), COLUMNS, table, notes)
    return 0 if cmd1 / cmd0 <= GOAL and out1 - out0 <= OUTSIDE_GROWTH else 1


if __name__ == "__main__":
    sys.exit(main())
