"""docs/smoothing.md numerically: closed forms vs. exact expectations, Monte Carlo, cosine direction."""

import numpy as np
import pytest
from hypothesis import assume, event, example, given, settings
from hypothesis import strategies as st

from sinkcheck.construct import smoothing_model as sm
from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import smoothing as th
from sinkcheck.strategies import generic_smoothing_models, smoothing_models
from tests.support.profiles import examples
import math

LAMS = np.linspace(0.0, 1.0, 6)


models = smoothing_models  # the package's strategies (sinkcheck.strategies)
generic_models = generic_smoothing_models


@given(models(), st.floats(0, 1))
def test_closed_forms_equal_exact_expectations_over_a_moment_matched_distribution(model, lam):
    c, e = sm.closed_form(model, lam), sm.exact_moments(model, lam)
    for key in ("D", "N", "Den"):
        assert c[key] == pytest.approx(e[key], rel=1e-9, abs=1e-9 * max(1.0, abs(e["Den"])))


def test_a_planted_spec_formula_without_the_finite_k_factor_disagrees_with_the_exact_expectation():
    model = sm.sample_model(np.random.default_rng(1), 3, 4)
    planted = th.D_closed(model.k, 0.3, model.p, model.q, model.trSx) / (1 - 1 / model.k)
    assert abs(planted - sm.exact_moments(model, 0.3)["D"]) > 0.1


@settings(max_examples=examples(15))
@given(st.integers(0, 2**31 - 1), st.integers(1, 4), st.integers(2, 6), st.floats(0, 1))
def test_seeded_monte_carlo_lands_in_its_chebyshev_interval(seed, d, k, lam):
    """Interval +- 10 sd / sqrt(n), exact sd: misses with probability <= 1% (Chebyshev), ~1.5e-23 (normal)."""
    model = sm.sample_model(np.random.default_rng(seed), d, k)
    mc = sm.monte_carlo_D(model, lam, n=4000, seed=seed)
    assert mc.contains(sm.closed_form(model, lam)["D"])


def test_a_planted_flipped_cross_term_falls_outside_the_monte_carlo_interval():
    model = sm.make_model(np.eye(2), np.eye(2), 1.0, 2 * np.eye(2), 3)
    mc = sm.monte_carlo_D(model, 0.0, n=4000, seed=0)
    planted = th.D_closed(model.k, 0.0, -model.p, model.q, model.trSx)
    assert mc.contains(sm.closed_form(model, 0.0)["D"]) and not mc.contains(planted)


@given(models(), st.floats(0, 1))
def test_joint_covariance_of_sampled_models_is_psd(model, lam):
    assert np.linalg.eigvalsh(model.joint_covariance()).min() >= -1e-9 * max(1.0, np.abs(model.joint_covariance()).max())


def _exact_R(model):
    out = sm.exact_moments_path(model, LAMS)
    return np.array([o["N"] / o["Den"] for o in out]), np.array([o["D"] for o in out])


@given(generic_models())
@example(sm.make_model(np.eye(2), -0.5 * np.eye(2), 1.0, np.eye(2), 2))  # sharpens, zero means: N < 0
def test_cosine_ratio_moves_in_the_predicted_direction_whenever_a_paper_condition_holds(model):
    cond = th.paper_condition(model.p, model.q)
    scale = max(1.0, model.q, abs(model.p), model.trSx, model.mm)
    assume(cond != "neither" and sm.closed_form(model, 0.0)["S"] > 1e-3 * scale)
    assume(min(abs(model.p), abs(model.p + model.q)) > 1e-3 * scale)
    event(cond)
    R, _ = _exact_R(model)
    sign = 1 if cond == "dense smooths" else -1
    assert np.all(sign * np.diff(R) > 0)


def test_a_planted_sign_error_in_the_cosine_prediction_fails():
    """Predicting 'dense smooths' when beta tr(BW) < 0 is refuted by the exact ratio."""
    model = sm.make_model(np.eye(2), -0.5 * np.eye(2), 1.0, np.eye(2), 3, np.ones(2), np.ones(2))
    planted = "dense smooths" if model.p < 0 else "dense sharpens"
    R, _ = _exact_R(model)
    assert planted == "dense smooths" and not np.all(np.diff(R) > 0)


