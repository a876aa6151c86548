"""One plotting setup for every figure: a non-interactive backend and byte-stable PNGs."""

from __future__ import annotations

from pathlib import Path

FIGURE_SUFFIXES = (".png",)
"""Every figure is a PNG (:func:`save` writes PNG metadata); an option naming a figure file must end so."""


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: str | Path, dpi: int = 80) -> None:
    """Write ``fig`` as PNG without the software stamp (so the same data gives the same bytes), then close it."""
    fig.savefig(path, dpi=dpi, metadata={"Software": None})
    pyplot().close(fig)
