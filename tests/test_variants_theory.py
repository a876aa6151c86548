"""The theory per attention operation (sinkcheck.theory.variants, sinkcheck.construct.variant_heads):
whether a head can be off without a sink token and how fast, and which operations solve the trigger
task without a sink; each statement with a planted error that its check catches."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sinkcheck import variants
from sinkcheck.construct import trigger_weights as tw
from sinkcheck.construct import variant_heads as vh
from sinkcheck.construct.trigger_task import TRIGGER, equal_content_batch, sample_batch
from sinkcheck.errors import InvalidInputError
from sinkcheck.planted import plant
from sinkcheck.theory import variants as V
from tests.support.profiles import examples

BUILTIN = [name for name, op in variants.OPERATIONS.items() if op.builtin]
LIMIT = [n for n in BUILTIN if V.OFF_SWITCH[n] == "limit"]
EXACT = [n for n in BUILTIN if V.OFF_SWITCH[n] == "exact"]
NEVER = [n for n in BUILTIN if V.OFF_SWITCH[n] == "never"]


def test_both_tables_cover_every_builtin_operation_with_their_own_words():
    assert set(V.OFF_SWITCH) == set(BUILTIN) == set(V.TRIGGER_WITHOUT_SINK) == set(V.STATEMENTS)
    assert set(V.OFF_SWITCH.values()) == {"never", "limit", "exact"}
    assert set(V.TRIGGER_WITHOUT_SINK.values()) == {"exact", "limit", "no"}
    assert all(s.off == V.OFF_SWITCH[n] and s.trigger == V.TRIGGER_WITHOUT_SINK[n] for n, s in V.STATEMENTS.items())


def test_only_relu_relu_length_and_softpick_switch_off_exactly_and_solve_the_trigger_task_exactly():
    assert EXACT == ["relu", "relu_length", "softpick"]
    assert [n for n in BUILTIN if V.TRIGGER_WITHOUT_SINK[n] == "exact"] == EXACT


def test_the_operations_that_need_a_sink_are_the_normalised_ones_without_an_extra_column_and_the_sink_token():
    assert [n for n in BUILTIN if V.TRIGGER_WITHOUT_SINK[n] == "no"] == ["softmax", "sink_token", "sigmoid_sum",
                                                                          "linear_elu1"]


@pytest.mark.parametrize("name", BUILTIN)
def test_each_operations_off_switch_statement_holds_by_its_proof_steps_and_on_the_registrys_weights(name):
    ev = V.check_statement(name, seed=0, rows=100)
    assert ev["holds"] and all(ev["steps"].values()), ev


def test_softmaxs_case_is_the_switch_theorem_with_a_zero_value_sink():
    assert all(V.check_switch_theorem().values())
    # by hand: softmax1 with n = 2 content keys at -Delta = -log 2 keeps 2 * (1/2) / (1 + 2 * (1/2)) = 1/2
    assert V.off_rate("softmax1", 2, math.log(2)) == pytest.approx(0.5, rel=1e-15)


@settings(max_examples=examples(40))
@given(name=st.sampled_from(LIMIT), n=st.integers(1, 12), delta=st.floats(0, 25),
       gaps=st.lists(st.floats(0, 10), min_size=12, max_size=12))
def test_a_limit_operation_keeps_positive_mass_below_its_rate_and_reaches_the_rate_at_equal_scores(name, n, delta,
                                                                                                  gaps):
    gated = name.startswith("gated")
    x = -delta - np.array(gaps[:n])[None]
    mass = V.content_mass(name, np.zeros_like(x) if gated else x, x[0, 0] if gated else 0.0)[0]
    rate = V.off_rate(name, n, delta)
    assert 0 < mass <= rate * (1 + V.REL) + V.ABS
    equal = np.full((1, n), 0.0 if gated else -delta)
    assert V.content_mass(name, equal, -delta)[0] == pytest.approx(rate, rel=V.REL, abs=V.ABS)


@settings(max_examples=examples(40))
@given(name=st.sampled_from(EXACT), x=st.lists(st.floats(-1000, 0), min_size=1, max_size=10))
def test_an_exact_operation_gives_weight_exactly_0_at_every_nonpositive_score(name, x):
    assert np.all(variants.get(name).weights(np.array([x])) == 0.0)


@settings(max_examples=examples(40))
@given(name=st.sampled_from(NEVER), x=st.lists(st.floats(0.01, 50), min_size=1, max_size=10),
       c=st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3))
def test_a_never_operations_output_is_c_when_every_value_is_c(name, x, c):
    A = variants.get(name).weights(np.array([x]))
    assert A @ np.full(len(x), c) == pytest.approx([c], rel=1e-12)


def test_sigmoid_with_bias_minus_log_n_is_off_at_rate_e_minus_delta_whatever_n():
    # by hand: n sigma(-Delta - log n) = n / (1 + n e^Delta) < e^-Delta
    for n in (1, 10, 1000):
        assert V.off_rate("sigmoid_bias", n, 5.0) == pytest.approx(n / (1 + n * math.exp(5.0)), rel=1e-14)
        assert V.off_rate("sigmoid_bias", n, 5.0) < math.exp(-5.0)


PLANTED_OFF = {
    "softmax": (V.proof_steps, "drop_term", 0, "sum(A) - 1 -> sum(A)"),
    "sigmoid_sum": (V.proof_steps, "drop_term", 1, "sum((a * c for a in A)) - c -> sum((a * c for a in A))"),
    "linear_elu1": (V.proof_steps, "compare", 1, "sp.simplify(sum(A) - 1) == 0 -> sp.simplify(sum(A) - 1) != 0"),
    "softmax1": (V.column_rate, "constant", 0, "1 -> 2"),
    "sink_logit": (V.column_rate, "drop_term", 0, "1 + n * math.exp(-delta) -> 1"),
    "key_bias": (V.proof_steps, "drop_term", 12, None),
    "sink_token": (V.proof_steps, "compare", 10, None),
    "sigmoid": (V.sigmoid_rate, "drop_term", 0, "1 + math.exp(delta) -> 1"),
    "sigmoid_bias": (V.sigmoid_bias_rate, "constant", 0, "1 -> 2"),
    "elu1": (V.proof_steps, "drop_term", 32, "elu1.subs(x1, -D) - sp.exp(-D) -> elu1.subs(x1, -D)"),
    "relu": (V.proof_steps, "compare", 4, "sp.Max(-D, 0) == 0 -> sp.Max(-D, 0) != 0"),
    "relu_length": (V.proof_steps, "drop_term", 3, "1 - sp.exp(-D) -> 1"),
    "softpick": (V.proof_steps, "drop_term", 4, "u - 1 -> u"),
    "gated_head": (V.gate_rate, "drop_term", 0, "1 + math.exp(delta) -> 1"),
    "gated_elem": (V.gate_rate, "constant", 0, "1 -> 2"),
}
"""One planted error per statement: a wrong constant, a flipped comparison or a dropped term in its
rate or in a proof step."""


@pytest.mark.parametrize("name", BUILTIN)
def test_a_planted_error_in_each_off_switch_statement_is_caught(name):
    fn, operator, index, change = PLANTED_OFF[name]
    with plant(fn, operator, index) as text:
        assert change is None or text == change
        assert not V.check_statement(name, seed=0, rows=50)["holds"]


@pytest.mark.parametrize("name", vh.EXACT)
def test_relu_relu_length_and_softpick_heads_solve_the_trigger_task_with_error_0_and_no_bos_attention(name):
    ev = vh.check_trigger(name, T=7, p=3, R=2.0, seed=1)
    assert ev["holds"] and ev["rows"][0]["sup_error"] < 1e-12 and ev["rows"][0]["max_bos"] == 0.0


@pytest.mark.parametrize("name", vh.LIMIT)
def test_each_limit_head_has_positive_error_below_its_bound_and_the_bound_tends_to_0(name):
    ev = vh.check_trigger(name, T=6, p=2, R=1.5, seed=2)
    assert ev["holds"], ev
    assert ev["rows"][-1]["sup_error"] < 1e-10 and all(r["sup_error"] > 0 for r in ev["rows"])


@settings(max_examples=examples(20))
@given(name=st.sampled_from(vh.LIMIT + vh.EXACT), T=st.integers(2, 8), p=st.integers(1, 3), R=st.floats(0.1, 10),
       seed=st.integers(0, 2**16))
def test_every_construction_holds_for_any_length_dimension_and_radius(name, T, p, R, seed):
    assert vh.check_trigger(name, T=T, p=p, R=R, seed=seed, B=32)["holds"]


def test_softpicks_trigger_weight_is_exactly_the_mean_because_bos_and_the_trigger_score_0():
    batch = equal_content_batch(np.array([0.0, 1.0]), 5, positional=False)
    _, A = vh.forward(batch, vh.head("softpick", 2, 5))
    for t in range(2, 6):
        assert np.all(A[t - 1, t, 1:t] == 1 / (t - 1)) and A[t - 1, t, 0] == 0.0 and A[t - 1, t, t] == 0.0


def test_a_planted_nonzero_self_score_makes_the_softpick_head_inexact():
    # a key scored x < 0 enters softpick's denominator with |e^x - 1| > 0 and pulls the mean down
    h = vh.head("softpick", 2, 5)
    W = h.W.copy()
    W[2 + TRIGGER, 2 + TRIGGER] = -1.0  # p = 2: the trigger flag is column p + TRIGGER
    batch = sample_batch(0, 64, 5, 2, positional=False)
    O, _ = vh.forward(batch, vh.Head("softpick", W, h.V))
    assert tw.sup_error(batch, O) > 0.05


PLANTED_TRIGGER = [
    (V.leak_bounds, "drop_term", 16, "3 * t_ - 4 -> 3 * t_", lambda: all(V.leak_bounds().values())),
    (V.exact_weights, "constant", 21, "0 -> 1", lambda: all(V.exact_weights().values())),
    (V.exact_weights, "constant", 5, "3 -> 4", lambda: all(V.exact_weights().values())),
    (vh.head, "constant", 5, "2 -> 3", lambda: vh.check_trigger("sigmoid")["holds"]),
    (vh.head, "constant", 10, "2.0 -> 3.0", lambda: vh.check_trigger("sigmoid_bias")["holds"]),
    (V.proof_steps, "drop_term", 0, "sum(A) - 1 -> sum(A)", lambda: all(V.necessity_applies("sigmoid_sum").values())),
]
"""Planted errors in the trigger statements: a leak bound's dropped term, softpick's zero score on
BOS made 1, sigmoid's knob, the sigmoid heads' value scale, and the normalisation step of the necessity."""


@pytest.mark.parametrize("fn,operator,index,change,check", PLANTED_TRIGGER, ids=lambda v: getattr(v, "__name__", None))
def test_a_planted_error_in_each_trigger_statement_is_caught(fn, operator, index, change, check):
    assert check()
    with plant(fn, operator, index) as text:
        assert text == change
        assert not check()


def test_the_leak_bounds_and_the_exact_trigger_weights_hold_exactly():
    assert all(V.leak_bounds().values()) and all(V.exact_weights(T_max=10).values())


@pytest.mark.parametrize("name", [n for n in BUILTIN if V.TRIGGER_WITHOUT_SINK[n] == "no"])
def test_the_necessity_argument_applies_to_every_operation_that_needs_a_sink(name):
    assert all(V.necessity_applies(name).values())


def test_the_necessity_argument_does_not_apply_to_an_unnormalised_operation():
    assert not V.necessity_applies("sigmoid")["normalised"]


@pytest.mark.parametrize("call,param", [(lambda: V.off_rate("nope", 2, 1.0), "name"),
                                        (lambda: V.off_rate("sigmoid", 0, 1.0), "n"),
                                        (lambda: V.off_rate("sigmoid", 2, -1.0), "delta"),
                                        (lambda: V.check_statement("relu", rows=0), "rows"),
                                        (lambda: vh.head("softmax", 2, 4, 1.0), "name"),
                                        (lambda: vh.head("relu", 2, 4, -1.0), "L")])
def test_bad_arguments_raise_naming_the_parameter(call, param):
    with pytest.raises(InvalidInputError, match=rf"^{param}:"):
        call()
