"""Dense vs. sparse attention and oversmoothing (Súkeník et al., Section 5; docs/smoothing.md).

Model.  k tokens; the pairs (x_l, z_l) (residual stream, normalised token) are uncorrelated across
l and have the same first and second moments: E z_l = mu_z, E x_l = mu_x, Cov(z_l) = B,
Cov(x_l, z_l) = E[(x_l - mu_x)(z_l - mu_z)^T] = beta B, Cov(x_l) = Sigma_x.  (With zero means
this is the spec's E[x z^T] = beta B.  Validity: the joint covariance is PSD iff B is PSD and
Sigma_x - beta^2 B is PSD.)  W = W_OV is square.  The attention path is
a_i(lam) = (1 - lam) e_i + (lam / k) 1, so Y_i(lam) = x_i + W sum_j a_ij z_j, Ybar = mean_i Y_i.

Theorem (derived and checked step by step below).  With p = beta tr(BW), q = tr(B W^T W) >= 0,

    D_k(lam) = E||Y_i - Ybar||^2 = (1 - 1/k) (tr Sigma_x + 2 (1 - lam) p + (1 - lam)^2 q),
    D_k'(1) = -2 (1 - 1/k) p,   D_k'(0) = -2 (1 - 1/k) (p + q),   D_k'' = 2 (1 - 1/k) q >= 0.

Means do not enter D_k.  If q = 0 (iff W B = 0) D_k is constant.  If q > 0:
D_k strictly decreases on [0, 1] iff p >= 0; strictly increases iff p + q <= 0; otherwise it has
its minimum at lam* = 1 + p / q in (0, 1).  The paper's strict conditions p > 0 (resp. p + q < 0)
are exactly "D_k' < 0 (resp. > 0) on all of [0, 1]"; read as "strictly monotone" their "only if"
fails on the boundary p = 0 < q (resp. p + q = 0 < q).

Cosine (approximation (2)).  N = E[Y_i^T Y_j] (i != j), Den = E||Y_i||^2, S = E||Ybar||^2.
Then S does not depend on lam, Den - N = k/(k-1) D_k, N = S - D_k/(k-1), and
R = N / Den = 1 - (k/(k-1)) D_k / (S + D_k),   R' = -(k/(k-1)) S D_k' / (S + D_k)^2.
So if S > 0, R strictly increases exactly where D_k strictly decreases (and vice versa).  The
seed assumes N > 0 and Den > 0; only S > 0 (implied by them) is needed.  Endpoints (S > 0 again:
R(1) - R(0) = (k/(k-1)) S (D_k(0) - D_k(1)) / ((S + D_k(0)) (S + D_k(1)))):
R(1) > R(0) iff D_k(1) < D_k(0) iff 2 p + q > 0.
"""

from __future__ import annotations

import math

import sympy as sp

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError

k, lam = sp.symbols("k lambda", positive=True)
p, q, tSx, mm = sp.symbols("p q trSigma_x mm", real=True)
"""p = beta tr(BW), q = tr(B W^T W), trSigma_x = tr Sigma_x, mm = ||mu_x + W mu_z||^2."""


# ---- closed forms (plain arithmetic: they take sympy symbols or floats) -------------------------
def D_closed(k, lam, p, q, tSx):
    """D_k(lam) = (1 - 1/k) (tr Sigma_x + 2 (1 - lam) p + (1 - lam)^2 q)."""
    return (1 - 1 / k) * (tSx + 2 * (1 - lam) * p + (1 - lam) ** 2 * q)


def N_closed(k, lam, p, q, mm):
    """E[Y_i^T Y_j], i != j: ||m||^2 + (2 lam / k) p + (2 (1 - lam + lam/k) lam/k + (k-2) lam^2/k^2) q."""
    c = 1 - lam + lam / k
    return mm + 2 * lam / k * p + (2 * c * lam / k + (k - 2) * lam**2 / k**2) * q


def Den_closed(k, lam, p, q, tSx, mm):
    """E||Y_i||^2 = ||m||^2 + tr Sigma_x + 2 (1 - lam + lam/k) p + ((1 - lam + lam/k)^2 + (k-1) lam^2/k^2) q."""
    c = 1 - lam + lam / k
    return mm + tSx + 2 * c * p + (c**2 + (k - 1) * lam**2 / k**2) * q


def S_closed(k, p, q, tSx, mm):
    """E||Ybar||^2 = ||m||^2 + (tr Sigma_x + 2 p + q) / k (no lam: Ybar = xbar + W zbar)."""
    return mm + (tSx + 2 * p + q) / k


