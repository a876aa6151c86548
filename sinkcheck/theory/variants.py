"""The theory per attention operation (docs/variants_theory.md): can a head be "off" without a sink
token, how fast it gets there, and which operations solve Ran-Milo's trigger task without a sink.

The statements are ours.  The papers state two special cases: Súkeník et al.'s switch theorem (a
softmax head is off only through a sink: with sink margin Delta the content keys keep at most
n e^{-Delta} / (1 + n e^{-Delta}), :func:`sinkcheck.theory.switch.check_softmax_gap`) and
Ran-Milo's softmax necessity and ReLU sufficiency (:mod:`sinkcheck.theory.trigger`).

Setting.  One query row, n content keys with scores x_1..x_n, values v_j; the head's "content
mass" is the total weight on the content keys (times the gate sigmoid(g) for gated attention).
The head is off for every content exactly when its content mass is 0.  "Off at rate r(n, Delta)":
r is the supremum of the content mass over all scores x_j <= -Delta, measured from the extra
logit s where there is one (softmax1: s = 0; sink logit s_h; K bias q . k_s; sink token: its own
score), from 0 otherwise; for gated attention Delta = -g, the gate logit.  Every r below is
attained at x_1 = ... = x_n = -Delta (each mass increases in every x_j), so it is the exact rate.

- never (softmax, sigmoid_sum, linear_elu1): weights >= 0 summing to 1 over the real keys, so the
  output is a convex combination of the values; equal values v_j = c give output c != 0.
- limit (softmax1, sink_logit, key_bias, sink_token, sigmoid, sigmoid_bias, elu1, gated_head,
  gated_elem): every weight (every gate) is > 0 at finite scores, and the mass tends to 0.
- exact (relu, relu_length, softpick): weight exactly 0 at every score x_j <= 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from sinkcheck import validate
from sinkcheck.variants import get
from sinkcheck.variants import reference as ref

OFF_SWITCH: dict[str, str] = {
    "softmax": "never", "softmax1": "limit", "sink_logit": "limit", "key_bias": "limit", "sink_token": "limit",
    "sigmoid": "limit", "sigmoid_bias": "limit", "sigmoid_sum": "never", "elu1": "limit", "linear_elu1": "never",
    "relu": "exact", "relu_length": "exact", "softpick": "exact", "gated_head": "limit", "gated_elem": "limit"}
"""Whether a head of each built-in operation outputs exactly 0 for every content without a sink token."""

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
    Statement("softmax", "never", "1 (with a sink column of margin Delta: n e^{-D}/(1 + n e^{-D}), the switch theorem)",
              _CONVEX, "no", _NECESSITY + " (a sink)"),
    Statement("softmax1", "limit", "n e^{-D} / (1 + n e^{-D})", _COLUMN + ", s = 0", "limit", _EXTRA),
    Statement("sink_logit", "limit", "n e^{-D} / (1 + n e^{-D}), D = s_h - max x", _COLUMN, "limit", _EXTRA),
    Statement("key_bias", "limit", "n e^{-D} / (1 + n e^{-D}), D = q.k_s - max x", _COLUMN + " (value 0)", "limit",
              _EXTRA),
    Statement("sink_token", "limit", "n e^{-D} / (1 + n e^{-D}), D = the sink token's margin: the switch theorem",
              _COLUMN + "; off only through the sink token itself", "no",
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
              "scores k > 0 on the trigger's content keys, 0 on BOS and itself (|e^0 - 1| = 0 drops them from the "
              "denominator): weights (e^k - 1)/((t-1)(e^k - 1)) = 1/(t-1) exactly, no positions; content queries "
              "score content keys -1: numerators 0"),
    Statement("gated_head", "limit", "sigma(-D) <= e^{-D}, D = -g the gate logit",
              "the output is sigma(g) times a convex combination, sigma(g) > 0 tends to 0", "limit",
              "gate logit -L on content queries, +L on the trigger; the trigger attends its content keys at L"),
    Statement("gated_elem", "limit", "sigma(-D) <= e^{-D}, D = -g the gate logit",
              "each coordinate is sigma(g_k) times a convex combination", "limit",
              "the headwise construction with the same gate logit on every coordinate"),
)}
"""Every built-in operation's statement (ours; the papers state only softmax's and ReLU's cases)."""


