"""Sink representability (Súkeník et al., Prop. 4.1; docs/sink_geometry.md): the LP and its certificates.

Problem.  Tokens z_0 (sink), z_1..z_T (rows of Z), queries J subset [T] (0 not in J), margin kappa.
Find W = W_QK with  <W, M_ij> / sqrt(d) >= kappa,  M_ij = z_i (z_0 - z_j)^T,  for every query
i in J and every visible key j != 0 (causal mask: 1 <= j <= i, the query itself included; full
mask: 1 <= j <= T).  The constraints are homogeneous in W, so feasibility does not depend on kappa.

Alternative (Gordan).  Exactly one holds: such a W exists, or there is y >= 0, sum y = 1 with
sum_ij y_ij M_ij = 0.  :func:`decide` returns a verified W or a verified y, never an unverified
number; :func:`verify_certificate` and :func:`verify_margins` re-check them from Z alone.

Every constraint reads W only through z_i^T W z_j, so the LP runs on the r x r coefficients of W
in an orthonormal basis of span(z_0..z_T) (docs/cost_identity.md); r <= T + 1 whatever d is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

from sinkcheck import validate
from sinkcheck.solvers.ladder import solve
from sinkcheck.solvers.program import Triples
from sinkcheck.construct.factors import balanced_factors, nuclear_norm, span_basis
from sinkcheck.core.attention import scores
from sinkcheck.errors import InfeasibleError, SolverError

MASKS = ("causal", "full")
"""The supported masks.  Under "causal" query i sees positions 0 to i, itself included; under
"full" every query sees positions 0 to T."""

CERTIFICATE_RTOL = 1e-7
"""Largest relative residual of an infeasibility certificate that :func:`decide` accepts."""


def check_problem(Z, J, kappa: float = 1.0, mask: str = "causal") -> tuple[np.ndarray, list[int], float]:
    """Validate (Z, J, kappa, mask); return Z as float64 (T+1, d), J sorted, kappa."""
    Z = validate.finite_array("Z", Z, ndim=2)
    if Z.shape[0] < 2:
        raise validate.InvalidInputError(f"Z: must have a sink and at least one more token (got shape {Z.shape})")
    kappa = validate.positive("kappa", kappa)
    validate.choice("mask", mask, MASKS)
    try:
        J = [validate.integer_at_least("J", int(i) if isinstance(i, np.integer) else i, 1) for i in J]
    except TypeError:
        raise validate.InvalidInputError(f"J: must be a collection of integers (got {J!r})") from None
    if not J:
        raise validate.InvalidInputError("J: must be a non-empty set of query indices (got [])")
    if len(set(J)) != len(J) or max(J) >= Z.shape[0]:
        raise validate.InvalidInputError(f"J: must be distinct indices in [1, {Z.shape[0] - 1}] (got {J!r})")
    return Z, sorted(J), kappa


def visible_keys(i: int, T: int, mask: str) -> list[int]:
    """The non-sink keys query i sees: 1..i (causal) or 1..T (full)."""
    return list(range(1, (i if mask == "causal" else T) + 1))


def sink_pairs(Z, J, mask: str = "causal") -> list[tuple[int, int]]:
    """Every constrained pair (i, j): i in J, j a visible non-sink key of i."""
    Z, J, _ = check_problem(Z, J, 1.0, mask)
    T = Z.shape[0] - 1
    return [(i, j) for i in J for j in visible_keys(i, T, mask)]


def constraint_matrices(Z: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """M_ij = z_i (z_0 - z_j)^T for each pair, shape (m, d, d)."""
    return np.stack([np.outer(Z[i], Z[0] - Z[j]) for i, j in pairs])


@dataclass
class SinkLPResult:
    """The LP's answer: a verified W (feasible) or a verified Gordan certificate y (infeasible)."""

    feasible: bool
    pairs: list[tuple[int, int]]
    W: np.ndarray | None = None
    min_margin: float | None = None
    cost: float | None = None
    factors: tuple[np.ndarray, np.ndarray] | None = None
    y: np.ndarray | None = None
    residual: float | None = None
    info: dict = field(default_factory=dict)


def _reduced_problem(Z, J, kappa: float, mask: str):
    """Validated inputs, the (query, key) pairs, and the span reduction Q, Z Q (docs/cost_identity.md)."""
    Z, J, kappa = check_problem(Z, J, kappa, mask)
    pairs = sink_pairs(Z, J, mask)
    Q = span_basis(Z)
    return Z, J, kappa, pairs, Q, Z @ Q


def verify_margins(Z, J, W, kappa: float, mask: str = "causal") -> float:
    """min over constrained pairs of (s(z_i, z_0) - s(z_i, z_j)) / kappa, from the core scores."""
    Z, J, kappa = check_problem(Z, J, kappa, mask)
    S = scores(Z, Z, W)
    T = Z.shape[0] - 1
    return float(min(S[i, 0] - S[i, j] for i in J for j in visible_keys(i, T, mask)) / kappa)