def R_closed(k, lam, p, q, tSx, mm):
    """Approximation (2) of the average cosine similarity: N / Den."""
    return N_closed(k, lam, p, q, mm) / Den_closed(k, lam, p, q, tSx, mm)


# ---- step 1: Y_i - Ybar = (x_i - xbar) + (1 - lam) W (z_i - zbar) --------------------------------
def _a(same: bool):
    """a_il on the path: (1 - lam) [l == i] + lam / k."""
    return (1 - lam) * (1 if same else 0) + lam / k


def check_centering_step() -> dict:
    """Columns of the path matrix sum to 1 (it is doubly stochastic), so the coefficient of W z_l in
    Y_i - Ybar is a_il - 1/k = (1 - lam)([l == i] - 1/k): the mean of the tokens cancels."""
    col_sum = _a(True) + (k - 1) * _a(False)
    g_same, g_other = _a(True) - col_sum / k, _a(False) - col_sum / k
    return {
        "column_sum_is_1": sp.simplify(col_sum - 1) == 0,
        "coefficient_l_eq_i": sp.simplify(g_same - (1 - lam) * (1 - 1 / k)) == 0,
        "coefficient_l_ne_i": sp.simplify(g_other - (1 - lam) * (-1 / k)) == 0,
    }


# ---- step 2: trace identities with explicit symbolic entries -------------------------------------
def _sym_matrix(name: str, d: int, symmetric: bool = False) -> sp.Matrix:
    M = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"{name}{min(i, j) if symmetric else i}{max(i, j) if symmetric else j}", real=True))
    return M


def check_trace_identities(d: int = 3) -> dict:
    """For symmetric B with explicit entries: sum_ab W_ab (beta B)_ab = beta tr(BW) (the cross term
    E[(x - mu_x)^T W (z - mu_z)]), sum_ab (W^T W)_ab B_ab = tr(B W^T W) (the term E||W (z - mu_z)||^2),
    and tr(B W^T W) = ||W L||_F^2 for B = L L^T (so q >= 0: convexity)."""
    d = validate.integer_at_least("d", d, 1)
    B, W = _sym_matrix("b", d, symmetric=True), _sym_matrix("w", d)
    beta = sp.Symbol("beta", real=True)
    cross = sum(W[a, b] * beta * B[a, b] for a in range(d) for b in range(d))
    WtW = W.T * W
    square = sum(WtW[a, b] * B[a, b] for a in range(d) for b in range(d))
    L = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"l{i}{j}", real=True) if j <= i else 0)
    q_L = ((L * L.T) * W.T * W).trace()
    return {
        "cross_term_is_beta_trBW": sp.expand(cross - beta * (B * W).trace()) == 0,
        "square_term_is_trBWtW": sp.expand(square - (B * W.T * W).trace()) == 0,
        "trBWtW_is_sum_of_squares": sp.expand(q_L - sum(e**2 for e in (W * L))) == 0,
    }


# ---- step 3: D_k, N, Den for symbolic k from the per-token coefficients --------------------------
def _second_moment(groups, mean_term):
    """E[u^T v] for u = sum_l (al x_l + gl W z_l), v = sum_l (be x_l + hl W z_l), tokens uncorrelated:
    sum over the token groups (count, al, gl, be, hl) of count (al be trSx + (al hl + gl be) p + gl hl q),
    plus the mean term."""
    total = sum(n * (al * be * tSx + (al * hl + gl * be) * p + gl * hl * q) for n, al, gl, be, hl in groups)
    return total + mean_term


def derive_moments() -> dict:
    """D_k, N, Den and S in closed form for symbolic k, from the coefficients of step 1.

    Token groups: for D, l = i (1 token) and l != i (k - 1 tokens); for N (i != j): l = i, l = j,
    and the k - 2 others.  The coefficient sums of Y_i - Ybar are 0, so D has no mean term; those of
    Y_i are 1, so N and Den get ||mu_x + W mu_z||^2 = mm.
    """
    al_i, al_o = 1 - 1 / k, -1 / k
    gD_i, gD_o = (1 - lam) * (1 - 1 / k), (1 - lam) * (-1 / k)
    D = _second_moment([(1, al_i, gD_i, al_i, gD_i), (k - 1, al_o, gD_o, al_o, gD_o)], 0)
    ai, ao = _a(True), _a(False)
    N = _second_moment([(1, 1, ai, 0, ao), (1, 0, ao, 1, ai), (k - 2, 0, ao, 0, ao)], mm)
    Den = _second_moment([(1, 1, ai, 1, ai), (k - 1, 0, ao, 0, ao)], mm)
    S = _second_moment([(k, 1 / k, 1 / k, 1 / k, 1 / k)], mm)  # Ybar = mean_l (x_l + W z_l)
    return {"D": D, "N": N, "Den": Den, "S": S}


