"""The four cost bounds of Súkeník et al., Section 7 (docs/sink_vs_diagonal.md), as sympy expressions.

Each bound is split into its QK part (what the convex program and the constructions measure,
2 ||W_QK||_*) and its value part. The value parts 5 (r_eta + C) and 3 (r_eta + C) are the
PAPER'S CONSTANTS for the "relaxed value labels"; we could not derive them and only carry them.

Besides the stated bounds this module holds the repaired lower bounds our proofs give
(``L_sink_proved``, ``L_diag_proved``), the closed-form costs of both constructions, and the
exact symbolic steps the proofs use (see the ``check_*`` functions).
"""

from __future__ import annotations

import sympy as sp

kappa, C, d, r_eta, lam = sp.symbols("kappa C d r_eta lambda", positive=True)
delta, Delta, r_eff, sigma_op = sp.symbols("delta Delta_diag r_eff sigma_op", positive=True)
a, b = sp.symbols("a b", nonnegative=True)

# ---- the four bounds as stated by the paper (QK part and value part) ---------------------------
QK = {
    "L_sink": kappa * C / (2 * sp.sqrt(d)),
    "U_sink": 12 * kappa * C / sp.sqrt(d),
    "L_diag": kappa / delta**2 * sp.sqrt(d) * r_eff + kappa * C / (2 * sp.sqrt(d)),
    "U_diag": 13 * kappa * C / sp.sqrt(d) + 4 * kappa * sp.sqrt(d) / Delta * r_eta,
}
"""QK parts of the stated bounds (cost 2 ||W_QK||_*)."""

VALUE_PAPER_CONSTANT = {"L_sink": sp.Integer(0), "U_sink": 5 * (r_eta + C),
                        "L_diag": sp.Integer(0), "U_diag": 3 * (r_eta + C)}
"""Value and label parts, the paper's constants (not derived here); lower bounds have none."""

BOUNDS = {k: QK[k] + VALUE_PAPER_CONSTANT[k] for k in QK}
"""Total bounds exactly as the paper states them."""


def qk_value(name: str, **params: float) -> float:
    """Evaluate the QK part of bound ``name`` at numeric parameters (symbol names as keys)."""
    syms = {s.name: s for s in QK[name].free_symbols}
    return float(QK[name].subs({syms[k]: v for k, v in params.items() if k in syms}))


# ---- repaired lower bounds (our proofs; docs/sink_vs_diagonal.md) ---
L_sink_proved = 2 * kappa * C / sp.sqrt(d * (1 + lam**2) + sigma_op**2)
"""Lower bound on the sink QK cost, with sigma_op the operator norm of the group means of eta
(0 under H1). Proof uses the copy constraints against c_c itself, averaged over the group and
summed over c, then trace duality."""
L_sink_proved_fallback = 2 * L_sink_proved
"""With the fallback constraints (b beats c_c when the group is absent) the bound doubles."""
L_diag_eta_term = kappa * sp.sqrt(d) * r_eff / delta**2
"""Nuisance part of the diagonal lower bound, proved with no hypothesis (pairs live in N)."""
L_diag_proved = L_diag_eta_term + L_sink_proved.subs(sigma_op, 0)
"""Diagonal QK cost >= this under H1 (pairs in both orders + pinching + trace duality). Without
H1 only the first term is proved."""

