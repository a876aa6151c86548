"""Minimum QK cost of a pattern: min ||W||_* subject to its margin constraints (THEOREMS.md 1-2).

Span reduction (THEOREMS.md section 1). Let Q (d, r) be an orthonormal basis of a subspace that
contains every token and P = Q Q^T. Every constraint reads W only through z^T W z' with z, z' in
span(Q), so P W P meets exactly the constraints W meets, and ||P W P||_* <= ||W||_*. So an optimum
has the form W = Q M Q^T with ||W||_* = ||M||_*, and the r x r program has the optimum of the d x d
one. We take Q = [U | B_eta] (U the basis of S, B_eta one of the nuisance span N), r = 2C + 1 + r_eta
whatever d is. In this basis the tokens have sparse coordinates: b -> sqrt(d) e_0, c_c -> sqrt(d)
e_{C+c}, d_ci -> lam sqrt(d) e_c + B_eta^T eta_ci.

Scaled program. With z~ = Q^T z / sqrt(d) and M' = M sqrt(d) / kappa, the constraint
s(x, t) - s(x, y) >= kappa reads z~_x^T M' (z~_t - z~_y) >= 1 with O(1) coefficients. We introduce
V = Z~ M' (one row per query token), so every constraint is a sparse row V[x] . w >= 1: the program stays
sparse instead of one dense r^2 row per constraint.

Certificate (weak duality). For any y >= 0 and G = sum_k y_k z~_{x_k} w_k^T, every feasible M'
has sum_k y_k <= <G, M'> <= ||G||_op ||M'||_*, so LB = sum(y) / ||G||_op <= OPT. The solver's
M' divided by its smallest constraint value is feasible, so its norm UB >= OPT. A solve is
reported only when the status is optimal and the certified gap (UB - LB) / UB is small (see
Attempts): ``opt`` is UB (the cost of a W that meets every margin) and ``opt_lower`` is LB.

Feasibility first. M = 0 meets every constraint with value 0, so the LP t* = max t subject to
every constraint value >= t and max_ij abs(M'_ij) <= 1 has t* >= 0, and the program is feasible iff t* > 0
(any feasible M' scaled into the box gives t > 0). HiGHS solves this LP exactly enough to decide
it: t* <= INFEASIBLE_ATOL is reported as infeasible, t* < ILL_CONDITIONED as a refusal (OPT would
be of order 1/t* and no interior-point solve is trustworthy there).

Attempts. Clarabel's "optimal" does not by itself give SOLVER_RTOL: on badly scaled instances
(OPT ~ 1e5 kappa) its dual is off by up to ~1e-4 in operator norm, which the certificate exposes.
So a solve runs down a short ladder (Clarabel; Clarabel without dynamic regularisation; SCS) and
stops at the first certified gap <= SOLVER_RTOL; failing that it returns the best optimal attempt
whose gap is <= MAX_GAP, and the caller compares claims with the bracket [opt_lower, opt], never
with a tolerance. Otherwise it raises SolverError.
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
from sinkcheck.construct import factors
from sinkcheck.construct.factors import balanced_factors
from sinkcheck.construct.sinkdiag_constraints import SpanForm, constraint_margins, margin_constraints
from sinkcheck.construct.sinkdiag_instance import SinkDiagInstance
from sinkcheck.errors import InfeasibleError, SolverError

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

ATTEMPTS = (("CLARABEL", {}), ("CLARABEL", {"dynamic_regularization_enable": False}),
            ("SCS", {"eps": 1e-9, "max_iters": 200_000}))
"""The solver ladder of the module docstring. SCS is slow on badly scaled instances, so it runs
only when no Clarabel attempt ended optimal."""

SPARSE_ATOL = 1e-12
"""Coordinates below this (relative to the largest) are dropped from the solver's copy of the
constraints only; the certificate is computed with the exact coordinates."""


@dataclass(frozen=True)
class MinCost:
    """A certified solve: OPT = 2 ||W||_* (QK cost) of an optimal W (span form) that meets every
    margin, a certified lower bound ``opt_lower`` <= OPT, the solver and its status."""

    pattern: str
    opt: float
    opt_lower: float
    nuclear: float
    form: SpanForm
    solver: str
    status: str
    min_margin: float
    n_constraints: int
    seconds: float

    @property
    def gap(self) -> float:
        """Certified relative duality gap (opt - opt_lower) / opt."""
        return (self.opt - self.opt_lower) / self.opt

    def factors(self) -> tuple[np.ndarray, np.ndarray]:
        """Balanced factors (W_Q, W_K) of the optimal W, with qk_cost = OPT."""
        Wq, Wk = balanced_factors(self.form.M)
        return Wq @ self.form.basis.T, Wk @ self.form.basis.T


def span_basis(inst: SinkDiagInstance) -> np.ndarray:
    """(d, 2C + 1 + r_eta) orthonormal basis [U | B_eta] of S + N, which contains every token.

    B_eta comes from the N x N Gram matrix of the nuisance and the columns are orthonormalised by
    Cholesky-QR (:func:`sinkcheck.construct.factors.span_basis`), which keeps their order and signs:
    the cost grows with d only through products with d-vectors."""
    raw = inst.U
    if inst.r_eta:
        ev, E = np.linalg.eigh(inst.eta @ inst.eta.T)
        top = E[:, -inst.r_eta:] / np.sqrt(ev[-inst.r_eta:])
        raw = np.hstack([raw, inst.eta.T @ top])
    return factors.span_basis(raw.T)


def best_margin(Z: np.ndarray, cons) -> float:
    """t* = max t s.t. Z[x]^T M' (Z[t] - Z[y]) >= t for every constraint, max_ij abs(M'_ij) <= 1, t <= 1 (HiGHS)."""
    r, K = Z.shape[1], len(cons)
    w = Z[cons.target] - Z[cons.competitor]
    rows, cols, vals = [], [], []
    for x in np.unique(cons.query):  # constraint k reads sum_ij Z[x, i] w_k[j] M'_ij, M'_ij at i * r + j
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
        raise SolverError(f"min-cost feasibility LP: HiGHS ended with status {res.status} ({res.message})")
    return float(-res.fun)


def _solve(Z: np.ndarray, cons, solver: str, opts: dict) -> tuple[np.ndarray, np.ndarray, str]:
    """Solve min ||M'||_* s.t. Z[x]^T M' (Z[t] - Z[y]) >= 1 for every constraint (x, t, y).

    Returns M', the duals y of the margin constraints, and the status."""
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
        raise InfeasibleError(f"min-cost program: infeasible (status {prob.status})")
    if prob.status != cp.OPTIMAL:
        raise SolverError(f"min-cost program: solver {solver} ended with status {prob.status!r}")
    return np.asarray(M.value), np.asarray(margins.dual_value).ravel(), prob.status


