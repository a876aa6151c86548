"""The margin program min ||M||_* s.t. z_x^T M (z_t - z_y) >= 1 for every constraint (x, t, y):
solved, certified by weak duality, or refused (docs/cost_identity.md, docs/sink_vs_diagonal.md, docs/sink_geometry.md).

Both convex programs of sinkcheck have this form once the tokens are written in an orthonormal basis
of their span and scaled to O(1) coordinates: the minimum-cost sink and diagonal patterns of
:mod:`sinkcheck.construct.min_cost` (Section 7) and the cheapest sink of
:func:`sinkcheck.construct.sink_lp.min_nuclear_sink` (Prop. 4.1, target the sink z_0). The
caller passes the scaled coordinates Z (one row per token) and the constraint triples, and maps
the returned M back to W.

Sparse form. We introduce V = Z M (one row per query token), so every constraint is a sparse row
V[x] . w >= 1: the program stays sparse instead of one dense r^2 row per constraint.

Certificate (weak duality). For any y >= 0 and G = sum_k y_k z_{x_k} w_k^T, every feasible M
has sum_k y_k <= <G, M> <= ||G||_op ||M||_*, so LB = sum(y) / ||G||_op <= OPT. The solver's
M divided by its smallest constraint value is feasible, so its norm UB >= OPT. A solve is
reported only when the status is optimal and the certified gap (UB - LB) / UB is small.

Feasibility first. M = 0 meets every constraint with value 0, so the LP t* = max t subject to
every constraint value >= t and max_ij abs(M_ij) <= 1 has t* >= 0, and the program is feasible iff t* > 0
(any feasible M scaled into the box gives t > 0). HiGHS solves this LP exactly enough to decide
it: t* <= INFEASIBLE_ATOL is reported as infeasible, t* < ILL_CONDITIONED as a refusal (OPT would
be of order 1/t* and no interior-point solve is trustworthy there). The LP's duals y >= 0 are a
weak-duality certificate of the margin program as well, so a refusal still carries the certified
lower bound sum(y) / ||G(y)||_op <= OPT.

Attempts. Clarabel's "optimal" does not by itself give SOLVER_RTOL: on badly scaled instances
(OPT ~ 1e5 kappa) its dual is off by up to ~1e-4 in operator norm, which the certificate exposes;
and on rank-one optima it can stall at "almost solved". So a solve runs down a short ladder
(:data:`ATTEMPTS`: Clarabel; Clarabel with tighter tolerances; Clarabel with a stronger static
regularisation of its KKT systems, alone and with the tighter tolerances; Clarabel with more precise
KKT solves; Clarabel without dynamic regularisation; SCS) and stops at the first
certified gap <= SOLVER_RTOL; failing that it returns the best optimal attempt whose gap is
<= MAX_GAP, and the caller compares claims with the bracket [lower, upper], never with a
tolerance. Otherwise it raises SolverError.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from sinkcheck import validate
from sinkcheck.errors import IllConditionedError, InfeasibleError, SolverError, WideBracketError

SOLVERS = ("CLARABEL", "SCS")
SOLVER_RTOL = 1e-6
"""Target relative accuracy of OPT, certified per solve as (UB - LB) / UB <= SOLVER_RTOL."""

MAX_GAP = 1e-4
"""Largest certified relative gap a returned solve may have (badly scaled instances); above it the
solve is an error. Claims are checked against the bracket [opt_lower, opt] itself."""

INFEASIBLE_ATOL = 1e-12
"""Best box margin t* at or below which the program is reported infeasible."""

ILL_CONDITIONED = 1e-8
"""Best box margin t* below which an instance is refused as too badly conditioned to solve (two
group mates whose nuisance differs by 1e-3 delta give t* ~ 7e-8 and OPT ~ 1e7 kappa, which Clarabel
still certifies; at 1e-4 delta, t* ~ 7e-10, Clarabel wrongly reports the program infeasible)."""

TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}
"""Clarabel's tolerances for the second attempt (its defaults are 1e-8). On the instance pinned in
tests/test_margin_program_claims.py (OPT ~ 8e3 in scaled units) the default solve certifies a gap
of 3.1e-4 and this one 2.4e-6."""

REGULARISED = {"static_regularization_constant": 1e-7}
"""Clarabel's settings for the third attempt, a static KKT regularisation of 1e-7 (default 1e-8).
Measured on twelve C = 8 programs (d = 22, n = 3, r_eta = 3, seeds 0, 1, 2, 5, 1089, 3137, both
patterns): the default and tight attempts certify a gap <= SOLVER_RTOL on 5 of them (the others end
"almost solved", optimal_inaccurate in cvxpy, or with a wider gap), this one on 11, in about the
same time.  The dev profile found two of them (tests/test_sinkdiag_bounds.py)."""

PRECISE = {"iterative_refinement_reltol": 1e-14, "iterative_refinement_abstol": 1e-14,
           "iterative_refinement_max_iter": 50}
"""Clarabel's settings for the fifth attempt, each KKT solve refined to 1e-14 (defaults 1e-13 and
1e-12, 10 steps)."""

ATTEMPTS = (("CLARABEL", {}), ("CLARABEL", TIGHT), ("CLARABEL", REGULARISED), ("CLARABEL", TIGHT | REGULARISED),
            ("CLARABEL", PRECISE), ("CLARABEL", {"dynamic_regularization_enable": False}),
            ("SCS", {"eps": 1e-9, "max_iters": 200_000}))
"""The solver ladder of the module docstring. SCS is slow on badly scaled instances, so it runs
only when no Clarabel attempt ended optimal."""

SPARSE_ATOL = 1e-12
"""Coordinates below this (relative to the largest) are dropped from the solver's copy of the
constraints only; the certificate is computed with the exact coordinates."""


@dataclass(frozen=True)
class Triples:
    """Constraints z_x^T M (z_t - z_y) >= 1 as index arrays (query x, target t, competitor y)."""

    query: np.ndarray
    target: np.ndarray
    competitor: np.ndarray

    def __len__(self) -> int:
        return int(self.query.size)


@dataclass(frozen=True)
class Certified:
    """A certified solve of the scaled program: M meets every constraint (value >= 1), and
    lower <= OPT <= upper = ||M||_*; t_star is the feasibility LP's best box margin."""

    M: np.ndarray
    upper: float
    lower: float
    solver: str
    status: str
    t_star: float
    seconds: float


