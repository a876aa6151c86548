"""Symbolic steps and closed forms of the trigger-task theorems (sinkcheck.theory.trigger)."""

import math

import numpy as np
import pytest

from sinkcheck.construct import trigger_weights as tw
from sinkcheck.construct.trigger_task import equal_content_batch
from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import trigger as th
from fractions import Fraction
from hypothesis import given, settings
from hypothesis import strategies as st
from sinkcheck.construct.trigger_task import CONTENT, layout
from sinkcheck.evaluate.trigger_necessity import probe
from tests.support.profiles import examples


@pytest.mark.parametrize("check", [th.check_necessity_algebra, th.check_tightness_algebra,
                                   th.check_multi_head_algebra, th.check_sink_logit_algebra,
                                   th.check_relu_exact, th.check_relu_needs_positions])
def test_every_symbolic_step_holds_exactly(check):
    out = check()
    assert out and all(out.values()), out


def test_f_is_eps_over_r_minus_eps_and_min_error_inverts_it():
    assert th.f_bound(0.1, 1.0) == pytest.approx(0.1 / 0.9, rel=1e-15)
    assert th.min_error(0.1 / 0.9, 1.0) == pytest.approx(0.1, rel=1e-14)


def test_f_is_vacuous_once_eps_plus_beta_reaches_r():
    assert th.f_bound(0.6, 1.0, beta=0.4) == math.inf


def test_sink_logit_closed_form_gives_measured_error_eps_on_the_probes():
    # the error is measured by running the head, not by the formula under test
    for T, eps in ((2, 0.1), (7, 0.01), (16, 0.001)):
        W, V = tw.softmax_sink_head(2, T, tw.sink_logit(T, 1.0, eps))
        probes = equal_content_batch(np.array([1.0, 0.0]), T, positional=False)
        assert tw.sup_error(probes, tw.head_forward(probes, W, V)[0]) == pytest.approx(eps, rel=1e-9)


def test_planted_sink_logit_without_the_log_T_term_misses_eps():
    T, eps = 16, 0.01
    W, V = tw.softmax_sink_head(2, T, math.log((1 - eps) / eps))  # dropped log T
    probes = equal_content_batch(np.array([1.0, 0.0]), T, positional=False)
    assert tw.sup_error(probes, tw.head_forward(probes, W, V)[0]) > 5 * eps


def test_relu_position_free_bounds_are_R_over_5_and_R_over_3():
    assert th.relu_no_position_error(3, 4, 1.0) == pytest.approx(0.2)
    assert th.relu_no_position_error(1, 1, 2.0) == pytest.approx(2 / 3)


@pytest.mark.parametrize("call, name", [
    (lambda: th.f_bound(0.0, 1.0), "eps"), (lambda: th.f_bound(-1.0, 1.0), "eps"),
    (lambda: th.f_bound(0.1, 0.0), "r"), (lambda: th.f_bound(0.1, 1.0, -0.1), "beta"),
    (lambda: th.min_error(1.5, 1.0), "m"), (lambda: th.check_relu_exact(1), "T_max"),
])
def test_invalid_theory_arguments_raise_naming_the_parameter(call, name):
    with pytest.raises(InvalidInputError, match=rf"^{name}:"):
        call()


def test_f_with_a_content_free_leak_beta_is_eps_plus_beta_over_r_minus_eps_minus_beta():
    """Theorem 1 with ||u|| <= beta: f = (eps + beta) / (r - eps - beta)."""
    assert th.f_bound(0.1, 1.0, beta=0.2) == pytest.approx(0.3 / 0.7, rel=1e-15)


# ---- further claims of Theorems 1-4 ------------------------------------------------------------------
# (Claims of theory/trigger.py that no earlier test stated (found by mutation testing, docs/testing.md):)

STEPS = {
    th.check_necessity_algebra: {"difference_identity", "min_error_inverts_f"},
    th.check_tightness_algebra: {"trigger_error_is_eps", "content_mass_formula", "mass_tends_to_f",
                                 "c_at_most_one_iff"},
    th.check_multi_head_algebra: {"mass_gap_identity", "weighted_mass_identity"},
    th.check_sink_logit_algebra: {"logit_solves_error_eq_eps", "trigger_error_below", "margin_odds"},
    th.check_relu_exact: {"knob_per_trigger_position", "mean_weights", "content_scores_nonpositive"},
    th.check_relu_needs_positions: {"eliminate_h", "symmetrise", "length_is_R_over_5", "plain_is_R_over_3",
                                    "preceding_is_0"},
}


@pytest.mark.parametrize("check", list(STEPS), ids=lambda c: c.__name__)
def test_each_symbolic_check_names_its_steps_as_the_certificates_do(check):
    assert set(check()) == STEPS[check]


def test_the_relu_construction_check_accepts_the_shortest_horizon_T_2():
    # T = 2: one trigger position, k_2 / n_2 = 1 / (2 - 1) = 1; the smallest valid T_max
    assert th.check_relu_exact(2) == {"knob_per_trigger_position": True, "mean_weights": True,
                                      "content_scores_nonpositive": True}


def test_the_relu_construction_check_reads_the_knobs_of_the_built_head():
    # the head's float weights are the exact knobs the check verifies
    for norm in ("none", "length"):
        k, B = tw.relu_exact_knobs(6, norm)
        W, _ = tw.relu_exact_head(2, 6, norm)
        lay = layout(2, 6, positional=True)
        assert [W[lay.p + 3 + t, lay.flag(CONTENT)] for t in range(2, 7)] == [float(k[t]) for t in range(2, 7)]
        assert W[lay.flag(CONTENT), lay.flag(CONTENT)] == -float(B)


