"""docs/smoothing.md: the symbolic derivation of D_k(lambda) and the cosine statement."""

import pytest
import sympy as sp

from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import smoothing as th


def test_path_matrix_is_doubly_stochastic_so_token_means_cancel():
    assert all(th.check_centering_step().values())
    assert all(th.check_mean_free_coefficients().values())


def test_cross_and_square_terms_are_the_traces_in_explicit_entries():
    assert all(th.check_trace_identities(d=3).values())


def test_coefficient_derivation_gives_the_closed_forms_for_symbolic_k():
    assert all(th.check_closed_forms().values())


@pytest.mark.parametrize("k_value", [2, 3, 4])
def test_brute_force_expectation_equals_closed_forms_in_all_entries(k_value):
    assert all(th.check_brute_force(k_value, d=2).values())


def test_a_planted_missing_factor_one_minus_one_over_k_is_caught_by_the_brute_force():
    m = th.brute_force_moments(3, 2)
    planted = sp.expand(m["D_closed"] / (1 - sp.Rational(1, 3)))  # the spec's formula without (1 - 1/k)
    assert sp.expand(m["D"] - planted) != 0


def test_a_planted_flipped_cross_term_is_caught_by_the_brute_force():
    m = th.brute_force_moments(2, 2)
    beta = sp.Symbol("beta", real=True)
    planted = m["D_closed"].subs(beta, -beta)  # D with -2 (1 - lam) p instead of +
    assert sp.expand(m["D"] - planted) != 0


def test_derivatives_at_0_and_1_match_the_seed_and_D_is_convex():
    out = th.check_derivatives()
    assert out["D_prime_at_1"] and out["D_prime_at_0"] and out["D_second"]
    assert out["D_prime_affine"] and out["stationary_point"] and out["endpoint_difference"]


def test_a_planted_sign_error_in_the_seed_derivative_is_caught():
    D = th.D_closed(th.k, th.lam, th.p, th.q, th.tSx)
    planted = 2 * th.p * (1 - 1 / th.k)  # D'(1) with the sign flipped
    assert sp.simplify(sp.diff(D, th.lam).subs(th.lam, 1) - planted) != 0


def test_monotonicity_classification_agrees_with_solveset_including_boundaries():
    out = th.check_monotonicity_exactly()
    assert all(ok for _, ok in out.values())
    assert out[(sp.Integer(0), sp.Integer(1))][0] == "strictly decreasing"


def test_boundary_p_zero_strictly_decreases_although_the_paper_condition_fails():
    """FINDING: the paper's 'strictly decreases iff beta tr(BW) > 0' fails at p = 0 < q: there
    D' = -2 (1 - 1/k) (1 - lam) q < 0 on [0, 1) and D strictly decreases."""
    assert th.monotonicity(0.0, 1.0) == "strictly decreasing"
    assert th.paper_condition(0.0, 1.0) == "neither"


def test_boundary_p_plus_q_zero_strictly_increases_although_the_paper_condition_fails():
    assert th.monotonicity(-1.0, 1.0) == "strictly increasing"
    assert th.paper_condition(-1.0, 1.0) == "neither"


def test_a_planted_seed_iff_classification_is_refuted_by_solveset():
    """Reading the paper's strict conditions as the exact classification disagrees with solveset."""
    def planted(pv, qv):
        return {"dense smooths": "strictly decreasing", "dense sharpens": "strictly increasing"}.get(
            th.paper_condition(pv, qv), "decreasing then increasing")
    exact = th.check_monotonicity_exactly()
    assert any(planted(pv, qv) != truth for (pv, qv), (truth, _) in exact.items() if qv > 0)


def test_cosine_ratio_moves_against_D_whenever_S_is_positive():
    assert all(th.check_cosine_identities().values())


