"""``sinkcheck metric FILE``: Gu et al.'s Sink_k^eps on attention maps saved by another tool
(:mod:`sinkcheck.evaluate.saved_maps`; docs/empirical.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sinkcheck import validate
from sinkcheck.cli.options import FORCE
from sinkcheck.core.files import OutputDir
from sinkcheck.core.metrics import GU_EPS, IMPORTANCE
from sinkcheck.core.tables import FORMATS, dumps, render
from sinkcheck.core.tables import write_table
from sinkcheck.errors import InvalidInputError


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--key", default=None, help="The array to read from an .npz file or a dict saved in a .pt file.")
@click.option("--attention", type=click.Choice(["causal", "bidirectional"]), default="causal", show_default=True,
              help="causal maps must be 0 above the diagonal; bidirectional ones are encoders'.")
@click.option("--importance", "variant", type=click.Choice(IMPORTANCE), default=None,
              help="gu: column sum / (T - k) (Gu et al.'s formula; default for causal maps); encoder: column "
                   "mean over all T queries (default for bidirectional maps).")
@click.option("--eps", type=click.FloatRange(0, 1), default=GU_EPS, show_default=True, help="The threshold.")
@click.option("--proxy", is_flag=True,
              help="Unnormalised attention (sigmoid, ReLU): normalise each row for the metric (Gu et al.'s proxy) "
                   "instead of requiring rows that sum to 1.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Also write both tables (Markdown, CSV, JSON) and summary.json into this directory: new, "
                   "empty, or written by an earlier `sinkcheck metric` (only its own files are replaced).")
@FORCE
def metric(file, key, attention, variant, eps, proxy, fmt, out, force) -> None:
    """Gu et al.'s Sink_k^eps on saved attention maps (.npy, .npz, .pt) of shape (samples, layers,
    heads, T, T): per position and per layer, thresholded per (sample, layer, head)."""
    from sinkcheck.evaluate import saved_maps

    validate.in_interval("--eps", eps, 0.0, 1.0)  # click's range lets nan through
    target = None if out is None else OutputDir(out, "metric", force=force)
    maps = saved_maps.load_maps(file, key)
    try:
        rates = saved_maps.measure(maps, causal=attention == "causal", variant=variant, eps=eps, proxy=proxy)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{file.name}: {exc}") from None
    tables = saved_maps.tables(rates, f"{file.name} ({attention})")
    if fmt == "json":  # one document holding both tables (each carries its title)
        click.echo(dumps({name: json.loads(render(table, "json")) for name, table in tables.items()}), nl=False)
    for table in tables.values() if fmt != "json" else ():
        if fmt == "markdown":  # the other formats are for machines
            click.echo(f"{table.title}\n")
        click.echo(render(table, fmt), nl=False)
    if target is not None:
        with target.staged() as root:
            for name, table in tables.items():
                write_table(table, root / name)
            (root / "summary.json").write_text(dumps({
                "file": str(file), "attention": attention, "importance": rates.variant, "eps": rates.eps,
                "proxy": proxy, "samples": int(rates.samples[0]), "sink_k": rates.sink_k,
                "sink_per_layer_first": rates.per_layer[:, 0],
                "heads_mean_alpha_above_eps": rates.heads_mean_alpha_above_eps}))
        click.echo(f"wrote {out}/sink_per_position.*, sink_per_layer.* and summary.json", err=fmt != "markdown")
