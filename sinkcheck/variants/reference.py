"""The reference weights of every attention operation, in numpy float64, written to be read.

One query row at a time in the formulas: x_j are the scores of the visible keys j (masked keys get
weight exactly 0), n is the number of keys of the row (``S.shape[-1]``).  The operations with an
extra logit (softmax1, the sink logit, a key bias with zero value) return the weights of the real
keys only: the dropped column's weight is 1 minus their sum.  Exponentials are shifted by the
row's largest logit m so that scores up to +-1000 stay finite; where an operation has an extra
logit or a constant (softmax1's 1, softpick's -1) the constant shifts with the row: it becomes
e^{-m}, the step whose omission is softmax1's known max-shift bug.  The torch mirror used by
training is :mod:`sinkcheck.variants.stable` (a property test checks the two agree).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from sinkcheck import validate
from sinkcheck.core.attention import relu_attention, softmax_attention


def _visible(S, mask):
    S = validate.finite_array("S", S)
    mask = np.ones(S.shape[-2:], dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape[-2:] != S.shape[-2:]:
        raise validate.InvalidInputError(f"mask: must have shape {S.shape[-2:]} (got shape {mask.shape})")
    return S, np.broadcast_to(mask, S.shape)


def softmax(S, mask=None):
    """a_j = e^{x_j} / sum_i e^{x_i} (the core's softmax)."""
    return softmax_attention(S, mask)


def extra_logit(S, mask=None, s=0.0):
    """a_j = e^{x_j} / (e^{s} + sum_i e^{x_i}): softmax over the row and one extra logit s whose
    column is dropped.  s is a number or an array (..., T_q) (one logit per query row)."""
    S, mask = _visible(S, mask)
    s = np.broadcast_to(np.asarray(s, dtype=float)[..., None], S.shape[:-1] + (1,))
    m = np.maximum(np.where(mask, S, -np.inf).max(axis=-1, keepdims=True), s)  # the extra logit shifts too
    e = np.exp(np.where(mask, S, -np.inf) - m)
    return e / (np.exp(s - m) + e.sum(axis=-1, keepdims=True))


def softmax1(S, mask=None):
    """a_j = e^{x_j} / (1 + sum_i e^{x_i}) (Miller's "off by one"): :func:`extra_logit` with s = 0."""
    return extra_logit(S, mask, 0.0)


def sigmoid(S, mask=None, b=0.0):
    """a_j = sigmoid(x_j + b) = 1 / (1 + e^{-x_j - b}), no normalisation (b = 0: Gu et al.'s sigmoid
    attention); scipy's expit keeps the digits of weights far below 1, which 1 + tanh loses."""
    S, mask = _visible(S, mask)
    return np.where(mask, expit(S + b), 0.0)


def sigmoid_log_n(S, mask=None):
    """a_j = sigmoid(x_j - log n) (Ramapuram et al.'s bias b = -log n, n the row's key count)."""
    return sigmoid(S, mask, -np.log(np.shape(S)[-1]))


def normalised(A):
    """a_j / sum_i a_i for weights a >= 0; a row of zeros stays zeros."""
    total = A.sum(axis=-1, keepdims=True)
    return np.divide(A, total, out=np.zeros_like(A), where=total > 0)


def sigmoid_sum(S, mask=None):
    """a_j = sigmoid(x_j) / sum_i sigmoid(x_i) (Gu et al.'s sigmoid with normalisation), computed
    as the softmax of log sigmoid(x_j) = -log(1 + e^{-x_j}) so that a row of very negative scores
    does not underflow to 0/0."""
    S, mask = _visible(S, mask)
    return softmax_attention(-np.logaddexp(0.0, -S), mask)


def elu1(S, mask=None):
    """a_j = elu(x_j) + 1, no normalisation (elu(x) = x for x > 0, e^x - 1 otherwise)."""
    S, mask = _visible(S, mask)
    return np.where(mask, np.where(S > 0, S + 1.0, np.exp(np.minimum(S, 0.0))), 0.0)


def kernel_normalised(S, mask=None):
    """a_j = x_j / sum_i x_i for kernel scores x_j = phi(q) . phi(k_j) >= 0 (linear attention,
    phi = elu + 1: :func:`elu1_features`); a row of zeros stays zeros."""
    S, mask = _visible(S, mask)
    if np.any(S[mask] < 0):
        raise validate.InvalidInputError("S: kernel scores must be >= 0 (got a negative entry)")
    return normalised(np.where(mask, S, 0.0))


def elu1_features(X):
    """phi(x) = elu(x) + 1 elementwise, the feature map of linear attention (Katharopoulos et al.)."""
    X = validate.finite_array("X", X)
    return np.where(X > 0, X + 1.0, np.exp(np.minimum(X, 0.0)))


def relu(S, mask=None):
    """a_j = max(x_j, 0), no normalisation."""
    return relu_attention(S, mask, "none")


def relu_length(S, mask=None):
    """a_j = max(x_j, 0) / (number of visible keys)."""
    return relu_attention(S, mask, "length")


def softpick(S, mask=None):
    """a_j = max(e^{x_j} - 1, 0) / sum_i abs(e^{x_i} - 1) (Zuhri et al.), 0/0 read as 0 (a row of zero
    scores); the authors' code adds a small epsilon to the denominator instead."""
    S, mask = _visible(S, mask)
    m = np.maximum(np.where(mask, S, -np.inf).max(axis=-1, keepdims=True), 0.0)
    # u_j = (e^{x_j} - 1) e^{-m}: expm1 keeps the digits near x = 0, e^{x - m} the finite range
    u = np.where(S > 1.0, np.exp(np.minimum(S, m) - m) - np.exp(-m), np.exp(-m) * np.expm1(np.minimum(S, 1.0)))
    u = np.where(mask, u, 0.0)
    total = np.abs(u).sum(axis=-1, keepdims=True)
    return np.divide(np.maximum(u, 0.0), total, out=np.zeros_like(u), where=total > 0)


def gate(Y, G):
    """Y * sigmoid(G): gated attention's output, G the gate logits x W_g of the query's hidden state
    (one per head: headwise; one per output coordinate: elementwise), broadcast against Y."""
    return validate.finite_array("Y", Y) * expit(validate.finite_array("G", G))
