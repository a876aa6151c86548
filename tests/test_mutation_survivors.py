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


# ---- smoothing model: validation tolerances, stored matrices, sampling ------------------------------


def test_psd_check_tolerates_asymmetry_and_negative_eigenvalues_up_to_1e_10_relative_and_no_more():
    """The stated tolerance: |M - M^T| <= 1e-10 max(1, max|M|) and lambda_min >= -1e-10 max(1, max|M|)."""
    assert sm.psd_matrix("B", [[1.0, 1e-10], [0.0, 1.0]]) is not None
    assert sm.psd_matrix("B", np.diag([1.0, -1e-10])) is not None
    big = 1e6 * np.eye(2)
    assert sm.psd_matrix("B", big + np.array([[0.0, 1e-5], [0.0, -1e-5]])) is not None


@pytest.mark.parametrize("M, rule", [([[0.5, 1.5e-10], [0.0, 0.5]], "symmetric"),
                                     (np.diag([1.0, -1.4e-10]), "positive semidefinite"),
                                     (np.ones((2, 3)), "square"), (np.ones(3), "a 2-d array")])
def test_psd_check_rejects_just_beyond_the_tolerance_naming_the_matrix(M, rule):
    with pytest.raises(InvalidInputError, match=rf"^B: must be {rule}"):
        sm.psd_matrix("B", M)


def test_a_model_stores_its_validated_matrices_unchanged():
    B, Sx = np.array([[2.0, 0.5], [0.5, 1.0]]), 3 * np.eye(2)
    model = sm.make_model(B, np.eye(2), 0.5, Sx, 3)
    assert np.array_equal(model.B, B) and np.array_equal(model.Sigma_x, Sx)


@pytest.mark.parametrize("kwargs, message", [
    (dict(beta=[1.0, 2.0]), r"^beta: must be a 0-d"),
    (dict(Sigma_x=-np.eye(2)), r"^Sigma_x: must be positive semidefinite"),
    (dict(Sigma_x=np.eye(3)), r"^Sigma_x: must have shape \(2, 2\)"),
    (dict(mu_x=np.ones((2, 1))), r"^mu_x: must be a 1-d"),
    (dict(mu_z=np.ones(3)), r"^mu_z: must have shape \(2,\)"),
    (dict(mu_z=np.ones((2, 1))), r"^mu_z: must be a 1-d"),
    (dict(Sigma_x=0.5 * np.eye(2), beta=1.0), r"^Sigma_x - beta\^2 B \(joint covariance of \(x, z\)\): must be positive"),
])
def test_model_arguments_are_rejected_with_the_parameter_and_rule(kwargs, message):
    args = dict(B=np.eye(2), W=np.eye(2), beta=1.0, Sigma_x=2 * np.eye(2), k=3) | kwargs
    with pytest.raises(InvalidInputError, match=message):
        sm.make_model(**args)


@pytest.mark.parametrize("call", [lambda m: sm.path_attention(3, 1.5), lambda m: sm.exact_moments_path(m, [0.5, 1.5])])
def test_lam_just_above_one_is_rejected(call):
    with pytest.raises(InvalidInputError, match=r"^lam: must lie in \[0.0, 1.0\]"):
        call(_model())


def _model():
    return sm.make_model(np.eye(2), np.eye(2), 1.0, 2 * np.eye(2), 3)


@pytest.mark.parametrize("rank", [0, 1, 3])
def test_sampled_B_has_the_requested_rank(rank):
    model = sm.sample_model(np.random.default_rng(rank), 3, 2, rank=rank)
    assert np.linalg.matrix_rank(model.B, tol=1e-9) == rank


def test_sampled_W_has_entries_of_size_one_over_sqrt_d_by_default():
    # sample_model's docstring: W has entries of size W_scale / sqrt(d), W_scale = 1 by default;
    # 40,000 standard normal entries give the scale to within about 1%
    d = 200
    W = sm.sample_model(np.random.default_rng(0), d, 2).W
    assert abs(W.std() * math.sqrt(d) - 1.0) < 0.02
    W3 = sm.sample_model(np.random.default_rng(0), d, 2, W_scale=3.0).W
    assert abs(W3.std() * math.sqrt(d) - 3.0) < 0.06


def test_sampled_means_are_independent_and_scale_with_mean_scale():
    a = sm.sample_model(np.random.default_rng(0), 3, 2, mean_scale=1.0)
    z = sm.sample_model(np.random.default_rng(0), 3, 2, mean_scale=0.0, W_scale=0.0)
    assert np.abs(a.mu_x).min() > 0 and np.abs(a.mu_z).min() > 0 and not np.allclose(a.mu_x, a.mu_z)
    assert not z.mu_x.any() and not z.mu_z.any() and not z.W.any()


def test_sampled_tokens_have_the_model_means():
    """Sample mean of n = 20000 draws within 5 standard errors (sd <= sqrt(max diag Cov)) of (mu_x, mu_z)."""
    model = sm.sample_model(np.random.default_rng(3), 2, 2, mean_scale=2.0)
    X, Z = sm.sample_tokens(model, np.random.default_rng(0), 20000)
    se = np.sqrt(np.diag(model.joint_covariance()).max() / (20000 * model.k))
    assert np.abs(X.mean(axis=(0, 1)) - model.mu_x).max() < 5 * se
    assert np.abs(Z.mean(axis=(0, 1)) - model.mu_z).max() < 5 * se


def test_a_rank_deficient_joint_covariance_is_sampled_without_nan():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((3, 1))
    B = G @ G.T
    model = sm.make_model(B, np.eye(3), 0.7, 0.49 * B, 2)  # Sigma_x = beta^2 B: joint covariance singular
    X, Z = sm.sample_tokens(model, np.random.default_rng(1), 50)
    assert np.isfinite(X).all() and np.isfinite(Z).all()


def test_the_exact_classification_check_covers_both_boundaries_and_all_four_behaviours():
    out = th.check_monotonicity_exactly()
    assert {truth for truth, _ in out.values()} == set(th.MONOTONICITY)
    assert out[(0, 1)][0] == "strictly decreasing" and out[(-1, 1)][0] == "strictly increasing"


def test_check_brute_force_expands_the_requested_k_and_d(monkeypatch):
    seen, real = [], th.brute_force_moments
    monkeypatch.setattr(th, "brute_force_moments", lambda k_value, d: seen.append((k_value, d)) or real(k_value, d))
    th.check_brute_force(3, 2)
    assert seen == [(3, 2)]


def test_psd_check_scales_the_eigenvalue_tolerance_with_the_largest_entry():
    assert sm.psd_matrix("B", np.diag([1e6, -1e-5])) is not None  # -1e-5 >= -1e-10 * 1e6


def test_asymmetry_message_reports_the_asymmetry():
    with pytest.raises(InvalidInputError, match=r"got asymmetry 1.5e-10"):
        sm.psd_matrix("B", [[0.5, 1.5e-10], [0.0, 0.5]])


def test_the_cosine_ratio_is_defined_whenever_Den_is_positive_even_below_one():
    model = sm.make_model(0.01 * np.eye(2), np.eye(2), 0.5, 0.02 * np.eye(2), 3)
    c = sm.closed_form(model, 0.5)
    assert 0 < c["Den"] < 1 and c["R"] == pytest.approx(c["N"] / c["Den"])
