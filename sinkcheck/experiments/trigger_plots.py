"""Attention-map figure for the trigger task: trained (or constructed) heads side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sinkcheck.core.figures import pyplot, save
from sinkcheck.construct.trigger_task import encode, layout, sample_content


def probe_sequence(p: int, T: int, positional: bool, seed: int = 0):
    """A fixed sequence with the trigger in the middle (t = T // 2 + 1), for the figure."""
    rng = np.random.default_rng(seed)
    X = sample_content(rng, (1, T), p, 1.0)
    return encode(X, np.array([T // 2 + 1]), layout(p, T, positional))


def attention_figure(maps: dict[str, np.ndarray], t: int, path: Path, title: str = "") -> Path:
    """Heat maps of (T+1, T+1) attention matrices, one panel per label, same colour scale [0, 1].

    Args:
        maps: label -> attention matrix of one head on one sequence.  t: the trigger position
            (its row is outlined).  path: PNG file to write.
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, len(maps), figsize=(2.6 * len(maps) + 1, 3.0), squeeze=False, layout="constrained")
    for ax, (label, A) in zip(axes[0], maps.items()):
        im = ax.imshow(A, vmin=0.0, vmax=1.0, cmap="viridis")
        n = A.shape[0]
        ax.add_patch(plt.Rectangle((-0.5, t - 0.5), n, 1, fill=False, ec="red", lw=1.5))
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("key (0 = BOS)")
        ax.set_ylabel("query")
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.tick_params(labelsize=6)
    fig.colorbar(im, ax=list(axes[0]), shrink=0.8)
    if title:
        fig.suptitle(title, fontsize=10)
    path = Path(path)
    save(fig, path, dpi=110)
    return path


def trained_maps(runs: list[dict], seed: int = 0) -> tuple[dict[str, np.ndarray], int]:
    """Head-0 attention of each kept model (one per kind and head count) on :func:`probe_sequence`."""
    import torch

    maps, t = {}, 0
    for r in runs:
        model = r.get("model")
        cfg = r["config"]
        label = f"{cfg['kind']}, H={cfg['heads']}"
        if model is None or label in maps:
            continue
        batch = probe_sequence(cfg["p"], cfg["T"], cfg["positional"], seed)
        t = int(batch.trigger[0])
        with torch.no_grad():
            _, A = model(torch.tensor(batch.Z, dtype=torch.float32, device=cfg["device"]))
        maps[label] = A[0, 0].double().cpu().numpy()
    return maps, t