L_sink_fallback = 2 * kappa * C / sp.sqrt(d * (C + 1))
"""Sink QK cost >= this with the fallback constraints, for any lam and any nuisance, without H1. The
fallback constraints c_c^T W (b - c_c) >= kappa sqrt d summed over c give <W, X> >= kappa C sqrt d with
X = sum_c c_c (b - c_c)^T, ||X||_op = d sqrt(C + 1), and trace duality (:func:`check_fallback_certificates`).
It is the exact minimum over the fallback constraints against the copy queries (a rank-one W attains
it; that W scores below the margin against other groups' tokens), and OPT_sink tends to it as lam grows (:func:`sink_fallback_construction_cost`), so no better bound holds for every lam."""
L_diag_fallback_S = 2 * kappa * (C - 1 + 1 / sp.sqrt(C + 1)) / sp.sqrt(d)
"""S-part of the diagonal QK cost with the fallback constraints c_c^T W (c_c - y) >= kappa sqrt d
against y = b and y = every other copy query: the exact minimum of 2 ||P_S W P_S||_* over these
constraints alone (a dual certificate with all singular values 1 and a primal W of the same value,
:func:`check_fallback_certificates`)."""
L_diag_fallback = L_diag_eta_term + L_diag_fallback_S
"""Diagonal QK cost >= this with the fallback constraints, for any lam and any nuisance (no H1):
pinching splits the S-block, which those fallback constraints read alone, from the nuisance block
of the pair constraints. It is >= the stated L_diag for every C >= 1."""
C_MAX_FALLBACK = 15
"""With the fallback constraints the stated L_sink holds for every lam and every nuisance iff
C <= 15: 2 / sqrt(C + 1) >= 1/2 below, and for every C >= 16 the construction of
:func:`sink_fallback_construction_cost` costs less than L_sink once lam > :func:`l_sink_fallback_lambda`.
The stated L_diag has no such limit (:data:`L_diag_fallback`)."""

LAMBDA_MAX_L_SINK = sp.sqrt(15)
"""Stated L_sink <= L_sink_proved iff lam <= sqrt(15) (and the same for L_diag's second term)."""
LAMBDA_MAX_L_SINK_FALLBACK = sp.sqrt(63)
"""With fallback, stated L_sink <= L_sink_proved_fallback iff lam <= sqrt(63)."""

# ---- constructions in closed form ---------------------------------------------------------
sink_nuclear = (C - 1) * b + sp.sqrt(2 * C * a**2 + b**2 + 2 * sp.sqrt(C) * a * b)
"""||M||_* of M = a r e_0^T + b sum_c e_{C+c} e_c^T (a, b >= 0); see check_sink_nuclear_norm."""


def sink_knobs_symbolic(fallback: bool = True, lam_at_least_one: bool = True) -> tuple[sp.Expr, sp.Expr]:
    """(a, b) of the sink construction on the branch lam >= 1 or lam < 1 (see sink_knobs)."""
    if fallback and lam_at_least_one:
        a_ = kappa / sp.sqrt(d)
    else:
        a_ = kappa / (lam * sp.sqrt(d))
    return a_, (kappa + a_ * sp.sqrt(d)) / (lam * sp.sqrt(d))


def sink_construction_cost(fallback: bool = True, lam_at_least_one: bool = True) -> sp.Expr:
    """2 ||W_sink||_* in closed form."""
    a_, b_ = sink_knobs_symbolic(fallback, lam_at_least_one)
    return 2 * sink_nuclear.subs({a: a_, b: b_})


def diag_construction_cost(fallback: bool = True) -> sp.Expr:
    """2 ||W_diag||_* = 2 C sqrt((s + a)^2 + b^2) + 2 alpha_diag r_eta (2x2 blocks + alpha P_eta)."""
    s_, b_ = kappa / (lam**2 * sp.sqrt(d)), 2 * kappa / (lam * sp.sqrt(d))
    a_ = kappa / sp.sqrt(d) if fallback else sp.Integer(0)
    alpha = 2 * kappa * sp.sqrt(d) / Delta
    return 2 * C * sp.sqrt((s_ + a_) ** 2 + b_**2) + 2 * alpha * r_eta


# ---- checked symbolic steps -----------------------------------------------------------------
def check_sink_nuclear_norm(Cs: tuple[int, ...] = (1, 2, 3, 4)) -> bool:
    """For each C: M^T M has eigenvalues b^2 (C - 1 times) and the two roots of
    x^2 - (2 C a^2 + b^2) x + C a^2 b^2, whose square roots sum to the closed form (exact)."""
    x = sp.symbols("x")
    for c_ in Cs:
        m = 2 * c_ + 1
        M = sp.zeros(m, m)
        for i in range(1, m):
            M[i, 0] = a
        for i in range(1, c_ + 1):
            M[c_ + i, i] = b
        charpoly = sp.factor((M.T * M).charpoly(x).as_expr())
        want = x ** (m - c_ - 1) * (x - b**2) ** (c_ - 1) * (x**2 - (2 * c_ * a**2 + b**2) * x + c_ * a**2 * b**2)
        if sp.expand(charpoly - want) != 0:
            return False
    # sqrt(x1) + sqrt(x2) = sqrt(x1 + x2 + 2 sqrt(x1 x2)) with x1 + x2 = 2Ca^2 + b^2, x1 x2 = C a^2 b^2
    s1 = sp.sqrt(2 * C * a**2 + b**2 + 2 * sp.sqrt(C * a**2 * b**2))
    return sp.simplify(s1 - (sink_nuclear - (C - 1) * b)) == 0


