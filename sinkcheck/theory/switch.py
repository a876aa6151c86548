"""Sink = hard attention switch (docs/switch.md; Súkeník et al., Section 6).

Statements and proofs (plain text)::

    Setting: one query of a head, visible positions K = P ∪ F.  P ("fixed") holds the sink z_0 and
    possibly other tokens whose content does not change (e.g. the query's own token under a causal
    mask); F ("free", n = |F| >= 1) holds the content tokens.  Weights a = softmax of the scores over
    K, values v_j = V z_j, output o = sum_j a_j v_j.  a_P = sum_{j in P} a_j, and
    vbar_P = sum_{j in P} a_j v_j / a_P is the softmax average of the fixed values: it does not depend
    on the free tokens (the common normaliser cancels).  Only the sink fixed: a_P = A_i0, vbar_P = V z_0.

    Theorem S1 (forward; any non-negative weights that sum to 1, softmax or not).  If ||v_j|| <= R for j in F, then
        ||o|| <= (1 - a_P) R + a_P ||vbar_P||,
    in particular ||o_i|| <= (1 - A_i0) max_j ||V z_j|| + A_i0 ||V z_0||, and a_P = 1, vbar_P = 0 gives
    o = 0 exactly (hard switch).  The bound is attained (all v_j = R vbar_P / ||vbar_P||).

    Theorem S2 (converse, values vary, scores fixed).  Let the free values range over a set
    containing {+R u, -R u} for some unit u while the scores stay fixed (tokens z = (key part, content)
    with W blind to the content coordinates).  If ||o|| <= eps for all contents, then
        a_F <= eps / R   (so a_P >= 1 - f(eps), f(eps) = eps / R)   and   a_P ||vbar_P|| <= eps.
    If the free values range over the ball B(0, R) the condition is exact:
        sup_content ||o|| = a_P ||vbar_P|| + (1 - a_P) R,
    so "||o|| <= eps for every content" <=> a_P ||vbar_P|| + (1 - a_P) R <= eps, which implies
    a_P >= 1 - eps/R and ||vbar_P|| <= eps.  f(eps) = eps / R is tight (vbar_P = 0, a_P = 1 - eps/R).
    Exact version (eps = 0, R > 0): a_P = 1 and vbar_P = 0, i.e. only hard (non-softmax) attention can
    be an exact switch; a softmax head with n >= 1 visible free positions has a_P < 1 (Theorem S4).

    Theorem S3 (converse, whole tokens vary: keys move with content).  Let the free tokens range over
    a set C containing z_+, z_- with V z_± = ±R u (their keys arbitrary).  If ||o|| <= eps < R in the
    two homogeneous configurations (all free tokens z_+, resp. all z_-), then
        |<u, vbar_P>| <= eps   and, in both configurations,   1 - a_P <= g(eps) = 2 eps / (R + eps).
    If C contains such pairs for every unit u, then ||vbar_P|| <= eps.  g is the best possible: for
    every eps' < eps there is a softmax head with vbar_P = -eps' u, output <= eps for every content in
    C^n, and 1 - a_P = (eps + eps') / (R + eps') -> g(eps); the value-only f(eps) = eps/R is FALSE here.

    Theorem S4 (softmax gap).  Let vbar_P = 0 and let every free score be at most
    log sum_{j in P} e^{s_j} - Delta.  Then 1 - a_P <= n e^{-Delta} / (1 + n e^{-Delta}), so
    ||o|| <= eps for all contents in B(0, R) once Delta >= log(n (R - eps) / eps), with equality for
    equal free scores.  The hard switch is the limit Delta -> infinity, never reached by softmax.

    Proofs.  S1: triangle inequality; attainment by aligned free values.  S2: the contents +R u
    and -R u give o_± = c ± R a_F u with c = a_P vbar_P, so 2 R a_F = ||o_+ - o_-|| <= 2 eps and
    ||c|| = ||(o_+ + o_-)/2|| <= eps; for the ball, the triangle inequality is attained by aligned
    values, and a ||vbar|| + (1 - a) R <= eps gives ||vbar|| <= eps since
    a eps - (eps - (1 - a) R) = (1 - a)(R - eps) >= 0.  S3: with w = <u, vbar_P>, the all-z_+
    configuration has <u, o_+> = a_P w + (1 - a_P) R, a convex combination of w and R > eps, so
    w <= eps; symmetrically w >= -eps; then (1 - a_P) R <= eps + a_P eps gives the bound g.
    Tightness: :func:`sinkcheck.construct.switch_heads.tight_tokens_head`.  S4: 1 - a_P is
    increasing in each free score; evaluate at equal free scores.

    Counterexamples (the "for every content" quantifier is needed).  (i) Two free tokens with equal
    scores and values ±v give o = 0 with no mass on the sink; (ii) a sink with V z_0 = -c v and one
    content v with a_1 = c a_0 gives o = 0 with V z_0 != 0.

    Each symbolic step below returns True when sympy confirms it exactly.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from sinkcheck import validate

MODELS = ("values", "tokens")
"""The two content models.  With "values" only the values vary (S2); with "tokens" the whole token
varies, keys included (S3)."""


# ---------------------------------------------------------------- formulas (numeric)
def forward_bound(a_P: float, R: float, vbar_norm: float) -> float:
    """Theorem S1: (1 - a_P) R + a_P ||vbar_P||, the largest ||o|| over contents with ||v_j|| <= R."""
    a_P = validate.in_interval("a_P", a_P, 0.0, 1.0)
    R = validate.nonnegative("R", R)
    vbar_norm = validate.nonnegative("vbar_norm", vbar_norm)
    return (1.0 - a_P) * R + a_P * vbar_norm


def mass_deficit_bound(eps: float, R: float, model: str = "values") -> float:
    """The largest possible 1 - a_P for a head with ||o|| <= eps over all contents.

    Args:
        eps: the switch tolerance, 0 <= eps < R.
        R: the norm of the free values (they contain ±R u).
        model: "values" (Theorem S2, f = eps/R) or "tokens" (Theorem S3, g = 2 eps/(R + eps)).
    Returns:
        f(eps) or g(eps).
    Raises:
        InvalidInputError: eps < 0, R <= 0, eps >= R, or an unknown model.
    """
    R = validate.positive("R", R)
    eps = validate.nonnegative("eps", eps)
    validate.choice("model", model, MODELS)
    if eps >= R:
        raise validate.InvalidInputError(f"eps: must be < R = {R} (got {eps!r})")
    return eps / R if model == "values" else 2.0 * eps / (R + eps)


def softmax_gap_for_switch(eps: float, R: float, n: int) -> float:
    """Theorem S4: the logit gap Delta = log(n (R - eps) / eps) at which (1 - a_P) R = eps."""
    R = validate.positive("R", R)
    eps = validate.positive("eps", eps)
    n = validate.integer_at_least("n", n, 1)
    if eps >= R:
        raise validate.InvalidInputError(f"eps: must be < R = {R} (got {eps!r})")
    return float(np.log(n * (R - eps) / eps))


def fixed_part(a: np.ndarray, values: np.ndarray, fixed: list[int]) -> tuple[float, np.ndarray]:
    """(a_P, vbar_P) for weights ``a`` (shape (K,)), values (K, p) and fixed positions ``fixed``."""
    a = validate.finite_array("a", a, ndim=1)
    values = validate.finite_array("values", values, ndim=2, shape=(a.shape[0], None))
    if not fixed or any(not 0 <= j < a.shape[0] for j in fixed):
        raise validate.InvalidInputError(f"fixed: must be a non-empty list of positions in [0, {a.shape[0]}) (got {fixed!r})")
    a_P = float(a[fixed].sum())
    vbar = (a[fixed] @ values[fixed]) / a_P if a_P > 0 else np.zeros(values.shape[1])
    return a_P, vbar


# ---------------------------------------------------------------- symbolic steps
_a, _R, _eps, _epsp, _rho, _b, _n, _D = sp.symbols("a R epsilon epsilon' rho b n Delta", positive=True)


def check_forward_attainment(n: int = 3, p: int = 2) -> bool:
    """S1 attainment: with fixed weights a_0 (sink value vbar = rho u, u a unit vector) and free
    weights a_1..a_n summing to 1 - a_0, every free value R u gives o = sum_j a_j v_j =
    (a_0 rho + (1 - a_0) R) u, whose norm is the bound (1 - a_0) R + a_0 ||vbar|| (exact, symbolic
    vectors in R^p on the unit circle's rational parametrisation)."""
    a = sp.symbols(f"a1:{n + 1}", positive=True)
    s_ = sp.symbols("s", real=True)
    u = sp.Matrix([(1 - s_**2) / (1 + s_**2), 2 * s_ / (1 + s_**2)] + [0] * (p - 2))  # ||u|| = 1 for every s
    a0 = 1 - sum(a)
    o = a0 * _rho * u + sum((a_j * _R * u for a_j in a), sp.zeros(p, 1))
    bound = (1 - a0) * _R + a0 * _rho
    return sp.simplify(o.dot(o) - bound**2) == 0 and sp.simplify(u.dot(u) - 1) == 0


def check_sign_flip_identities(n: int = 3, p: int = 2) -> bool:
    """S2 step 1: with weights a_0 (fixed) and a_1..a_n (free), fixed value c and free values ±R u,
    ``o_+ - o_- = 2 R a_F u`` and ``(o_+ + o_-)/2 = a_0 c``, exactly (symbolic vectors in R^p)."""
    a = sp.symbols(f"a0:{n + 1}", positive=True)
    u = sp.Matrix(sp.symbols(f"u0:{p}", real=True))
    c = sp.Matrix(sp.symbols(f"c0:{p}", real=True))
    o_plus = a[0] * c + sum((a[j] * _R * u for j in range(1, n + 1)), sp.zeros(p, 1))
    o_minus = a[0] * c - sum((a[j] * _R * u for j in range(1, n + 1)), sp.zeros(p, 1))
    a_F = sum(a[1:])
    diff_ok = sp.simplify(o_plus - o_minus - 2 * _R * a_F * u) == sp.zeros(p, 1)
    mean_ok = sp.simplify((o_plus + o_minus) / 2 - a[0] * c) == sp.zeros(p, 1)
    return bool(diff_ok and mean_ok)


def check_fixed_value_step() -> bool:
    """S2 step 2: a ||vbar|| + (1 - a) R <= eps implies ||vbar|| <= eps, because
    a eps - (eps - (1 - a) R) = (1 - a)(R - eps) >= 0 for eps <= R."""
    return sp.simplify(_a * _eps - (_eps - (1 - _a) * _R) - (1 - _a) * (_R - _eps)) == 0


def check_tokens_bound_step() -> bool:
    """S3 step: ``<u, o_+> = a w + b R`` with b = 1 - a and ``abs(w) <= eps``; ``<u, o_+> <= eps``
    and w >= -eps give b R - (1 - b) eps <= eps, i.e. b (R + eps) <= 2 eps, whose boundary
    sympy solves to b = 2 eps/(R + eps)."""
    boundary = sp.solve(sp.Eq(_b * _R - (1 - _b) * _eps, _eps), _b)
    return len(boundary) == 1 and sp.simplify(boundary[0] - 2 * _eps / (_R + _eps)) == 0


def check_tokens_tightness() -> bool:
    """S3 tightness: vbar = -eps' u and b = (eps + eps')/(R + eps') give <u, o_+> = eps exactly, and
    b -> 2 eps/(R + eps) as eps' -> eps."""
    b = (_eps + _epsp) / (_R + _epsp)
    exact = sp.simplify((1 - b) * (-_epsp) + b * _R - _eps) == 0
    limit = sp.simplify(sp.limit(b, _epsp, _eps) - 2 * _eps / (_R + _eps)) == 0
    return bool(exact and limit)


def check_softmax_gap() -> bool:
    """S4: n free scores at Delta below the fixed log-partition give 1 - a_P = n e^{-Delta}/(1 + n e^{-Delta}),
    and at Delta = log(n (R - eps)/eps) the worst output (1 - a_P) R equals eps exactly."""
    s_P, s_F = sp.symbols("s_P s_F", real=True)
    direct = _n * sp.exp(s_F) / (sp.exp(s_P) + _n * sp.exp(s_F))  # n free keys at score s_F
    deficit = direct.subs(s_P, s_F + _D)
    closed = _n * sp.exp(-_D) / (1 + _n * sp.exp(-_D))
    at_gap = closed.subs(_D, sp.log(_n * (_R - _eps) / _eps)) * _R
    return bool(sp.simplify(deficit - closed) == 0 and sp.simplify(at_gap - _eps) == 0)


def symbolic_steps() -> dict[str, bool]:
    """Every symbolic step of Theorems S1-S4, by name."""
    return {
        "S1_attainment": check_forward_attainment(),
        "S2_sign_flip_identities": check_sign_flip_identities(),
        "S2_fixed_value_step": check_fixed_value_step(),
        "S3_bound_step": check_tokens_bound_step(),
        "S3_tightness": check_tokens_tightness(),
        "S4_softmax_gap": check_softmax_gap(),
    }
