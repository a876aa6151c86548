"""Certificates of the margin program (:mod:`sinkcheck.solvers.program`): every bracket on OPT that
sinkcheck reports is computed here, from the exact coordinates, whatever solver proposed M and y.

Weak duality. For any y >= 0 and G(y) = sum_k y_k z_{x_k} w_k^T, every feasible M has
sum_k y_k <= <G, M> <= ||G||_op ||M||_*, so LB = sum(y) / ||G||_op <= OPT. A proposed M divided by
its smallest constraint value is feasible, so its norm UB >= OPT (:func:`certify`).

Repair. A first-order solver meets the margins only to a tolerance relative to the size of its
iterate; on badly scaled programs (an optimum with a block of order spread^2 next to entries of
order 1) it leaves the well-scaled margins short while its dual is accurate, and dividing M by its
smallest value then costs the whole M that factor. :func:`repair` proposes instead M + Delta, Delta
the smallest in entrywise l1 norm that lifts every margin back to 1 (an LP; ||M + Delta||_* <=
||M||_* + sum_ij abs(Delta_ij)). It only proposes: its bracket is computed by :func:`certify`.

Feasibility. M = 0 meets every constraint with value 0, so the LP t* = max t subject to every
constraint value >= t and max_ij abs(M_ij) <= 1 has t* >= 0, and the program is feasible iff t* > 0
(any feasible M scaled into the box gives t > 0). HiGHS solves this LP exactly enough to decide it
(:func:`feasibility`): t* <= INFEASIBLE_ATOL is infeasible, t* < ILL_CONDITIONED a refusal (OPT
would be of order 1/t*). The LP's duals are a weak-duality certificate too, so a refusal still
carries a lower bound. A feasible M with ||M||_* = UB, divided by max_ij abs(M_ij) <= UB, lies in
the box with every value >= 1 / UB, so t* >= 1 / UB: a certified UB < 1 / ILL_CONDITIONED proves
that the LP would neither refuse the program nor find it infeasible, and the LP need not run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from sinkcheck.errors import IllConditionedError, InfeasibleError, SolverError
from sinkcheck.solvers.program import constraint_matrix, sparse_copy

SOLVER_RTOL = 1e-6
"""Target relative accuracy of OPT, certified per solve as (UB - LB) / UB <= SOLVER_RTOL."""

MAX_GAP = 1e-4
"""Largest certified relative gap a returned solve may have (badly scaled instances); above it the
solve is an error. Claims are checked against the bracket [opt_lower, opt] itself."""

INFEASIBLE_ATOL = 1e-12
"""Best box margin t* at or below which the program is reported infeasible."""

ILL_CONDITIONED = 1e-8
"""Best box margin t* below which a program is refused as too badly conditioned to solve.

