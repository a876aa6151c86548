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
from sinkcheck.theory import trigger as th
from sinkcheck.theory import variants as V
from sinkcheck.theory import variants_trigger as V2
from sinkcheck.variants import reference as ref
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


def test_the_never_off_operations_are_the_normalised_ones_and_the_sink_token_without_its_token():
    assert NEVER == ["softmax", "sink_token", "sigmoid_sum", "linear_elu1"]


def test_a_sink_token_of_value_0_switches_the_head_off_in_the_limit_but_one_of_value_v_leaves_the_output_at_v():
    # by hand: n = 2 content keys at -Delta = -log 2 beside the token scored 0: mass 2 (1/2) / (1 + 2 (1/2)) = 1/2
    assert V.content_mass("sink_token", np.full((1, 2), -math.log(2)), token=True)[0] == pytest.approx(0.5, rel=1e-15)
    A = variants.get("sink_token").weights(np.array([[0.0, -40.0, -40.0]]))  # the token first, content keys at -40
    v_token, contents = 0.7, np.array([1.0, -2.0])
    assert A[0, 1:].sum() < 1e-16 and abs(A[0] @ np.r_[v_token, contents] - v_token) < 1e-16
    assert V.content_mass("sink_token", np.full((1, 3), -1.0))[0] == pytest.approx(1.0, rel=1e-15)  # no token: mass 1


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
    assert 0 < mass <= rate * (1 + V.REL)
    equal = np.full((1, n), 0.0 if gated else -delta)
    assert V.content_mass(name, equal, -delta)[0] == pytest.approx(rate, rel=V.REL, abs=0)


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


@pytest.mark.parametrize("name", ["relu", "relu_length", "softpick"])
def test_an_exact_operation_gives_weight_0_on_a_row_of_zero_scores_and_at_relus_kink(name):
    assert np.all(variants.get(name).weights(np.zeros((1, 4))) == 0.0)  # softpick: 0/0 read as 0
    assert np.all(variants.get(name).weights(np.array([[0.0, -1.0, 0.0]])) == 0.0)


def test_sigmoid_with_bias_counts_masked_keys_in_n_so_k_visible_keys_keep_k_over_1_plus_n_e_delta():
    # by hand: a causal row 0 of a 4 x 4 score matrix sees k = 1 key, but n = 4: sigma(-1 - log 4) = 1 / (1 + 4e)
    A = variants.get("sigmoid_bias").weights(np.full((4, 4), -1.0), np.tril(np.ones((4, 4), bool)))
    assert A[0].sum() == pytest.approx(1 / (1 + 4 * math.e), rel=1e-14)
    assert V.sigmoid_bias_rate(4, 1.0, k=1) == pytest.approx(1 / (1 + 4 * math.e), rel=1e-14)
    assert A[2].sum() == pytest.approx(3 / (1 + 4 * math.e), rel=1e-14)


def test_sigmoid_with_bias_minus_log_n_is_off_at_rate_e_minus_delta_whatever_n():
    # by hand: n sigma(-Delta - log n) = n / (1 + n e^Delta) < e^-Delta
    for n in (1, 10, 1000):
        assert V.off_rate("sigmoid_bias", n, 5.0) == pytest.approx(n / (1 + n * math.exp(5.0)), rel=1e-14)
        assert V.off_rate("sigmoid_bias", n, 5.0) < math.exp(-5.0)


def _elu1_rate_without_n(n, delta):
    return math.exp(-delta)


PLANTED_OFF = {
    "softmax": ("set", V.OFF_SWITCH, "softmax", "exact"),
    "sigmoid_sum": ("set", V.OFF_SWITCH, "sigmoid_sum", "limit"),
    "linear_elu1": ("set", V.OFF_SWITCH, "linear_elu1", "exact"),
    "softmax1": ("plant", V.column_rate, "constant", 0, "1 -> 2"),
    "sink_logit": ("plant", V.column_rate, "drop_term", 0, "1 + n * math.exp(-delta) -> 1"),
    "key_bias": ("plant", V.column_rate, "constant", 0, "1 -> 2"),
    "sink_token": ("set", V.OFF_SWITCH, "sink_token", "limit"),
    "sigmoid": ("plant", V.sigmoid_rate, "drop_term", 0, "1 + math.exp(delta) -> 1"),
    "sigmoid_bias": ("plant", V.sigmoid_bias_rate, "constant", 0, "1 -> 2"),
    "elu1": ("set", V.RATES, "elu1", _elu1_rate_without_n),
    "relu": ("set", V.OFF_SWITCH, "relu", "never"),
    "relu_length": ("set", V.OFF_SWITCH, "relu_length", "limit"),
    "softpick": ("set", V.OFF_SWITCH, "softpick", "never"),
    "gated_head": ("plant", V.gate_rate, "drop_term", 0, "1 + math.exp(delta) -> 1"),
    "gated_elem": ("plant", V.gate_rate, "constant", 0, "1 -> 2"),
}
"""One planted error per statement: a wrong class, a wrong constant, a dropped term or a dropped factor."""


@pytest.mark.parametrize("name", BUILTIN)
def test_a_planted_error_in_each_off_switch_statement_is_caught(name, monkeypatch):
    entry = PLANTED_OFF[name]
    assert V.check_statement(name, seed=0, rows=50)["holds"]
    if entry[0] == "set":
        monkeypatch.setitem(entry[1], entry[2], entry[3])
        assert not V.check_statement(name, seed=0, rows=50)["holds"]
        return
    with plant(*entry[1:4]) as text:
        assert text == entry[4]
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