def check_sink_upper_for_lam_at_least_one() -> bool:
    """For lam >= 1 (with fallback): cost <= 2[2(C-1) + sqrt(2C) + 2] kappa/sqrt(d) <= 12 C kappa/sqrt(d).

    Exact steps: b = 2 kappa/(lam sqrt d) <= 2 kappa/sqrt d, cost increasing in b; 2C + 4 sqrt(C) + 4
    <= (sqrt(2C) + 2)^2; and 12 C - 4 C - 2 sqrt(2) sqrt(C) = sqrt(C)(8 sqrt(C) - 2 sqrt(2)) >= 0 for C >= 1.
    """
    u = sp.symbols("u", positive=True)  # u = sqrt(C) >= 1
    step1 = sp.expand((sp.sqrt(2) * u + 2) ** 2 - (2 * u**2 + 4 * u + 4)) == sp.expand((4 * sp.sqrt(2) - 4) * u)
    step2 = sp.expand(12 * u**2 - (2 * (2 * (u**2 - 1) + sp.sqrt(2) * u + 2))) == sp.expand(8 * u**2 - 2 * sp.sqrt(2) * u)
    return bool(step1 and step2 and (8 - 2 * sp.sqrt(2)) > 0)


def diag_upper_lambda_threshold(fallback: bool = True) -> sp.Expr:
    """Smallest lam with 2 sqrt((1/lam^2 + a')^2 + 4/lam^2) <= 13 (a' = 1 with fallback, else 0):
    the construction's C-term meets the stated 13 kappa C / sqrt(d) iff lam >= this."""
    u = sp.symbols("u", positive=True)  # u = 1 / lam^2
    ap = 1 if fallback else 0
    root = [r for r in sp.solve(sp.Eq(4 * ((u + ap) ** 2 + 4 * u), 169), u) if r.is_positive][0]
    return sp.nsimplify(1 / sp.sqrt(root))


def sink_upper_lambda_threshold(C_value: int, fallback: bool = True) -> float:
    """Smallest lam (< 1 branch) with sink construction cost = 12 kappa C / sqrt(d), at C = C_value."""
    f = (sink_construction_cost(fallback, lam_at_least_one=False) - QK["U_sink"]) * sp.sqrt(d) / kappa
    g = sp.lambdify(lam, f.subs({C: C_value, kappa: 1, d: 1}))  # f is homogeneous in kappa, sqrt(d)
    lo, hi = 1e-3, 1.0  # g(lo) > 0 > g(hi)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if g(mid) > 0 else (lo, mid)
    return hi


def sink_cost_large_lambda_limit() -> sp.Expr:
    """lim_{lam -> oo} of the sink construction's cost in units kappa / sqrt(d) (fallback on): 2 sqrt(2 C)."""
    f = sink_construction_cost(True, lam_at_least_one=True) * sp.sqrt(d) / kappa
    return sp.simplify(sp.limit(sp.simplify(f), lam, sp.oo))


def l_sink_fails_beyond_C() -> sp.Expr:
    """C above which the sink construction itself (a valid sink solution, fallback included) costs
    less than the stated L_sink for large lam: the root of 2 sqrt(2 C) = C / 2, i.e. C = 32."""
    return sp.solve(sp.Eq(sink_cost_large_lambda_limit(), C / 2), C)[0]


