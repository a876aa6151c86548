"""The positional encodings of Gu et al.'s Table 3 for :class:`~sinkcheck.models.gpt.GPT`, as torch
functions of the sequence length (shapes follow nanoGPT: scores are (B, nh, T, T)).

- added to the input: ``learned`` (an embedding table, in the model) and ``sinusoidal``
  (:func:`sinusoidal`, Vaswani et al.'s fixed table);
- added to the scores: ``relative`` (T5's bucketed distance, :func:`t5_bucket`, with a learned
  bias per head and bucket) and ``alibi`` (:func:`alibi_slopes`: -m_h (i - j));
- applied to q and k: ``rope`` (:func:`rope`, rotary positions);
- ``nope``: nothing.

The last four add nothing position-dependent to the input: Gu et al.'s Appendix C.1 lemma covers them.
"""

from __future__ import annotations

import math

import torch

POSITIONS = ("learned", "sinusoidal", "nope", "relative", "alibi", "rope")
"""The positional encodings, in Table 3's order with NoPE third."""

INPUT_POSITIONS = ("learned", "sinusoidal")
"""The encodings added to the input (outside the repeated-token lemma)."""

T5_BUCKETS, T5_MAX_DISTANCE = 32, 128
"""T5's defaults for a causal model (32 buckets, log-spaced up to distance 128, constant beyond)."""


def sinusoidal(T: int, C: int) -> torch.Tensor:
    """(T, C): sin(p / 10000^{2i/C}) in even coordinates 2i, cos in odd ones."""
    p = torch.arange(T, dtype=torch.float32)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, C, 2, dtype=torch.float32) / C)
    table = torch.zeros(T, C)
    table[:, 0::2] = torch.sin(p * freq)
    table[:, 1::2] = torch.cos(p * freq[: C // 2])
    return table


def distances(T: int, device=None) -> torch.Tensor:
    """(T, T) long: i - j, the distance from query i back to key j (negative above the diagonal)."""
    i = torch.arange(T, device=device)
    return i[:, None] - i[None, :]


def t5_bucket(n: torch.Tensor, buckets: int = T5_BUCKETS, max_distance: int = T5_MAX_DISTANCE) -> torch.Tensor:
    """T5's causal bucket of a distance n >= 0: n itself below buckets / 2, then log-spaced up to
    ``max_distance``, and the last bucket beyond it (negative distances, masked anyway, get 0)."""
    n = n.clamp(min=0)
    exact = buckets // 2
    far = exact + (torch.log(n.float().clamp(min=1) / exact) / math.log(max_distance / exact)
                   * (buckets - exact)).long()
    return torch.where(n < exact, n, far.clamp(max=buckets - 1))


def alibi_slopes(n_head: int) -> torch.Tensor:
    """(n_head,): m_h = 2^{-8 h / n_head}, h = 1..n_head (Press et al.'s geometric slopes)."""
    return torch.tensor([2.0 ** (-8.0 * h / n_head) for h in range(1, n_head + 1)])


def rope(x: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """Rotate x (B, nh, T, hs), hs even, by its position: coordinate pairs (i, i + hs/2) turn by the
    angle t * base^{-2i/hs} at position t (LLaMA's half-split convention)."""
    T, hs = x.shape[-2], x.shape[-1]
    inv = base ** (-torch.arange(0, hs, 2, dtype=torch.float32, device=x.device) / hs)
    angle = torch.arange(T, dtype=torch.float32, device=x.device)[:, None] * inv  # (T, hs/2)
    cos, sin = (torch.cat([f(angle)] * 2, dim=-1).to(x.dtype) for f in (torch.cos, torch.sin))
    half = torch.cat([-x[..., hs // 2:], x[..., : hs // 2]], dim=-1)
    return x * cos + half * sin