def solve(Z: np.ndarray, cons, solver: str = "CLARABEL", retry_scs: bool = True,
          what: str = "margin program") -> Certified:
    """Certified min ||M||_* s.t. Z[x]^T M (Z[t] - Z[y]) >= 1 for each (x, t, y) of ``cons`` (module docstring).

    Args:
        Z: scaled token coordinates (n, r), entries of order 1.
        cons: index arrays ``query``, ``target``, ``competitor`` into the rows of Z.
        solver: "CLARABEL" (the ladder of :data:`ATTEMPTS`) or "SCS" (SCS only).
        retry_scs: let the ladder end with SCS when no Clarabel attempt ended optimal.
        what: the program's name in error messages.
    Raises:
        InfeasibleError: the feasibility LP proves that no M meets the constraints.
        IllConditionedError: too badly conditioned (t* < ILL_CONDITIONED); the error carries a
            certified lower bound on OPT from the feasibility LP's dual.
        SolverError: no attempt ended optimal.
        WideBracketError: the best optimal attempt's certified gap exceeds MAX_GAP (its bracket
            [lower, upper] is on the error).
    """
    validate.choice("solver", solver, SOLVERS)
    t_star, y_box = box_margin(np.where(np.abs(Z) > SPARSE_ATOL * np.abs(Z).max(), Z, 0.0), cons)
    if t_star <= INFEASIBLE_ATOL:
        raise InfeasibleError(f"{what}: infeasible (no W meets every margin; best box margin t* = {t_star:.2g})")
    if t_star < ILL_CONDITIONED:
        raise IllConditionedError(f"{what}: instance too badly conditioned (best box margin t* = {t_star:.2g} < "
                                  f"{ILL_CONDITIONED:g}, OPT would be of order 1/t*)", dual_lower(Z, cons, y_box))
    ladder = [a for a in ATTEMPTS if a[0] == solver or (solver == "CLARABEL" and retry_scs)]
    t0, best, errors = time.perf_counter(), None, []
    for name, opts in ladder:
        if name == "SCS" and best is not None:
            break
        try:
            Mf, upper, lower, status = attempt(Z, cons, name, opts)
        except SolverError as exc:  # an "infeasible" status included: the LP proved t* > 0
            errors.append(str(exc))
            continue
        if best is None or (upper - lower) / upper < (best[1] - best[2]) / best[1]:
            best = (Mf, upper, lower, name, status)
        if upper - lower <= SOLVER_RTOL * upper:
            break
    if best is None:
        raise SolverError(f"{what}: {errors[-1]} (but the feasibility LP found t* = {t_star:.2g} > 0)")
    Mf, upper, lower, name, status = best
    if upper - lower > MAX_GAP * upper:
        raise WideBracketError(f"{what}: certified duality gap {(upper - lower) / upper:.2g} "
                               f"exceeds MAX_GAP = {MAX_GAP:g} (solver {name})", lower, upper)
    return Certified(Mf, upper, lower, name, status, t_star, time.perf_counter() - t0)


def attempt(Z: np.ndarray, cons, solver: str, opts: dict) -> tuple[np.ndarray, float, float, str]:
    """One rung of the ladder: solve with ``solver`` and ``opts``, then certify (:func:`certify`).

    Returns the feasible M, its bracket's ends upper and lower, and the solver's status."""
    Mp, y, status = _solve(Z, cons, solver, opts)
    return *certify(Z, cons, Mp, y), status


