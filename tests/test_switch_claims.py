"""Claims of theory/switch.py that no earlier test stated (found by mutation testing, docs/mutation.md):
the refusals of the softmax-gap formula of Theorem S4, each naming its parameter and rule."""

from __future__ import annotations

import math

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
