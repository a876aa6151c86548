"""Symbolic steps and closed forms of the trigger-task theorems (sinkcheck.theory.trigger)."""

import math

import numpy as np
import pytest

from sinkcheck.construct import trigger_weights as tw
from sinkcheck.construct.trigger_task import equal_content_batch
from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import trigger as th


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
