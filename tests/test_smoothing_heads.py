"""Per-head smoothing analysis (Figures 8, 9 of Súkeník et al.) on synthetic heads with known answers."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import smoothing as th
from sinkcheck.evaluate.smoothing_heads import analyse_head, avg_cos_sim, estimate_moments, ratio_cos_sim, uniform_attention


def synthetic(seed=0, T=16, d=8, beta=1.0, noise=0.3, mean=2.0):
    """Tokens with a common mean; X = beta Z + noise orthogonal to the centred Z (so C = beta B exactly)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((T, d)) + mean * rng.standard_normal(d)
    E = rng.standard_normal((T, d)) * noise
    Zc = Z - Z.mean(0)
    E = E - E.mean(0) - Zc @ np.linalg.lstsq(Zc, E - E.mean(0), rcond=None)[0] + rng.standard_normal(d)
    return beta * Z + E, Z


def test_beta_is_recovered_with_zero_residual_when_the_cross_covariance_is_beta_B():
    X, Z = synthetic(beta=0.7)
    _, _, beta, residual = estimate_moments(X, Z)
    assert beta == pytest.approx(0.7, rel=1e-10) and residual < 1e-10


def test_a_copying_head_with_positive_W_is_predicted_and_measured_to_smooth():
    X, Z = synthetic()
    out = analyse_head(X, Z, np.eye(16), 0.5 * np.eye(8))
    assert out.predicted == "smooths" and out.measured_delta_cos > 0.05


def test_a_cancelling_head_with_small_negative_W_is_predicted_and_measured_to_sharpen():
    X, Z = synthetic()
    out = analyse_head(X, Z, np.eye(16), -0.5 * np.eye(8))
    assert out.predicted == "sharpens" and out.measured_delta_cos < -0.05


def test_a_planted_flipped_prediction_disagrees_with_the_measurement():
    X, Z = synthetic()
    out = analyse_head(X, Z, np.eye(16), 0.5 * np.eye(8))
    planted_sign = -out.predicted_sign
    assert np.sign(out.measured_delta_cos) != planted_sign


def test_causal_heads_are_compared_with_causal_uniform_attention():
    X, Z = synthetic()
    out = analyse_head(X, Z, np.eye(16), 0.5 * np.eye(8), causal=True)
    A_u = uniform_attention(16, causal=True)
    assert out.causal and np.allclose(A_u.sum(1), 1) and np.all(np.triu(A_u, 1) == 0)
    assert out.measured_delta_cos > 0


@given(st.integers(0, 2**31 - 1), st.integers(3, 12), st.integers(1, 5), st.floats(0, 0.9))
def test_on_the_interpolation_path_the_ratio_moves_exactly_as_the_empirical_D_predicts(seed, T, d, lam0):
    """With A = (1 - lam0) I + lam0 U and the sample moments, D(lam) = tr Cov(X) + 2 (1 - lam) tr(W C^T)
    + (1 - lam)^2 tr(B W^T W) exactly, so the ratio (2) rises from A to U iff D falls."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((T, d)) + rng.standard_normal(d)
    X = rng.normal() * Z + rng.standard_normal((T, d)) + rng.standard_normal(d)
    W = rng.standard_normal((d, d))
    A = (1 - lam0) * np.eye(T) + lam0 / T * np.ones((T, T))
    out = analyse_head(X, Z, A, W)
    lam_star = 1 + out.trCW / out.trBWtW
    assume(abs(lam_star - lam0) > 1e-6 and abs(lam_star - 1) > 1e-6)
    kind = th.monotonicity(out.trCW, out.trBWtW)
    if kind == "strictly decreasing" or (kind == "decreasing then increasing" and lam_star > 1):
        assert out.measured_delta_ratio > 0
    elif kind == "strictly increasing" or (kind == "decreasing then increasing" and lam_star < lam0):
        assert out.measured_delta_ratio < 0


def test_ratio_cos_sim_is_one_for_identical_rows_and_avg_cos_sim_is_minus_one_for_opposite_rows():
    assert ratio_cos_sim(np.ones((4, 3))) == pytest.approx(1.0)
    assert avg_cos_sim(np.array([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(-1.0)


@pytest.mark.parametrize("change, param", [
    (dict(X=np.full((4, 3), np.nan)), "X"),
    (dict(Z=np.ones((5, 3))), "Z"),
    (dict(Z=np.ones((4, 3))), "Z"),
    (dict(A=np.full((4, 4), 0.5)), "A"),
    (dict(A=np.ones((3, 3)) / 3), "A"),
    (dict(A=np.ones((4, 4)) / 4, causal=True), "A"),
    (dict(W_OV=np.eye(2)), "W_OV"),
    (dict(X=np.ones((1, 3)), Z=np.ones((1, 3)), A=np.ones((1, 1))), "X rows"),
])
def test_invalid_head_inputs_are_rejected_naming_the_parameter(change, param):
    rng = np.random.default_rng(0)
    args = dict(X=rng.standard_normal((4, 3)), Z=rng.standard_normal((4, 3)), A=np.eye(4), W_OV=np.eye(3)) | change
    with pytest.raises(InvalidInputError, match=f"^{param}"):
        analyse_head(**args)


@given(st.integers(0, 2**31 - 1), st.integers(2, 10), st.integers(1, 6))
def test_head_traces_equal_the_trace_formulas_on_the_estimated_moments(seed, T, d):
    rng = np.random.default_rng(seed)
    X, Z, W = rng.standard_normal((T, d)), rng.standard_normal((T, d)), rng.standard_normal((d, d))
    B, C, beta, _ = estimate_moments(X, Z)
    out = analyse_head(X, Z, np.eye(T), W)
    scale = 1 + np.abs(B).sum() * (1 + np.abs(W).sum()) ** 2
    assert out.beta_trBW == pytest.approx(beta * np.trace(B @ W), abs=1e-12 * scale)
    assert out.trBWtW == pytest.approx(np.trace(B @ W.T @ W), abs=1e-12 * scale)
    assert out.trCW == pytest.approx(np.trace(W @ C.T), abs=1e-12 * scale)


@given(st.integers(0, 2**31 - 1), st.integers(2, 10), st.integers(1, 6))
def test_beta_fit_and_residual_equal_the_least_squares_of_C_onto_B(seed, T, d):
    rng = np.random.default_rng(seed)
    X, Z = rng.standard_normal((T, d)), rng.standard_normal((T, d))
    B, C, beta, residual = estimate_moments(X, Z)
    ref_beta = np.linalg.lstsq(B.reshape(-1, 1), C.reshape(-1), rcond=None)[0][0]
    assert beta == pytest.approx(ref_beta, rel=1e-9, abs=1e-12)
    assert residual == pytest.approx(np.linalg.norm(C - ref_beta * B) / np.linalg.norm(C), rel=1e-7, abs=1e-12)


def test_a_uniform_head_has_no_figure_9_change_and_its_figure_8_change_carries_the_smoothing():
    X, Z = synthetic()
    out = analyse_head(X, Z, uniform_attention(16), 0.5 * np.eye(8))
    assert out.measured_delta_cos == pytest.approx(0.0, abs=1e-12)
    assert out.measured_delta_cos_identity > 0.05