def check_closed_forms() -> dict:
    """The derived moments equal the closed forms (symbolic k, lam, p, q, tr Sigma_x, mm)."""
    m = derive_moments()
    return {
        "D": sp.simplify(m["D"] - D_closed(k, lam, p, q, tSx)) == 0,
        "N": sp.simplify(m["N"] - N_closed(k, lam, p, q, mm)) == 0,
        "Den": sp.simplify(m["Den"] - Den_closed(k, lam, p, q, tSx, mm)) == 0,
        "S": sp.simplify(m["S"] - S_closed(k, p, q, tSx, mm)) == 0,
    }


def check_mean_free_coefficients() -> dict:
    """Coefficient sums: those of Y_i - Ybar are 0 (so the means drop out of D_k); those of Y_i are 1."""
    col = _a(True) + (k - 1) * _a(False)
    return {
        "x_coefficients_of_Y_minus_Ybar_sum_to_0": sp.simplify((1 - 1 / k) + (k - 1) * (-1 / k)) == 0,
        "z_coefficients_of_Y_minus_Ybar_sum_to_0": sp.simplify((1 - lam) * ((1 - 1 / k) - (k - 1) / k)) == 0,
        "z_coefficients_of_Y_sum_to_1": sp.simplify(col - 1) == 0,
    }


# ---- step 3': brute force at a fixed small k with explicit symbolic entries -----------------------
def brute_force_moments(k_value: int = 3, d: int = 2) -> dict:
    """D, N, Den by E[v^T M v] = tr(M Sigma) + mu^T M mu on the stacked v = (x_1, z_1, ..., x_k, z_k),
    with symbolic B, Sigma_x, beta, W, mu_x, mu_z, lam: independent of the coefficient bookkeeping.

    Returns the three expectations and the matching closed forms written in the same entries.
    """
    k_value = validate.integer_at_least("k_value", k_value, 2)
    d = validate.integer_at_least("d", d, 1)
    B, Sx, W = _sym_matrix("b", d, True), _sym_matrix("s", d, True), _sym_matrix("w", d)
    beta = sp.Symbol("beta", real=True)
    mux = sp.Matrix(d, 1, lambda i, _: sp.Symbol(f"mx{i}", real=True))
    muz = sp.Matrix(d, 1, lambda i, _: sp.Symbol(f"mz{i}", real=True))
    block = sp.BlockMatrix([[Sx, beta * B], [beta * B, B]]).as_explicit()
    Sigma = sp.diag(*[block] * k_value)
    mu = sp.Matrix.vstack(*[sp.Matrix.vstack(mux, muz)] * k_value)
    A = (1 - lam) * sp.eye(k_value) + lam / k_value * sp.ones(k_value, k_value)

    def Y_map(weights):  # linear map v -> sum_i weights_i Y_i, a d x (2 d k) matrix
        cols = []
        for l in range(k_value):
            cols.append(weights[l] * sp.eye(d))  # x_l enters Y_i only for i = l
            cols.append(sum(weights[i] * A[i, l] for i in range(k_value)) * W)
        return sp.Matrix.hstack(*cols)

    def expect(L1, L2):  # E[(L1 v)^T (L2 v)]
        return sp.expand((L1 * Sigma * L2.T).trace() + ((L1 * mu).T * (L2 * mu))[0, 0])

    e = [[1 if i == j else 0 for i in range(k_value)] for j in range(k_value)]
    centred = [sp.Rational(int(i == 0), 1) - sp.Rational(1, k_value) for i in range(k_value)]
    L0, L1, Lc = Y_map(e[0]), Y_map(e[1]), Y_map(centred)
    subs = dict(k=sp.Integer(k_value), p=beta * (B * W).trace(), q=(B * W.T * W).trace(), tSx=Sx.trace(),
                mm=((mux + W * muz).T * (mux + W * muz))[0, 0])
    return {
        "D": expect(Lc, Lc), "N": expect(L0, L1), "Den": expect(L0, L0),
        "D_closed": sp.expand(D_closed(subs["k"], lam, subs["p"], subs["q"], subs["tSx"])),
        "N_closed": sp.expand(N_closed(subs["k"], lam, subs["p"], subs["q"], subs["mm"])),
        "Den_closed": sp.expand(Den_closed(subs["k"], lam, subs["p"], subs["q"], subs["tSx"], subs["mm"])),
    }


