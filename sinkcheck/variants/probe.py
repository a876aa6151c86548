"""A numerical probe of an operation, for the ones the theory does not state (a user's): what its
torch weights are on a causal row of finite, very negative scores.

This is a measurement at one point, not a theorem: "exact zero" says the weights are 0.0 there
(the head can be off without a sink at these scores), "positive" that some weight stays above 0,
"normalised" that every row sums to 1 (the mass must go somewhere), "negative" that a weight is
below 0.  The theory of the built-in operations is :mod:`sinkcheck.theory.variants`.
"""

from __future__ import annotations

import math

from sinkcheck.errors import InvalidInputError

PROBE_SCORE = -30.0
"""The score every key gets in the probe (e^-30 is about 1e-13, far from an underflow in float64)."""

PROBE_KEYS = 4
"""The probe's causal T x T row block."""

PROBE_VALUES = ("exact zero", "positive", "normalised", "negative")
"""What :func:`probe` may say."""


def probe_scores(score: str = "dot"):
    """The probe's scores (float64, T x T) and causal mask: every score :data:`PROBE_SCORE`; for the
    elu+1 kernel, whose scores phi(q).phi(k) are positive, the kernel score of two features at
    PROBE_SCORE, e^{2 PROBE_SCORE}."""
    import torch

    x = math.exp(2 * PROBE_SCORE) if score == "elu1_kernel" else PROBE_SCORE
    S = torch.full((PROBE_KEYS, PROBE_KEYS), x, dtype=torch.float64)
    return S, torch.ones(PROBE_KEYS, PROBE_KEYS, dtype=torch.bool).tril()


def probe(op) -> str:
    """One of :data:`PROBE_VALUES` for the operation ``op`` (an ``Operation`` of the registry
    ``sinkcheck.variants``) on :func:`probe_scores`; InvalidInputError when
    its torch path fails there or returns anything but finite weights of the scores' shape."""
    import torch

    S, mask = probe_scores(op.score)
    try:
        with torch.no_grad():
            A = op.torch_weights(S, mask)
    except Exception as exc:  # noqa: BLE001 -- a user's function: say what it did in one line
        raise InvalidInputError(f"operation: {op.name}(S, mask) must accept float64 scores and a boolean mask "
                                f"(got {type(exc).__name__}: {' '.join(str(exc).split())})") from None
    if not isinstance(A, torch.Tensor) or A.shape != S.shape or not bool(torch.isfinite(A).all()):
        got = f"shape {tuple(A.shape)}" if isinstance(A, torch.Tensor) else type(A).__name__
        raise InvalidInputError(f"operation: {op.name}(S, mask) must return finite weights of S's shape "
                                f"{tuple(S.shape)} (got {got})")
    A = A.to(torch.float64).masked_fill(~mask, 0.0)
    if bool((A < 0).any()):
        return "negative"
    if bool(((A.sum(dim=-1) - 1.0).abs() < 1e-9).all()):
        return "normalised"
    return "exact zero" if bool((A == 0).all()) else "positive"
