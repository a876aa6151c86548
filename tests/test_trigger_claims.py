"""Claims of theory/trigger.py that no earlier test stated (found by mutation testing, docs/mutation.md):
the names of the checked steps (they are the evidence keys of the trigger certificates), the smallest
horizon of the ReLU construction check, the contrapositive min_error with a content-free part, and the
refusals of min_error and relu_no_position_error."""

from __future__ import annotations

import pytest

from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import trigger as th

STEPS = {
    th.check_necessity_algebra: {"difference_identity", "min_error_inverts_f"},
    th.check_tightness_algebra: {"trigger_error_is_eps", "content_mass_formula", "mass_tends_to_f",
                                 "c_at_most_one_iff"},
    th.check_multi_head_algebra: {"mass_gap_identity", "weighted_mass_identity"},
    th.check_sink_logit_algebra: {"logit_solves_error_eq_eps", "trigger_error_below", "margin_odds"},
    th.check_relu_exact: {"mean_weights", "content_scores_nonpositive"},
    th.check_relu_needs_positions: {"eliminate_h", "symmetrise", "length_is_R_over_5", "plain_is_R_over_3"},
}


@pytest.mark.parametrize("check", list(STEPS), ids=lambda c: c.__name__)
def test_each_symbolic_check_names_its_steps_as_the_certificates_do(check):
    assert set(check()) == STEPS[check]


def test_the_relu_construction_check_accepts_the_shortest_horizon_T_2():
    # T = 2: one trigger position, k_2 / n_2 = 1 / (2 - 1) = 1; the smallest valid T_max
    assert th.check_relu_exact(2) == {"mean_weights": True, "content_scores_nonpositive": True}


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