def check_brute_force(k_value: int = 3, d: int = 2) -> dict:
    """The brute-force expectations equal the closed forms identically in all entries."""
    m = brute_force_moments(k_value, d)
    return {name: sp.expand(m[name] - m[name + "_closed"]) == 0 for name in ("D", "N", "Den")}


# ---- step 4: derivatives, convexity, monotonicity -----------------------------------------------
def check_derivatives() -> dict:
    """D_k'(1), D_k'(0) as in the paper; D_k'' = 2 (1 - 1/k) q; D_k' is affine in lam (so its sign on
    [0, 1] is decided by its endpoint values); the stationary point is lam* = 1 + p / q."""
    D = D_closed(k, lam, p, q, tSx)
    d1 = sp.diff(D, lam)
    lam_star = sp.solve(sp.Eq(d1, 0), lam)
    return {
        "D_prime_at_1": sp.simplify(d1.subs(lam, 1) - (-2 * p * (1 - 1 / k))) == 0,
        "D_prime_at_0": sp.simplify(d1.subs(lam, 0) - (-2 * (1 - 1 / k) * (p + q))) == 0,
        "D_second": sp.simplify(sp.diff(D, lam, 2) - 2 * (1 - 1 / k) * q) == 0,
        "D_prime_affine": sp.simplify(d1 - ((1 - lam) * d1.subs(lam, 0) + lam * d1.subs(lam, 1))) == 0,
        "stationary_point": len(lam_star) == 1 and sp.simplify(lam_star[0] - (1 + p / q)) == 0,
        "endpoint_difference": sp.simplify(D.subs(lam, 1) - D.subs(lam, 0) + (1 - 1 / k) * (2 * p + q)) == 0,
    }


MONOTONICITY = ("constant", "strictly decreasing", "strictly increasing", "decreasing then increasing")
"""How D_k behaves on [0, 1] (:func:`monotonicity`)."""


def monotonicity(p_value, q_value) -> str:
    """Exact classification of D_k on [0, 1] from p = beta tr(BW) and q = tr(B W^T W) (q >= 0).

    Args:
        p_value: beta tr(BW).  q_value: tr(B W^T W), must be >= 0, and q = 0 forces p = 0.
    Returns:
        One of :data:`MONOTONICITY`.
    Raises:
        InvalidInputError: if q < 0, or q = 0 and p != 0 (no valid model has these values).
    """
    _finite_real("p_value", p_value), _finite_real("q_value", q_value)
    if q_value < 0:
        raise InvalidInputError(f"q_value: must be >= 0, tr(B W^T W) of a PSD B (got {q_value!r})")
    if q_value == 0:
        if p_value != 0:
            raise InvalidInputError(f"p_value: must be 0 when q_value = 0, since W B = 0 (got {p_value!r})")
        return "constant"
    # D' is affine and non-decreasing (slope 2 (1 - 1/k) q > 0): D' <= 0 on [0, 1] iff D'(1) <= 0,
    # and an affine function that is not identically 0 vanishes at most once, so the decrease is strict.
    if p_value >= 0:
        return "strictly decreasing"
    if p_value + q_value <= 0:
        return "strictly increasing"
    return "decreasing then increasing"


