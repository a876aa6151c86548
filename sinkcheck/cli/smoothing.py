"""``sinkcheck smoothing``: the D_k(lambda) statement and a table of sampled cases (docs/smoothing.md)."""

from __future__ import annotations

from pathlib import Path

import click

from sinkcheck.cli.options import FORCE
from sinkcheck.core.files import OutputFile, staged_files
from sinkcheck import validate
from sinkcheck.core.figures import FIGURE_SUFFIXES
from sinkcheck.theory.smoothing import STATEMENT
from sinkcheck.evaluate import smoothing_cases as sc
from sinkcheck.core.tables import render


@click.command()
@click.option("--n", "n", type=int, default=20, show_default=True, help="Number of sampled cases.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampled cases.")
@click.option("--n-seq", type=int, default=200, show_default=True,
              help="Sequences per case for the Monte Carlo average cosine similarity.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "csv", "json"]), default="markdown",
              show_default=True, help="Table format (markdown also prints the statement).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None, help="Write the table to FILE.")
@click.option("--plot", "plot", type=click.Path(path_type=Path), default=None,
              help="Write a PNG scatter of predicted (ratio (2)) vs. measured change per case.")
@FORCE
def smoothing(n: int, seed: int, n_seq: int, fmt: str, out: Path | None, plot: Path | None, force: bool) -> None:
    """Dense vs. sparse attention: D_k(lambda), its two conditions, and sampled cases."""
    validate.integer_at_least("n", n, 1)
    validate.integer_at_least("n_seq", n_seq, 2)
    validate.integer_at_least("seed", seed, 0)
    # check the output paths before any work; the files are staged and moved into place at the end
    out_file = None if out is None else OutputFile(out, "--out", force=force)
    plot_file = None if plot is None else OutputFile(plot, "--plot", force=force, suffixes=FIGURE_SUFFIXES)
    table = sc.case_table(n, seed, n_seq)
    text = render(table, fmt)
    if fmt == "markdown":
        text = STATEMENT + "\n\n" + text
    targets = [t for t in (out_file, plot_file) if t is not None]
    with staged_files(*targets) as stages:
        staged_at = dict(zip(map(id, targets), stages))
        if out_file is not None:
            staged_at[id(out_file)].write_text(text)
        if plot_file is not None:
            sc.scatter_plot(sc.scatter_points(table), staged_at[id(plot_file)],
                            "predicted R(1) - R(0), ratio (2), closed form",
                            "measured change of avg cos sim (Monte Carlo)", f"{n} sampled cases, seed {seed}")
    for target in targets:  # on stderr for the machine formats, so that stdout stays one document
        click.echo(f"wrote {target.path}", err=fmt != "markdown")
    if out is None:
        click.echo(text, nl=False)
