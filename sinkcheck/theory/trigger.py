"""The trigger-conditional task (Ran-Milo 2026; docs/trigger.md): statements, bounds and
their symbolic steps.

Setting.  One causal head, o_i = sum_{j <= i} A_ij V z_j, on the encoding of
:mod:`sinkcheck.construct.trigger_task`.  Split the value map into a content part and a
content-free part: V z_j = V_x x_j + u_j, where u_j depends only on the type and position of token
j (u_0 for BOS).  Error measure: eps = max over the inputs considered and over positions
i = 1..T of ||o_i - y_i|| (a sup-norm over positions, Euclidean in R^p; BOS has no target).

Theorem 1 (necessity, one softmax head).  Let T >= 2, x in R^p with ||x|| = r > 0, and consider
the T probe sequences whose content vectors all equal x (no trigger, or one trigger at
t in {2..T}).  Suppose every content-free value has norm ||u_j|| <= beta (hypothesis (H_beta);
(H) is beta = 0: V z = V_x x) and the head's error on the probes is <= eps with eps + beta < r.
Then at every non-trigger position i of a probe, the attention on content tokens is
m_i <= f(eps) := (eps + beta) / (r - eps - beta); so A_i0 >= 1 - f(eps) before the trigger (and in
trigger-free probes) and A_i0 + A_it >= 1 - f(eps) after a trigger at t.  In particular, error
<= eps on the whole input class (||x_j|| <= R) gives the bound with r = R at the probes of norm R.

Proof.  On a probe, o_i = m_i V_x x + w_i with ||w_i|| <= beta (w_i averages content-free values
with total weight <= 1; the proof only needs beta >= max ||w_i|| over the probe positions, which is
what :func:`sinkcheck.evaluate.trigger_necessity.probe` measures on a given head).  At the trigger, ||m_t V_x x - x|| <= eps + beta and m_t <= 1 give
||V_x x|| >= r - eps - beta > 0; at i, m_i ||V_x x|| <= eps + beta.  Divide
(:func:`check_necessity_algebra`).

The bound cannot be improved (beta = 0): :func:`~sinkcheck.construct.trigger_weights.tight_head`
has error exactly eps and content mass (1 - delta) f(eps) for every small delta > 0
(:func:`check_tightness_algebra`).  Without a bound on the content-free part the claim is false
(:func:`~sinkcheck.construct.trigger_counterexamples.value_offset_head`), and after the trigger
BOS alone need not be a sink (:func:`~sinkcheck.construct.trigger_counterexamples.trigger_sink_head`).

Theorem 2 (several heads).  With H >= 2 heads (outputs summed) and (H), no lower bound on any
head's BOS attention at non-trigger positions holds: the two heads of
:func:`~sinkcheck.construct.trigger_counterexamples.two_head_cancellation` cancel.  What does hold:
if g_h := <V^h_x x, x> / r >= 0 for every head (no head pushes against the target direction),
then sum_h (g_h / G) m^h_i <= eps / (r - eps) with G = sum_h g_h >= r - eps: the g-weighted mean
BOS attention before the trigger is >= 1 - f(eps) (:func:`check_multi_head_algebra`).

Theorem 3 (sink logit).  The head of
:func:`~sinkcheck.construct.trigger_weights.softmax_sink_head` has sup error R T / (e^L + T), so
error eps needs and gets L = log(T (R - eps) / eps).  Conversely, under (H_beta) with
eps + beta < R/2, any single head with error <= eps on the probes of norm R and equal content
logits ell_c at the all-equal probe needs ell_0 - ell_c >= log(i (R - 2 eps - 2 beta)/(eps + beta))
at position i (:func:`sink_logit_gap_bound`, :func:`check_sink_logit_algebra`); with (H),
beta = 0, this is log(i (R - 2 eps)/eps): the sink logit grows like log T + log(1/eps).  Proof:
Theorem 1 with r = R gives A_i0 >= 1 - f(eps), and A_i0 = 1/(1 + i e^{-(ell_0 - ell_c)}).

Theorem 4 (ReLU).  :func:`~sinkcheck.construct.trigger_weights.relu_exact_head` solves the task
exactly with zero attention on BOS, plain or length-normalised (:func:`check_relu_exact`).  It
uses the one-hot positions, and must: without positions, for T >= 3, every ReLU (or unnormalised
sigmoid) head, and every sum of such heads, with normaliser n_t (n_t = t + 1 visible keys, or 1)
has error >= R abs(2 n_2 - n_3) / (2 n_2 + n_3): R/5 length-normalised, R/3 plain
(:func:`check_relu_needs_positions`).  At T = 3 this is tight:
:func:`~sinkcheck.construct.trigger_weights.relu_positionless_head` attains it.  The bound is 0 when
2 n_2 = n_3, and with n_t = t - 1 (the tokens between BOS and the query) a position-free head is
exact: :func:`~sinkcheck.construct.trigger_weights.relu_preceding_head`.  So positions are needed
for the two normalisers above, not for every one.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy as sp

from sinkcheck import validate

eps, R, r, beta, m, v, delta, T, L, i = sp.symbols("epsilon R r beta m v delta T L i", positive=True)


def f_bound(eps: float, r: float, beta: float = 0.0) -> float:
    """f(eps) = (eps + beta) / (r - eps - beta): the most content mass a non-trigger position may
    keep (Theorem 1); ``inf`` (no bound) when eps + beta >= r.

    Raises:
        InvalidInputError: unless eps > 0, r > 0 and beta >= 0.
    """
    eps = validate.positive("eps", eps)
    r = validate.positive("r", r)
    beta = validate.nonnegative("beta", beta)
    return (eps + beta) / (r - eps - beta) if eps + beta < r else math.inf


def min_error(m: float, r: float, beta: float = 0.0) -> float:
    """The contrapositive of Theorem 1: content mass m at a non-trigger probe position forces
    error >= m r / (1 + m) - beta."""
    m = validate.in_interval("m", m, 0.0, 1.0)
    r = validate.positive("r", r)
    beta = validate.nonnegative("beta", beta)
    return m * r / (1 + m) - beta


def sink_logit_gap_bound(i: int, R: float, eps: float, beta: float = 0.0) -> float:
    """Theorem 3's converse: the least ell_0 - ell_c at position i of a single head with error <= eps
    on the probes of norm R, equal content logits ell_c and content-free outputs of norm <= beta,
    log(i (R - 2 eps - 2 beta) / (eps + beta)); ``-inf`` (no constraint) when eps + beta >= R/2.

    Raises:
        InvalidInputError: unless i >= 1, R > 0, eps > 0 and beta >= 0.
    """
    i = validate.integer_at_least("i", i, 1)
    f = f_bound(eps, validate.positive("R", R), beta)
    return math.log(i * (1 - f) / f) if f < 1 else -math.inf


def f_symbolic():
    """The sympy expression of f (Theorem 1)."""
    return (eps + beta) / (r - eps - beta)


def check_necessity_algebra() -> dict[str, bool]:
    """The division step of Theorem 1, exactly.

    With D = r - eps - beta > 0, m v <= eps + beta and v >= D, the identity
    f - m = [(eps + beta - m v) + m (v - D)] / D writes f - m as a sum of non-negative terms; and
    m <= f is equivalent to eps >= m r / (1 + m) - beta (:func:`min_error`), since that error
    plugged into f gives back m.
    """
    D = r - eps - beta
    f = f_symbolic()
    identity = sp.simplify(f - m - ((eps + beta - m * v) + m * (v - D)) / D) == 0
    e_star = m * r / (1 + m) - beta
    inverse = sp.simplify(f.subs(eps, e_star) - m) == 0
    return {"difference_identity": identity, "min_error_inverts_f": inverse}


def check_tightness_algebra() -> dict[str, bool]:
    """The tight head (:func:`~sinkcheck.construct.trigger_weights.tight_head`), exactly.

    c = (1 - eps/R)/(1 - delta); the trigger error at t = 2 is (1 - (1 - delta) c) R = eps; the
    non-trigger error at i = T is m c R with m = eps/(c R), i.e. eps; m = (1 - delta) eps/(R - eps)
    tends to f(eps) (beta = 0) as delta -> 0; and c <= 1 exactly when delta <= eps/R.
    """
    c = (1 - eps / R) / (1 - delta)
    mass = eps / (c * R)
    f0 = f_symbolic().subs({beta: 0, r: R})
    return {
        "trigger_error_is_eps": sp.simplify((1 - (1 - delta) * c) * R - eps) == 0,
        "content_mass_formula": sp.simplify(mass - (1 - delta) * eps / (R - eps)) == 0,
        "mass_tends_to_f": sp.simplify(sp.limit(mass, delta, 0) - f0) == 0,
        "c_at_most_one_iff": sp.simplify((1 - c).subs(delta, eps / R)) == 0,
    }


def check_multi_head_algebra() -> dict[str, bool]:
    """Theorem 2's positive part for two heads (the H-head case is the same sum).

    Projection on x/r: sum_h m^h_t g_h >= r - eps and G - sum_h m^h_t g_h = sum_h (1 - m^h_t) g_h
    (>= 0 when every g_h >= 0), so G >= r - eps; then eps/(r - eps) - (sum_h g_h m^h_i)/G is a
    non-negative combination, checked as an identity.
    """
    g1, g2, a1, a2, b1, b2, P, Q = sp.symbols("g1 g2 a1 a2 b1 b2 P Q", positive=True)
    G = g1 + g2
    gap = sp.simplify(G - (a1 * g1 + a2 * g2) - ((1 - a1) * g1 + (1 - a2) * g2)) == 0
    # P := eps - sum g_h m^h_i >= 0 and Q := G - (r - eps) >= 0; then
    # eps/(r - eps) - (eps - P)/G = [eps Q + P (r - eps)] / ((r - eps) G)
    lhs = eps / (r - eps) - (eps - P) / (Q + r - eps)
    rhs = (eps * Q + P * (r - eps)) / ((r - eps) * (Q + r - eps))
    return {"mass_gap_identity": gap, "weighted_mass_identity": sp.simplify(lhs - rhs) == 0}


def check_sink_logit_algebra() -> dict[str, bool]:
    """Theorem 3, exactly.

    R T/(e^L + T) = eps has the unique solution L = log(T (R - eps)/eps); the trigger error
    2R/(e^L + 2) is below it since the difference is R e^L (T - 2)/((e^L + 2)(e^L + T)); and the
    necessary margin: A_0 = 1/(1 + i e^{-Delta}) >= 1 - f(eps) iff e^Delta >= i (1 - f)/f with
    (1 - f)/f = (R - 2 eps - 2 beta)/(eps + beta) under (H_beta), (R - 2 eps)/eps under (H).
    """
    sol = sp.solve(sp.Eq(R * T / (sp.exp(L) + T), eps), L)
    target = sp.log(T * (R - eps) / eps)
    solves = len(sol) == 1 and sp.simplify(sp.exp(sol[0]) - sp.exp(target)) == 0
    diff = R * T / (sp.exp(L) + T) - 2 * R / (sp.exp(L) + 2)
    order = sp.simplify(diff - R * sp.exp(L) * (T - 2) / ((sp.exp(L) + 2) * (sp.exp(L) + T))) == 0
    f0 = f_symbolic().subs({r: R})
    odds = sp.simplify((1 - f0) / f0 - (R - 2 * eps - 2 * beta) / (eps + beta)) == 0
    return {"logit_solves_error_eq_eps": solves, "trigger_error_below": order, "margin_odds": odds}


def relu_exact_knobs(T: int, normalise: str = "length") -> tuple[dict[int, Fraction], Fraction]:
    """The exact knobs (k, B) of :func:`~sinkcheck.construct.trigger_weights.relu_exact_head`: k_t = n_t / (t - 1) for t = 2..T, with
    n_t = 1 ("none") or t + 1 ("length": the t + 1 visible keys of a query at t), and B = max_t k_t.
    :func:`check_relu_exact` checks them in exact arithmetic."""
    T = validate.integer_at_least("T", T, 2)
    validate.choice("normalise", normalise, ("length", "none"))
    n_of = (lambda t: 1) if normalise == "none" else (lambda t: t + 1)
    k = {t: Fraction(n_of(t), t - 1) for t in range(2, T + 1)}
    return k, max(k.values())


def check_relu_exact(T_max: int = 8, knobs=None) -> dict[str, bool]:
    """Theorem 4 (construction), in exact rationals for T = 2..T_max and both normalisers, on the
    knobs (k, B) of :func:`relu_exact_knobs` (or of
    ``knobs(T, normalise)``): there is a knob k_t for every trigger position t = 2..T; a trigger at
    t weights each content key k_t / n_t = 1/(t - 1) (the mean), with n_t = 1 ("none") or t + 1
    ("length"); every content query's content score k_i - B is <= 0 (ReLU gives it weight 0)."""
    T_max = validate.integer_at_least("T_max", T_max, 2)
    knobs = relu_exact_knobs if knobs is None else knobs
    ok = {"knob_per_trigger_position": True, "mean_weights": True, "content_scores_nonpositive": True}
    for Tn in range(2, T_max + 1):
        for norm, n_of in (("none", lambda t: 1), ("length", lambda t: t + 1)):
            k, B = knobs(Tn, norm)
            ok["knob_per_trigger_position"] &= set(k) == set(range(2, Tn + 1))
            ok["mean_weights"] &= all(Fraction(k[t]) / n_of(t) == Fraction(1, t - 1) for t in k)
            ok["content_scores_nonpositive"] &= all(Fraction(k.get(i, 0)) - Fraction(B) <= 0
                                                    for i in range(1, Tn + 1))
    return ok


