"""Per-head smoothing analysis (Súkeník et al., Section 5 and Figures 8, 9; docs/smoothing.md).

For one head with residual stream X (T, d), normalised tokens Z (T, d), attention A (T, T) and
value-output map W = W_OV (d, d), the head's output stream is Y = X + A Z W^T (row i is
x_i + W sum_j A_ij z_j; the paper writes X + W Z A^T with tokens as columns).

Estimates (biased 1/T empirical moments over the T tokens of the sequence):
B = Cov(Z), C = Cov(X, Z) = (1/T) sum_i (x_i - xbar)(z_i - zbar)^T, and beta by least squares of
C onto B: beta = <C, B>_F / <B, B>_F, with fit quality ``beta_fit_residual`` =
||C - beta B||_F / ||C||_F (0 = the model's C = beta B holds exactly, 1 = no fit).  The model-free
cross term tr(W C^T) is reported too: on the interpolation path it, not beta tr(BW), is exact.

Prediction (the paper's conditions): "smooths" if beta tr(BW) > 0 (replacing attention by dense
attention should raise the average cosine similarity: measured_delta_cos > 0), "sharpens" if
beta tr(BW) + tr(B W^T W) < 0 (should lower it), "neither" otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sinkcheck import validate
from sinkcheck.core.metrics import avg_pairwise_cosine
from sinkcheck.errors import InvalidInputError
from sinkcheck.theory.smoothing import paper_condition

PREDICTIONS = {"dense smooths": ("smooths", 1), "dense sharpens": ("sharpens", -1), "neither": ("neither", 0)}
"""The class of a head and the sign of its predicted cosine change, from the paper's condition."""


@dataclass(frozen=True)
class HeadAnalysis:
    """The smoothing conditions and the measured changes of average cosine similarity for one head.

    ``predicted`` is "smooths", "sharpens" or "neither" (sign +1, -1, 0 in
    ``predicted_sign``); ``measured_delta_cos`` is avg cos(X + A_u Z W^T) - avg cos(X + A Z W^T)
    (Figure 9), ``measured_delta_cos_identity`` is avg cos(X + A Z W^T) - avg cos(X + Z W^T)
    (Figure 8), ``measured_delta_ratio`` is Figure 9's change in the ratio form (2).
    """

    beta: float
    beta_fit_residual: float
    beta_trBW: float
    trBWtW: float
    trCW: float
    predicted: str
    predicted_sign: int
    measured_delta_cos: float
    measured_delta_cos_identity: float
    measured_delta_ratio: float
    causal: bool


def avg_cos_sim(Y) -> float:
    """Mean of cos(Y_i, Y_j) over ordered pairs i != j of rows of Y (T, d), T >= 2, rows non-zero."""
    return float(avg_pairwise_cosine(validate.finite_array("Y", Y, ndim=2)))


def ratio_cos_sim(Y) -> float:
    """Approximation (2) on one sequence: sum_{i != j} Y_i^T Y_j / ((T - 1) sum_i ||Y_i||^2)."""
    Y = validate.finite_array("Y", Y, ndim=2)
    T = validate.integer_at_least("Y rows (T)", Y.shape[0], 2)
    sq = float(np.sum(Y * Y))
    if sq == 0:
        raise InvalidInputError("Y: must not be all zero (got the zero matrix)")
    total = Y.sum(axis=0)
    return float((total @ total - sq) / ((T - 1) * sq))


def uniform_attention(T: int, causal: bool = False) -> np.ndarray:
    """Dense attention: 1/T everywhere, or 1/(i+1) on j <= i for causal models."""
    T = validate.integer_at_least("T", T, 1)
    if not causal:
        return np.full((T, T), 1.0 / T)
    return np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]


