"""Claims of theory/switch.py that no earlier test stated (found by mutation testing, docs/mutation.md):
the refusals of the softmax-gap formula of Theorem S4, each naming its parameter and rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import switch


@pytest.mark.parametrize("R", [0.0, -1.0])
def test_softmax_gap_refuses_a_non_positive_value_norm_naming_R(R):
    with pytest.raises(InvalidInputError, match=r"^R: "):
        switch.softmax_gap_for_switch(0.1, R, 2)


def test_softmax_gap_refuses_no_free_position_naming_n():
    with pytest.raises(InvalidInputError, match=r"^n: "):
        switch.softmax_gap_for_switch(0.1, 1.0, 0)


def test_softmax_gap_refuses_eps_equal_to_R_where_no_finite_gap_exists():
    # Delta = log(n (R - eps) / eps) is -inf at eps = R: the switch needs eps < R
    with pytest.raises(InvalidInputError, match=r"^eps: must be < R = 2\.0 \(got 2\.0\)$"):
        switch.softmax_gap_for_switch(2.0, 2.0, 3)


def test_softmax_gap_is_log_of_n_times_R_minus_eps_over_eps():
    # by hand: n = 3, R = 1, eps = 1/4 gives Delta = log(3 * (3/4) / (1/4)) = log 9
    assert switch.softmax_gap_for_switch(0.25, 1.0, 3) == pytest.approx(math.log(9), rel=1e-15)


def test_the_symbolic_steps_of_S1_to_S4_have_their_report_names():
    assert set(switch.symbolic_steps()) == {"S1_attainment", "S2_sign_flip_identities", "S2_fixed_value_step",
                                            "S3_bound_step", "S3_tightness", "S4_softmax_gap"}


def test_the_value_model_bound_is_f_of_eps_equal_eps_over_R_and_the_token_model_g_is_2_eps_over_R_plus_eps():
    # Theorem S2: f(eps) = eps / R; Theorem S3: g(eps) = 2 eps / (R + eps) (by hand at eps = 0.3, R = 2)
    assert switch.mass_deficit_bound(0.3, 2.0, "values") == pytest.approx(0.15, rel=1e-15)
    assert switch.mass_deficit_bound(0.3, 2.0, "tokens") == pytest.approx(0.6 / 2.3, rel=1e-15)


@pytest.mark.parametrize("call,name", [
    (lambda: switch.mass_deficit_bound(-0.1, 1.0), "eps"),
    (lambda: switch.forward_bound(0.5, -1.0, 0.0), "R"),
    (lambda: switch.forward_bound(0.5, 1.0, -0.1), "vbar_norm"),
])
def test_a_negative_norm_or_tolerance_is_refused_naming_it(call, name):
    with pytest.raises(InvalidInputError, match=rf"^{name}: must be finite and >= 0"):
        call()


def test_fixed_part_refuses_weights_that_are_not_a_vector_and_values_that_are_not_a_matrix():
    with pytest.raises(InvalidInputError, match=r"^a: must be a 1-d array"):
        switch.fixed_part(np.full((2, 2), 0.25), np.ones((2, 3)), [0])
    with pytest.raises(InvalidInputError, match=r"^values: must be a 2-d array"):
        switch.fixed_part(np.array([0.5, 0.5]), np.ones(2), [0])


def test_fixed_part_with_no_mass_on_the_fixed_positions_has_a_zero_fixed_value():
    # a_P = 0: vbar_P is defined as 0 (no NaN), with the dimension p of the values
    a_P, vbar = switch.fixed_part(np.array([0.0, 1.0]), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), [0])
    assert a_P == 0.0 and vbar.shape == (3,) and not vbar.any()
