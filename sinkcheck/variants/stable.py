"""The torch path of every attention operation, used by training: the formulas of
:mod:`sinkcheck.variants.reference`, stable at scores up to +-1000 in float32 and float64, with
finite gradients (masked keys get weight exactly 0; a property test checks both against the
reference).  ``mask`` is boolean and broadcasts against S (..., T_q, T_k); None = every key.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

NEG = float("-inf")


def _mask(S: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    return torch.ones(S.shape[-2:], dtype=torch.bool, device=S.device) if mask is None else mask


def softmax(S, mask=None):
    """e^{x_j} / sum_i e^{x_i}: torch's softmax over the visible keys (the one training always used)."""
    return torch.softmax(S.masked_fill(~_mask(S, mask), NEG), dim=-1)


def extra_logit(S, mask=None, s=0.0):
    """e^{x_j} / (e^{s} + sum_i e^{x_i}), s a number or a tensor broadcasting to S.shape[:-1]:
    the softmax of the row with s appended, s's column dropped (the shift includes s)."""
    s = torch.as_tensor(s, dtype=S.dtype, device=S.device).expand(S.shape[:-1]).unsqueeze(-1)
    return torch.softmax(torch.cat([s, S.masked_fill(~_mask(S, mask), NEG)], dim=-1), dim=-1)[..., 1:]


def softmax1(S, mask=None):
    """e^{x_j} / (1 + sum_i e^{x_i}) (:func:`extra_logit` with s = 0)."""
    return extra_logit(S, mask, 0.0)


def sigmoid(S, mask=None, b=0.0):
    """sigmoid(x_j + b), no normalisation."""
    return torch.sigmoid(S + b).masked_fill(~_mask(S, mask), 0.0)


def sigmoid_log_n(S, mask=None):
    """sigmoid(x_j - log n), n = S.shape[-1]."""
    return sigmoid(S, mask, -math.log(S.shape[-1]))


def sigmoid_sum(S, mask=None):
    """sigmoid(x_j) / sum_i sigmoid(x_i) = softmax_j(log sigmoid(x_j))."""
    return softmax(F.logsigmoid(S), mask)


def elu1(S, mask=None):
    """elu(x_j) + 1, no normalisation."""
    return elu1_features(S).masked_fill(~_mask(S, mask), 0.0)


def _divided(A: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    """A / total with 0 / 0 read as 0 (A = 0 wherever total = 0).  The value divides by the total
    itself; the gradient, by the total clamped to the smallest normal number: below it the true
    derivative ~1/total is beyond float range (a clamped value turned the row (1e-310,) into 2e-16)."""
    clamped = A / total.clamp_min(torch.finfo(A.dtype).tiny)
    return clamped + (A / torch.where(total > 0, total, torch.ones_like(total)) - clamped).detach()


def _normalised(A: torch.Tensor) -> torch.Tensor:
    return _divided(A, A.sum(dim=-1, keepdim=True))  # a zero row stays zero


def kernel_normalised(S, mask=None):
    """x_j / sum_i x_i for kernel scores x_j >= 0 (linear attention)."""
    return _normalised(S.clamp_min(0.0).masked_fill(~_mask(S, mask), 0.0))


def elu1_features(X):
    """phi(x) = elu(x) + 1, linear attention's feature map: x + 1 for x > 0, e^x otherwise (not
    (e^x - 1) + 1, which rounds every value below 1e-16 to 0)."""
    return torch.where(X > 0, X + 1.0, torch.exp(X.clamp_max(0.0)))


def relu(S, mask=None):
    """max(x_j, 0)."""
    return torch.relu(S).masked_fill(~_mask(S, mask), 0.0)


def relu_length(S, mask=None):
    """max(x_j, 0) / number of visible keys."""
    mask = _mask(S, mask)
    return relu(S, mask) / mask.sum(dim=-1, keepdim=True).to(S.dtype)


def softpick(S, mask=None):
    """max(e^{x_j} - 1, 0) / sum_i abs(e^{x_i} - 1), every term times e^{-m}, m = max(0, max_j x_j)."""
    mask = _mask(S, mask)
    m = S.masked_fill(~mask, NEG).amax(dim=-1, keepdim=True).clamp_min(0.0).detach()
    big = torch.exp(torch.minimum(S, m) - m) - torch.exp(-m)
    small = torch.exp(-m) * torch.expm1(S.clamp_max(1.0))
    u = torch.where(S > 1.0, big, small).masked_fill(~mask, 0.0)
    return _divided(torch.relu(u), u.abs().sum(dim=-1, keepdim=True))


def gate(Y, G):
    """Y * sigmoid(G) (gated attention's output gate)."""
    return Y * torch.sigmoid(G)
