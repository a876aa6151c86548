"""The theory per attention operation (docs/variants_theory.md): can a head be "off" without a sink
token, how fast it gets there, and which operations solve Ran-Milo's trigger task without a sink.

The statements are ours.  The papers have theorems about softmax (Súkeník et al.: a softmax head
is off only through a sink) and Ran-Milo's softmax necessity and ReLU sufficiency
(:mod:`sinkcheck.theory.trigger`); the rate n e^{-Delta} / (1 + n e^{-Delta}) of a zero-value sink
of margin Delta is Theorem S4 of docs/switch.md, also ours (:mod:`sinkcheck.theory.switch`).

Setting.  One query row, n content keys with scores x_1..x_n, values v_j ranging over the contents;
no key other than the sink token and the extra column is content-free (a BOS key would be a sink).
The head's "content mass" is the total weight on the content keys (per coordinate k, times the gate
sigmoid(g_k), for gated attention).  "Off at rate r(n, Delta)": r is the supremum of the content
mass over all scores x_j <= -Delta, measured from the extra logit s where there is one (softmax1:
s = 0; sink logit s_h; K bias q . k_s; the sink token's score), from 0 otherwise (Delta >= 0); for
gated attention Delta = -max_k g_k.  For sigmoid with bias -log n, n is the row length (masked keys
included); with k <= n visible keys the supremum is k / (1 + n e^Delta).  Every r below is attained
at x_1 = ... = x_n = -Delta (each mass increases in every x_j), so it is the exact rate.

- never (softmax, sigmoid_sum, linear_elu1, and sink_token without its token): weights >= 0 summing
  to 1 over the content keys, a convex combination of the values; equal values v_j = c give c != 0.
  The sink token is off only through its token, in a limit, and only if the token's value is 0.
- limit (softmax1, sink_logit, key_bias, sigmoid, sigmoid_bias, elu1, gated_head, gated_elem):
  every weight (every gate) is > 0 at finite scores, and the mass tends to 0.
- exact (relu, relu_length, softpick): weight exactly 0 at every score x_j <= 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError
from sinkcheck.variants import get
from sinkcheck.variants import reference as ref

OFF_SWITCH: dict[str, str] = {
    "softmax": "never", "softmax1": "limit", "sink_logit": "limit", "key_bias": "limit", "sink_token": "never",
    "sigmoid": "limit", "sigmoid_bias": "limit", "sigmoid_sum": "never", "elu1": "limit", "linear_elu1": "never",
    "relu": "exact", "relu_length": "exact", "softpick": "exact", "gated_head": "limit", "gated_elem": "limit"}
"""Whether a head of each built-in operation outputs exactly 0 for every content without a sink token
(sink_token "never": only through its token, in a limit, if the token's value is 0)."""

TRIGGER_WITHOUT_SINK: dict[str, str] = {
    "softmax": "no", "softmax1": "limit", "sink_logit": "limit", "key_bias": "limit", "sink_token": "no",
    "sigmoid": "limit", "sigmoid_bias": "limit", "sigmoid_sum": "no", "elu1": "limit", "linear_elu1": "no",
    "relu": "exact", "relu_length": "exact", "softpick": "exact", "gated_head": "limit", "gated_elem": "limit"}
"""Whether one head of each operation solves the trigger task without a sink token (exact, limit, no)."""


@dataclass(frozen=True)
class Statement:
    """One operation's statement: ``off`` and ``trigger`` (the two constants above), the proof of
    ``off`` and its ``rate`` in words, and the trigger construction or necessity argument."""

    name: str
    off: str
    rate: str
    proof: str
    trigger: str
    trigger_proof: str


_CONVEX = "weights >= 0 sum to 1 over the real keys: the output is a convex combination; v_j = c gives c"
_COLUMN = "e^{x_j} / (e^s + sum_i e^{x_i}) > 0; the mass S / (e^s + S), S = sum e^{x_i}, increases in S <= n e^{s-Delta}"
_NECESSITY = ("Ran-Milo's necessity argument (Theorem 1 of docs/trigger.md) needs only weights >= 0 that sum to 1 over "
              "the real tokens: error eps leaves content mass <= f(eps), so >= 1 - f(eps) sits on BOS or the trigger")
_EXTRA = "the dropped column takes the mass: content queries' scores L below the extra logit, the trigger's L above"
_POS = "one-hot positions set the trigger's content weight to 1/(t-1) exactly; content queries' scores -L"

STATEMENTS: dict[str, Statement] = {s.name: s for s in (
    Statement("softmax", "never", "1 (with a zero-value sink of margin Delta: n e^{-D}/(1 + n e^{-D}), Theorem S4 of "
              "docs/switch.md, ours)", _CONVEX, "no", _NECESSITY + " (a sink)"),
    Statement("softmax1", "limit", "n e^{-D} / (1 + n e^{-D})", _COLUMN + ", s = 0", "limit", _EXTRA),
    Statement("sink_logit", "limit", "n e^{-D} / (1 + n e^{-D}), D = s_h - max x", _COLUMN, "limit", _EXTRA),
    Statement("key_bias", "limit", "n e^{-D} / (1 + n e^{-D}), D = q.k_s - max x", _COLUMN + " (value 0)", "limit",
              _EXTRA),
    Statement("sink_token", "never", "1 without its token; through it n e^{-D} / (1 + n e^{-D}) if its value is 0 "
              "(D = the token's margin; Theorem S4 of docs/switch.md, ours)",
              _CONVEX + " without the token; with it, " + _COLUMN + " (the token's value 0)", "no",
              _NECESSITY + ", or on the sink token: it solves the task only through its sink"),
    Statement("sigmoid", "limit", "n sigma(-D) <= n e^{-D}", "sigmoid(x) > 0 increases, sigmoid(-D) <= e^{-D}",
              "limit", _POS),
    Statement("sigmoid_bias", "limit", "n sigma(-D - log n) = n / (1 + n e^D) <= e^{-D}",
              "sigmoid(x - log n) > 0 increases; n sigmoid(-D - log n) = n / (1 + n e^D)", "limit", _POS),
    Statement("sigmoid_sum", "never", "1", _CONVEX, "no", _NECESSITY + " (a sink)"),
    Statement("elu1", "limit", "n e^{-D}", "elu(x) + 1 = e^x > 0 for x <= 0", "limit", _POS),
    Statement("linear_elu1", "never", "1", _CONVEX + " (kernel scores phi(q).phi(k) > 0)", "no",
              _NECESSITY + " (a sink)"),
    Statement("relu", "exact", "0 for D >= 0", "max(x, 0) = 0 for x <= 0", "exact",
              "Ran-Milo's ReLU head (relu_exact_head, with positions)"),
    Statement("relu_length", "exact", "0 for D >= 0", "max(x, 0) / n = 0 for x <= 0", "exact",
              "Ran-Milo's ReLU head (relu_exact_head, with positions)"),
    Statement("softpick", "exact", "0 for D >= 0", "max(e^x - 1, 0) = 0 for x <= 0 (e^x <= 1)", "exact",
              "without the authors' epsilon in the denominator (with it the trigger's weight is only a limit): "
              "scores k > 0 on the trigger's content keys, 0 on BOS and itself (|e^0 - 1| = 0 drops them from the "
              "denominator): weights (e^k - 1)/((t-1)(e^k - 1)) = 1/(t-1) exactly, no positions; content queries "
              "score content keys -1: numerators 0"),
    Statement("gated_head", "limit", "sigma(-D) <= e^{-D}, D = -g the gate logit",
              "the output is sigma(g) times a convex combination, sigma(g) > 0 tends to 0", "limit",
              "gate logit -L on content queries, +L on the trigger; the trigger attends its content keys at L"),
    Statement("gated_elem", "limit", "sigma(-D) <= e^{-D} per coordinate, D = -max_k g_k",
              "each coordinate is sigma(g_k) times a convex combination", "limit",
              "the headwise construction with the same gate logit on every coordinate"),
)}
"""Every built-in operation's statement (ours; the papers have theorems only about softmax and ReLU)."""


# ---- the rates: the supremum of the content mass over x_j <= -Delta -----------------------------

def column_rate(n: int, delta: float) -> float:
    """n e^{-Delta} / (1 + n e^{-Delta}): softmax1, sink logit, K bias, a zero-value sink token
    (Theorem S4 of docs/switch.md, ours)."""
    return n * math.exp(-delta) / (1 + n * math.exp(-delta))


def sigmoid_rate(n: int, delta: float) -> float:
    """n sigma(-Delta) = n / (1 + e^{Delta}) (sigmoid without normalisation)."""
    return n / (1 + math.exp(delta))


def sigmoid_bias_rate(n: int, delta: float, k: int | None = None) -> float:
    """k sigma(-Delta - log n) = k / (1 + n e^{Delta}) (sigmoid with bias -log n, n the row length,
    k <= n visible keys; k = n without a mask)."""
    return (n if k is None else k) / (1 + n * math.exp(delta))


def elu1_rate(n: int, delta: float) -> float:
    """n e^{-Delta} (elu + 1, Delta >= 0)."""
    return n * math.exp(-delta)


def gate_rate(n: int, delta: float) -> float:
    """sigma(-Delta) = 1 / (1 + e^{Delta}) with gate logit g = -Delta (gated attention)."""
    return 1 / (1 + math.exp(delta))


RATES = {"softmax1": column_rate, "sink_logit": column_rate, "key_bias": column_rate,
         "sigmoid": sigmoid_rate, "sigmoid_bias": sigmoid_bias_rate, "elu1": elu1_rate, "gated_head": gate_rate,
         "gated_elem": gate_rate}
"""The rate function of each "limit" operation (a "never" one keeps mass 1, an "exact" one 0; the sink
token's rate through its token, if its value is 0, is :func:`column_rate`)."""


def off_rate(name: str, n: int, delta: float) -> float:
    """The most content mass a head of ``name`` keeps with n content keys all scored <= -Delta
    (from its extra logit; the gate logit for gated attention): 1 ("never"), 0 ("exact", Delta >= 0)."""
    validate.choice("name", name, tuple(OFF_SWITCH))
    n = validate.integer_at_least("n", n, 1)
    delta = validate.nonnegative("delta", delta)
    kind = OFF_SWITCH[name]
    if kind == "limit":
        return RATES[name](n, delta) if name in RATES else math.nan  # nan: a "limit" with no rate fails its check
    return 1.0 if kind == "never" else 0.0


def content_mass(name: str, x: np.ndarray, g=0.0, token: bool = False) -> np.ndarray:
    """The content mass of rows of content scores ``x`` (..., n) under the registry's weights: extra
    logit s = 0, the gate logit g (a number or one per row); a sink token only with ``token`` (scored
    0 in front: the mass through the token; without it the sink token's head is softmax)."""
    op = get(name)
    if op.extra in ("logit", "key"):
        return op.weights(x, s=0.0).sum(-1)
    if op.extra == "token" and token:
        return op.weights(np.concatenate([np.zeros(x.shape[:-1] + (1,)), x], -1))[..., 1:].sum(-1)
    A = op.weights(x)
    gate = ref.gate(np.ones(x.shape[:-1]), np.broadcast_to(g, x.shape[:-1])) if op.extra.startswith("gate") else 1.0
    return gate * A.sum(-1)


# ---- exact proof steps (sympy) ------------------------------------------------------------------

x1, x2, x3, s, c = sp.symbols("x1 x2 x3 s c", real=True)
D, n_ = sp.symbols("Delta n", positive=True)


def _sig(y):
    return 1 / (1 + sp.exp(-y))


def _column_steps() -> dict[str, bool]:
    """The extra column's steps, n symbolic: the mass S / (e^s + S) of S = sum_j e^{x_j} increases
    in S (and S in every x_j), equals the rate at S = n e^{s - Delta}, and the remainder to n e^{-Delta}
    is a closed form that sympy finds >= 0."""
    S_ = sp.Symbol("S", positive=True)
    M = S_ / (sp.exp(s) + S_)
    target = n_ * sp.exp(-D) / (1 + n_ * sp.exp(-D))
    rem = n_**2 * sp.exp(-2 * D) / (1 + n_ * sp.exp(-D))
    return {"increasing": sp.simplify(sp.diff(M, S_) - sp.exp(s) / (sp.exp(s) + S_) ** 2) == 0,
            "sup_at_equal_scores": sp.simplify(M.subs(S_, n_ * sp.exp(s - D)) - target) == 0,
            "below_n_e_minus_delta": sp.simplify(n_ * sp.exp(-D) - target - rem) == 0,
            "remainder_nonnegative": bool(rem.is_nonnegative),
            "weights_positive": bool((sp.exp(x1) / (sp.exp(s) + S_)).is_positive)}


def proof_steps(name: str) -> dict[str, bool]:
    """The proof of ``name``'s statement, step by step in sympy: True where sympy confirms the step's
    identity exactly (a difference that simplifies to 0) or the sign of its remainder (``is_nonnegative``
    or ``is_positive`` of a closed form in positive symbols)."""
    kind = validate.choice("name", name, tuple(OFF_SWITCH)) and OFF_SWITCH[name]
    X = (x1, x2, x3)
    if kind == "never":
        w = {"softmax": [sp.exp(v) for v in X], "sink_token": [sp.exp(v) for v in X], "sigmoid_sum": [_sig(v) for v in X],
             "linear_elu1": [sp.exp(v) for v in X]}.get(name)  # kernel scores: any positive numbers e^{x_j}
        if w is None:
            return {"has_positive_weights": False}
        A = [wj / sum(w) for wj in w]
        steps = {"weights_sum_to_1": sp.simplify(sum(A) - 1) == 0,
                 "weights_positive": all(a.is_positive for a in A),
                 "equal_values_give_c": sp.simplify(sum(a * c for a in A) - c) == 0}
        if name == "sink_token":  # through its token, of value 0: the extra column's steps
            steps.update({f"through_token_{k}": v for k, v in _column_steps().items()})
        return steps
    if kind == "exact":
        w = sp.Symbol("w", nonnegative=True)  # -w = x <= 0 (ReLU); -w = e^x - 1 <= 0 (softpick, by the next step)
        tau = sp.Symbol("tau", positive=True)  # x = -Delta: 1 - e^x is the integral of e^{-tau} > 0 over [0, Delta]
        return {"relu_zero_at_nonpositive": sp.Max(-w, 0) == 0,
                "e_x_minus_1_nonpositive": sp.simplify(sp.integrate(sp.exp(-tau), (tau, 0, D)) - (1 - sp.exp(-D))) == 0
                and bool(sp.exp(-tau).is_positive),
                "softpick_numerator_zero": sp.Max(-w, 0) == 0}
    rate = RATES.get(name)
    if rate is None:
        return {"has_a_rate": False}
    if rate is column_rate:
        steps = _column_steps()
        formula = n_ * sp.exp(-D) / (1 + n_ * sp.exp(-D))
    elif rate in (sigmoid_rate, gate_rate):
        rem = sp.exp(-D) / (1 + sp.exp(D))
        steps = {"increasing": sp.simplify(sp.diff(_sig(x1), x1) - _sig(x1) * (1 - _sig(x1))) == 0,
                 "below_e_minus_delta": sp.simplify(sp.exp(-D) - _sig(-D) - rem) == 0,
                 "remainder_nonnegative": bool(rem.is_nonnegative), "weights_positive": bool(_sig(x1).is_positive)}
        formula = (n_ if rate is sigmoid_rate else 1) / (1 + sp.exp(D))
    elif rate is sigmoid_bias_rate:
        at = sp.simplify(n_ * _sig(-D - sp.log(n_)))
        rem = sp.exp(-D) / (1 + n_ * sp.exp(D))
        steps = {"increasing": sp.simplify(sp.diff(_sig(x1), x1) - _sig(x1) * (1 - _sig(x1))) == 0,
                 "log_n_bias": sp.simplify(at - n_ / (1 + n_ * sp.exp(D))) == 0,
                 "below_e_minus_delta": sp.simplify(sp.exp(-D) - at - rem) == 0,
                 "remainder_nonnegative": bool(rem.is_nonnegative), "weights_positive": bool(_sig(x1).is_positive)}
        formula = n_ / (1 + n_ * sp.exp(D))
    else:  # elu1
        elu1 = sp.Piecewise((x1 + 1, x1 > 0), (sp.exp(x1), True))
        steps = {"elu1_is_exp_below_0": sp.simplify(elu1.subs(x1, -D) - sp.exp(-D)) == 0,
                 "increasing": sp.diff(sp.exp(x1), x1) == sp.exp(x1), "weights_positive": bool(sp.exp(x1).is_positive)}
        formula = n_ * sp.exp(-D)
    steps["rate_positive"] = bool(formula.is_positive)
    steps["tends_to_0"] = sp.limit(formula, D, sp.oo) == 0
    steps["formula_is_the_rate"] = all(math.isclose(float(formula.subs({n_: k, D: d})), rate(k, d), rel_tol=1e-12)
                                       for k in (1, 3, 17) for d in (0.0, 0.7, 9.0))
    return steps


def check_switch_theorem() -> dict[str, bool]:
    """Softmax's case, Theorem S4 of docs/switch.md (ours): n content keys and a zero-value sink of
    margin Delta keep content mass n e^{-D}/(1 + n e^{-D}) at equal scores, n symbolic; softmax1 is
    exactly this with the sink's logit 0 and value 0 (its column dropped)."""
    at_equal = n_ * sp.exp(-D) / (sp.exp(0) + n_ * sp.exp(-D))
    return {"softmax1_is_a_zero_value_sink": sp.simplify(at_equal - n_ * sp.exp(-D) / (1 + n_ * sp.exp(-D))) == 0}


# ---- executed checks against the registry's weights ---------------------------------------------

REL = 1e-12
"""The relative tolerance of the limit checks (the registry's sigmoid and gate use scipy's expit,
accurate to a few ulps relative even at scores near -30, so no absolute floor is needed)."""


def _rows(rng: np.random.Generator, rows: int, n: int, delta: np.ndarray, scales=(0.1, 3.0)) -> np.ndarray:
    """Scores x_j <= -Delta: a gap abs(N(0, scale)) below -Delta, a third of the entries exactly -Delta."""
    gap = np.abs(rng.normal(0, rng.choice(scales), (rows, n)))
    return -delta[:, None] - np.where(rng.random((rows, n)) < 1 / 3, 0.0, gap)


def _limit(name: str, rng, rows: int, n: int, rate, worst: dict, token: bool = False) -> None:
    """One key count of the limit check: masses > 0, <= the rate, equal to it at x_j = -Delta."""
    delta = rng.uniform(0, 30, rows)
    gated = name.startswith("gated")
    X = rng.normal(0, 5, (rows, n)) if gated else _rows(rng, rows, n, delta)
    g = _rows(rng, rows, 1, delta)[:, 0] if gated else 0.0
    M = content_mass(name, X, g, token)
    bound = np.array([rate(n, d) for d in delta])
    M_eq = content_mass(name, np.zeros((rows, n)) if gated else -delta[:, None] * np.ones(n), -delta, token)
    worst["min_mass"] = min(worst["min_mass"], float(M.min()))
    worst["bound_excess"] = max(worst["bound_excess"], float((M - bound * (1 + REL)).max()))
    worst["tightness_gap"] = max(worst["tightness_gap"], float((np.abs(M_eq - bound) - REL * bound).max()))


def check_statement(name: str, seed: int = 0, rows: int = 200) -> dict:
    """Decide ``name``'s statement: its proof steps (:func:`proof_steps`) and, on ``rows`` seeded
    random rows per key count n = 1..8 of the registry's weights, the executed check of its kind:

    - never: abs(row sum - 1) and abs(A c - c) for equal values c, at scores of scale up to 1000
      (kernel scores phi(q).phi(k) of features N(0, 3) for linear_elu1); for the sink token also its
      mass through its token (scored 0, value 0), checked as a limit against :func:`column_rate`;
    - limit: every content mass > 0 at scores <= -Delta, below the rate, and equal to it at
      x_j = -Delta (within :data:`REL`), Delta in [0, 30] (the gate logit for gated attention), and
      the measured mass at Delta = 40, n = 8 below 1e-15;
    - exact: content mass exactly 0 at scores <= 0 (a fifth exactly 0, a fifth -1000, and a row of
      zeros: softpick's 0/0, ReLU's kink), > 0 once a score is > 0.

    Returns the evidence, with ``holds`` (every step and every margin within its tolerance).
    """
    validate.choice("name", name, tuple(OFF_SWITCH))
    rows = validate.integer_at_least("rows", rows, 1)
    rng = np.random.default_rng(seed)
    steps = proof_steps(name)
    ev: dict = {"operation": name, "off": OFF_SWITCH[name], "steps": steps}
    kind, ok = OFF_SWITCH[name], all(steps.values())
    worst = {"sum_gap": 0.0, "equal_value_gap": 0.0, "min_weight": math.inf, "min_mass": math.inf, "bound_excess": -math.inf,
             "tightness_gap": 0.0, "max_mass": 0.0, "min_mass_on": math.inf}
    rate = RATES.get(name, lambda n, d: math.nan)  # a "limit" without a rate fails (nan compares False)
    try:  # a class whose scores the operation refuses (kernel scores < 0) is not confirmed
        for n in range(1, 9):
            if kind == "never":
                X = rng.normal(0, rng.choice([1.0, 1000.0]), (rows, n))
                if name == "linear_elu1":
                    q, k = rng.normal(0, 3, (rows, 1, 4)), rng.normal(0, 3, (rows, n, 4))
                    X = (ref.elu1_features(q) * ref.elu1_features(k)).sum(-1)
                A = get(name).weights(X)
                cval = rng.normal(size=(rows, 1))
                worst["sum_gap"] = max(worst["sum_gap"], float(np.abs(A.sum(-1) - 1).max()))
                worst["equal_value_gap"] = max(worst["equal_value_gap"], float(np.abs(A @ np.ones(n) * cval[:, 0]
                                                                                      - cval[:, 0]).max()))
                worst["min_weight"] = min(worst["min_weight"], float(A.min()))
                ok &= bool(A.min() >= 0)
                if name == "sink_token":
                    _limit(name, rng, rows, n, column_rate, worst, token=True)
            elif kind == "limit":
                _limit(name, rng, rows, n, rate, worst)
            else:
                X = np.minimum(_rows(rng, rows, n, rng.uniform(0, 2, rows), (0.1, 3.0, 300.0)), 0.0)
                X[rng.random(X.shape) < 0.2] = -1000.0
                X[rng.random(X.shape) < 0.2] = 0.0
                X[0] = 0.0  # a row of zeros
                M = content_mass(name, X)
                X[:, 0] = rng.uniform(1e-3, 5, rows)
                worst["max_mass"] = max(worst["max_mass"], float(np.abs(M).max()))
                worst["min_mass_on"] = min(worst["min_mass_on"], float(content_mass(name, X).min()))
    except InvalidInputError as e:
        ok, ev["refused"] = False, str(e)
    if kind == "never":
        ok &= worst["sum_gap"] <= 1e-12 and worst["equal_value_gap"] <= 1e-12
    if kind == "limit" or name == "sink_token":
        ok &= worst["min_mass"] > 0 and worst["bound_excess"] <= 0 and worst["tightness_gap"] <= 0
        ev["mass_at_delta_40_n_8"] = float(content_mass(name, np.full((1, 8), -40.0), -40.0, name == "sink_token")[0])
        ok &= ev["mass_at_delta_40_n_8"] < 1e-15
    if kind == "exact":
        ok &= worst["max_mass"] == 0.0 and worst["min_mass_on"] > 0
    keep = _KEEP[kind] + (_KEEP["limit"] if name == "sink_token" else ())
    ev.update({k: worst[k] for k in keep})
    ev["rows"] = 8 * rows
    ev["scores"] = {"never": "N(0, 1 or 1000)", "limit": "-Delta - |N(0, 0.1 or 3)|, Delta in [0, 30]",
                    "exact": "<= 0, a fifth at 0, a fifth at -1000, a row of zeros"}[kind]
    ev["holds"] = bool(ok)
    return ev


_KEEP = {"never": ("sum_gap", "equal_value_gap", "min_weight"), "limit": ("min_mass", "bound_excess", "tightness_gap"),
         "exact": ("max_mass", "min_mass_on")}