@given(generic_models())
def test_exact_D_follows_the_monotonicity_classification(model):
    scale = max(1.0, model.q, abs(model.p))
    assume(model.q > 1e-3 * scale and min(abs(model.p), abs(model.p + model.q)) > 1e-3 * scale)
    _, D = _exact_R(model)
    kind = th.monotonicity(model.p, model.q)
    event(kind)
    if kind == "strictly decreasing":
        assert np.all(np.diff(D) < 0)
    elif kind == "strictly increasing":
        assert np.all(np.diff(D) > 0)
    else:  # minimum inside: the exact D at lam* = 1 + p / q lies below both endpoints
        D_star = sm.exact_moments(model, 1 + model.p / model.q)["D"]
        assert D_star < min(D[0], D[-1])


@given(generic_models())
def test_dense_beats_sparse_at_the_endpoints_iff_two_p_plus_q_is_positive(model):
    scale = max(1.0, model.q, abs(model.p), model.trSx, model.mm)
    assume(abs(2 * model.p + model.q) > 1e-3 * scale and sm.closed_form(model, 0.0)["S"] > 1e-3 * scale)
    R, _ = _exact_R(model)
    assert (R[-1] > R[0]) == (2 * model.p + model.q > 0)


@pytest.mark.parametrize("kwargs, param", [
    (dict(B=-np.eye(2)), "B"),
    (dict(B=np.array([[1.0, 2.0], [0.0, 1.0]])), "B"),
    (dict(W=np.ones((2, 3))), "W"),
    (dict(W=np.array([[np.nan, 0], [0, 1]])), "W"),
    (dict(Sigma_x=0.1 * np.eye(2)), "Sigma_x - beta"),
    (dict(k=1), "k"),
    (dict(mu_x=np.ones(3)), "mu_x"),
    (dict(beta=np.inf), "beta"),
])
def test_invalid_models_are_rejected_naming_the_parameter(kwargs, param):
    args = dict(B=np.eye(2), W=np.eye(2), beta=1.0, Sigma_x=2 * np.eye(2), k=3) | kwargs
    with pytest.raises(InvalidInputError, match=f"^{param}"):
        sm.make_model(**args)


@pytest.mark.parametrize("lam", [-0.1, 1.5])
def test_lambda_outside_the_unit_interval_is_rejected(lam):
    model = sm.make_model(np.eye(2), np.eye(2), 1.0, 2 * np.eye(2), 3)
    with pytest.raises(InvalidInputError, match="^lam:"):
        sm.closed_form(model, lam)


@pytest.mark.parametrize("call, param", [
    (lambda m: sm.path_attention(1, 0.5), "k"),
    (lambda m: sm.monte_carlo_D(m, 0.5, n=1, seed=0), "n"),
    (lambda m: sm.monte_carlo_D(m, 0.5, n=10, seed=0, z=0.0), "z"),
    (lambda m: sm.exact_moments_path(m, [0.0, 2.0]), "lam"),
])
def test_invalid_sampling_arguments_are_rejected_naming_the_parameter(call, param):
    model = sm.make_model(np.eye(2), np.eye(2), 1.0, 2 * np.eye(2), 3)
    with pytest.raises(InvalidInputError, match=f"^{param}:"):
        call(model)


# ---- claims found by mutation testing ----------------------------------------------------------
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


def test_psd_check_scales_the_eigenvalue_tolerance_with_the_largest_entry():
    assert sm.psd_matrix("B", np.diag([1e6, -1e-5])) is not None  # -1e-5 >= -1e-10 * 1e6


def test_asymmetry_message_reports_the_asymmetry():
    with pytest.raises(InvalidInputError, match=r"got asymmetry 1.5e-10"):
        sm.psd_matrix("B", [[0.5, 1.5e-10], [0.0, 0.5]])


def test_the_cosine_ratio_is_defined_whenever_Den_is_positive_even_below_one():
    model = sm.make_model(0.01 * np.eye(2), np.eye(2), 0.5, 0.02 * np.eye(2), 3)
    c = sm.closed_form(model, 0.5)
    assert 0 < c["Den"] < 1 and c["R"] == pytest.approx(c["N"] / c["Den"])