def certify(Z: np.ndarray, cons, Mp: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Weak-duality bracket of the scaled program (module docstring), with exact coordinates Z.

    Returns the feasible rescaling M' / g (g = smallest constraint value), UB = ||M' / g||_* and
    LB = sum(y+) / ||G(y+)||_op.  Raises SolverError when M' meets no scaling of the constraints."""
    w = Z[cons.target] - Z[cons.competitor]
    g = float(np.min(np.einsum("ki,ij,kj->k", Z[cons.query], Mp, w)))
    if not g > 0:
        raise SolverError(f"min-cost program: the returned W violates a margin (smallest value {g:.3g} <= 0)")
    Mf = Mp / g
    upper = float(np.linalg.svd(Mf, compute_uv=False).sum())
    yp = np.clip(y, 0.0, None)
    Gy = Z[cons.query].T @ (yp[:, None] * w)
    op = float(np.linalg.norm(Gy, 2))
    lower = float(yp.sum() / op) if op > 0 else 0.0
    return Mf, upper, lower


def min_cost(inst: SinkDiagInstance, pattern: str, fallback: bool = True, solver: str = "CLARABEL",
             reduce: bool = True, retry_scs: bool = True) -> MinCost:
    """Minimum QK cost of ``pattern`` on ``inst``, certified by weak duality (module docstring).

    Args:
        inst: the instance.
        pattern: "sink" or "diag".
        fallback: include the group-absent copy constraints.
        solver: "CLARABEL" (default: the ladder of :data:`ATTEMPTS`) or "SCS" (SCS only).
        reduce: solve the r x r span-reduced program (default) or the naive d x d one.
        retry_scs: let the ladder end with SCS when no Clarabel attempt ended optimal.
    Returns:
        A :class:`MinCost`; ``opt`` = 2 ||W||_* of a W meeting every margin, ``opt_lower`` <= OPT.
    Raises:
        InfeasibleError: no W meets the constraints (e.g. a dormant token in the convex hull of
            its group mates under the diagonal pattern).
        SolverError: no attempt ended optimal with a certified gap <= MAX_GAP.
    """
    validate.choice("solver", solver, SOLVERS)
    cons = margin_constraints(inst, pattern, fallback)
    Q = span_basis(inst) if reduce else np.eye(inst.dim)
    Z = inst.tokens() @ Q / np.sqrt(inst.dim)
    t_star = best_margin(np.where(np.abs(Z) > SPARSE_ATOL * np.abs(Z).max(), Z, 0.0), cons)
    if t_star <= INFEASIBLE_ATOL:
        raise InfeasibleError(f"min-cost program: infeasible ({pattern}: no W meets every margin; best box margin "
                              f"t* = {t_star:.2g})")
    if t_star < ILL_CONDITIONED:
        raise SolverError(f"min-cost program: instance too badly conditioned ({pattern}: best box margin "
                          f"t* = {t_star:.2g} < {ILL_CONDITIONED:g}, OPT would be of order 1/t*)")
    ladder = [a for a in ATTEMPTS if a[0] == solver or (solver == "CLARABEL" and retry_scs)]
    t0, best, errors = time.perf_counter(), None, []
    for name, opts in ladder:
        if name == "SCS" and best is not None:
            break
        try:
            Mp, y, status = _solve(Z, cons, name, opts)
            Mf, upper, lower = certify(Z, cons, Mp, y)
        except SolverError as exc:  # an "infeasible" status included: the LP proved t* > 0
            errors.append(str(exc))
            continue
        if best is None or (upper - lower) / upper < (best[1] - best[2]) / best[1]:
            best = (Mf, upper, lower, name, status)
        if upper - lower <= SOLVER_RTOL * upper:
            break
    if best is None:
        raise SolverError(f"{errors[-1]} (but the feasibility LP found t* = {t_star:.2g} > 0)")
    Mf, upper, lower, solver, status = best
    if upper - lower > MAX_GAP * upper:
        raise SolverError(f"min-cost program: certified duality gap {(upper - lower) / upper:.2g} "
                          f"exceeds MAX_GAP = {MAX_GAP:g} (solver {solver})")
    seconds = time.perf_counter() - t0
    scale = inst.kappa / np.sqrt(inst.dim)  # M = M' kappa / sqrt(d)
    form = SpanForm(Q, Mf * scale)
    margins = constraint_margins(inst, form, cons)
    return MinCost(pattern, 2 * upper * scale, 2 * lower * scale, upper * scale, form, solver, status,
                   float(margins.min()), len(cons), seconds)
