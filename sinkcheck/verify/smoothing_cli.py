"""``sinkcheck smoothing``: the D_k(lambda) statement and a table of sampled cases (THEOREMS.md section 4)."""

from __future__ import annotations

from pathlib import Path

import click

from sinkcheck import validate
from sinkcheck.theory.smoothing import STATEMENT
from sinkcheck.verify import smoothing_cases as sc
from sinkcheck.verify.tables import render


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
def smoothing(n: int, seed: int, n_seq: int, fmt: str, out: Path | None, plot: Path | None) -> None:
    """Dense vs. sparse attention: D_k(lambda), its two conditions, and sampled cases."""
    validate.integer_at_least("n", n, 1)
    validate.integer_at_least("n_seq", n_seq, 2)
    table = sc.case_table(n, seed, n_seq)
    text = render(table, fmt)
    if fmt == "markdown":
        text = STATEMENT + "\n\n" + text
    if out is not None:
        out.write_text(text)
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)
    if plot is not None:
        points = [(r[10], r[12], r[6]) for r in table.rows]
        sc.scatter_plot(points, plot, "predicted R(1) - R(0), ratio (2), closed form",
                        "measured change of avg cos sim (Monte Carlo)", f"{n} sampled cases, seed {seed}")
        click.echo(f"wrote {plot}")