def _finite_real(name: str, value):
    """``value`` unchanged (exact sympy numbers stay exact) if it is a finite real number."""
    try:
        ok = math.isfinite(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidInputError(f"{name}: must be a finite real number (got {value!r})")
    return value


def paper_condition(p_value, q_value) -> str:
    """The paper's conditions: "dense smooths" (p > 0), "dense sharpens" (p + q < 0), else "neither"."""
    _finite_real("p_value", p_value), _finite_real("q_value", q_value)
    if p_value > 0:
        return "dense smooths"
    if p_value + q_value < 0:
        return "dense sharpens"
    return "neither"


def check_monotonicity_exactly(pairs=None) -> dict:
    """For rational (p, q), including the boundaries, compute with sympy's solveset the set of lam in
    [0, 1] where D_k' >= 0 (resp. <= 0); D_k strictly decreases (increases) iff that set is finite.
    Returns {(p, q): (classification, agrees)}."""
    if pairs is None:
        R = sp.Rational
        pairs = [(R(1), R(2)), (R(0), R(1)), (R(-1), R(1)), (R(-1, 2), R(1)), (R(-3), R(1)),
                 (R(-1, 4), R(1)), (R(0), R(0)), (R(2), R(0) + R(1, 10)), (R(-1, 10), R(1, 20))]
    out = {}
    Dp = sp.diff(D_closed(sp.Integer(4), lam, p, q, tSx), lam)
    unit = sp.Interval(0, 1)
    for pv, qv in pairs:
        f = Dp.subs({p: pv, q: qv})
        nonneg = sp.solveset(f >= 0, lam, unit)
        nonpos = sp.solveset(f <= 0, lam, unit)
        dec, inc = nonneg.is_FiniteSet or nonneg == sp.S.EmptySet, nonpos.is_FiniteSet or nonpos == sp.S.EmptySet
        truth = "constant" if (nonneg == unit and nonpos == unit) else (
            "strictly decreasing" if dec else "strictly increasing" if inc else "decreasing then increasing")
        out[(pv, qv)] = (truth, truth == monotonicity(pv, qv))
    return out


# ---- step 5: the cosine-similarity statement ----------------------------------------------------
def check_cosine_identities() -> dict:
    """S is lam-free; Den - N = k/(k-1) D; N = S - D/(k-1); R = 1 - (k/(k-1)) D/(S + D);
    R' = -(k/(k-1)) S D' / (S + D)^2: R moves against D_k whenever S > 0.  Also N' = -D'/(k-1) and
    Den' = D' (the paper's "E[Y_i^T Y_j] strictly increases and D_k strictly decreases")."""
    D, N = D_closed(k, lam, p, q, tSx), N_closed(k, lam, p, q, mm)
    Den, S = Den_closed(k, lam, p, q, tSx, mm), S_closed(k, p, q, tSx, mm)
    R = N / Den
    c = k / (k - 1)
    return {
        "S_free_of_lam": sp.diff(S, lam) == 0,
        "S_is_N_plus_D_over_k_minus_1": sp.simplify(N + D / (k - 1) - S) == 0,
        "Den_minus_N": sp.simplify(Den - N - c * D) == 0,
        "R_in_terms_of_D": sp.simplify(R - (1 - c * D / (S + D))) == 0,
        "R_prime": sp.simplify(sp.diff(R, lam) + c * S * sp.diff(D, lam) / (S + D) ** 2) == 0,
        # the paper's intermediate claim: E[Y_i^T Y_j] increases exactly where D_k decreases
        "N_prime_is_minus_D_prime_over_k_minus_1": sp.simplify(sp.diff(N, lam) + sp.diff(D, lam) / (k - 1)) == 0,
        "Den_prime_is_D_prime": sp.simplify(sp.diff(Den, lam) - sp.diff(D, lam)) == 0,
    }


def run_all(k_value: int = 3, d: int = 2) -> dict:
    """Every symbolic step; each value is a dict of named booleans (all must be True)."""
    mono = check_monotonicity_exactly()
    return {
        "centering": check_centering_step(),
        "mean_free": check_mean_free_coefficients(),
        "traces": check_trace_identities(),
        "closed_forms": check_closed_forms(),
        "brute_force": check_brute_force(k_value, d),
        "derivatives": check_derivatives(),
        "monotonicity": {f"p={a},q={b}": ok for (a, b), (_, ok) in mono.items()},
        "cosine": check_cosine_identities(),
    }


STATEMENT = """\
Model: (x_l, z_l) uncorrelated across the k tokens, same means, Cov(z) = B, Cov(x, z) = beta B,
Cov(x) = Sigma_x (valid iff B and Sigma_x - beta^2 B are PSD); Y_i = x_i + W sum_j a_ij z_j with
a_i(lam) = (1 - lam) e_i + (lam/k) 1.  Let p = beta tr(BW), q = tr(B W^T W) >= 0.
  D_k(lam) = E||Y_i - Ybar||^2 = (1 - 1/k) (tr Sigma_x + 2 (1 - lam) p + (1 - lam)^2 q)
  D_k'(1) = -2 (1 - 1/k) p,  D_k'(0) = -2 (1 - 1/k) (p + q),  D_k'' = 2 (1 - 1/k) q >= 0.
  q = 0: D_k constant.  q > 0: D_k strictly decreases on [0, 1] iff p >= 0, strictly increases
  iff p + q <= 0, else has its minimum at lam* = 1 + p/q.  (The paper's strict p > 0, p + q < 0 are
  exactly D_k' < 0, resp. > 0, on all of [0, 1].)
  Ratio (2): R = E[Y_i^T Y_j] / E||Y_i||^2 = 1 - (k/(k-1)) D_k / (S + D_k), S = E||Ybar||^2 free of
  lam; if S > 0, R strictly increases where D_k strictly decreases and vice versa.  Endpoints
  (S > 0): R(1) > R(0) iff 2 p + q > 0."""
"""The theorem as printed by ``sinkcheck smoothing``."""
