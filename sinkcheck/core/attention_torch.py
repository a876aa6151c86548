"""The torch mirror of :mod:`sinkcheck.core.attention`, for training (same names, same maths).

Masked entries get probability exactly 0; shapes follow nanoGPT: (B, nh, T, T) for scores.
"""

from __future__ import annotations

import contextlib
import math
from typing import Iterator

import torch

from sinkcheck.core.attention import KINDS
from sinkcheck import validate

from sinkcheck.errors import InvalidInputError



def scores(Zq: torch.Tensor, Zk: torch.Tensor, W: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    """S_ij = z_i^T W z_j * scale (default 1/sqrt(d)); shapes as in the numpy core."""
    if scale is None:
        scale = 1.0 / math.sqrt(W.shape[0])
    return torch.einsum("...id,de,...je->...ij", Zq, W, Zk) * scale


def causal_mask(T: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean (T, T) mask, True where j <= i."""
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def attention(S: torch.Tensor, kind: str = "softmax", mask: torch.Tensor | None = None,
              relu_normalise: str = "length") -> torch.Tensor:
    """Softmax / length-normalised (or plain) ReLU / unnormalised sigmoid attention over visible keys:
    the registry's torch paths (:mod:`sinkcheck.variants.stable`), one implementation of each."""
    from sinkcheck.variants import stable

    if kind not in KINDS:
        raise InvalidInputError(f"kind: must be one of {', '.join(KINDS)} (got {kind!r})")
    if kind == "relu":
        return stable.relu_length(S, mask) if relu_normalise == "length" else stable.relu(S, mask)
    return stable.softmax(S, mask) if kind == "softmax" else stable.sigmoid(S, mask)


def head_output(A: torch.Tensor, Z: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """o_i = sum_j A_ij V z_j."""
    return A @ (Z @ V.T)


def pick_device(device: str | None = None) -> torch.device:
    """``None`` -> CUDA when present, else CPU; "cuda" without a GPU is an input error."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    validate.choice("device", device, ("cpu", "cuda"))
    if device == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("device: 'cuda' requested but no CUDA device is available (got 'cuda')")
    return torch.device(device)


@contextlib.contextmanager
def one_thread(pin: bool = True) -> Iterator[None]:
    """Torch on one thread inside the block (restored after it), when ``pin``: tiny tensors gain
    nothing from threads but contention, and a training run gives the same numbers on any core count."""
    threads = torch.get_num_threads()
    if pin:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
