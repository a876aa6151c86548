"""Claims added to kill the mutants that survived the first mutmut run (docs/mutation.md).

Each test states a claim of the theorem encodings that the earlier tests left unchecked: the names
of the checked proof steps (they appear in certificates), determinism in the seed, the exact
variance behind the Monte Carlo interval, and the error message of each rule.
"""

import math

import numpy as np
import pytest

from sinkcheck.construct import smoothing_model as sm
from sinkcheck.construct.factors import qk_cost
from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import cost
from sinkcheck.theory import smoothing as th

# ---- cost identity (theory/cost.py, construct/factors.py) ----------------------------------------


def test_exact_balanced_factorisation_reports_a_cost_of_twice_its_nuclear_norm():
    out = cost.check_balanced_factorisation(3, 4, seed=0)
    assert out["cost"] == 2 * out["nuclear"] and out["nuclear"] > 0


def test_exact_instances_are_determined_by_their_seed():
    assert cost.rational_orthogonal(4, seed=5) == cost.rational_orthogonal(4, seed=5)
    assert cost.check_balanced_factorisation(3, 4, seed=2)["cost"] == cost.check_balanced_factorisation(3, 4, seed=2)["cost"]


def test_qk_cost_rejects_a_one_dimensional_W_K_even_when_its_length_matches():
    with pytest.raises(InvalidInputError, match=r"^W_K: must be a 2-d array"):
        qk_cost(np.ones((2, 3)), np.ones(2))


def test_qk_cost_row_mismatch_message_states_the_number_of_rows_of_W_Q():
    with pytest.raises(InvalidInputError, match=r"^W_K: must have as many rows as W_Q \(2\) \(got shape \(3, 3\)\)"):
        qk_cost(np.ones((2, 5)), np.ones((3, 3)))


# ---- smoothing theory: the names of the checked steps (certificates list them) ------------------

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


@pytest.fixture(scope="module")
def all_steps():
    return th.run_all()


def test_run_all_reports_every_named_proof_step_and_each_holds(all_steps):
    assert set(all_steps) == set(STEP_NAMES) | {"monotonicity"}
    assert all(set(all_steps[g]) == names for g, names in STEP_NAMES.items())
    assert all(all(v.values()) for v in all_steps.values())


@pytest.mark.parametrize("fn, group", [(th.check_centering_step, "centering"),
                                       (th.check_mean_free_coefficients, "mean_free"),
                                       (th.check_closed_forms, "closed_forms")])
def test_each_step_check_names_its_steps_as_the_report_does(fn, group):
    assert set(fn()) == STEP_NAMES[group]


def test_run_all_checks_the_brute_force_at_the_requested_k_and_d(monkeypatch):
    seen = []
    real = th.brute_force_moments
    monkeypatch.setattr(th, "brute_force_moments", lambda k_value, d: seen.append((k_value, d)) or real(k_value, d))
    th.check_brute_force(2, 2)
    assert seen == [(2, 2)]


# ---- smoothing model: Monte Carlo interval ---------------------------------------------------------


def _sample_sd_rel_tolerance(n: int) -> float:
    """5 standard errors of a sample sd: se(s)/sd ~ sqrt((kappa - 1) / (4 n)); kappa <= 15 (chi^2_1 kurtosis
    bounds that of any Gaussian quadratic form), so 5 sqrt(14 / (4 n))."""
    return 5 * math.sqrt(14 / (4 * n))


@pytest.mark.parametrize("mean_scale, W_scale", [(0.0, 0.05), (3.0, 1.0)])
def test_exact_sd_of_the_statistic_matches_its_sample_sd(mean_scale, W_scale):
    """Var(v^T M v) = 2 tr((M S)^2) + 4 mu^T M S M mu, checked against the sample sd, at small scale (sd < 1)
    and with large means.  (The mean term is 0: M mu = 0 because the centred statistic does not see a
    mean shared by the tokens, as in the theorem, so only the trace term is tested.)"""
    rng = np.random.default_rng(7)
    model = sm.sample_model(rng, 2, 3, mean_scale=mean_scale, W_scale=W_scale)
    if mean_scale == 0.0:
        model = sm.make_model(model.B * 0.01, model.W, model.beta, model.Sigma_x * 0.01, model.k)
    n = 20000
    mc = sm.monte_carlo_D(model, 0.3, n=n, seed=1)
    assert mc.sample_sd == pytest.approx(mc.exact_sd, rel=_sample_sd_rel_tolerance(n))


def test_default_monte_carlo_interval_is_the_one_percent_chebyshev_interval():
    model = sm.sample_model(np.random.default_rng(0), 2, 3)
    mc = sm.monte_carlo_D(model, 0.5, n=10, seed=0)
    assert mc.z == 10.0 and mc.chebyshev_failure == pytest.approx(0.01, rel=1e-12)
    assert mc.n == 10 and mc.half_width == pytest.approx(10.0 * mc.exact_sd / math.sqrt(10), rel=1e-12)


def test_failure_probabilities_are_chebyshev_capped_at_one_and_the_two_sided_normal_tail():
    model = sm.sample_model(np.random.default_rng(0), 2, 3)
    assert sm.monte_carlo_D(model, 0.5, n=10, seed=0, z=0.5).chebyshev_failure == 1.0
    mc = sm.monte_carlo_D(model, 0.5, n=10, seed=0, z=1.959963984540054)
    assert mc.normal_failure == pytest.approx(0.05, rel=1e-9) and mc.chebyshev_failure == pytest.approx(1 / mc.z**2)


def test_monte_carlo_works_with_the_minimum_two_sequences_and_is_seeded():
    model = sm.sample_model(np.random.default_rng(0), 2, 3)
    a, b = sm.monte_carlo_D(model, 0.5, n=2, seed=3), sm.monte_carlo_D(model, 0.5, n=2, seed=3)
    assert math.isfinite(a.sample_sd) and a == b


def test_monte_carlo_interval_is_closed():
    mc = sm.MonteCarlo(0.0, 1.0, 1.0, 1.0, 10, 10.0, 0.01, 0.0)
    assert mc.contains(1.0) and mc.contains(-1.0) and not mc.contains(1.0 + 1e-12)


@pytest.mark.parametrize("lam", [-0.1, 1.5])
def test_monte_carlo_rejects_lam_outside_the_unit_interval(lam):
    model = sm.sample_model(np.random.default_rng(0), 2, 3)
    with pytest.raises(InvalidInputError, match=r"^lam: must lie in \[0.0, 1.0\]"):
        sm.monte_carlo_D(model, lam, n=10, seed=0)
