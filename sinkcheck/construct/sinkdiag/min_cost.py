"""Minimum QK cost of a pattern: min ||W||_* subject to its margin constraints (docs/cost_identity.md, docs/sink_vs_diagonal.md).

Span reduction (docs/cost_identity.md). Let Q (d, r) be an orthonormal basis of a subspace that
contains every token and P = Q Q^T. Every constraint reads W only through z^T W z' with z, z' in
span(Q), so P W P meets exactly the constraints W meets, and ||P W P||_* <= ||W||_*. So an optimum
has the form W = Q M Q^T with ||W||_* = ||M||_*, and the r x r program has the optimum of the d x d
one. We take Q = [U | B_eta] (U the basis of S, B_eta one of the nuisance span N), r = 2C + 1 + r_eta
whatever d is. In this basis the tokens have sparse coordinates: b -> sqrt(d) e_0, c_c -> sqrt(d)
e_{C+c}, d_ci -> lam sqrt(d) e_c + B_eta^T eta_ci.

Scaled program. With z~ = Q^T z / sqrt(d) and M' = M sqrt(d) / kappa, the constraint
s(x, t) - s(x, y) >= kappa reads z~_x^T M' (z~_t - z~_y) >= 1 with O(1) coefficients: the margin
program of :mod:`sinkcheck.solvers.program`, which :func:`sinkcheck.solvers.ladder.solve` solves down
a solver ladder, certifies by weak duality, and decides feasibility by an LP where an attempt fails.
``opt`` is the certified upper bound (the cost of a W that meets every margin) and ``opt_lower``
the certified lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sinkcheck.construct import factors
from sinkcheck.construct.factors import balanced_factors
from sinkcheck.construct.sinkdiag.constraints import Constraints, SpanForm, constraint_margins, margin_constraints
from sinkcheck.construct.sinkdiag.instance import SinkDiagInstance
from sinkcheck.errors import IllConditionedError, InfeasibleError, WideBracketError
from sinkcheck.solvers.ladder import Policy, solve
from sinkcheck.solvers.program import spread


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


def instance_basis(inst: SinkDiagInstance) -> np.ndarray:
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


def scaled_program(inst: SinkDiagInstance, pattern: str, fallback: bool = True, reduce: bool = True,
                   cons: Constraints | None = None) -> tuple[np.ndarray, np.ndarray, Constraints]:
    """The basis Q (:func:`instance_basis`, or the identity when not ``reduce``), the scaled coordinates
    Z = tokens Q / sqrt(d) and the constraints of ``pattern``: the margin program min_cost solves
    (module docstring); ``cons``: the pattern's constraints when the caller has built them already."""
    cons = margin_constraints(inst, pattern, fallback) if cons is None else cons
    Q = instance_basis(inst) if reduce else np.eye(inst.dim)
    return Q, inst.tokens() @ Q / np.sqrt(inst.dim), cons


def coinciding_mates(Z: np.ndarray, group: np.ndarray, rtol: float = 1e-9) -> tuple[int, int] | None:
    """The first pair (i, j) of dormant tokens of one group with norm(z_i - z_j) <= rtol max abs(Z) (rows
    1 + C + i of the span coordinates Z), or None.  Such a pair makes the diagonal program infeasible:
    its two self-attention constraints read z_i^T W (z_i - z_j) >= kappa and the same with 0 = z_i - z_j.
    With r_eta = 1 and H2 but not H1 every nuisance is +-delta u, so this happens with probability 1/2
    per pair of group mates."""
    D = Z[Z.shape[0] - len(group):]
    tol = rtol * float(np.abs(Z).max())
    for i, j in zip(*np.triu_indices(len(group), 1)):
        if group[i] == group[j] and np.linalg.norm(D[i] - D[j]) <= tol:
            return int(i), int(j)
    return None


DUAL_MAX_R = 56
"""Widest span basis (r = 2C + 1 + r_eta) whose diagonal program is solved in the dual form (C = 24
at r_eta = 6); wider ones are solved in the kron form. benchmarks/bench_forms.py times the forms
up to C = 20; the bound itself comes from measurements kept in git history, not re-run."""


