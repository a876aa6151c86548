"""Planted errors in the theorem encodings are caught by the claim tests (fast CI subset of the mutation run, docs/testing.md).

Each target plants one error (wrong constant, flipped inequality, dropped term, sign swap) in one
function of sinkcheck/theory or sinkcheck/construct, in memory, and runs the named claim test: it
must pass on the real code and fail with the error planted.  A target whose module does not exist
(on a branch without that theorem) is skipped with the reason; add a line here for each new theorem.
"""

import importlib.util

import pytest

from sinkcheck.errors import InvalidInputError
from sinkcheck.construct.sinkdiag.instance import sample_instance
from sinkcheck.planted import plant, plant_source, planted
from tests import (test_cost_identity, test_min_cost_certificate, test_sink_geometry, test_sinkdiag_bounds,
                   test_sink_metric, test_sinkdiag_construct, test_smoothing_model, test_smoothing_theory, test_switch,
                   test_switch_heads, test_trigger_counterexamples, test_trigger_theory, test_variants_theory)

pytestmark = pytest.mark.mutation

SOLVER_INST = sample_instance(14, 3, [2, 3, 2], 2, 1.3, 1.0, seed=5)
"""The instance of tests/test_min_cost_certificate.py (its module fixture), for the solver targets."""

# (module, function, operator, index, claim test "tests.module:test_name", params of the test)
TARGETS = [
    ("sinkcheck.theory.cost", "check_amgm_step", "constant", 1, test_cost_identity.test_amgm_step_holds_exactly, {}),
    ("sinkcheck.construct.factors", "qk_cost", "sign", 0,
     test_cost_identity.test_balanced_factors_cost_exactly_twice_the_nuclear_norm, {}),
    ("sinkcheck.construct.factors", "qk_cost", "compare", 0,
     test_cost_identity.test_qk_cost_row_mismatch_message_states_the_number_of_rows_of_W_Q, {}),
    ("sinkcheck.construct.factors", "balanced_factors", "compare", 0,
     test_cost_identity.test_balanced_factors_have_exactly_rank_W_rows, {}),
    ("sinkcheck.theory.smoothing", "D_closed", "constant", 0,
     test_smoothing_theory.test_coefficient_derivation_gives_the_closed_forms_for_symbolic_k, {}),
    ("sinkcheck.theory.smoothing", "D_closed", "sign", 2,
     test_smoothing_theory.test_brute_force_expectation_equals_closed_forms_in_all_entries, {"k_value": 2}),
    ("sinkcheck.theory.smoothing", "N_closed", "drop_term", 0,
     test_smoothing_theory.test_brute_force_expectation_equals_closed_forms_in_all_entries, {"k_value": 3}),
    ("sinkcheck.theory.smoothing", "Den_closed", "constant", 3,
     test_smoothing_theory.test_coefficient_derivation_gives_the_closed_forms_for_symbolic_k, {}),
    ("sinkcheck.theory.smoothing", "S_closed", "drop_term", 0,
     test_smoothing_theory.test_coefficient_derivation_gives_the_closed_forms_for_symbolic_k, {}),
    ("sinkcheck.theory.smoothing", "monotonicity", "compare", 3,
     test_smoothing_theory.test_monotonicity_classification_agrees_with_solveset_including_boundaries, {}),
    ("sinkcheck.theory.smoothing", "monotonicity", "compare", 4,
     test_smoothing_theory.test_boundary_p_plus_q_zero_strictly_increases_although_the_paper_condition_fails, {}),
    ("sinkcheck.construct.smoothing_model", "path_attention", "constant", 3,
     test_smoothing_model.test_closed_forms_equal_exact_expectations_over_a_moment_matched_distribution, {}),
    ("sinkcheck.construct.smoothing_model", "monte_carlo_D", "constant", 7,
     test_smoothing_model.test_exact_sd_of_the_statistic_matches_its_sample_sd,
     {"mean_scale": 0.0, "W_scale": 0.05}),
    ("sinkcheck.construct.smoothing_model", "psd_matrix", "compare", 2,
     test_smoothing_model.test_invalid_models_are_rejected_naming_the_parameter, None),
    ("sinkcheck.theory.switch", "forward_bound", "constant", 0,
     test_switch.test_forward_bound_is_attained_when_free_values_align_with_the_fixed_value, {}),
    ("sinkcheck.theory.switch", "mass_deficit_bound", "constant", 0,
     test_switch.test_tokens_bound_is_the_supremum_of_the_tight_heads_deficit, {}),
    ("sinkcheck.theory.switch", "mass_deficit_bound", "sign", 0,
     test_switch.test_tokens_bound_is_the_supremum_of_the_tight_heads_deficit, {}),
    ("sinkcheck.theory.switch", "check_sign_flip_identities", "constant", 10,  # o_+ - o_- = 3 R a_F u
     test_switch.test_symbolic_steps_of_the_converse_hold_exactly, {}),
    ("sinkcheck.theory.switch", "check_tokens_tightness", "constant", 2,  # limit 3 eps / (R + eps)
     test_switch.test_symbolic_steps_of_the_converse_hold_exactly, {}),
    ("sinkcheck.theory.switch", "check_tokens_bound_step", "constant", 3,  # g = 3 eps / (R + eps)
     test_switch.test_symbolic_steps_of_the_converse_hold_exactly, {}),
    ("sinkcheck.theory.switch", "check_softmax_gap", "compare", 0,  # the S4 deficit identity negated
     test_switch.test_symbolic_steps_of_the_converse_hold_exactly, {}),
    ("sinkcheck.construct.sinkdiag.weights", "sink_knobs", "constant", 0,
     test_sinkdiag_construct.test_sink_construction_meets_every_margin, {"lam": 4.0, "fallback": True}),
    ("sinkcheck.construct.sinkdiag.weights", "sink_knobs", "drop_term", 0,
     test_sinkdiag_construct.test_sink_construction_meets_every_margin, {"lam": 1.0, "fallback": True}),
    ("sinkcheck.construct.sinkdiag.weights", "sink_knobs", "sign", 0,
     test_sinkdiag_construct.test_sink_construction_meets_every_margin, {"lam": 0.3, "fallback": False}),
    ("sinkcheck.theory.sinkdiag_bounds", "check_sink_nuclear_norm", "constant", 10,  # 2 C a^2 -> 3 C a^2 in the spectrum
     test_sinkdiag_bounds.test_sink_nuclear_norm_closed_form_is_exact, {}),
    ("sinkcheck.theory.sinkdiag_bounds", "check_sink_upper_for_lam_at_least_one", "constant", 10,  # 12 -> 13 in a step
     test_sinkdiag_bounds.test_sink_construction_meets_U_sink_for_lam_at_least_one_exactly, {}),
    ("sinkcheck.theory.trigger", "sink_logit_gap_bound", "constant", 1,  # i (1 - f)/f -> i (2 - f)/f
     test_trigger_theory.test_theorem_3_converse_bound_by_hand_with_and_without_beta, {}),
    ("sinkcheck.theory.trigger", "check_sink_logit_algebra", "constant", 2,  # e^L = e^target checked as == 1
     test_trigger_theory.test_theorem_3_sink_logit_steps_all_hold_exactly, {}),
    ("sinkcheck.theory.trigger", "f_bound", "sign", 0,
     test_trigger_theory.test_f_with_a_content_free_leak_beta_is_eps_plus_beta_over_r_minus_eps_minus_beta, {}),
    ("sinkcheck.theory.trigger", "f_bound", "drop_term", 0,
     test_trigger_theory.test_f_with_a_content_free_leak_beta_is_eps_plus_beta_over_r_minus_eps_minus_beta, {}),
    # the solver's certificate: key differences z_t + z_y, and a dual bound forced to 0
    ("sinkcheck.solvers.certify", "certify", "sign", 0,
     test_min_cost_certificate.test_certificate_rescales_a_solution_onto_the_constraints, {"inst": SOLVER_INST}),
    ("sinkcheck.solvers.certify", "dual_lower", "compare", 0,
     test_min_cost_certificate.test_reported_bracket_contains_OPT_and_its_W_meets_every_margin,
     {"inst": SOLVER_INST, "pattern": "sink"}),
    # the constraint rows (the feasibility LP's and the solver's) on the wrong key differences z_t + z_y:
    # coinciding group mates no longer make the diagonal program infeasible
    ("sinkcheck.solvers.program", "constraint_matrix", "sign", 0,
     test_min_cost_certificate.test_coinciding_group_mates_make_the_diag_program_infeasible_and_leave_the_sink_one_feasible,
     {}),
    # the counterexamples to the unrepaired trigger claims: the two-head bound's constant and the leak of the
    # value-offset bound (a dropped half of the two-point end of the interval for u)
    ("sinkcheck.construct.trigger_counterexamples", "two_head_error_bound", "constant", 0,  # 2 e^-M -> 3 e^-M
     test_trigger_counterexamples.test_the_two_head_error_bound_is_the_stated_formula, None),
    ("sinkcheck.construct.trigger_counterexamples", "value_offset_trigger_error", "drop_term", 0,
     test_trigger_counterexamples.test_the_value_offset_error_bound_is_attained_by_equal_and_two_point_contents,
     None),
    # the tight heads of Theorems S2 and S3: the existence condition flipped, the deficit's eps' dropped
    ("sinkcheck.construct.switch_heads", "tight_values_head", "compare", 0,
     test_switch_heads.test_the_tight_values_head_exists_exactly_when_n_times_R_minus_eps_exceeds_eps, None),
    ("sinkcheck.construct.switch_heads", "tight_tokens_head", "drop_term", 0,  # b_+ = (eps + eps')/(R + eps') -> eps/(R + eps')
     test_switch_heads.test_the_tight_tokens_head_exists_exactly_when_eps_prime_lt_eps_lt_R, None),
    # Theorem G's rank-one step: (q k^T)^T (q k^T) = |q|^2 k k^T with the sign of the subtracted term flipped
    ("sinkcheck.theory.sink_geometry", "check_rank_one_score", "sign", 1,
     test_sink_geometry.test_symbolic_steps_of_theorems_g_and_c_hold_exactly, {}),
    # Theorem C's cosine step: (1 - c)^2 <= 2 (1 - c) iff (1 - c)(1 + c) >= 0, with 1 + c -> 1 - c
    ("sinkcheck.theory.sink_geometry", "check_cosine_bounds", "sign", 9,
     test_sink_geometry.test_symbolic_steps_of_theorems_g_and_c_hold_exactly, {}),
    # Wolfe's minor cycle flipped: an affine point with a negative weight is accepted, one in the hull is not
    ("sinkcheck.construct.sink_hulls", "_min_norm_point", "compare", 1,
     test_sink_geometry.test_hull_distance_returns_the_projection_onto_the_hull, {}),
    # Section 7's fallback certificates: the diagonal dual's weight q = (1 - p) / C with 1 + p instead
    ("sinkcheck.theory.sinkdiag_bounds", "_fallback_matrices", "sign", 2,
     test_sinkdiag_bounds.test_the_fallback_certificates_and_ranges_hold_exactly, {}),
    # the diagonal program's infeasibility message: coinciding mates no longer recognised as coinciding
    ("sinkcheck.construct.sinkdiag.min_cost", "coinciding_mates", "compare", 1,
     test_min_cost_certificate.test_coinciding_group_mates_make_the_diag_program_infeasible_and_leave_the_sink_one_feasible, {}),
    # Theorem C's gamma_0 >= rho (1 - c): the slack sum mu_j (c - c_j) with c_j added instead of subtracted
    ("sinkcheck.theory.sink_geometry", "check_gamma_0_lower_bound", "sign", 6,
     test_sink_geometry.test_symbolic_steps_of_theorems_g_and_c_hold_exactly, {}),
    # Theorem C's causal lower bound with a flipped sign in a key distance
    ("sinkcheck.construct.sink_hulls", "cost_bounds", "sign", 1,
     test_sink_geometry.test_theorem_c_bounds_by_hand_with_the_default_kappa_1_and_causal_mask, {}),
    # the theory per operation (docs/variants_theory.md): a rate's constant, a dropped term of a leak remainder,
    # sigmoid's trigger knob -log(2t - 3) made -log(3t - 3)
    ("sinkcheck.theory.variants", "column_rate", "constant", 0,
     test_variants_theory.test_each_operations_off_switch_statement_holds_by_its_proof_steps_and_on_the_registrys_weights,
     {"name": "sink_logit"}),
    ("sinkcheck.theory.variants", "sigmoid_bias_rate", "drop_term", 0,
     test_variants_theory.test_sigmoid_with_bias_minus_log_n_is_off_at_rate_e_minus_delta_whatever_n, {}),
    ("sinkcheck.theory.variants_trigger", "leak_bounds", "drop_term", 13,
     test_variants_theory.test_the_leak_bounds_and_the_exact_trigger_weights_hold_exactly, {}),
    # the sharp trigger bounds: sigmoid's 4 R sigma(-L) made 5 R sigma(-L)
    ("sinkcheck.construct.variant_heads", "error_bound", "constant", 1,
     test_variants_theory.test_each_limit_heads_error_bound_is_sharp_error_over_bound_tends_to_1, {"name": "sigmoid"}),
    ("sinkcheck.construct.variant_heads", "head", "constant", 5,
     test_variants_theory.test_each_limit_head_has_positive_error_below_its_bound_and_the_bound_tends_to_0,
     {"name": "sigmoid"}),
    # Gu et al.'s metric (docs/empirical.md): the queries that see k, and the strict threshold
    ("sinkcheck.core.metrics", "importance", "sign", 0,
     test_sink_metric.test_importance_averages_column_k_over_the_queries_that_see_it, {}),
    ("sinkcheck.core.metrics", "sink_rates", "compare", 6,
     test_sink_metric.test_a_sink_needs_importance_strictly_above_eps, {}),
]