def test_a_planted_wrong_constant_in_the_cosine_identity_is_caught():
    D, N = th.D_closed(th.k, th.lam, th.p, th.q, th.tSx), th.N_closed(th.k, th.lam, th.p, th.q, th.mm)
    S = th.S_closed(th.k, th.p, th.q, th.tSx, th.mm)
    assert sp.simplify(N + D / th.k - S) != 0  # 1/k instead of 1/(k - 1)


@pytest.mark.parametrize("p_value, q_value, param", [(0.0, -1.0, "q_value"), (1.0, 0.0, "p_value")])
def test_monotonicity_rejects_values_no_valid_model_has(p_value, q_value, param):
    with pytest.raises(InvalidInputError, match=f"^{param}:"):
        th.monotonicity(p_value, q_value)


# ---- claims found by mutation testing ----------------------------------------------------------
STEP_NAMES = {
    "centering": {"column_sum_is_1", "coefficient_l_eq_i", "coefficient_l_ne_i"},
    "mean_free": {"x_coefficients_of_Y_minus_Ybar_sum_to_0", "z_coefficients_of_Y_minus_Ybar_sum_to_0",
                  "z_coefficients_of_Y_sum_to_1"},
    "traces": {"cross_term_is_beta_trBW", "square_term_is_trBWtW", "trBWtW_is_sum_of_squares"},
    "closed_forms": {"D", "N", "Den", "S"},
    "brute_force": {"D", "N", "Den"},
    "derivatives": {"D_prime_at_1", "D_prime_at_0", "D_second", "D_prime_affine", "stationary_point",
                    "endpoint_difference"},
    "cosine": {"S_free_of_lam", "S_is_N_plus_D_over_k_minus_1", "Den_minus_N", "R_in_terms_of_D", "R_prime",
               "N_prime_is_minus_D_prime_over_k_minus_1", "Den_prime_is_D_prime"},
}


CHECKS = {"centering": lambda: th.check_centering_step(), "mean_free": lambda: th.check_mean_free_coefficients(),
          "traces": lambda: th.check_trace_identities(d=2), "closed_forms": lambda: th.check_closed_forms(),
          "brute_force": lambda: th.check_brute_force(2, 2), "derivatives": lambda: th.check_derivatives(),
          "cosine": lambda: th.check_cosine_identities()}


@pytest.mark.parametrize("group", sorted(CHECKS))
def test_each_step_check_names_its_steps_as_the_report_does_and_each_holds(group):
    out = CHECKS[group]()
    assert set(out) == STEP_NAMES[group] and all(out.values())


def test_run_all_reports_every_group_and_passes_k_and_d_to_the_brute_force(monkeypatch):
    seen = []
    for name in ("check_centering_step", "check_mean_free_coefficients", "check_trace_identities",
                 "check_closed_forms", "check_derivatives", "check_cosine_identities"):
        monkeypatch.setattr(th, name, lambda: {"stub": True})
    monkeypatch.setattr(th, "check_brute_force", lambda k_value, d: seen.append((k_value, d)) or {"stub": True})
    monkeypatch.setattr(th, "check_monotonicity_exactly", lambda: {(0, 1): ("strictly decreasing", True)})
    out = th.run_all(k_value=4, d=3)
    assert set(out) == set(STEP_NAMES) | {"monotonicity"} and seen == [(4, 3)]
    assert out["monotonicity"] == {"p=0,q=1": True}


def test_the_exact_classification_check_covers_both_boundaries_and_all_four_behaviours():
    out = th.check_monotonicity_exactly()
    assert {truth for truth, _ in out.values()} == set(th.MONOTONICITY)
    assert out[(0, 1)][0] == "strictly decreasing" and out[(-1, 1)][0] == "strictly increasing"


def test_check_brute_force_expands_the_requested_k_and_d(monkeypatch):
    seen, real = [], th.brute_force_moments
    monkeypatch.setattr(th, "brute_force_moments", lambda k_value, d: seen.append((k_value, d)) or real(k_value, d))
    th.check_brute_force(3, 2)
    assert seen == [(3, 2)]