def program_form(pattern: str, r: int) -> str:
    """The form the min-cost program of ``pattern`` with an r-dimensional span is solved in (:data:`DUAL_MAX_R`)."""
    if pattern == "sink":
        return "split"
    return "dual" if r <= DUAL_MAX_R else "kron"


BADLY_SCALED = 16.0
"""Spread max ||w_k|| / min ||w_k|| (:func:`~sinkcheck.solvers.program.spread`) above which the
diagonal program runs its Clarabel attempts first, in the program's form (:func:`clarabel_first`).

The diagonal constraints of two group mates have w = +-(z_i - z_j), of norm at most
2 delta / sqrt(d), while the other w are of order 1 or lam; the two add up to
(z_i - z_j)^T M (z_i - z_j) >= 2, so M needs a block of order spread^2 next to entries of order 1,
which SCS converges on slowly and an interior-point method does not notice. The sink program's
spread is about max(lam, 1 / lam) whatever d, and it stays SCS first. The threshold 16 comes from
measurements kept in git history (no benchmark re-runs it yet)."""


def clarabel_first(pattern: str, Z: np.ndarray, cons: Constraints) -> bool:
    """Whether the min-cost program of ``pattern`` runs its Clarabel attempts first: the diagonal
    program with a spread above :data:`BADLY_SCALED`."""
    return pattern == "diag" and spread(Z, cons) > BADLY_SCALED


def min_cost(inst: SinkDiagInstance, pattern: str, fallback: bool = True, reduce: bool = True,
             policy: Policy = Policy(), cons: Constraints | None = None) -> MinCost:
    """Minimum QK cost of ``pattern`` on ``inst``, certified by weak duality (module docstring).

    Args:
        inst: the instance.
        pattern: "sink" or "diag".
        fallback: include the group-absent copy constraints.
        reduce: solve the r x r span-reduced program (default) or the naive d x d one.
        policy: how the solver ladder runs (:class:`~sinkcheck.solvers.ladder.Policy`); its open
            choices are made here: the form by :func:`program_form`, Clarabel first by
            :func:`clarabel_first`.
        cons: the constraints of ``pattern`` (:func:`~sinkcheck.construct.sinkdiag.constraints.margin_constraints`)
            when the caller has built them already.
    Returns:
        A :class:`MinCost`; ``opt`` = 2 ||W||_* of a W meeting every margin, ``opt_lower`` <= OPT.
    Raises:
        InfeasibleError: no W meets the constraints (e.g. a dormant token in the convex hull of
            its group mates under the diagonal pattern).
        IllConditionedError: too badly conditioned; the error carries a certified lower bound on OPT.
        WideBracketError: the certified gap exceeds MAX_GAP, also when no attempt ended optimal
            (then the bracket comes from the inaccurate attempts' certified iterates and the
            feasibility LP); the error carries the bracket of OPT.
        SolverError: no certified bracket could be had.
    """
    Q, Z, cons = scaled_program(inst, pattern, fallback, reduce, cons)
    scale = inst.kappa / np.sqrt(inst.dim)  # M = M' kappa / sqrt(d)
    try:
        sol = solve(Z, cons, policy.given(program_form(pattern, Z.shape[1]), clarabel_first(pattern, Z, cons)),
                    what=f"min-cost program ({pattern})")
    except InfeasibleError as err:
        pair = coinciding_mates(Z, inst.group) if pattern == "diag" else None
        if pair is None:
            raise
        raise InfeasibleError(f"{err}: dormant tokens {pair[0]} and {pair[1]} of one group coincide, so "
                              "neither can score itself above the other") from None
    except WideBracketError as err:  # the bracket in cost units, 2 ||W||_*
        raise WideBracketError(str(err), 2 * err.lower * scale, 2 * err.upper * scale) from None
    except IllConditionedError as err:  # its lower bound in cost units
        raise IllConditionedError(str(err), 2 * err.lower * scale) from None
    form = SpanForm(Q, sol.M * scale)
    margins = constraint_margins(inst, form, cons)
    return MinCost(pattern, 2 * sol.upper * scale, 2 * sol.lower * scale, sol.upper * scale, form, sol.solver,
                   sol.status, float(margins.min()), len(cons), sol.seconds)
