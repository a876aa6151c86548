"""Gu et al. (ICLR 2025)'s sink metric (docs/empirical.md, "The model and the metric").

Positions are 0-indexed here: position 0 is Gu et al.'s k = 1 (the first token).
"""

from __future__ import annotations

import numpy as np

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError

GU_EPS = 0.3
"""The threshold Gu et al. use."""


def proxy_scores(A: np.ndarray) -> np.ndarray:
    """Row-normalise unnormalised attention weights, only for the metric (Gu et al.'s proxy).

    A row of all zeros (a head that is fully "off") stays all zeros: it puts no mass anywhere.
    """
    A = validate.finite_array("A", A)
    if np.any(A < 0):
        raise validate.InvalidInputError("A: attention weights must be >= 0 (got a negative entry)")
    total = A.sum(axis=-1, keepdims=True)
    return np.divide(A, total, out=np.zeros_like(A), where=total > 0)


def importance(A: np.ndarray, causal: bool = True) -> np.ndarray:
    """alpha_k = (1 / (T - k)) sum_{i >= k} A_ik (0-indexed), averaged over any batch axes.

    Args:
        A: attention maps of shape (..., T, T) (rows are queries).  With ``causal=False``
            (encoders), every query counts: alpha_k = mean_i A_ik.
    Returns:
        The array alpha, of shape (..., T), with the average attention that each position receives.
    """
    A = validate.finite_array("A", A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise validate.InvalidInputError(f"A: must have shape (..., T, T) (got shape {A.shape})")
    T = A.shape[-1]
    if not causal:
        return A.mean(axis=-2)
    # column k summed over rows i >= k, divided by the T - k rows that can see k
    lower = np.tril(np.ones((T, T)))
    return (A * lower).sum(axis=-2) / (T - np.arange(T))


def sink_rate(A: np.ndarray, k: int = 0, eps: float = GU_EPS, causal: bool = True) -> float:
    """Sink_k^eps: the fraction of heads whose importance alpha_k exceeds eps.

    Args:
        A: attention maps of shape (L, H, B, T, T) or (L, H, T, T); alpha is averaged over the
            B sequences before thresholding.
        k: the position (0 = first token).  eps: threshold in (0, 1).
    """
    A = validate.finite_array("A", A)
    if A.ndim not in (4, 5):
        raise validate.InvalidInputError(f"A: must have shape (L, H, [B,] T, T) (got shape {A.shape})")
    validate.in_interval("eps", eps, 0.0, 1.0)
    T = A.shape[-1]
    if not (0 <= k < T):
        raise validate.InvalidInputError(f"k: must be a position in [0, {T - 1}] (got {k!r})")
    alpha = importance(A, causal=causal)  # (L, H, [B,] T)
    if alpha.ndim == 4:
        alpha = alpha.mean(axis=2)
    return float(np.mean(alpha[..., k] > eps))


def cosine_matrix(Y) -> np.ndarray:
    """Cosines between the rows of Y (..., T, d), every row non-zero: shape (..., T, T)."""
    Y = validate.finite_array("Y", Y)
    norms = np.linalg.norm(Y, axis=-1, keepdims=True)
    if np.any(norms == 0):
        raise InvalidInputError("Y: every row must be non-zero for a cosine (got a zero row)")
    U = Y / norms
    return U @ np.swapaxes(U, -1, -2)


def avg_pairwise_cosine(Y) -> np.ndarray:
    """The average cosine similarity of Súkeník et al.: the mean of cos(Y_i, Y_j) over ordered pairs
    i != j of the T >= 2 rows of Y (..., T, d); one value per leading index (a scalar array for 2-D Y)."""
    Y = validate.finite_array("Y", Y)
    T = validate.integer_at_least("Y rows (T)", Y.shape[-2], 2)
    G = cosine_matrix(Y)
    return (G.sum(axis=(-1, -2)) - np.trace(G, axis1=-2, axis2=-1)) / (T * (T - 1))
