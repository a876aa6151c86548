"""``sinkcheck bounds`` (one instance) and ``sinkcheck table`` (a grid): Section 7 cost bounds.

JSON of ``bounds`` (stable keys, see :mod:`sinkcheck.verify.measure.sinkdiag_eval`): ``instance``,
``fallback``, ``sink`` and ``diag`` (each with ``lower``, ``opt``, ``construction``, ``upper``,
``value_cost``, ``verdicts``...), ``ratio_diag_over_sink``, ``winner``.
"""

from __future__ import annotations

from pathlib import Path

import click

from sinkcheck.construct.sinkdiag.instance import load_instance, sample_instance
from sinkcheck.verify.measure.sinkdiag_eval import evaluate, opt_cell
from sinkcheck.verify.measure.sinkdiag_table import DEFAULT_GRID, load_grid, plot_cost_vs_d
from sinkcheck.core.tables import FORMATS, Table, dumps, render

_fmt = click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True)


def _bounds_table(r: dict) -> Table:
    rows = []
    for p in ("sink", "diag"):
        x = r[p]
        v = x["verdicts"]
        rows.append([p, x["lower"], opt_cell(x), x["construction"],
                     x["upper"], x["value_cost"], v["lower<=opt"]["verdict"], v["opt<=construction"]["verdict"],
                     v["construction<=upper"]["verdict"], v["opt<=upper"]["verdict"]])
    return Table(["pattern", "L (QK)", "OPT", "construction", "U (QK)", "value part (paper)", "L<=OPT",
                  "OPT<=con", "con<=U", "OPT<=U"], rows,
                 title=f"OPT_diag / OPT_sink = {r['ratio_diag_over_sink']}; winner: {r['winner']}")


@click.command()
@click.option("--d", type=int, default=32, show_default=True)
@click.option("--C", "C", type=int, default=2, show_default=True)
@click.option("--n", type=int, default=2, show_default=True, help="Group size n_c (all groups).")
@click.option("--r-eta", type=int, default=2, show_default=True)
@click.option("--lam", type=float, default=1.0, show_default=True)
@click.option("--kappa", type=float, default=1.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-h1", is_flag=True, help="Do not centre the nuisance per group.")
@click.option("--no-h2", is_flag=True, help="Do not equalise the nuisance norms.")
@click.option("--instance", type=click.Path(path_type=Path), default=None, help="Read the instance from .npz.")
@click.option("--save-instance", type=click.Path(path_type=Path), default=None, help="Write the instance to .npz.")
@click.option("--no-fallback", is_flag=True, help="Drop the group-absent copy constraints.")
@click.option("--no-progress", is_flag=True, help="No progress bar (on stderr) over the two solves.")
@_fmt
def bounds(d, C, n, r_eta, lam, kappa, seed, no_h1, no_h2, instance, save_instance, no_fallback, no_progress,
           fmt) -> None:
    """L, OPT, construction cost and U for both patterns on one instance."""
    inst = load_instance(instance) if instance else sample_instance(
        d, C, n, r_eta, lam, kappa, seed, centred=not no_h1, equal_norms=not no_h2)
    if save_instance:
        inst.save(save_instance)
    r = evaluate(inst, fallback=not no_fallback, progress=not no_progress)
    click.echo(dumps(r) if fmt == "json" else render(_bounds_table(r), fmt), nl=False)


@click.command()
@click.option("--grid", type=click.Path(path_type=Path), default=None, help="JSON list of parameter dicts.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the table here.")
@click.option("--plot", type=click.Path(path_type=Path), default=None, help="Write a cost-vs-d PNG here.")
@click.option("--no-progress", is_flag=True)
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Dask worker processes (sweep engine); 0 runs in-process, serially.")
@click.option("--scheduler", default=None, help="Address of an existing Dask scheduler, tcp://HOST:PORT.")
@_fmt
def table(grid, out, plot, no_progress, workers, scheduler, fmt) -> None:
    """The bound-comparison table over a grid (default grid built in), through the sweep engine."""
    from sinkcheck.verify.sweep.engine import session
    from sinkcheck.verify.sweep.grid import grid_table

    g = load_grid(grid) if grid else DEFAULT_GRID
    with session(workers, scheduler) as client:
        tab, raw = grid_table(g, client, progress=not no_progress)
    text = render(tab, fmt)
    if out:
        Path(out).write_text(text)
    else:
        click.echo(text, nl=False)
    if plot:
        plot_cost_vs_d(g, raw, plot)