def verify_certificate(Z, pairs: list[tuple[int, int]], y: np.ndarray) -> float:
    """||sum y_ij z_i (z_0 - z_j)^T||_F / max ||z_i|| ||z_0 - z_j|| after checking y >= 0, sum y = 1."""
    Z = validate.finite_array("Z", Z, ndim=2)
    y = validate.finite_array("y", y, ndim=1, shape=(len(pairs),))
    if y.min() < -1e-12 or abs(y.sum() - 1.0) > 1e-9:
        raise validate.InvalidInputError(f"y: must be >= 0 with sum 1 (got min {y.min()}, sum {y.sum()})")
    total = sum(w * np.outer(Z[i], Z[0] - Z[j]) for w, (i, j) in zip(y, pairs))
    scale = max(np.linalg.norm(Z[i]) * np.linalg.norm(Z[0] - Z[j]) for i, j in pairs)
    return float(np.linalg.norm(total) / max(scale, 1e-300))


def decide(Z, J, kappa: float = 1.0, mask: str = "causal", tol: float = 1e-9) -> SinkLPResult:
    """Decide whether some W_QK makes every query in J attend to z_0 with margin kappa.

    LP (HiGHS) in the span basis: maximise t s.t. <W_r, M^r_ij> >= t, -1 <= (W_r)_ab <= 1.  Its dual
    is min ||sum y_ij M^r_ij||_1 (entrywise) over y >= 0, sum y = 1, so t* > 0 iff feasible and an
    optimal dual y with t* = 0 is a Gordan certificate.

    Args:
        Z: tokens (T+1, d), row 0 the sink.  J: query indices in [1, T].  kappa: margin > 0.
        mask: "causal" or "full".  tol: relative threshold on t* and on the certificate residual.
    Returns:
        SinkLPResult with W (scaled to margin kappa), its cost 2 ||W||_* and balanced factors, or
        with the certificate y over ``pairs`` and its residual.
    Raises:
        InvalidInputError: for bad input.
        SolverError: if the LP did not solve, or if neither its W nor its certificate verifies
            (a near-degenerate instance).
    """
    Z, J, kappa, pairs, Q, Zr = _reduced_problem(Z, J, kappa, mask)
    d, r = Z.shape[1], Q.shape[1]
    A = constraint_matrices(Zr, pairs).reshape(len(pairs), r * r)
    scale = float(np.abs(A).sum(axis=1).max())
    if scale == 0.0:  # every constraint matrix vanishes: any y is a certificate
        y = np.full(len(pairs), 1.0 / len(pairs))
        return SinkLPResult(False, pairs, y=y, residual=verify_certificate(Z, pairs, y), info={"t_star": 0.0})
    # variables (w, t): maximise t  <=>  minimise -t;  t - A w <= 0
    c = np.zeros(r * r + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-A / scale, np.ones((len(pairs), 1))])
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(len(pairs)), bounds=[(-1, 1)] * (r * r) + [(None, None)],
                  method="highs")
    if res.status != 0:
        raise SolverError(f"sink LP: HiGHS ended with status {res.status} ({res.message})")
    t_star = -float(res.fun)
    if t_star > tol:
        W = Q @ res.x[:-1].reshape(r, r) @ Q.T
        W *= kappa * np.sqrt(d) / (t_star * scale)  # now every <W, M_ij>/sqrt(d) >= kappa
        margin = verify_margins(Z, J, W, kappa, mask)
        if margin < 1.0 - 1e-6:
            raise SolverError(f"sink LP: W found but its margin check failed ({margin} kappa)")
        return SinkLPResult(True, pairs, W=W, min_margin=margin, cost=2.0 * nuclear_norm(W),
                            factors=balanced_factors(W), info={"t_star": t_star, "r": r})
    y = np.maximum(-res.ineqlin.marginals, 0.0)
    if y.sum() <= 0:
        raise SolverError("sink LP: t* = 0 but the dual multipliers vanish")
    y = y / y.sum()
    residual = verify_certificate(Z, pairs, y)
    if residual > CERTIFICATE_RTOL:
        raise SolverError(f"sink LP: undecided (t* = {t_star:.3g}, certificate residual {residual:.3g})")
    return SinkLPResult(False, pairs, y=y, residual=residual, info={"t_star": t_star, "r": r})