def _ids(t):
    return f"{t[0].rsplit('.', 1)[1]}.{t[1]}-{t[2]}{t[3]}"


def _run(fn, params):
    if params is None:  # a parametrized test: run every parameter set of its first parametrize mark
        mark = next(m for m in fn.pytestmark if m.name == "parametrize")
        names = [n.strip() for n in mark.args[0].split(",")] if isinstance(mark.args[0], str) else mark.args[0]
        for values in mark.args[1]:
            fn(**dict(zip(names, values if len(names) > 1 else [values])))
        return
    fn(**params)


@pytest.mark.parametrize("target", TARGETS, ids=_ids)
def test_a_planted_error_in_each_theorem_encoding_is_caught_by_its_claim_test(target):
    module, function, operator, index, ref, params = target
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist on this branch")
    claim = (ref)
    _run(claim, params)  # control: the claim holds for the real code
    with planted(module, function, operator, index) as change:
        with pytest.raises((Exception, pytest.fail.Exception)) as info:
            _run(claim, params)
    # a claim fails by an assertion or by the library's own error; a NameError etc. would mean a broken plant
    broken = (NameError, TypeError, AttributeError, SyntaxError, ImportError)
    assert not isinstance(info.value, broken), f"planted {change}: {info.value!r}"


def test_planted_source_names_the_changed_expression():
    from sinkcheck.theory import smoothing as th

    _, change = plant_source(th.D_closed, "constant", 0)
    assert change == "1 -> 2"


def my_bound(kappa, C, d):
    """A bound of a user's own, kappa C / sqrt(d) (docs/tutorial_own_bound.md plants an error in it)."""
    return kappa * C / d ** 0.5


@pytest.mark.parametrize("operator, index, planted_value", [("constant", 0, 2 / 8 ** 1.5), ("drop_term", 0, None)])
def test_plant_puts_the_error_in_a_function_of_ones_own_only_inside_the_block(operator, index, planted_value):
    if planted_value is None:
        with pytest.raises(InvalidInputError, match=r"^index: my_bound has 0 drop_term site\(s\) \(got 0\)$"):
            with plant(my_bound, operator, index):
                pass
        return
    with plant(my_bound, operator, index) as change:
        assert change == "0.5 -> 1.5" and my_bound(1.0, 2, 8) == pytest.approx(planted_value, rel=1e-15)
    assert my_bound(1.0, 2, 8) == 2 / 8 ** 0.5