def _knobs_with(change):
    """The real knobs with one planted error ``change(T, normalise, k, B) -> (k, B)``."""
    def knobs(T, normalise):
        k, B = tw.relu_exact_knobs(T, normalise)
        return change(T, normalise, dict(k), B)
    return knobs


# Each planted error in the construction's knobs breaks exactly one claimed step.
PLANTED_KNOBS = [
    # k_t = n_t / t: the trigger averages with weight 1/t instead of 1/(t - 1)
    ("mean_weights", lambda T, n, k, B: ({t: v * (t - 1) / t for t, v in k.items()}, B)),
    # the length normaliser taken as t (not t + 1 visible keys)
    ("mean_weights", lambda T, n, k, B: ({t: v * t / (t + 1) for t, v in k.items()} if n == "length" else k, B)),
    # the plain knobs halved (B too): every content score is still <= 0
    ("mean_weights", lambda T, n, k, B: ({t: v / 2 for t, v in k.items()}, B / 2) if n == "none" else (k, B)),
    # the plain normaliser taken as 2
    ("mean_weights", lambda T, n, k, B: ({t: 2 * v for t, v in k.items()} if n == "none" else k, 2 * B)),
    # an error only at the shortest horizon T = 2, or only at the longest checked T = 8
    ("mean_weights", lambda T, n, k, B: ({2: Fraction(3)}, Fraction(3)) if T == 2 else (k, B)),
    ("mean_weights", lambda T, n, k, B: ({**k, 8: k[8] / 2}, B) if T == 8 else (k, B)),
    # the content-content knob -B too weak: a content query at t = 2 scores k_2 - B > 0
    ("content_scores_nonpositive", lambda T, n, k, B: (k, min(k.values()) if T == 3 else B)),
    # no knob for the last trigger position, or a knob for a position past T
    ("knob_per_trigger_position", lambda T, n, k, B: ({t: v for t, v in k.items() if t < T} or k, B)
     if T == 5 else (k, B)),
    ("knob_per_trigger_position", lambda T, n, k, B: ({**k, T + 1: Fraction(1, T)}, B) if n == "none" else (k, B)),
]


def test_a_negative_content_knob_lets_a_content_query_at_position_1_through():
    # k_t <= B < 0: a content query at position 1 (no position knob) scores 0 - B > 0
    ok = th.check_relu_exact(3, knobs=lambda T, n: ({t: -Fraction(t) for t in range(2, T + 1)}, Fraction(-2)))
    assert ok["content_scores_nonpositive"] is False


@pytest.mark.parametrize("step,change", PLANTED_KNOBS)
def test_a_planted_error_in_the_relu_knobs_fails_the_construction_check(step, change):
    ok = th.check_relu_exact(8, knobs=_knobs_with(change))
    assert ok[step] is False
    assert all(v for s, v in ok.items() if s != step)


def test_min_error_subtracts_the_content_free_part_beta():
    # by hand: m = 1/3, r = 2, beta = 0.1 gives (1/3 * 2) / (4/3) - 0.1 = 0.4
    assert th.min_error(1 / 3, 2.0, beta=0.1) == pytest.approx(0.4, rel=1e-14)


@pytest.mark.parametrize("call,name,rule", [
    (lambda: th.min_error(0.5, 0.0), "r", "must be finite and > 0"),
    (lambda: th.min_error(0.5, 1.0, beta=-0.1), "beta", "must be finite and >= 0"),
    (lambda: th.relu_no_position_error(0.0, 1.0, 1.0), "n2", "must be finite and > 0"),
    (lambda: th.relu_no_position_error(1.0, -1.0, 1.0), "n3", "must be finite and > 0"),
    (lambda: th.relu_no_position_error(1.0, 1.0, 0.0), "R", "must be finite and > 0"),
])
def test_a_bad_argument_is_refused_naming_it_and_its_rule(call, name, rule):
    with pytest.raises(InvalidInputError, match=rf"^{name}: {rule}"):
        call()


def test_theorem_3_sink_logit_steps_all_hold_exactly():
    assert th.check_sink_logit_algebra() == {"logit_solves_error_eq_eps": True, "trigger_error_below": True,
                                             "margin_odds": True}


def test_theorem_3_converse_bound_by_hand_with_and_without_beta():
    # i = 2, R = 1, eps = 0.1: log(2 (1 - 0.2) / 0.1) = log 16 under (H); with beta = 0.05,
    # log(2 (1 - 0.2 - 0.1) / 0.15) = log(28/3); no constraint once eps + beta >= R/2
    assert th.sink_logit_gap_bound(2, 1.0, 0.1) == pytest.approx(math.log(16.0), rel=1e-14)
    assert th.sink_logit_gap_bound(2, 1.0, 0.1, 0.05) == pytest.approx(math.log(28 / 3), rel=1e-14)
    assert th.sink_logit_gap_bound(1, 1.0, 0.3, 0.2) == -math.inf


@settings(max_examples=examples(30))
@given(st.integers(2, 8), st.floats(0.0, 8.0), st.floats(0.0, 0.5))
def test_theorem_3_converse_holds_for_sink_heads_with_a_content_free_value_on_bos(T, L, b):
    # the sink head of logit L (content logits all 0, so ell_0 - ell_c = L) with BOS value b e_1,
    # which breaks V z = V_x x; its own eps and beta on the probes bound L from below at every i
    W, V = tw.softmax_sink_head(2, T, L)
    V[0, 2] = b  # column 2: the BOS flag
    pr = probe(np.array([1.0, 0.0]), T, [(W, V)], positional=False)
    assert all(L >= th.sink_logit_gap_bound(i, pr.r, pr.eps, pr.beta) - 1e-12 for i in range(1, T + 1))