def min_nuclear_sink(Z, J, kappa: float = 1.0, mask: str = "causal") -> SinkLPResult:
    """The cheapest sink: minimise ||W||_* s.t. every margin >= kappa, certified.

    The margin program of :mod:`sinkcheck.solvers.program` with target z_0 (the sink) for
    every constrained pair: a solver ladder, a weak-duality bracket ``info["cost_lower"] <= OPT <= cost``,
    and a feasibility LP where an attempt fails.

    Returns:
        SinkLPResult with the optimal W, cost 2 ||W||_* (the Frobenius squared cost of its balanced
        factors, a certified upper bound on OPT), the factors and the verified minimum margin (in
        units of kappa); ``info`` holds the span rank r, the scale, the solver and ``cost_lower``.
    Raises:
        InvalidInputError: for bad input.
        InfeasibleError: if no W exists (use :func:`decide` for the certificate).
        SolverError: if the instance is too badly conditioned or no certified solve was found.
    """
    Z, J, kappa, pairs, Q, Zr = _reduced_problem(Z, J, kappa, mask)
    d, r = Z.shape[1], Q.shape[1]
    # Scale: z = s z~ with max |z~| = 1 and W = kappa sqrt(d) M / s^2 in the span basis, so the
    # program reads min ||M||_* s.t. z~_i^T M (z~_0 - z~_j) >= 1 (unit data).
    s = float(np.abs(Zr).max())
    i, j = np.array(pairs).T
    cons = Triples(query=i, target=np.zeros_like(i), competitor=j)
    try:
        sol = solve(Zr / s, cons, what="min-nuclear sink")
    except InfeasibleError as exc:
        raise InfeasibleError(f"{exc} (see decide() for a certificate)") from None
    unit = kappa * np.sqrt(d) / s**2
    W = Q @ (unit * sol.M) @ Q.T
    margin = verify_margins(Z, J, W, kappa, mask)
    if margin < 1.0 - 1e-6:
        raise SolverError(f"min-nuclear sink: the certified W misses the margin ({margin} kappa)")
    return SinkLPResult(True, pairs, W=W, min_margin=margin, cost=2.0 * nuclear_norm(W),
                        factors=balanced_factors(W),
                        info={"r": r, "scale": s, "solver": sol.solver, "cost_lower": 2.0 * unit * sol.lower})


# ---- sampled problems of Theorem G, on both sides of its condition (report check, tests, strategies)
PROBLEM_KINDS = ("generic", "sink_in_hull", "equal_norms", "antipodal_queries", "anisotropic")
"""The kinds of embeddings :func:`shape_problem` makes, so that both sides of Theorem G occur.
``sink_in_hull`` puts z_0 in the convex hull of the keys, so (b) fails; ``antipodal_queries`` sets
z_T = -z_1, so (a) fails; ``equal_norms`` puts the rows on the unit sphere; ``anisotropic`` adds a
common mean direction, so (a) holds and (b) usually holds."""


def shape_problem(Z: np.ndarray, J: list[int], kind: str, w: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Apply ``kind`` (one of :data:`PROBLEM_KINDS`) to embeddings Z (T+1, d) and queries J;
    ``w`` (T,) are positive convex weights used by sink_in_hull.  Shared by the report and the tests."""
    Z, T = Z.copy(), Z.shape[0] - 1
    if kind == "sink_in_hull":
        # dyadic weights (multiples of 2^-20, summing to 1 exactly): on the half-integer grid every
        # product and sum is then exact, so z_0 lies in the hull bit for bit; w / w.sum() put it one
        # ulp outside when the keys coincide (found by the thorough profile)
        q = np.floor(w / w.sum() * 2.0**20)
        q[np.argmax(q)] += 2.0**20 - q.sum()
        Z[0] = (q / 2.0**20) @ Z[1:]
        J = sorted(set(J) | {T})  # the last query sees every key
    elif kind == "antipodal_queries" and T >= 2:
        Z[T] = -Z[1]
        J = sorted(set(J) | {1, T})
    elif kind in ("equal_norms", "anisotropic"):
        if kind == "anisotropic":
            Z[1:, 0] += 4.0
        # each row divided by its largest entry first: parallel rows then become bit-identical (IEEE
        # division is correctly rounded), so a duplicate token stays exact instead of one ulp away,
        # where the decision of Theorem G would depend on rounding (found by the thorough profile)
        Z /= np.abs(Z).max(axis=1, keepdims=True)
        Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    return Z, J


def sample_sink_problem(rng: np.random.Generator, kind: str) -> tuple[np.ndarray, list[int], str]:
    """Seeded embeddings on a half-integer grid (exact degenerate cases), shaped by ``kind``."""
    d, T = int(rng.integers(2, 5)), int(rng.integers(2, 9))
    Z = rng.integers(-6, 7, (T + 1, d)) / 2.0
    Z[np.linalg.norm(Z, axis=1) == 0] += 1.0
    J = sorted(rng.choice(np.arange(1, T + 1), size=int(rng.integers(1, T + 1)), replace=False).tolist())
    Z, J = shape_problem(Z, J, kind, rng.integers(1, 5, T).astype(float))
    return Z, J, str(rng.choice(MASKS))
