"""Theorem V2 of docs/variants_theory.md, the trigger task without a sink per attention operation:
the exact steps of the "limit" constructions' error bounds and of the exact constructions' weights
(:mod:`sinkcheck.construct.variant_heads` runs the heads), and the abstract form of Ran-Milo's
necessity argument for the "no" operations.  The statements are ours; Ran-Milo's theorems are
about softmax (necessity) and ReLU (sufficiency) only (:mod:`sinkcheck.theory.trigger`)."""

from __future__ import annotations

import sympy as sp

from sinkcheck import validate
from sinkcheck.theory.variants import OFF_SWITCH, proof_steps


def _sig(y):
    return 1 / (1 + sp.exp(-y))


Ls, t_ = sp.symbols("L t", positive=True)


def leak_bounds() -> dict[str, bool]:
    """The steps of the "limit" constructions' error bounds
    (:func:`sinkcheck.construct.variant_heads.error_bound`) for L >= 0 and t = 2 + u >= 2: each
    identity exactly, and each remainder's sign (sympy's ``is_nonnegative`` in positive symbols).

    The trigger's leak off its content keys: 3/(3 + (t-1) e^L) <= 3 e^{-L} (softmax1, K bias), with
    remainder 3 (3 e^{-L} + t - 2)/(3 + (t-1) e^L); (e^L + 2)/(e^L + 2 + (t-1) e^{2L}) <= e^{-L} + 2 e^{-2L}
    (sink logit s_h = L, content scores 2L), with remainder
    (e^L + 2)(e^L + 2 + (t-2) e^{2L}) / (e^{2L} (e^L + 2 + (t-1) e^{2L})); gated: 1 - sigma(L) w <=
    (1 - sigma(L)) + (1 - w) with 1 - sigma(L) <= e^{-L}; and each bound tends to 0.
    """
    E = sp.exp(Ls)
    u = sp.Symbol("u", nonnegative=True)
    col = 3 / (3 + (t_ - 1) * E)
    sink = (E + 2) / (E + 2 + (t_ - 1) * E**2)
    r_col = 3 * (3 / E + t_ - 2) / (3 + (t_ - 1) * E)
    r_sink = (E + 2) * (E + 2 + (t_ - 2) * E**2) / (E**2 * (E + 2 + (t_ - 1) * E**2))
    w = sp.Symbol("w", positive=True)
    return {
        "column_leak": sp.simplify(3 / E - col - r_col) == 0 and bool(r_col.subs(t_, 2 + u).is_nonnegative),
        "sink_logit_leak": sp.simplify(1 / E + 2 / E**2 - sink - r_sink) == 0
        and bool(r_sink.subs(t_, 2 + u).is_nonnegative),
        "gate_leak": sp.expand((1 - _sig(Ls) * w) - ((1 - _sig(Ls)) + (1 - w)) - (1 - _sig(Ls)) * (w - 1)) == 0
        and sp.simplify(1 / E - (1 - _sig(Ls)) - 1 / (E * (1 + E))) == 0,
        "sigmoid_content_mass_falls": sp.simplify((t_ + 1) / (1 + (2 * t_ - 1) * E) - t_ / (1 + (2 * t_ - 3) * E)
                                                  - (1 - 3 * E) / ((1 + (2 * t_ - 1) * E) * (1 + (2 * t_ - 3) * E))) == 0,
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
    """Ran-Milo's necessity argument for ``name`` (TRIGGER_WITHOUT_SINK "no"), in the abstract: its
    weights are >= 0 and sum to 1 over the real tokens (the proof of Theorem 1 needs nothing else),
    checked exactly on symbolic weights of its form (:func:`~sinkcheck.theory.variants.proof_steps`;
    on the registry's weights: :func:`sinkcheck.construct.variant_heads.check_necessity`), and the bound
    f(eps) = (eps + beta)/(r - eps - beta) tends to 0 with eps and beta: error -> 0 forces mass
    -> 1 on BOS, the trigger or the sink token."""
    validate.choice("name", name, tuple(OFF_SWITCH))
    steps = proof_steps(name)
    e, b, r = sp.symbols("e b r", positive=True)
    f = (e + b) / (r - e - b)
    return {"normalised": steps.get("weights_sum_to_1", False),
            "f_tends_to_0": sp.limit(sp.limit(f, e, 0), b, 0) == 0}
