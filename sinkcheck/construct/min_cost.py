"""Minimum QK cost of a pattern: min ||W||_* subject to its margin constraints (THEOREMS.md 1-2).

Span reduction (THEOREMS.md section 1). Let Q (d, r) be an orthonormal basis of the span of all
tokens and P = Q Q^T. Every constraint reads W only through z^T W z' with z, z' in span(Q), so
P W P meets exactly the constraints W meets, and ||P W P||_* <= ||P||_op ||W||_* ||P||_op = ||W||_*.
So an optimum has the form W = Q M Q^T with ||W||_* = ||M||_*, and the program in the r x r
variable M has the same optimum as the d x d one: r = 2C + 1 + r_eta whatever d is.

The constraint s(x, t) - s(x, y) >= kappa reads z_x^T M (z_t - z_y) >= kappa sqrt(d) in
reduced coordinates z = Q^T x. We solve for M' = M sqrt(d) / kappa, i.e. the constraints
(z_x^T M' w) / d >= 1 with O(1) coefficients (a fixed rescaling; the optimum is mapped back exactly).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from sinkcheck import validate
from sinkcheck.construct import factors
from sinkcheck.construct.factors import balanced_factors
from sinkcheck.construct.sinkdiag_constraints import SpanForm, constraint_margins, margin_constraints
from sinkcheck.construct.sinkdiag_instance import RANK_RTOL, SinkDiagInstance
from sinkcheck.errors import InfeasibleError, SolverError

SOLVERS = ("CLARABEL", "SCS")
SOLVER_RTOL = 1e-6
"""Relative accuracy we claim for OPT. Clarabel stops at relative gap 1e-8; 1e-6 leaves room for
the rescaling. SCS (first-order, eps 1e-9 here) is held to the same claim."""


@dataclass(frozen=True)
class MinCost:
    """An optimal solve: OPT = 2 ||W||_* (QK cost), the optimal W (span form), solver and status."""

    pattern: str
    opt: float
    nuclear: float
    form: SpanForm
    solver: str
    status: str
    min_margin: float
    n_constraints: int
    seconds: float

    def factors(self) -> tuple[np.ndarray, np.ndarray]:
        """Balanced factors (W_Q, W_K) of the optimal W, with qk_cost = OPT."""
        Wq, Wk = balanced_factors(self.form.M)
        return Wq @ self.form.basis.T, Wk @ self.form.basis.T


def span_basis(inst: SinkDiagInstance) -> np.ndarray:
    """(d, r) orthonormal basis of the span of all tokens (:func:`sinkcheck.construct.factors.span_basis`)."""
    return factors.span_basis(inst.tokens(), RANK_RTOL)


def _solve(A: np.ndarray, rhs: float, r: int, solver: str) -> tuple[np.ndarray, str]:
    M = cp.Variable((r, r))
    prob = cp.Problem(cp.Minimize(cp.normNuc(M)), [A @ cp.vec(M, order="F") >= rhs])
    opts = {"eps": 1e-9, "max_iters": 200_000} if solver == "SCS" else {}
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
    return np.asarray(M.value), prob.status


def min_cost(inst: SinkDiagInstance, pattern: str, fallback: bool = True, solver: str = "CLARABEL",
             reduce: bool = True, retry_scs: bool = True) -> MinCost:
    """Minimum QK cost of ``pattern`` on ``inst``.

    Args:
        inst: the instance.
        pattern: "sink" or "diag".
        fallback: include the group-absent copy constraints.
        solver: "CLARABEL" (default, interior point) or "SCS".
        reduce: solve the r x r span-reduced program (default) or the naive d x d one.
        retry_scs: when Clarabel ends with a non-optimal status (e.g. optimal_inaccurate on badly
            scaled instances), solve again with SCS and report SCS as the solver.
    Returns:
        A :class:`MinCost`; ``opt`` = 2 ||W*||_*.
    Raises:
        InfeasibleError: no W meets the constraints (e.g. a dormant token in the convex hull of
            its group mates under the diagonal pattern).
        SolverError: the solver failed or ended with a non-optimal status.
    """
    validate.choice("solver", solver, SOLVERS)
    cons = margin_constraints(inst, pattern, fallback)
    Q = span_basis(inst) if reduce else np.eye(inst.dim)
    Z = inst.tokens() @ Q
    zq, w = Z[cons.query], Z[cons.target] - Z[cons.competitor]
    r = Q.shape[1]
    # row k is vec_F(z_q w^T), so A @ vec_F(M) = z_q^T M w
    A = (w[:, :, None] * zq[:, None, :]).reshape(len(cons), r * r)
    t0 = time.perf_counter()
    try:
        Mp, status = _solve(A / inst.dim, 1.0, r, solver)
    except InfeasibleError:
        raise
    except SolverError:
        if not (retry_scs and solver == "CLARABEL"):
            raise
        solver = "SCS"
        Mp, status = _solve(A / inst.dim, 1.0, r, solver)
    seconds = time.perf_counter() - t0
    M = Mp * inst.kappa / np.sqrt(inst.dim)
    form = SpanForm(Q, M)
    nuc = float(np.linalg.svd(M, compute_uv=False).sum())
    margins = constraint_margins(inst, form, cons)
    return MinCost(pattern, 2 * nuc, nuc, form, solver, status, float(margins.min()), len(cons), seconds)