def relu_no_position_error(n2: float, n3: float, R: float) -> float:
    """The bound R abs(2 n_2 - n_3) / (2 n_2 + n_3), Theorem 4's lower bound on the error of a position-free
    ReLU / sigmoid head whose normaliser is n_t at a trigger in position t."""
    n2, n3, R = validate.positive("n2", n2), validate.positive("n3", n3), validate.positive("R", R)
    return R * abs(2 * n2 - n3) / (2 * n2 + n3)


def check_relu_needs_positions() -> dict[str, bool]:
    """Theorem 4 (impossibility), exactly.

    Position-free: the trigger numerator on the probe with content x is C + (t - 1) h(x), C not
    depending on x.  With errors e_t: C + h = n_2 (x + e_2), C + 2 h = n_3 (x + e_3), so
    C = (2 n_2 - n_3) x + 2 n_2 e_2 - n_3 e_3.  Equating C at x and at -x:
    2 (2 n_2 - n_3) x = 2 n_2 (e_2' - e_2) - n_3 (e_3' - e_3), whose norm is at most
    2 (2 n_2 + n_3) eps.  Checked: the elimination of h, the values R/5 and R/3, and 0 for
    n_t = t - 1 (n_2 = 1, n_3 = 2), where a position-free head is exact
    (:func:`~sinkcheck.construct.trigger_weights.relu_preceding_head`).
    """
    C, h, x, n2, n3, e2, e3, e2p, e3p = sp.symbols("C h x n2 n3 e2 e3 e2p e3p")
    sol = sp.solve([C + h - n2 * (x + e2), C + 2 * h - n3 * (x + e3)], [C, h], dict=True)[0]
    elim = sp.expand(sol[C] - ((2 * n2 - n3) * x + 2 * n2 * e2 - n3 * e3)) == 0
    Cm = sol[C].subs({x: -x, e2: e2p, e3: e3p})
    sym = sp.expand((sol[C] - Cm) - (2 * (2 * n2 - n3) * x - 2 * n2 * (e2p - e2) + n3 * (e3p - e3))) == 0
    Rs = sp.Symbol("R", positive=True)
    bound = lambda a, b: Rs * sp.Abs(2 * a - b) / (2 * a + b)  # noqa: E731
    return {
        "eliminate_h": elim,
        "symmetrise": sym,
        "length_is_R_over_5": sp.simplify(bound(3, 4) - Rs / 5) == 0,
        "plain_is_R_over_3": sp.simplify(bound(1, 1) - Rs / 3) == 0,
        "preceding_is_0": bound(1, 2) == 0,
    }
