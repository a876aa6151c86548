"""The certified minimum-cost solver in C and in d, against the formulation it replaced (issue #19).

Run from the repository root: ``python -m benchmarks.bench_min_cost`` (not a test: timings depend
on the machine; about 13 minutes on 2 cores, most of it in the baseline and the corner; ``--quick``:
C = 4, 8 at d = 128 and d = 64, 1024 at C = 4, one run each, no corner). One instance family
(n = 3, r_eta = 6, lam = 1, kappa = 1, seed 0) is solved for both patterns with the fallback
constraints:

- in C: C = 4 ... 32 at d = 128 (C = 32 needs d >= 2C + 1 + r_eta = 71);
- in d: d = 64 ... 16384 at C = 4;
- the corner: C = 32 at d = 16384 (no baseline), where the diagonal program is both wide (no
  Clarabel) and badly scaled (SCS's estimate run fails; sinkcheck.solvers.ladder.ESTIMATE).

Each row times ``min_cost`` (constraints, span basis, ladder, certificate) and, in the same run,
the baseline on the same instance: the program as it was before this issue, kept here only (one
auxiliary row v_x = z_x^T M per query with the equality V = Z M, the feasibility LP before every
solve, and the Clarabel-first ladder), certified by the same weak-duality certificate. It prints
both times, their ratio, both certified brackets and whether the two OPTs agree to 1e-6 relative,
then the issue's goals (those its rows allow), writes the table to benchmarks/results/min_cost.json
and exits 1 when a goal is missed. The baseline is skipped above
``--baseline-max-C`` (default 20), where it takes minutes per program.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from benchmarks import record
from sinkcheck.solvers import certify as ct, ladder as mp
from sinkcheck.solvers.program import SPARSE_ATOL
from sinkcheck.construct.sinkdiag.min_cost import min_cost, scaled_program
from sinkcheck.construct.sinkdiag.instance import sample_instance
from sinkcheck.errors import SolverError

BASELINE_ATTEMPTS = (("CLARABEL", {}), ("CLARABEL", mp.TIGHT), ("CLARABEL", mp.REGULARISED),
                     ("CLARABEL", mp.TIGHT | mp.REGULARISED), ("CLARABEL", mp.PRECISE),
                     ("CLARABEL", {"dynamic_regularization_enable": False}), ("SCS", {"eps": 1e-9, "max_iters": 200_000}))
"""The ladder before this issue (SCS only when no Clarabel attempt ended optimal)."""


def baseline_program(Z: np.ndarray, cons, solver: str, opts: dict):
    """The program before this issue: min ||M||_* s.t. V = Z_q M, V[x] . w_k >= 1 (sparse rows of V)."""
    r = Z.shape[1]
    Zs = np.where(np.abs(Z) > SPARSE_ATOL * np.abs(Z).max(), Z, 0.0)
    queries, row = np.unique(cons.query, return_inverse=True)
    w = Zs[cons.target] - Zs[cons.competitor]
    k, j = np.nonzero(w)
    G = sp.csr_matrix((w[k, j], (k, row[k] * r + j)), shape=(len(cons), len(queries) * r))
    M, V = cp.Variable((r, r)), cp.Variable((len(queries), r))
    margins = G @ cp.vec(V, order="C") >= 1
    prob = cp.Problem(cp.Minimize(cp.normNuc(M)), [V == sp.csr_matrix(Zs[queries]) @ M, margins])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prob.solve(solver=solver, **opts)
        except cp.error.SolverError as exc:
            raise SolverError(str(exc)) from None
    if prob.status != cp.OPTIMAL:
        raise SolverError(prob.status)
    return np.asarray(M.value), np.asarray(margins.dual_value).ravel()


def baseline_min_cost(inst, pattern: str) -> tuple[float, float]:
    """The certified bracket (lower, upper) of OPT (cost units 2 ||W||_*) as computed before this issue."""
    _, Z, cons = scaled_program(inst, pattern)
    ct.box_margin(np.where(np.abs(Z) > SPARSE_ATOL * np.abs(Z).max(), Z, 0.0), cons)  # the LP ran first
    best = None
    for name, opts in BASELINE_ATTEMPTS:
        if name == "SCS" and best is not None:
            break
        try:
            _, upper, lower = ct.certify(Z, cons, *baseline_program(Z, cons, name, opts))
        except SolverError:
            continue
        if best is None or (upper - lower) / upper < (best[1] - best[0]) / best[1]:
            best = (lower, upper)
        if upper - lower <= ct.SOLVER_RTOL * upper:
            break
    if best is None:
        raise SolverError("baseline: no attempt ended optimal")
    scale = 2 * inst.kappa / np.sqrt(inst.dim)
    return best[0] * scale, best[1] * scale


def timed(fn, runs: int):
    """(median wall time, last result) over ``runs`` calls."""
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def row(d: int, C: int, pattern: str, baseline: bool, runs: int) -> dict:
    inst = sample_instance(d=d, C=C, n=3, r_eta=6, lam=1.0, kappa=1.0, seed=0)
    t_new, sol = timed(lambda: min_cost(inst, pattern), runs)
    out = dict(d=d, C=C, pattern=pattern, K=sol.n_constraints, new=t_new, solver=sol.solver,
               new_bracket=(sol.opt_lower, sol.opt), base=None, base_bracket=None)
    if baseline:
        out["base"], out["base_bracket"] = timed(lambda: baseline_min_cost(inst, pattern), runs)
    return out


COLUMNS = ["d", "C", "pattern", "constraints", "min_cost", "baseline", "speed-up", "OPT (min_cost)",
           "certified gap", "OPT agrees"]
"""The table's columns: min_cost's time against the baseline's on the same instance, in the same run."""


