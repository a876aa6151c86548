"""Gu et al.'s metric on attention maps saved by another tool (``sinkcheck metric FILE``;
docs/empirical.md, "Gu et al.'s metric on your own maps").

A file holds one array of shape (samples, layers, heads, T, T), rows = queries: ``.npy``, ``.npz``
(one array, or ``key``) or ``.pt`` (a tensor, or a dict of tensors and ``key``).  ``.npy`` files
are memory-mapped and ``.npz`` members streamed, one sample at a time, so the file may be larger
than memory (a .pt file is read whole).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from sinkcheck.core import npz
from sinkcheck.core.limits import check_memory
from sinkcheck.core.metrics import GU_EPS, SinkRates, proxy_scores, sink_rates
from sinkcheck.core.tables import Table
from sinkcheck.errors import InvalidInputError

SUFFIXES = (".npy", ".npz", ".pt")
ROW_TOL = 1e-4
"""How far from 1 the sum of a row of a softmax map may be (float32 maps sum to 1 within ~1e-6)."""
SAMPLE_COPIES = 6
"""float64 copies of one sample alive at once while it is checked and measured (an upper count)."""
CAUSAL_TOL = 1e-6
"""Weight allowed above the diagonal of a causal map (masked softmax entries are exactly 0)."""


def load_maps(path: str | Path, key: str | None = None):
    """The array in ``path`` (see the module docstring): a numpy array, a memory map (.npy) or a
    stream of samples (.npz, :class:`sinkcheck.core.npz.Stream`), checked for its shape and dtype
    before any sample is read."""
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise InvalidInputError(f"FILE: must end in {', '.join(SUFFIXES)} (got {path.name})")
    if not path.is_file():
        raise InvalidInputError(f"FILE: no such file: {path}")
    if path.suffix == ".npz":
        names = sorted(npz.headers(path))
        data = {k: None for k in names}
    else:
        try:
            if path.suffix == ".npy":
                data = np.load(path, mmap_mode="r", allow_pickle=False)
            else:
                import torch

                data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # numpy and torch raise ValueError, OSError, UnpicklingError, ...
            raise InvalidInputError(f"FILE: cannot read {path} ({type(exc).__name__}: {exc})") from None
    if isinstance(data, dict):
        names = sorted(data)
        if key is None and len(names) == 1:
            key = names[0]
        if key not in data:
            raise InvalidInputError(f"--key: must name one of the arrays in {path.name}: {', '.join(names)} (got {key!r})")
        data = npz.Stream(path, key) if path.suffix == ".npz" else data[key]
    elif key is not None:
        raise InvalidInputError(f"--key: {path.name} holds a single array, not named arrays (got {key!r})")
    if hasattr(data, "detach"):  # a torch tensor
        if data.layout != __import__("torch").strided:
            raise InvalidInputError(f"FILE: must hold a dense tensor (got a {data.layout} tensor)")
        if data.is_complex():
            raise InvalidInputError("FILE: attention weights must be real (got a complex tensor)")
        data = data.detach().cpu().double().numpy()
    shape, dtype = getattr(data, "shape", None), getattr(data, "dtype", None)
    if shape is None or len(shape) != 5 or shape[-1] != shape[-2]:
        raise InvalidInputError(f"FILE: must hold an array of shape (samples, layers, heads, T, T) "
                                f"(got {shape if shape is not None else type(data).__name__})")
    if min(shape) < 1:
        raise InvalidInputError(f"FILE: every axis of (samples, layers, heads, T, T) must be >= 1 (got {shape})")
    if np.dtype(dtype).kind not in "iuf":
        raise InvalidInputError(f"FILE: attention weights must be real numbers (got dtype {np.dtype(dtype)})")
    return data


def checked_samples(maps, causal: bool, proxy: bool) -> Iterator[np.ndarray]:
    """The samples (L, H, T, T) of ``maps``, one at a time, checked: finite, >= 0, causal maps zero
    above the diagonal, and (unless ``proxy``) rows summing to 1; with ``proxy`` the rows are
    normalised for the metric (:func:`sinkcheck.core.metrics.proxy_scores`)."""
    for n in range(maps.shape[0]):
        A = np.asarray(maps[n], dtype=np.float64)
        if not np.all(np.isfinite(A)):
            raise InvalidInputError(f"maps[{n}]: attention weights must be finite (got NaN or inf)")
        if np.any(A < 0):
            raise InvalidInputError(f"maps[{n}]: attention weights must be >= 0 (got {A.min():.3g})")
        if causal and (above := np.triu(A, k=1).max(initial=0.0)) > CAUSAL_TOL:
            raise InvalidInputError(f"--attention causal: maps[{n}] has weight {above:.3g} above the diagonal "
                                    "(for encoder maps pass --attention bidirectional)")
        if proxy:
            A = proxy_scores(A)
        elif (err := np.abs(A.sum(axis=-1) - 1).max()) > ROW_TOL:
            raise InvalidInputError(f"maps[{n}]: every row of a softmax map must sum to 1 (within {ROW_TOL:g}; "
                                    f"off by {err:.3g}); for unnormalised attention pass --proxy")
        yield A


def measure(maps, causal: bool = True, variant: str | None = None, eps: float = GU_EPS,
            proxy: bool = False) -> SinkRates:
    """Gu et al.'s Sink_k^eps of saved maps (importance "gu" for causal maps, "encoder" for
    bidirectional ones unless ``variant`` says otherwise), read one sample at a time."""
    if variant is None:
        variant = "gu" if causal else "encoder"
    _, L, H, T, _ = maps.shape
    check_memory("FILE", SAMPLE_COPIES * 8 * L * H * T * T, f"one sample of {L} layers x {H} heads x {T} x {T}")
    return sink_rates(checked_samples(maps, causal, proxy), eps=eps, variant=variant)


def tables(rates: SinkRates, source: str) -> dict[str, Table]:
    """Per position and per layer, Gu et al.'s pooling first, the per-head pooled statistic after."""
    how = f"Gu et al.'s Sink_k^{rates.eps:g}, importance '{rates.variant}', thresholded per (sample, layer, head)"
    L = rates.per_head.shape[0]
    per_position = Table(
        ["k", "samples", "sink_k", "heads_mean_alpha_above_eps", "mean_alpha_k"],
        [[k, int(rates.samples[k]), float(rates.sink_k[k]), float(rates.heads_mean_alpha_above_eps[k]),
          float(rates.mean_alpha[..., k].mean())] for k in range(len(rates.samples))],
        title=f"{source}: {how}; heads_mean_alpha_above_eps averages alpha over the samples first (not Gu et al.'s)")
    per_layer = Table(
        ["layer", "sink_first", "heads_mean_alpha_first_above_eps", "mean_alpha_first", "max_sink_other_positions"],
        [[l, float(rates.per_layer[l, 0]), float((rates.mean_alpha[l, :, 0] > rates.eps).mean()),
          float(rates.mean_alpha[l, :, 0].mean()),
          float(rates.per_layer[l, 1:].max()) if rates.per_layer.shape[1] > 1 else None] for l in range(L)],
        title=f"{source} per layer: {how}")
    return {"sink_per_position": per_position, "sink_per_layer": per_layer}
