"""Attention in numpy float64: the reference every check in sinkcheck uses.

Conventions: tokens are the rows of Z (position 0 is the sink / BOS),
the bilinear score is s(x, y) = x^T W y / sqrt(d) with W = W_QK = W_Q^T W_K, the value-output map
is V = W_OV, and the head output is o_i = sum_j A_ij V z_j.  Arrays may carry leading batch axes:
scores have shape (..., T_q, T_k).

The torch mirror is :mod:`sinkcheck.core.attention_torch`; a property test checks that the two agree.
"""

from __future__ import annotations

import numpy as np

from sinkcheck import validate

KINDS = ("softmax", "relu", "sigmoid")
"""The attention kinds (softmax; length-normalised or plain ReLU; sigmoid without normalisation)."""


def scores(Zq: np.ndarray, Zk: np.ndarray, W: np.ndarray, scale: float | None = None) -> np.ndarray:
    """S_ij = z_i^T W z_j * scale, with scale = 1/sqrt(d) by default.

    Args:
        Zq: queries, shape (..., T_q, d).  Zk: keys, shape (..., T_k, d).  W: W_QK, shape (d, d).
        scale: the factor in front of the bilinear form (default 1/sqrt(d)).
    Returns:
        S, shape (..., T_q, T_k).
    """
    W = validate.finite_array("W", W, ndim=2)
    Zq = validate.finite_array("Zq", Zq)
    Zk = validate.finite_array("Zk", Zk)
    if Zq.shape[-1] != W.shape[0] or Zk.shape[-1] != W.shape[1]:
        raise validate.InvalidInputError(
            f"W: must have shape (d_q, d_k) = ({Zq.shape[-1]}, {Zk.shape[-1]}) (got shape {W.shape})"
        )
    if scale is None:
        scale = 1.0 / np.sqrt(W.shape[0])
    scale = float(validate.finite_array("scale", scale, ndim=0))
    return np.einsum("...id,de,...je->...ij", Zq, W, Zk) * scale


def causal_mask(T: int) -> np.ndarray:
    """Boolean (T, T) mask, True where query i may see key j, i.e. j <= i."""
    T = validate.integer_at_least("T", T, 1)
    return np.tril(np.ones((T, T), dtype=bool))


def full_mask(T: int) -> np.ndarray:
    """Boolean (T, T) mask that lets every query see every key (bidirectional encoders)."""
    T = validate.integer_at_least("T", T, 1)
    return np.ones((T, T), dtype=bool)


def _check_mask(S: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    if mask is None:
        return np.ones(S.shape[-2:], dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape[-2:] != S.shape[-2:]:
        raise validate.InvalidInputError(f"mask: must have shape {S.shape[-2:]} (got shape {mask.shape})")
    if not np.all(mask.any(axis=-1)):
        raise validate.InvalidInputError("mask: every query must see at least one key (got an empty row)")
    return mask


def softmax_attention(S: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """A_ij = exp(s_ij) / sum_{k visible} exp(s_ik); masked entries are exactly 0."""
    S = validate.finite_array("S", S)
    mask = _check_mask(S, mask)
    z = np.where(mask, S, -np.inf)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.where(mask, np.exp(z), 0.0)
    return e / e.sum(axis=-1, keepdims=True)


RELU_NORMALISERS = ("length", "none", "preceding")
"""The normalisers n_i of ReLU attention, in order the number of visible keys, 1, and the number of
visible keys other than the first (BOS) and the query itself, at least 1 (under the causal mask
i - 1 at position i, the number of tokens between BOS and the query)."""


def relu_attention(S: np.ndarray, mask: np.ndarray | None = None, normalise: str = "length") -> np.ndarray:
    """A_ij = relu(s_ij) / n_i, with n_i of :data:`RELU_NORMALISERS`: the number of visible keys
    ("length"), 1 ("none"), or that number less 2, at least 1 ("preceding")."""
    S = validate.finite_array("S", S)
    mask = _check_mask(S, mask)
    validate.choice("normalise", normalise, RELU_NORMALISERS)
    A = np.where(mask, np.maximum(S, 0.0), 0.0)
    if normalise == "length":
        A = A / mask.sum(axis=-1, keepdims=True)
    elif normalise == "preceding":
        A = A / np.maximum(mask.sum(axis=-1, keepdims=True) - 2, 1)
    return A


def sigmoid_attention(S: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """A_ij = sigmoid(s_ij) on visible keys, no normalisation (Gu et al.'s sigmoid attention)."""
    S = validate.finite_array("S", S)
    mask = _check_mask(S, mask)
    return np.where(mask, 0.5 * (1.0 + np.tanh(0.5 * S)), 0.0)


def attention(S: np.ndarray, kind: str = "softmax", mask: np.ndarray | None = None) -> np.ndarray:
    """Dispatch on ``kind`` in :data:`KINDS` (ReLU is length-normalised here)."""
    validate.choice("kind", kind, KINDS)
    if kind == "softmax":
        return softmax_attention(S, mask)
    if kind == "relu":
        return relu_attention(S, mask)
    return sigmoid_attention(S, mask)


def head_output(A: np.ndarray, Z: np.ndarray, V: np.ndarray) -> np.ndarray:
    """o_i = sum_j A_ij V z_j, shape (..., T_q, d_out), for V = W_OV of shape (d_out, d)."""
    A = validate.finite_array("A", A)
    Z = validate.finite_array("Z", Z)
    V = validate.finite_array("V", V, ndim=2)
    if A.shape[-1] != Z.shape[-2]:
        raise validate.InvalidInputError(f"A: must have {Z.shape[-2]} keys (got shape {A.shape})")
    if V.shape[1] != Z.shape[-1]:
        raise validate.InvalidInputError(f"V: must have {Z.shape[-1]} columns (got shape {V.shape})")
    return A @ (Z @ V.T)
