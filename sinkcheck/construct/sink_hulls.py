"""Theorems G and C of Prop. 4.1 in numbers (statements: :mod:`sinkcheck.theory.sink_geometry`).

Convex-hull primitives (an LP for membership, Wolfe's exact nearest-point algorithm for distances),
the two conditions of Theorem G decided, its Gordan-type certificate, the distances gamma_Q and
gamma_0, the rank-one witness of the proof, and the cost bounds of Theorem C.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from sinkcheck import validate
from sinkcheck.construct.sink_lp import check_problem, visible_keys
from sinkcheck.errors import SolverError


# ---------------------------------------------------------------- convex-hull primitives
def in_hull(P: np.ndarray, x: np.ndarray) -> tuple[bool, np.ndarray | None]:
    """Is x in conv(rows of P)?  Exact LP (HiGHS): lambda >= 0, sum 1, P^T lambda = x.

    Returns:
        (True, lambda) or (False, None).
    Raises:
        SolverError: HiGHS ends with a status other than optimal or infeasible.
    """
    P = validate.finite_array("P", P, ndim=2)
    x = validate.finite_array("x", x, ndim=1, shape=(P.shape[1],))
    A_eq = np.vstack([P.T, np.ones((1, P.shape[0]))])
    b_eq = np.concatenate([x, [1.0]])
    res = linprog(np.zeros(P.shape[0]), A_eq=A_eq, b_eq=b_eq, bounds=[(0, None)] * P.shape[0], method="highs")
    if res.status == 0:
        return True, res.x
    if res.status == 2:
        return False, None
    raise SolverError(f"hull LP: HiGHS status {res.status} ({res.message})")


POLISH_TOL = 1e-13
"""Tolerance of ``_min_norm_point`` on unit-scaled points: optimality (Wolfe's Z1) and zero
weights (Z3), relative to the largest squared norm."""


def _affine_weights(A: np.ndarray) -> np.ndarray:
    """Weights v (sum 1, any sign) of the point of aff(rows of A) nearest to 0: the KKT system
    [A A^T 1; 1^T 0] [v; nu] = [0; 1] (least squares, so a dependent set gives the min-norm v)."""
    k = A.shape[0]
    K = np.block([[A @ A.T, np.ones((k, 1))], [np.ones((1, k)), np.zeros((1, 1))]])
    return np.linalg.lstsq(K, np.r_[np.zeros(k), 1.0], rcond=None)[0][:-1]


def _min_norm_point(A: np.ndarray) -> np.ndarray:
    """Weights w >= 0, sum 1, of the point of conv(rows of A) nearest to 0: Wolfe's algorithm.

    P. Wolfe (1976), "Finding the nearest point in a polytope", Math. Programming 11.  A corral S
    (affinely independent rows) holds x = A_S^T w.  Major cycle: stop when no row j has
    a_j . x < |x|^2 (the first-order condition of the projection, to POLISH_TOL), else add the
    most violating row.  Minor cycle: move w toward the affine nearest point v of S until a weight
    reaches 0, drop it, repeat until v lies in conv(S).  |x| decreases strictly in every major
    cycle and no corral repeats, so it ends in finitely many steps; duplicate and collinear rows
    (the degenerate cases) are never added twice, since a row already in S satisfies the condition.

    Raises:
        SolverError: a cycle fails to make progress (rounding), so no point is returned.
    """
    tol = POLISH_TOL * max(float(np.einsum("ij,ij->i", A, A).max()), 1e-300)
    S, w = [int(np.argmin(np.einsum("ij,ij->i", A, A)))], np.array([1.0])
    for _ in range(100 * (A.shape[0] + A.shape[1] + 1)):
        x = A[S].T @ w
        j = int(np.argmin(A @ x))
        if A[j] @ x >= x @ x - tol:
            break
        if j in S:  # only by rounding: a point of the corral meets the condition exactly
            raise SolverError(f"hull distance: Wolfe's algorithm stalled (first-order condition off by "
                              f"{x @ x - A[j] @ x:.3g})")
        S, w = S + [j], np.append(w, 0.0)
        for _ in range(len(S)):  # minor cycle: each pass drops a point of S, or ends it
            v = _affine_weights(A[S])
            if v.min() > tol:
                w = v
                break
            out = (v <= tol) & (w > v)  # the weights that the step toward v drives to 0
            theta = min(1.0, float(np.min(w[out] / (w[out] - v[out])))) if out.any() else 1.0
            w = (1 - theta) * w + theta * v
            keep = w > tol
            S, w = [s for s, k in zip(S, keep) if k], w[keep] / w[keep].sum()
        else:
            raise SolverError("hull distance: Wolfe's minor cycle did not end")
    else:
        raise SolverError("hull distance: Wolfe's algorithm did not converge")
    full = np.zeros(A.shape[0])
    full[S] = w
    return full


def hull_distance(P: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """dist(x, conv(rows of P)) and the weights of the nearest point (Wolfe's algorithm, exact).

    The nearest point is that of the affine hull of an affinely independent subset of the rows
    (at most d + 1 of them, Caratheodory), found by ``_min_norm_point`` on the rows translated
    by x and scaled to unit size; it meets the projection's first-order condition
    (P_j - p) . (p - x) >= 0 for every row to POLISH_TOL (relative), duplicate and collinear rows
    included.  The returned distance is the norm of an actual hull point, so it is never below the
    true one.
    """
    P = validate.finite_array("P", P, ndim=2)
    x = validate.finite_array("x", x, ndim=1, shape=(P.shape[1],))
    scale = max(float(np.abs(P - x).max()), 1e-300)  # unit size: POLISH_TOL is relative
    w = _min_norm_point((P - x) / scale)
    return float(np.linalg.norm(P.T @ w - x)), w


# ---------------------------------------------------------------- Theorem G
def alignment_condition(Z, J, mask: str = "causal") -> dict:
    """Conditions (a) and (b) of Theorem G, decided by two hull LPs (independent of the W-LP).

    Returns:
        dict with ``queries_in_open_halfspace`` (a), ``sink_separated_from_keys`` (b),
        ``representable`` = (a) and (b), and the hull weights ``lam`` / ``mu`` when (a) / (b) fail.
    """
    Z, J, _ = check_problem(Z, J, 1.0, mask)
    T = Z.shape[0] - 1
    zero_in, lam = in_hull(Z[J], np.zeros(Z.shape[1]))
    K_max = visible_keys(max(J), T, mask)
    sink_in, mu = in_hull(Z[K_max], Z[0])
    return {"queries_in_open_halfspace": not zero_in, "sink_separated_from_keys": not sink_in,
            "representable": (not zero_in) and (not sink_in), "lam": lam, "mu": mu, "K_max": K_max}


def geometric_certificate(Z, J, mask: str = "causal") -> tuple[list[tuple[int, int]], np.ndarray]:
    """The (only if) proof of Theorem G: a Gordan certificate built from a failed condition.

    Returns:
        (pairs, y) for :func:`sinkcheck.construct.sink_lp.verify_certificate`.
    Raises:
        InvalidInputError: if (a) and (b) both hold (then there is no certificate).
    """
    Z, J, _ = check_problem(Z, J, 1.0, mask)
    cond = alignment_condition(Z, J, mask)
    if cond["mu"] is not None:  # (b) fails: z_0 = sum mu_j z_j over K_max, seen by query max(J)
        return [(max(J), j) for j in cond["K_max"]], cond["mu"]
    if cond["lam"] is not None:  # (a) fails: sum lam_i z_i = 0; key 1 is seen by every query
        return [(i, 1) for i in J], cond["lam"]
    raise validate.InvalidInputError("J: conditions (a) and (b) hold, so the sink is representable (no certificate)")


def gammas(Z, J, mask: str = "causal") -> dict:
    """gamma_Q = dist(0, conv Q), gamma_0 = dist(z_0, conv K_max) and the nearest points' weights."""
    Z, J, _ = check_problem(Z, J, 1.0, mask)
    g_Q, lam = hull_distance(Z[J], np.zeros(Z.shape[1]))
    K_max = visible_keys(max(J), Z.shape[0] - 1, mask)
    g_0, mu = hull_distance(Z[K_max], Z[0])
    return {"gamma_Q": g_Q, "gamma_0": g_0, "lam": lam, "mu": mu, "K_max": K_max}


def rank_one_witness(Z, J, kappa: float = 1.0, mask: str = "causal") -> np.ndarray:
    """The (if) proof of Theorem G: W = kappa sqrt(d) q k^T / (gamma_Q gamma_0).

    Raises:
        InvalidInputError: if (a) or (b) fails (gamma_Q or gamma_0 is 0 up to 1e-9 relative).
    """
    Z, J, kappa = check_problem(Z, J, kappa, mask)
    g = gammas(Z, J, mask)
    scale = float(np.abs(Z).max())
    if g["gamma_Q"] <= 1e-9 * scale or g["gamma_0"] <= 1e-9 * scale:
        raise validate.InvalidInputError(f"Z: conditions (a)/(b) fail (gamma_Q={g['gamma_Q']:.3g}, gamma_0={g['gamma_0']:.3g})")
    p = Z[J].T @ g["lam"]
    m = Z[g["K_max"]].T @ g["mu"]
    q, k = p / np.linalg.norm(p), (Z[0] - m) / np.linalg.norm(Z[0] - m)
    # margin walk-through: q . z_i >= |p| = gamma_Q and k . (z_0 - z_j) >= |z_0 - m| = gamma_0 for
    # every key in K_max (min-norm / projection property); we scale by the attained minima alpha,
    # beta (equal to gamma_Q, gamma_0 up to the solver's accuracy), so each score gap is >= kappa.
    alpha = float(min(Z[J] @ q))
    beta = float(min((Z[0] - Z[g["K_max"]]) @ k))
    if alpha <= 0 or beta <= 0:
        raise SolverError(f"rank-one witness: inaccurate nearest points (alpha={alpha:.3g}, beta={beta:.3g})")
    return kappa * np.sqrt(Z.shape[1]) * np.outer(q, k) / (alpha * beta)


def cost_bounds(Z, J, kappa: float = 1.0, mask: str = "causal") -> dict:
    """Theorem C: certified bounds lower <= min ||W||_* <= upper (equal for the full mask, up to the
    accuracy of the nearest points).

    The nearest points come from Wolfe's algorithm (:func:`hull_distance`), and gamma_Q, gamma_0 are
    the norms of actual hull points, so they are >= the true distances: c / (gamma_Q gamma_0)
    (c = kappa sqrt(d)) and each causal lower term are valid lower bounds.  The upper bound is the
    nuclear norm ||W||_* = c / (alpha beta) of :func:`rank_one_witness`, which meets every margin
    (alpha <= gamma_Q, beta <= gamma_0 are the attained minima).  The two differ by the accuracy of
    the nearest points.

    Raises:
        InvalidInputError: if condition (a) or (b) of Theorem G fails (no W exists).
    """
    Z, J, kappa = check_problem(Z, J, kappa, mask)
    c = kappa * np.sqrt(Z.shape[1])
    upper = float(np.linalg.norm(rank_one_witness(Z, J, kappa, mask), 2))  # rank one: ||W||_* = ||W||_op
    g = gammas(Z, J, mask)
    lows = [c / (g["gamma_Q"] * g["gamma_0"])]
    if mask == "causal":
        T = Z.shape[0] - 1
        lows = [c / (g["gamma_Q"] * np.linalg.norm(Z[0] - Z[j])) for j in visible_keys(min(J), T, mask)]
        lows += [c / (np.linalg.norm(Z[i]) * hull_distance(Z[visible_keys(i, T, mask)], Z[0])[0]) for i in J]
    return {"lower": float(max(lows)), "upper": upper, **g}