def _check_attention(A: np.ndarray, T: int, causal: bool) -> np.ndarray:
    A = validate.finite_array("A", A, ndim=2, shape=(T, T))
    if A.min() < -1e-6 or np.abs(A.sum(axis=1) - 1).max() > 1e-5:
        raise InvalidInputError("A: rows must be non-negative and sum to 1 (got a row that does not)")
    if causal and np.abs(np.triu(A, 1)).max() > 1e-6:
        raise InvalidInputError("A: a causal attention must vanish above the diagonal (got weight on j > i)")
    return A


def _beta_fit(Xc: np.ndarray, Zc: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """B, C, beta = <C, B>_F / <B, B>_F and ||C - beta B||_F / ||C||_F from centred X, Z (O(T d^2))."""
    T = Xc.shape[0]
    B, C = Zc.T @ Zc / T, Xc.T @ Zc / T
    bb = float(np.sum(B * B))
    if bb <= 0:
        raise InvalidInputError("Z: tokens must not all be equal (got zero covariance B)")
    beta = float(np.sum(C * B)) / bb
    cc = float(np.sum(C * C))
    residual = float(np.linalg.norm(C - beta * B) / np.sqrt(cc)) if cc > 0 else 0.0
    return B, C, beta, residual


def estimate_moments(X, Z) -> tuple[np.ndarray, np.ndarray, float, float]:
    """B = Cov(Z), C = Cov(X, Z), beta = <C, B>/<B, B> and the relative residual ||C - beta B|| / ||C||."""
    X = validate.finite_array("X", X, ndim=2)
    Z = validate.finite_array("Z", Z, ndim=2, shape=X.shape)
    return _beta_fit(X - X.mean(axis=0), Z - Z.mean(axis=0))


def analyse_head(X, Z, A, W_OV, causal: bool = False) -> HeadAnalysis:
    """Classify one head by the paper's conditions and measure the effect of dense attention.

    Args:
        X: residual stream, shape (T, d), T >= 2.  Z: normalised tokens (the head's input), (T, d).
        A: the head's attention, (T, T), rows on the simplex (lower-triangular if causal).
        W_OV: value-output map, (d, d).  causal: compare with causal uniform attention 1/(i+1).
    Returns:
        A :class:`HeadAnalysis`.
    Raises:
        InvalidInputError: non-finite or mis-shaped arrays, T < 2, A not row-stochastic (or not
            causal when causal=True), constant Z, or a zero output row.
    """
    X = validate.finite_array("X", X, ndim=2)
    validate.integer_at_least("X rows (T)", X.shape[0], 2)
    Z = validate.finite_array("Z", Z, ndim=2, shape=X.shape)
    T, d = X.shape
    W = validate.finite_array("W_OV", W_OV, ndim=2, shape=(d, d))
    A = _check_attention(A, T, bool(causal))
    Xc, Zc = X - X.mean(axis=0), Z - Z.mean(axis=0)
    _, _, beta, residual = _beta_fit(Xc, Zc)
    # with V = Z W^T: tr(BW) = sum_i zc_i^T W zc_i / T, tr(B W^T W) = ||Vc||_F^2 / T, tr(W C^T) = <Xc, Vc> / T
    V = Z @ W.T
    Vc = V - V.mean(axis=0)
    p, q = beta * float(np.sum(Vc * Zc)) / T, float(np.sum(Vc * Vc)) / T
    predicted, sign = PREDICTIONS[paper_condition(p, q)]
    Y_A, Y_u, Y_I = X + A @ V, X + uniform_attention(T, bool(causal)) @ V, X + V
    return HeadAnalysis(
        beta=beta, beta_fit_residual=residual, beta_trBW=p, trBWtW=q, trCW=float(np.sum(Xc * Vc)) / T,
        predicted=predicted, predicted_sign=sign,
        measured_delta_cos=avg_cos_sim(Y_u) - avg_cos_sim(Y_A),
        measured_delta_cos_identity=avg_cos_sim(Y_A) - avg_cos_sim(Y_I),
        measured_delta_ratio=ratio_cos_sim(Y_u) - ratio_cos_sim(Y_A),
        causal=bool(causal),
    )