# ---- the rates: the supremum of the content mass over x_j <= -Delta -----------------------------

def column_rate(n: int, delta: float) -> float:
    """n e^{-Delta} / (1 + n e^{-Delta}): softmax1, sink logit, K bias, sink token, softmax's switch theorem."""
    return n * math.exp(-delta) / (1 + n * math.exp(-delta))


def sigmoid_rate(n: int, delta: float) -> float:
    """n sigma(-Delta) = n / (1 + e^{Delta}) (sigmoid without normalisation)."""
    return n / (1 + math.exp(delta))


def sigmoid_bias_rate(n: int, delta: float) -> float:
    """n sigma(-Delta - log n) = n / (1 + n e^{Delta}) (sigmoid with bias -log n)."""
    return n / (1 + n * math.exp(delta))


def elu1_rate(n: int, delta: float) -> float:
    """n e^{-Delta} (elu + 1, Delta >= 0)."""
    return n * math.exp(-delta)


def gate_rate(n: int, delta: float) -> float:
    """sigma(-Delta) = 1 / (1 + e^{Delta}) with gate logit g = -Delta (gated attention)."""
    return 1 / (1 + math.exp(delta))


RATES = {"softmax1": column_rate, "sink_logit": column_rate, "key_bias": column_rate, "sink_token": column_rate,
         "sigmoid": sigmoid_rate, "sigmoid_bias": sigmoid_bias_rate, "elu1": elu1_rate, "gated_head": gate_rate,
         "gated_elem": gate_rate}
"""The rate function of each "limit" operation (a "never" one keeps mass 1, an "exact" one 0)."""


def off_rate(name: str, n: int, delta: float) -> float:
    """The most content mass a head of ``name`` keeps with n content keys all scored <= -Delta
    (from its extra logit; the gate logit for gated attention): 1 ("never"), 0 ("exact", Delta >= 0)."""
    validate.choice("name", name, tuple(OFF_SWITCH))
    n = validate.integer_at_least("n", n, 1)
    delta = validate.nonnegative("delta", delta)
    return {"never": 1.0, "exact": 0.0}.get(OFF_SWITCH[name]) if name not in RATES else RATES[name](n, delta)


def content_mass(name: str, x: np.ndarray, g=0.0) -> np.ndarray:
    """The content mass of rows of content scores ``x`` (..., n) under the registry's weights: extra
    logit s = 0, the sink token scored 0 in front, the gate logit g (a number or one per row)."""
    op = get(name)
    if op.extra in ("logit", "key"):
        return op.weights(x, s=0.0).sum(-1)
    if op.extra == "token":
        return op.weights(np.concatenate([np.zeros(x.shape[:-1] + (1,)), x], -1))[..., 1:].sum(-1)
    A = op.weights(x)
    gate = ref.gate(np.ones(x.shape[:-1]), np.broadcast_to(g, x.shape[:-1])) if op.extra.startswith("gate") else 1.0
    return gate * A.sum(-1)


# ---- exact proof steps (sympy) ------------------------------------------------------------------

x1, x2, x3, s, c = sp.symbols("x1 x2 x3 s c", real=True)
D, n_ = sp.symbols("Delta n", positive=True)


def _sig(y):
    return 1 / (1 + sp.exp(-y))


