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