@pytest.mark.parametrize("name", vh.LIMIT)
def test_each_limit_heads_error_bound_is_sharp_error_over_bound_tends_to_1(name):
    ev = vh.check_trigger(name, T=6, p=2, R=1.0, seed=0)
    ratios = [r["sup_error"] / r["bound"] for r in ev["rows"]]
    assert max(ratios) > 1 - 1e-6 and ratios[-1] > 0.99


def test_the_sigmoid_and_elu1_heads_worst_error_is_at_content_position_2_by_hand():
    # sigmoid: 2 content keys at -L, value scale 2: 4 R sigma(-L); elu + 1: 2 R e^{-L}
    for name, want in (("sigmoid", 4 / (1 + math.exp(8.0))), ("elu1", 2 * math.exp(-8.0))):
        batch = equal_content_batch(np.array([0.0, 1.0]), 6, positional=True)
        O, _ = vh.forward(batch, vh.head(name, 2, 6, 8.0))
        assert np.linalg.norm(O[0, 2]) == pytest.approx(want, rel=1e-12)
        assert vh.error_bound(name, 6, 1.0, 8.0) == pytest.approx(want, rel=1e-12)


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
    (vh.error_bound, "constant", 1, "4.0 -> 5.0", lambda: vh.check_trigger("sigmoid")["holds"]),
    (vh.error_bound, "constant", 3, "2.0 -> 3.0", lambda: vh.check_trigger("elu1")["holds"]),
    (vh.error_bound, "constant", 7, "3 -> 4", lambda: vh.check_trigger("softmax1")["holds"]),
    (V2.leak_bounds, "drop_term", 13, "t_ - 2 -> t_", lambda: all(V2.leak_bounds().values())),
    (V2.exact_weights, "constant", 21, "0 -> 1", lambda: all(V2.exact_weights().values())),
    (V2.exact_weights, "constant", 5, "3 -> 4", lambda: all(V2.exact_weights().values())),
    (vh.head, "constant", 5, "2 -> 3", lambda: vh.check_trigger("sigmoid")["holds"]),
    (vh.head, "constant", 10, "2.0 -> 3.0", lambda: vh.check_trigger("sigmoid_bias")["holds"]),
]
"""Planted errors in the trigger statements: a bound's constant (sigmoid 4 -> 5, elu + 1 2 -> 3, the extra
column's 3 -> 4), a leak remainder's dropped term, softpick's zero score on BOS made 1, sigmoid's knob,
the sigmoid heads' value scale."""


def test_the_leak_bounds_and_the_exact_trigger_weights_hold_exactly():
    assert all(V2.leak_bounds().values()) and all(V2.exact_weights(T_max=10).values())


@pytest.mark.parametrize("name", [n for n in BUILTIN if V.TRIGGER_WITHOUT_SINK[n] == "no"])
def test_the_necessity_argument_applies_to_every_operation_that_needs_a_sink(name):
    assert all(V2.necessity_applies(name).values()) and name in vh.NEED_SINK


def test_the_necessity_argument_does_not_apply_to_an_unnormalised_operation():
    assert not V2.necessity_applies("sigmoid")["normalised"]


@pytest.mark.parametrize("name", vh.NEED_SINK)
def test_a_sink_head_of_each_operation_that_needs_a_sink_keeps_content_mass_below_f_eps_on_its_real_weights(name):
    ev = vh.check_necessity(name, T=6, p=2, R=1.0, seed=0)
    assert ev["holds"], ev
    assert ev["rows"][-1]["eps"] < 0.01 and ev["rows"][-1]["sink_mass"] > 0.99


def test_the_sigmoid_sum_sink_heads_content_mass_meets_f_eps_at_knobs_4_and_8():
    # L = 4: m = 0.0990 <= f(eps) = 0.1099; L = 8: 0.00201 <= 0.00201 (R = 1, beta = 0)
    rows = {r["L"]: r for r in vh.check_necessity("sigmoid_sum")["rows"]}
    assert rows[4.0]["content_mass"] == pytest.approx(0.0990, abs=1e-4)
    assert rows[4.0]["f_eps"] == pytest.approx(0.1099, abs=1e-4)
    assert rows[8.0]["content_mass"] == pytest.approx(0.00201, abs=1e-5)
    assert rows[8.0]["f_eps"] == pytest.approx(0.00201, abs=1e-5)
    assert all(r["content_mass"] <= r["f_eps"] for r in rows.values())
    assert rows[8.0]["f_eps"] == pytest.approx(th.f_bound(rows[8.0]["eps"], 1.0), rel=1e-15)


def test_a_sink_head_that_loses_its_sink_misses_the_task_as_the_necessity_argument_says():
    # the content queries' sink score L made -L: content mass 1/2 or more, error >= R/2 on the probes
    batch = equal_content_batch(np.array([0.0, 1.0]), 6, positional=False)
    O, A, _ = vh.sink_forward("softmax", batch, 0.0)
    assert tw.sup_error(batch, O) >= 0.5


@pytest.mark.parametrize("call,param", [(lambda: V.off_rate("nope", 2, 1.0), "name"),
                                        (lambda: V.off_rate("sigmoid", 0, 1.0), "n"),
                                        (lambda: V.off_rate("sigmoid", 2, -1.0), "delta"),
                                        (lambda: V.check_statement("relu", rows=0), "rows"),
                                        (lambda: vh.head("softmax", 2, 4, 1.0), "name"),
                                        (lambda: vh.head("relu", 2, 4, -1.0), "L"),
                                        (lambda: vh.check_necessity("relu"), "name"),
                                        (lambda: vh.sink_forward("softmax", None, -1.0), "L")])
def test_bad_arguments_raise_naming_the_parameter(call, param):
    with pytest.raises(InvalidInputError, match=rf"^{param}:"):
        call()