def proof_steps(name: str) -> dict[str, bool]:
    """The proof of ``name``'s statement, step by step in sympy (True: confirmed exactly)."""
    kind = validate.choice("name", name, tuple(OFF_SWITCH)) and OFF_SWITCH[name]
    X = (x1, x2, x3)
    if kind == "never":
        w = {"softmax": [sp.exp(v) for v in X], "sigmoid_sum": [_sig(v) for v in X],
             "linear_elu1": [sp.exp(v) for v in X]}[name]  # kernel scores: any positive numbers e^{x_j}
        A = [wj / sum(w) for wj in w]
        return {"weights_sum_to_1": sp.simplify(sum(A) - 1) == 0,
                "weights_positive": all(a.is_positive for a in A),
                "equal_values_give_c": sp.simplify(sum(a * c for a in A) - c) == 0}
    if kind == "exact":
        u = sp.Symbol("u", positive=True)  # u = e^{x} <= 1 for x <= 0: 1 - u = integral of e^{-t} over [0, Delta]
        t = sp.Symbol("t", positive=True)
        return {"relu_zero_at_nonpositive": sp.Max(-D, 0) == 0 and sp.Max(0 * D, 0) == 0,
                "e_x_at_most_1": sp.simplify(sp.integrate(sp.exp(-t), (t, 0, D)) - (1 - sp.exp(-D))) == 0,
                "softpick_numerator_zero": sp.Max(u - 1, 0).subs(u, 1) == 0 and sp.Max(-D, 0) == 0}
    rate = RATES[name]
    if rate is column_rate:
        S = sum(sp.exp(v) for v in X)
        M = S / (sp.exp(s) + S)
        at_equal = M.subs({v: s - D for v in X})
        target = 3 * sp.exp(-D) / (1 + 3 * sp.exp(-D))
        steps = {"increasing": sp.simplify(sp.diff(M, x1) - sp.exp(x1 + s) / (sp.exp(s) + S) ** 2) == 0,
                 "sup_at_equal_scores": sp.simplify(at_equal - target) == 0,
                 "below_n_e_minus_delta": sp.simplify(3 * sp.exp(-D) - target
                                                      - 9 * sp.exp(-2 * D) / (1 + 3 * sp.exp(-D))) == 0}
        formula = n_ * sp.exp(-D) / (1 + n_ * sp.exp(-D))
    elif rate in (sigmoid_rate, gate_rate):
        steps = {"increasing": sp.simplify(sp.diff(_sig(x1), x1) - _sig(x1) * (1 - _sig(x1))) == 0,
                 "below_e_minus_delta": sp.simplify(sp.exp(-D) - _sig(-D) - sp.exp(-D) / (1 + sp.exp(D))) == 0}
        formula = (n_ if rate is sigmoid_rate else 1) / (1 + sp.exp(D))
    elif rate is sigmoid_bias_rate:
        at = sp.simplify(n_ * _sig(-D - sp.log(n_)))
        steps = {"increasing": sp.simplify(sp.diff(_sig(x1), x1) - _sig(x1) * (1 - _sig(x1))) == 0,
                 "log_n_bias": sp.simplify(at - n_ / (1 + n_ * sp.exp(D))) == 0,
                 "below_e_minus_delta": sp.simplify(sp.exp(-D) - at - sp.exp(-D) / (1 + n_ * sp.exp(D))) == 0}
        formula = n_ / (1 + n_ * sp.exp(D))
    else:  # elu1
        elu1 = sp.Piecewise((x1 + 1, x1 > 0), (sp.exp(x1), True))
        steps = {"elu1_is_exp_below_0": sp.simplify(elu1.subs(x1, -D) - sp.exp(-D)) == 0,
                 "increasing": sp.diff(sp.exp(x1), x1) == sp.exp(x1)}
        formula = n_ * sp.exp(-D)
    steps["weights_positive"] = bool(formula.is_positive)
    steps["tends_to_0"] = sp.limit(formula, D, sp.oo) == 0
    steps["formula_is_the_rate"] = all(math.isclose(float(formula.subs({n_: k, D: d})), rate(k, d), rel_tol=1e-12)
                                       for k in (1, 3, 17) for d in (0.0, 0.7, 9.0))
    return steps


def check_switch_theorem() -> dict[str, bool]:
    """Súkeník et al.'s switch theorem as softmax's case: n content keys and a sink of margin Delta
    keep content mass n e^{-D}/(1 + n e^{-D}) at equal scores; softmax1 is exactly this with the
    sink's logit 0 and value 0 (its column dropped)."""
    at_equal = 3 * sp.exp(-D) / (sp.exp(0) + 3 * sp.exp(-D))
    return {"softmax1_is_a_zero_value_sink": sp.simplify(at_equal - 3 * sp.exp(-D) / (1 + 3 * sp.exp(-D))) == 0}


# ---- executed checks against the registry's weights ---------------------------------------------

REL = 1e-12
"""The relative tolerance of the limit checks."""