def cells(r: dict) -> list[str]:
    """One row of the table, formatted."""
    lo, up = r["new_bracket"]
    base = "—" if r["base"] is None else f"{r['base']:.2f} s"
    ratio = "—" if r["base"] is None else f"{r['base'] / r['new']:.1f}x"
    if r["base_bracket"] is None:
        agree = "—"
    else:
        agree = "yes" if abs(r["base_bracket"][1] - up) <= 1e-6 * up else f"no ({r['base_bracket'][1]:.8g})"
    return [str(r["d"]), str(r["C"]), r["pattern"], f"{r['K']:,d}", f"{r['new']:.2f} s", base, ratio, f"{up:.8g}",
            f"{(up - lo) / up:.1e}", agree]


def goals_of(rows: list[dict]) -> list[tuple[str, bool]]:
    """The issue's goals that these rows can check."""
    by = {(r["d"], r["C"], r["pattern"]): r for r in rows}
    goals = []
    for C in (8, 12, 16, 20):
        for p in ("sink", "diag"):
            r = by.get((128, C, p))
            if r is not None and r["base"] is not None:
                goals.append((f"C = {C:2d} {p}: speed-up {r['base'] / r['new']:.1f}x >= 4", r["base"] >= 4 * r["new"]))
    for p in ("sink", "diag"):
        if (128, 32, p) in by and (128, 8, p) in by:
            t32, t8 = by[(128, 32, p)]["new"], by[(128, 8, p)]["new"]
            goals.append((f"C = 32 {p}: {t32:.1f} s < 120 s", t32 < 120))
            goals.append((f"C = 8 -> 32 {p}: time x{t32 / t8:.1f} <= (32/8)^2 = 16", t32 / t8 <= 16))
        if (16384, 32, p) in by:
            t = by[(16384, 32, p)]["new"]
            goals.append((f"C = 32 {p} at d = 16384: {t:.1f} s < 120 s", t < 120))
    worst = max(rows, key=lambda r: (r["new_bracket"][1] - r["new_bracket"][0]) / r["new_bracket"][1])
    gap = (worst["new_bracket"][1] - worst["new_bracket"][0]) / worst["new_bracket"][1]
    goals.append((f"every certified gap <= SOLVER_RTOL = {ct.SOLVER_RTOL:g} (widest: {gap:.1e}, C = {worst['C']}, "
                  f"d = {worst['d']}, {worst['pattern']})", gap <= ct.SOLVER_RTOL))
    goals.append(("every OPT agrees with the baseline's to 1e-6",
                  all(r["base_bracket"] is None or abs(r["base_bracket"][1] - r["new_bracket"][1]) <= 1e-6 * r["new_bracket"][1]
                      for r in rows)))
    return goals


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-max-C", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="a smaller grid, one run each, no corner (a few minutes)")
    args = ap.parse_args()
    Cs, ds = ((4, 8), (64, 1024)) if args.quick else ((4, 8, 12, 16, 20, 24, 32), (64, 256, 1024, 4096, 16384))
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    grid = [(128, C, C <= args.baseline_max_C, 3 if C <= 8 else 1) for C in Cs]
    grid += [(d, 4, True, 3) for d in ds] + ([] if args.quick else [(16384, 32, False, 1)])
    rows = []
    for d, C, baseline, runs in grid:
        for pattern in ("sink", "diag"):
            rows.append(row(d, C, pattern, baseline, 1 if args.quick else runs))
            print("| " + " | ".join(cells(rows[-1])) + " |", flush=True)
    goals = goals_of(rows)
    notes = [f"{'met' if ok else 'MISSED'}: {text}" for text, ok in goals]
    print()
    print("\n".join(notes))
    record.write("min_cost", "The certified minimum-cost solver against its former formulation",
                 "python -m benchmarks.bench_min_cost" + (" --quick" if args.quick else ""), COLUMNS,
                 [cells(r) for r in rows], notes)
    return 0 if all(ok for _, ok in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