def sink_fallback_construction_cost() -> sp.Expr:
    """Upper bound (triangle inequality over its three blocks) on 2 ||M||_* of the sink construction
    that meets the fallback constraints at the least cost as lam grows
    (:func:`sinkcheck.construct.sinkdiag.weights.sink_fallback_construction`): the rank-one fallback
    block costs exactly :data:`L_sink_fallback`, the blocks that serve the lam-scaled constraints
    (copy on its group, fallback against other groups, dormant on b) cost O(1 / lam) and never read
    the nuisance, so the bound holds for every nuisance."""
    g = kappa * (2 * C + 1) / ((C + 1) * lam * sp.sqrt(d))  # copy query on its own group
    e = kappa / ((C + 1) * lam * sp.sqrt(d))  # copy query against another group's tokens
    th = kappa / (lam * sp.sqrt(d))  # dormant token on b
    # the C x C block g I - e (J - I) has eigenvalues g + e (C - 1 times) and g + e - e C > 0
    return L_sink_fallback + 2 * ((C - 1) * (g + e) + (g + e - e * C) + th * sp.sqrt(C))


def l_sink_fallback_lambda() -> sp.Expr:
    """For C >= 16: the lam above which :func:`sink_fallback_construction_cost` < the stated L_sink,
    so OPT_sink < L_sink even with the fallback constraints (in closed form, as a function of C)."""
    sol = sp.solve(sp.Eq(sink_fallback_construction_cost(), QK["L_sink"]), lam)
    return sp.simplify(sol[0])


def check_diag_scores_meet_margins_exactly() -> dict[str, bool]:
    """The diagonal construction's score gaps equal kappa on the binding constraints (exact)."""
    n1, n2, g = sp.symbols("n1 n2 g", real=True)  # ||eta_ci||^2, eta_ci^T eta_cj, ||.||^2 - eta^T eta
    s_, a_, b_ = kappa / (lam**2 * sp.sqrt(d)), kappa / sp.sqrt(d), 2 * kappa / (lam * sp.sqrt(d))
    alpha = 2 * kappa * sp.sqrt(d) / Delta
    # scores x^T W y / sqrt(d) with Pi x, Pi y from the module docstring of construct/sinkdiag/weights.py
    self_score = (lam * sp.sqrt(d)) ** 2 * s_ / sp.sqrt(d) + alpha * n1 / sp.sqrt(d)
    mate_score = (lam * sp.sqrt(d)) ** 2 * s_ / sp.sqrt(d) + alpha * n2 / sp.sqrt(d)
    gap_at_Delta = (self_score - mate_score).subs(n1, n2 + Delta / 2)
    copy_on_group = sp.sqrt(d) * b_ * lam * sp.sqrt(d) / sp.sqrt(d)
    copy_on_self = sp.sqrt(d) * a_ * sp.sqrt(d) / sp.sqrt(d)
    return {
        "dormant_vs_group_mate_at_Delta": sp.simplify(gap_at_Delta - kappa) == 0,
        "dormant_self_score_is_kappa_plus_alpha_norm": sp.simplify(self_score - kappa - alpha * n1 / sp.sqrt(d)) == 0,
        "copy_vs_self": sp.simplify(copy_on_group - copy_on_self - kappa) == 0,
        "fallback_self_vs_zero": sp.simplify(copy_on_self - kappa) == 0,
        "cost_of_alpha_P_eta_equals_U_diag_r_eta_term": sp.simplify(2 * alpha * r_eta - 4 * kappa * sp.sqrt(d) * r_eta / Delta) == 0,
    }


