"""``sinkcheck gu-tables``: Gu et al.'s Section 4 and Tables 3-5 on the bigram-backcopy task, every
row of the shipped grid trained through the sweep engine (docs/gu_training.md).

Writes ``gu_tables.csv`` (per row, over the seeds), ``gu_tables_runs.json`` (every run, its curve
and Section 3.1's geometry), ``gu_tables.md`` and a figure into ``--out``; the files shipped in
``sinkcheck/data/`` are this command's output with the defaults.
"""

from __future__ import annotations

import click

from sinkcheck.cli.empirical import DEVICE, NO_PROGRESS, check_device, output_dir, parse_seeds
from sinkcheck.cli.options import FORCE, out_option
from sinkcheck.cli.sweep import SCHEDULER_HELP
from sinkcheck.core.files import OutputDir
from sinkcheck.core.tables import render


@click.command("gu-tables")
@click.option("--seeds", default=None, help="Seeds, e.g. 0,1,2 (default: the grid's).")
@click.option("--steps", type=click.IntRange(1), default=None,
              help="Train every row this many steps instead of the grid's (a prefix of its runs).")
@click.option("--rows", default=None, help="Only these row ids, comma-separated (default: all).")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Dask worker processes of an embedded LocalCluster; 0 runs in-process, serially.")
@click.option("--scheduler", default=None, help=SCHEDULER_HELP)
@DEVICE
@out_option("sinkcheck-gu-tables", "gu-tables")
@FORCE
@NO_PROGRESS
def gu_tables(seeds, steps, rows, workers, scheduler, device, out, force, no_progress) -> None:
    """Gu et al.'s Section 4 and Tables 3-5 (positional encodings, norms, attention biases, learning rates, weight
    decays) trained on bigram-backcopy, beside the paper's numbers."""
    from sinkcheck.errors import InvalidInputError
    from sinkcheck.sweep import gu_tables as G

    target = OutputDir(out, "gu-tables", force=force)
    check_device(device)
    grid_seeds, grid_rows = G.load()
    if rows is not None:
        known = {r.id: r for r in grid_rows}
        unknown = [x for x in rows.split(",") if x not in known]
        if unknown:
            raise InvalidInputError(f"--rows: unknown row id {unknown[0]!r} (the grid's: {', '.join(known)})")
        grid_rows = tuple(known[x] for x in rows.split(","))
    if steps is not None:
        grid_rows = G.with_steps(grid_rows, steps)
    chosen = parse_seeds(seeds) or grid_seeds
    results = G.run(grid_rows, chosen, workers=workers, device=device, scheduler=scheduler, progress=not no_progress)
    with output_dir(target) as root:
        table = G.write(root, grid_rows, chosen, results)
        (root / "gu_tables.md").write_text(render(table, "markdown"))
        G.plot(table, G.runs_json(grid_rows, chosen, results), root / "figures" / "gu_tables.png")
    click.echo(render(table, "markdown"), nl=False)
    click.echo(f"wrote {out}/gu_tables.csv, gu_tables_runs.json, gu_tables.md and figures/")