def best_margin(Z: np.ndarray, cons) -> float:
    """t* = max t s.t. Z[x]^T M (Z[t] - Z[y]) >= t for every constraint, max_ij abs(M_ij) <= 1, t <= 1 (HiGHS)."""
    return box_margin(Z, cons)[0]


def box_margin(Z: np.ndarray, cons) -> tuple[float, np.ndarray]:
    """t* of :func:`best_margin` and the LP's duals y >= 0 of the margin rows (one per constraint).

    y is a weak-duality certificate for the margin program too (:func:`dual_lower`): when t* is
    small, sum(y) / ||G(y)||_op is large, of order 1/t*."""
    r, K = Z.shape[1], len(cons)
    w = Z[cons.target] - Z[cons.competitor]
    rows, cols, vals = [], [], []
    for x in np.unique(cons.query):  # constraint k reads sum_ij Z[x, i] w_k[j] M_ij, M_ij at i * r + j
        k = np.flatnonzero(cons.query == x)
        i = np.flatnonzero(Z[x])
        block = Z[x, i][None, :, None] * w[k][:, None, :]  # (len(k), len(i), r)
        kk, ii, jj = np.nonzero(block)
        rows.append(k[kk]), cols.append(i[ii] * r + jj), vals.append(block[kk, ii, jj])
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(K, r * r))
    A_ub = sp.hstack([-A, sp.csr_matrix(np.ones((K, 1)))]).tocsr()  # t - value_k <= 0
    c = np.zeros(r * r + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(K), bounds=[(-1, 1)] * (r * r) + [(None, 1)], method="highs")
    if res.status != 0:
        raise SolverError(f"feasibility LP: HiGHS ended with status {res.status} ({res.message})")
    return float(-res.fun), -np.asarray(res.ineqlin.marginals)


def _solve(Z: np.ndarray, cons, solver: str, opts: dict) -> tuple[np.ndarray, np.ndarray, str]:
    """Solve min ||M||_* s.t. Z[x]^T M (Z[t] - Z[y]) >= 1 for every constraint (x, t, y).

    Returns M, the duals y of the margin constraints, and the status."""
    r = Z.shape[1]
    Zs = np.where(np.abs(Z) > SPARSE_ATOL * np.abs(Z).max(), Z, 0.0)
    queries, row = np.unique(cons.query, return_inverse=True)  # V has one row per query token
    w = Zs[cons.target] - Zs[cons.competitor]
    k, j = np.nonzero(w)
    # row k of G picks V[x_k] . w_k from vec_C(V) (row-major: V[x, j] sits at x * r + j)
    G = sp.csr_matrix((w[k, j], (k, row[k] * r + j)), shape=(len(cons), len(queries) * r))
    M, V = cp.Variable((r, r)), cp.Variable((len(queries), r))
    margins = G @ cp.vec(V, order="C") >= 1
    prob = cp.Problem(cp.Minimize(cp.normNuc(M)), [V == sp.csr_matrix(Zs[queries]) @ M, margins])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cvxpy warns on inaccurate solves; the status says it
        try:
            prob.solve(solver=solver, **opts)
        except cp.error.SolverError as exc:
            raise SolverError(f"solver {solver} failed: {exc}") from None
    if prob.status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
        raise InfeasibleError(f"infeasible (status {prob.status})")
    if prob.status != cp.OPTIMAL:
        raise SolverError(f"solver {solver} ended with status {prob.status!r}")
    return np.asarray(M.value), np.asarray(margins.dual_value).ravel(), prob.status


def certify(Z: np.ndarray, cons, Mp: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Weak-duality bracket of the scaled program (module docstring), with exact coordinates Z.

    Returns the feasible rescaling M / g (g = smallest constraint value), UB = ||M / g||_* and
    LB = sum(y+) / ||G(y+)||_op.  Raises SolverError when M meets no scaling of the constraints."""
    w = Z[cons.target] - Z[cons.competitor]
    g = float(np.min(np.einsum("ki,ij,kj->k", Z[cons.query], Mp, w)))
    if not g > 0:
        raise SolverError(f"the returned W violates a margin (smallest value {g:.3g} <= 0)")
    Mf = Mp / g
    upper = float(np.linalg.svd(Mf, compute_uv=False).sum())
    return Mf, upper, dual_lower(Z, cons, y)


def dual_lower(Z: np.ndarray, cons, y: np.ndarray) -> float:
    """LB = sum(y+) / ||G(y+)||_op <= OPT, G(y) = sum_k y_k z_{x_k} w_k^T (module docstring), for any y;
    negative entries are dropped (weak duality needs y >= 0)."""
    w = Z[cons.target] - Z[cons.competitor]
    yp = np.clip(y, 0.0, None)
    Gy = Z[cons.query].T @ (yp[:, None] * w)
    op = float(np.linalg.norm(Gy, 2))
    return float(yp.sum() / op) if op > 0 else 0.0