def check_lower_bound_steps() -> dict[str, bool]:
    """Exact steps of the lower-bound proofs.

    - (a) ||eta_i - eta_j||^2 <= (||eta_i|| + ||eta_j||)^2 <= 4 delta^2, so tr Sigma_D <= 4 delta^2 and
      4 kappa sqrt(d) / ||Sigma_D||_op = 4 kappa sqrt(d) r_eff / tr Sigma_D >= kappa sqrt(d) r_eff / delta^2;
    - (b) rows (lam e_c - e_{C+c}) are orthogonal with norm sqrt(1 + lam^2): ||X||_op = d sqrt(1 + lam^2);
    - (c) stated L_sink <= L_sink_proved iff lam^2 <= 15 (and <= 63 with fallback).
    """
    t = sp.symbols("t", positive=True)  # tr Sigma_D
    a_ok = sp.simplify(4 * kappa * sp.sqrt(d) * r_eff / t - kappa * sp.sqrt(d) * r_eff / delta**2
                       - kappa * sp.sqrt(d) * r_eff * (4 * delta**2 - t) / (t * delta**2)) == 0
    c_ = 3
    X = sp.zeros(c_, 2 * c_ + 1)
    for i in range(c_):
        X[i, 1 + i], X[i, 1 + c_ + i] = lam, -1
    b_ok = sp.simplify(X * X.T - (1 + lam**2) * sp.eye(c_)) == sp.zeros(c_, c_)
    thr = sp.solve(sp.Eq(L_sink_proved.subs(sigma_op, 0), QK["L_sink"]), lam)
    thr_fb = sp.solve(sp.Eq(L_sink_proved_fallback.subs(sigma_op, 0), QK["L_sink"]), lam)
    return {"trace_bound_step": a_ok, "copy_matrix_op_norm": b_ok,
            "lambda_threshold": thr == [LAMBDA_MAX_L_SINK], "lambda_threshold_fallback": thr_fb == [LAMBDA_MAX_L_SINK_FALLBACK]}


def _fallback_matrices(c_: int) -> dict[str, sp.Matrix]:
    """The fallback certificates at C = c_, as matrices on the S-coordinates (b, group directions,
    copy queries; rows of copy queries), in units t = kappa / sqrt(d) of the constraint
    M[C+c, target] - M[C+c, y] >= t: dual matrices Y (combinations of constraint directions with
    weights >= 0) and primal matrices M meeting every fallback constraint against b and the copy queries."""
    m = 2 * c_ + 1
    p = 1 / sp.sqrt(c_ + 1)
    q = (1 - p) / c_
    Ys, Yd, Ms, Md = (sp.zeros(m, m) for _ in range(4))
    for i in range(c_):
        row = c_ + 1 + i
        Ys[row, 0], Ys[row, row] = p, -p  # weight p on "b beats c_c" (sink)
        Yd[row, 0], Yd[row, row] = -p, p + q * c_  # weight p on "c_c beats b", q on "c_c beats c_c'" (diag)
        Ms[row, 0] = sp.Rational(c_, c_ + 1)  # t 1 (alpha e_0 - beta 1)^T, alpha = C/(C+1), beta = 1/(C+1)
        Md[row, 0], Md[row, row] = -sp.Rational(1, c_ + 1), 1  # t (-g 1 e_0^T + I - g J), g = 1/(C+1)
        for j in range(c_):
            Yd[row, c_ + 1 + j] -= q
            Ms[row, c_ + 1 + j] = -sp.Rational(1, c_ + 1)
            Md[row, c_ + 1 + j] -= sp.Rational(1, c_ + 1)
    return {"Ys": Ys, "Yd": Yd, "Ms": Ms, "Md": Md}


def _nuclear(A: sp.Matrix) -> sp.Expr:
    """Exact nuclear norm: the sum of the square roots of the eigenvalues of A^T A."""
    return sp.nsimplify(sum(k * sp.sqrt(ev) for ev, k in (A.T * A).eigenvals().items()))