ABS = 1e-15
"""The absolute floor of the limit checks (the registry's sigmoid and gate, 0.5 (1 + tanh(x/2)), are
exact to about 1e-16 absolute, not relative, at scores below -20)."""


def _rows(rng: np.random.Generator, rows: int, n: int, delta: np.ndarray, scales=(0.1, 3.0)) -> np.ndarray:
    """Scores x_j <= -Delta: a gap abs(N(0, scale)) below -Delta, a third of the entries exactly -Delta."""
    gap = np.abs(rng.normal(0, rng.choice(scales), (rows, n)))
    return -delta[:, None] - np.where(rng.random((rows, n)) < 1 / 3, 0.0, gap)


def check_statement(name: str, seed: int = 0, rows: int = 200) -> dict:
    """Decide ``name``'s statement: its proof steps (:func:`proof_steps`) and, on ``rows`` seeded
    random rows per key count n = 1..8 of the registry's weights, the executed check of its kind:

    - never: abs(row sum - 1) and abs(A c - c) for equal values c, at scores up to +-1000 (kernel
      scores phi(q).phi(k) for linear_elu1);
    - limit: every content mass > 0 at scores <= -Delta, below the rate, and equal to it at
      x_j = -Delta (within :data:`REL`, :data:`ABS`), Delta in [0, 30] (the gate logit for gated attention);
    - exact: content mass exactly 0 at scores <= 0 (zeros and -1000 included), > 0 once a score is > 0.

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
    for n in range(1, 9):
        delta = rng.uniform(0, 30, rows)
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
        elif kind == "limit":
            gated = name.startswith("gated")
            X = rng.normal(0, 5, (rows, n)) if gated else _rows(rng, rows, n, delta)
            g = _rows(rng, rows, 1, delta)[:, 0] if gated else 0.0
            M = content_mass(name, X, g)
            bound = np.array([off_rate(name, n, d) for d in delta])
            M_eq = content_mass(name, np.zeros((rows, n)) if gated else -delta[:, None] * np.ones(n), -delta)
            worst["min_mass"] = min(worst["min_mass"], float(M.min()))
            worst["bound_excess"] = max(worst["bound_excess"], float((M - bound * (1 + REL)).max()))
            worst["tightness_gap"] = max(worst["tightness_gap"], float((np.abs(M_eq - bound) - REL * bound).max()))
        else:
            X = np.minimum(_rows(rng, rows, n, rng.uniform(0, 2, rows), (0.1, 3.0, 300.0)), 0.0)
            X[rng.random(X.shape) < 0.2] = -1000.0
            M = content_mass(name, X)
            X[:, 0] = rng.uniform(1e-3, 5, rows)
            worst["max_mass"] = max(worst["max_mass"], float(np.abs(M).max()))
            worst["min_mass_on"] = min(worst["min_mass_on"], float(content_mass(name, X).min()))
    if kind == "never":
        ok &= worst["sum_gap"] <= 1e-12 and worst["equal_value_gap"] <= 1e-12
    elif kind == "limit":
        ok &= worst["min_mass"] > 0 and worst["bound_excess"] <= ABS and worst["tightness_gap"] <= ABS
        ev["rate_at_delta_40_n_8"] = off_rate(name, 8, 40.0)
        ok &= ev["rate_at_delta_40_n_8"] < 1e-15
    else:
        ok &= worst["max_mass"] == 0.0 and worst["min_mass_on"] > 0
    ev.update({k: worst[k] for k in _KEEP[kind]})
    ev["rows"] = 8 * rows
    ev["scores"] = {"never": "N(0, 1 or 1000)", "limit": "-Delta - |N(0, 0.1 or 3)|, Delta in [0, 30]",
                    "exact": "<= 0, a fifth at -1000"}[kind]
    ev["holds"] = bool(ok)
    return ev


_KEEP = {"never": ("sum_gap", "equal_value_gap", "min_weight"), "limit": ("min_mass", "bound_excess", "tightness_gap"),
         "exact": ("max_mass", "min_mass_on")}


# ---- the trigger task without a sink (Theorem V2) -----------------------------------------------

Ls, t_ = sp.symbols("L t", positive=True)


def leak_bounds() -> dict[str, bool]:
    """The steps of the "limit" constructions' error bounds
    (:func:`sinkcheck.construct.variant_heads.error_bound`), exactly, for L >= 0 and t >= 2.

    The trigger's leak off its content keys: 3/(3 + (t-1) e^L) <= 3 e^{-L} (softmax1, K bias), with
    remainder 3 (3 e^{-L} + t - 2)/(3 + (t-1) e^L); (e^L + 2)/(e^L + 2 + (t-1) e^{2L}) <= 3 e^{-L}
    (sink logit s_h = L, content scores 2L), since 3 e^{-L} (e^L + 2 + (t-1) e^{2L}) - (e^L + 2) =
    1 + 6 e^{-L} + (3t - 4) e^L; gated: 1 - sigma(L) w <= (1 - sigma(L)) + (1 - w) with
    1 - sigma(L) <= e^{-L}; and each bound tends to 0.
    """
    E = sp.exp(Ls)
    col = 3 / (3 + (t_ - 1) * E)
    sink = (E + 2) / (E + 2 + (t_ - 1) * E**2)
    w = sp.Symbol("w", positive=True)
    return {
        "column_leak": sp.simplify(3 / E - col - 3 * (3 / E + t_ - 2) / (3 + (t_ - 1) * E)) == 0,
        "sink_logit_leak": sp.simplify(3 / E - sink - (1 + 6 / E + (3 * t_ - 4) * E) / (E + 2 + (t_ - 1) * E**2)) == 0,
        "gate_leak": sp.expand((1 - _sig(Ls) * w) - ((1 - _sig(Ls)) + (1 - w)) - (1 - _sig(Ls)) * (w - 1)) == 0
        and sp.simplify(1 / E - (1 - _sig(Ls)) - 1 / (E * (1 + E))) == 0,
        "bounds_tend_to_0": sp.limit(t_ * sp.exp(-Ls), Ls, sp.oo) == 0,
    }


def exact_weights(T_max: int = 8) -> dict[str, bool]:
    """The trigger's content weights of the position-indexed and softpick constructions, exactly,
    for t = 2..T_max: 2 sigmoid(-log(2t - 3)) = 1/(t-1) (sigmoid, V = 2x), e^{-log(t-1)} = 1/(t-1)
    (elu1), and softpick's (e^k - 1) / ((t-1)(e^k - 1) + 2 abs(e^0 - 1)) = 1/(t-1) for every k > 0
    (BOS and the trigger itself score 0 and drop out of the denominator)."""
    T_max = validate.integer_at_least("T_max", T_max, 2)
    k = sp.Symbol("k", positive=True)
    ts = range(2, T_max + 1)
    return {
        "sigmoid_mean": all(sp.simplify(2 * _sig(-sp.log(2 * t - 3)) - sp.Rational(1, t - 1)) == 0 for t in ts),
        "elu1_mean": all(sp.simplify(sp.exp(-sp.log(t - 1)) - sp.Rational(1, t - 1)) == 0 for t in ts),
        "softpick_mean": all(sp.simplify((sp.exp(k) - 1) / ((t - 1) * (sp.exp(k) - 1) + 2 * sp.Abs(sp.exp(0) - 1))
                                         - sp.Rational(1, t - 1)) == 0 for t in ts),
    }


def necessity_applies(name: str) -> dict[str, bool]:
    """Ran-Milo's necessity argument for ``name`` (TRIGGER_WITHOUT_SINK "no"): its weights are >= 0
    and sum to 1 over the real tokens (the proof of Theorem 1 needs nothing else), checked exactly
    (:func:`proof_steps`, for the sink token with its own token among the real ones), and the bound
    f(eps) = (eps + beta)/(r - eps - beta) tends to 0 with eps and beta: error -> 0 forces mass
    -> 1 on BOS, the trigger or the sink token."""
    validate.choice("name", name, tuple(OFF_SWITCH))
    steps = proof_steps("softmax" if name == "sink_token" else name)
    e, b, r = sp.symbols("e b r", positive=True)
    f = (e + b) / (r - e - b)
    return {"normalised": steps.get("weights_sum_to_1", False),
            "f_tends_to_0": sp.limit(sp.limit(f, e, 0), b, 0) == 0}