Two group mates whose nuisance differs by 1e-3 delta give t* ~ 7e-8, which an interior-point
solver still certifies; at 1e-4 delta (t* ~ 7e-10) it wrongly reports the program infeasible."""


class Bracket(NamedTuple):
    """A certified bracket lower <= OPT <= upper = ||M||_*, M feasible (every constraint value >= 1)."""

    M: np.ndarray
    upper: float
    lower: float

    @property
    def gap(self) -> float:
        """The certified relative gap (upper - lower) / upper."""
        return (self.upper - self.lower) / self.upper


@dataclass(frozen=True)
class Certified:
    """A certified solve of the scaled program: M meets every constraint (value >= 1), and
    lower <= OPT <= upper = ||M||_*; t_star is the feasibility LP's best box margin, or None when the
    LP was not needed (then t* >= 1 / upper, module docstring)."""

    M: np.ndarray
    upper: float
    lower: float
    solver: str
    status: str
    t_star: float | None
    seconds: float


def dual_lower(Z: np.ndarray, cons, y: np.ndarray) -> float:
    """LB = sum(y+) / ||G(y+)||_op <= OPT, G(y) = sum_k y_k z_{x_k} w_k^T (module docstring), for any y;
    negative entries are dropped (weak duality needs y >= 0)."""
    w = Z[cons.target] - Z[cons.competitor]
    yp = np.clip(y, 0.0, None)
    Gy = Z[cons.query].T @ (yp[:, None] * w)
    op = float(np.linalg.norm(Gy, 2))
    return float(yp.sum() / op) if op > 0 else 0.0


def certify(Z: np.ndarray, cons, Mp: np.ndarray, y: np.ndarray) -> Bracket:
    """Weak-duality bracket of the scaled program (module docstring), with exact coordinates Z.

    Returns the feasible rescaling M / g (g = smallest constraint value), UB = ||M / g||_* and
    LB = sum(y+) / ||G(y+)||_op.  Raises SolverError when M meets no scaling of the constraints."""
    w = Z[cons.target] - Z[cons.competitor]
    g = float(np.min(((Z[cons.query] @ Mp) * w).sum(axis=1)))  # z_x^T M w_k for every k
    if not g > 0:
        raise SolverError(f"the returned W violates a margin (smallest value {g:.3g} <= 0)")
    Mf = Mp / g
    upper = float(np.linalg.svd(Mf, compute_uv=False).sum())
    return Bracket(Mf, upper, dual_lower(Z, cons, y))


def repair(Z: np.ndarray, cons, Mp: np.ndarray, y: np.ndarray, lower: float) -> np.ndarray | None:
    """A solver's M with its margins lifted back to 1 at little cost (module docstring, Repair):
    M / level + Delta, level the y-weighted mean of M's constraint values (the margin the solver
    aimed at) and Delta the smallest in entrywise l1 norm with every value z_x^T (M / level + Delta) w_k
    >= 1 (an LP, HiGHS). None when y gives no level, when ||M / level||_* is itself more than
    SOLVER_RTOL above ``lower`` (no lift of the margins would certify the attempt then), or when the
    LP does not end optimal."""
    yp = np.clip(y, 0.0, None)
    A = constraint_matrix(sparse_copy(Z), cons)
    values = A @ Mp.ravel()
    level = float(yp @ values / yp.sum()) if yp.sum() > 0 else np.nan
    if not (np.isfinite(level) and level > 0):
        return None
    if np.linalg.svd(Mp / level, compute_uv=False).sum() - lower > SOLVER_RTOL * lower:
        return None
    m = Mp.ravel() / level
    n = m.size
    res = linprog(np.ones(2 * n), A_ub=sp.hstack([-A, A]).tocsr(), b_ub=A @ m - 1.0, bounds=(0, None), method="highs")
    if res.status != 0:
        return None
    return (m + res.x[:n] - res.x[n:]).reshape(Mp.shape)


def box_margin(Z: np.ndarray, cons) -> tuple[float, np.ndarray]:
    """The feasibility LP (module docstring): t* = max t s.t. every constraint value >= t,
    max_ij abs(M_ij) <= 1 and t <= 1 (HiGHS), and its duals y >= 0 of the margin rows (one per constraint).

    y is a weak-duality certificate for the margin program too (:func:`dual_lower`): when t* is
    small, sum(y) / ||G(y)||_op is large, of order 1/t*."""
    return _box_lp(Z, cons)[:2]


def box_bracket(Z: np.ndarray, cons) -> Bracket:
    """A certified bracket on OPT from the feasibility LP alone, for when no solver attempt ends
    optimal: its box solution M, scaled by its smallest constraint value computed with the exact Z,
    is feasible (returned with upper = its nuclear norm), and its duals give the weak-duality lower
    bound."""
    _, y, Mp = _box_lp(Z, cons, cap=None)  # uncapped t: the duals then sum to 1, never all 0
    return certify(Z, cons, Mp, y)


def _box_lp(Z: np.ndarray, cons, cap: float | None = 1.0) -> tuple[float, np.ndarray, np.ndarray]:
    """The feasibility LP of :func:`box_margin` (t <= ``cap``; None: t bounded by the box alone):
    t*, the duals y and the box solution M (r, r); solved on the solver's copy of Z."""
    Z = sparse_copy(Z)
    r, K = Z.shape[1], len(cons)
    A_ub = sp.hstack([-constraint_matrix(Z, cons), sp.csr_matrix(np.ones((K, 1)))]).tocsr()  # t - value_k <= 0
    c = np.zeros(r * r + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(K), bounds=[(-1, 1)] * (r * r) + [(None, cap)], method="highs")
    if res.status != 0:
        raise SolverError(f"feasibility LP: HiGHS ended with status {res.status} ({res.message})")
    return float(-res.fun), -np.asarray(res.ineqlin.marginals), res.x[:r * r].reshape(r, r)


def feasibility(Z: np.ndarray, cons, what: str) -> float:
    """The feasibility LP's t* (module docstring), decided: raises InfeasibleError or
    IllConditionedError (with the LP's weak-duality lower bound) when t* says so; ``what`` names
    the program in the messages."""
    t_star, y_box = box_margin(Z, cons)
    if t_star <= INFEASIBLE_ATOL:
        raise InfeasibleError(f"{what}: infeasible (no W meets every margin; best box margin t* = {t_star:.2g})")
    if t_star < ILL_CONDITIONED:
        raise IllConditionedError(f"{what}: instance too badly conditioned (best box margin t* = {t_star:.2g} < "
                                  f"{ILL_CONDITIONED:g}, OPT would be of order 1/t*)", dual_lower(Z, cons, y_box))
    return t_star