def check_fallback_certificates(Cs: tuple[int, ...] = (1, 2, 3, 5, 8)) -> dict[str, bool]:
    """Exact steps behind :data:`L_sink_fallback`, :data:`L_diag_fallback` and :data:`C_MAX_FALLBACK`.

    For each C in ``Cs`` (exact matrices, ``_fallback_matrices``): the dual matrices have
    operator norm 1, so ||M||_* >= <M, Y> >= t sum(weights) = C t / sqrt(C + 1) (sink) and
    (C - 1 + 1 / sqrt(C + 1)) t (diagonal); the primal matrices meet every fallback constraint against
    b and the copy queries with value exactly t and have exactly these nuclear norms, so the bounds are
    the minima over those constraints. For every C: the dual's Gram matrix alpha I + beta J has
    eigenvalues 1 (symbolic in C); 4 / sqrt(C + 1) >= 1 iff C <= 15 (sink); the diagonal S-part
    exceeds the stated C-term kappa C / (2 sqrt d) for every C >= 1; and above
    :func:`l_sink_fallback_lambda` (positive for C >= 16) the sink construction costs less than the
    stated L_sink at C = 16, 17, 40 (twice that lam is checked; for C <= 15 no lam can do it, as its
    cost exceeds L_sink_fallback >= L_sink).
    """
    facts = {"dual_op_norm_1": True, "dual_value": True, "primal_meets_constraints": True, "primal_value": True}
    for c_ in Cs:
        A = _fallback_matrices(c_)
        copy = range(c_ + 1, 2 * c_ + 1)
        for Y in (A["Ys"], A["Yd"]):
            facts["dual_op_norm_1"] &= max((Y * Y.T).eigenvals()) == 1
        p = 1 / sp.sqrt(c_ + 1)
        facts["dual_value"] &= sp.simplify(sum(A["Ys"][r, 0] for r in copy) - c_ * p) == 0
        facts["dual_value"] &= sp.simplify(sum(A["Yd"][r, r] for r in copy) - c_ * (p + (1 - p) / c_ * (c_ - 1))) == 0
        Ms, Md = A["Ms"], A["Md"]
        facts["primal_meets_constraints"] &= all(Ms[r, 0] - Ms[r, k] == 1 for r in copy for k in copy)
        facts["primal_meets_constraints"] &= all(Md[r, r] - Md[r, k] == 1 for r in copy for k in [0, *copy] if k != r)
        facts["primal_value"] &= sp.simplify(_nuclear(Ms) - (L_sink_fallback / 2 * sp.sqrt(d) / kappa).subs(C, c_)) == 0
        facts["primal_value"] &= sp.simplify(_nuclear(Md) - (L_diag_fallback_S / 2 * sp.sqrt(d) / kappa).subs(C, c_)) == 0
    # generic C: Y_d Y_d^T = (p + q C)^2 I + (p^2 - 2 q (p + q C) + q^2 C) J has eigenvalues 1 (twice named)
    p = 1 / sp.sqrt(C + 1)
    q = (1 - p) / C
    alpha, beta = (p + q * C) ** 2, p**2 - 2 * q * (p + q * C) + q**2 * C
    facts["dual_gram_generic_C"] = sp.simplify(alpha - 1) == 0 and sp.simplify(alpha + beta * C - 1) == 0
    Cv = sp.symbols("C_v", positive=True)
    ratio = sp.simplify((L_sink_fallback / QK["L_sink"]).subs(C, Cv))  # 4 / sqrt(C + 1)
    facts["sink_C_threshold_15"] = sp.solve(sp.Eq(ratio, 1), Cv) == [C_MAX_FALLBACK]
    excess = sp.simplify(((L_diag_fallback - QK["L_diag"]) * sp.sqrt(d) / kappa).subs(C, Cv))
    facts["diag_exceeds_stated_for_every_C"] = sp.reduce_inequalities([excess <= 0, Cv >= 1], Cv) == sp.false
    lam_c = l_sink_fallback_lambda()
    below = sink_fallback_construction_cost() - QK["L_sink"]
    facts["sink_construction_below_L_sink_beyond_lambda"] = all(
        below.subs({C: c_, lam: 2 * lam_c.subs(C, c_), kappa: 1, d: 1}).evalf() < 0 and lam_c.subs(C, c_).evalf() > 0
        for c_ in (16, 17, 40))
    return facts


def sinks_win_threshold(repaired: bool = False) -> sp.Expr:
    """sqrt(d) beyond which U_sink < L_diag (total costs): the positive root of the quadratic in
    t = sqrt(d). ``repaired`` uses L_diag_proved at lam = 1 instead of the stated L_diag."""
    t = sp.symbols("t", positive=True)
    L = (L_diag_proved.subs(lam, 1) if repaired else QK["L_diag"]).subs(d, t**2)
    expr = sp.together(L - BOUNDS["U_sink"].subs(d, t**2))
    c2, c1, c0 = sp.Poly(sp.numer(expr), t).all_coeffs()  # c2 > 0 > c0: one positive root
    return sp.simplify((-c1 + sp.sqrt(c1**2 - 4 * c2 * c0)) / (2 * c2))
