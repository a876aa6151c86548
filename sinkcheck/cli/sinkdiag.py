"""``sinkcheck bounds`` (one instance) and ``sinkcheck table`` (a grid): Section 7 cost bounds.

JSON of ``bounds`` (stable keys, see :class:`~sinkcheck.evaluate.sinkdiag_result.Evaluation`): ``instance``,
``fallback``, ``sink`` and ``diag`` (each with ``lower``, ``opt``, ``construction``, ``upper``,
``value_cost``, ``verdicts``...), ``ratio_diag_over_sink``, ``winner``.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from sinkcheck.cli.options import FORCE
from sinkcheck.construct.sinkdiag.instance import load_instance, sample_instance
from sinkcheck.construct.sinkdiag.params import PARAMS, check_arguments
from sinkcheck.core.figures import FIGURE_SUFFIXES
from sinkcheck.core.files import OutputFile, staged_files
from sinkcheck.errors import InvalidInputError
from sinkcheck.evaluate.sinkdiag_eval import evaluate
from sinkcheck.evaluate.sinkdiag_result import PATTERNS, Evaluation, Inequality
from sinkcheck.core.tables import FORMATS, Table, dumps, render

_fmt = click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True)


INEQUALITY_COLUMNS = {Inequality.LOWER_OPT: "L<=OPT", Inequality.OPT_CONSTRUCTION: "OPT<=con",
                      Inequality.CONSTRUCTION_UPPER: "con<=U", Inequality.OPT_UPPER: "OPT<=U"}
"""The column header of each inequality in the table of ``sinkcheck bounds``."""


def _bounds_table(r: Evaluation) -> Table:
    rows = []
    for p in PATTERNS:
        x = r.pattern(p)
        rows.append([p, x.lower, x.opt_cell(), x.construction, x.upper, x.value_cost,
                     *(x.verdict(ineq).verdict for ineq in INEQUALITY_COLUMNS)])
    return Table(["pattern", "L (QK)", "OPT", "construction", "U (QK)", "value part (paper)",
                  *INEQUALITY_COLUMNS.values()], rows,
                 title=f"OPT_diag / OPT_sink = {r.ratio_diag_over_sink}; winner: {r.winner}")


def _param(name: str, **kw):
    """The option of a parameter of :data:`~sinkcheck.construct.sinkdiag.params.PARAMS` (its type
    and default from the schema)."""
    default = PARAMS[name].default
    return click.option(f"--{name.replace('_', '-')}", name, type=type(default), default=default, show_default=True,
                        **kw)


SIZE_OPTIONS = ("d", "C", "n", "r_eta", "lam", "kappa", "seed", "no_h1", "no_h2")
"""The options that draw an instance; ``--instance`` reads one instead, so they cannot go with it."""


@click.command()
@_param("d")
@_param("C")
@_param("n", help="Group size n_c (all groups).")
@_param("r_eta")
@_param("lam")
@_param("kappa")
@_param("seed")
@click.option("--no-h1", is_flag=True, help="Do not centre the nuisance per group.")
@click.option("--no-h2", is_flag=True, help="Do not equalise the nuisance norms.")
@click.option("--instance", type=click.Path(path_type=Path), default=None,
              help="Read the instance from .npz (then none of the options above may be given).")
@click.option("--save-instance", type=click.Path(path_type=Path), default=None,
              help="Write the instance to a new .npz file (an existing one only with --force).")
@click.option("--no-fallback", is_flag=True, help="Drop the group-absent copy constraints.")
@click.option("--no-progress", is_flag=True, help="No progress bar (on stderr) over the two solves.")
@FORCE
@_fmt
@click.pass_context
def bounds(ctx, d, C, n, r_eta, lam, kappa, seed, no_h1, no_h2, instance, save_instance, no_fallback, no_progress,
           force, fmt) -> None:
    """L, OPT, construction cost and U for both patterns on one instance."""
    save = None if save_instance is None else OutputFile(save_instance, "--save-instance", force=force,
                                                         suffixes=(".npz",))
    if instance is not None:
        given = [name for name in SIZE_OPTIONS if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT]
        if given:
            raise InvalidInputError(f"--{given[0].replace('_', '-')}: cannot be given with --instance (the file fixes "
                                    "the instance)")
        inst = load_instance(instance)
    else:  # the memory of the evaluation too is checked before anything is drawn
        check_arguments(d, C, n, r_eta, lam, kappa, seed, centred=not no_h1, equal_norms=not no_h2)
        inst = sample_instance(d, C, n, r_eta, lam, kappa, seed, centred=not no_h1, equal_norms=not no_h2)
    if save is not None:
        with staged_files(save) as (stage,):
            inst.save(stage)
    r = evaluate(inst, fallback=not no_fallback, progress=not no_progress)
    click.echo(dumps(r.to_json()) if fmt == "json" else render(_bounds_table(r), fmt), nl=False)


@click.command()
@click.option("--grid", type=click.Path(path_type=Path), default=None, help="JSON list of parameter dicts.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the table to this new file (an existing one only with --force).")
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="Write a cost-vs-d PNG to this new file (an existing one only with --force).")
@click.option("--no-progress", is_flag=True)
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Dask worker processes (sweep engine); 0 runs in-process, serially.")
@click.option("--scheduler", default=None, help="Address of an existing Dask scheduler, tcp://HOST:PORT.")
@FORCE
@_fmt
def table(grid, out, plot, no_progress, workers, scheduler, force, fmt) -> None:
    """The bound-comparison table over a grid (default grid built in), through the sweep engine."""
    from sinkcheck.runtime.engine import scheduler_address, session
    from sinkcheck.sweep import grid as G

    targets = [OutputFile(out, "--out", force=force)] if out else []
    if plot:
        targets.append(OutputFile(plot, "--plot", force=force, suffixes=FIGURE_SUFFIXES))
    scheduler = scheduler_address(scheduler)
    g = G.load(grid) if grid else None
    with staged_files(*targets) as stages:
        with session(workers, scheduler) as client:
            tab, _ = G.grid_table(g, client, progress=not no_progress, plot=stages[-1] if plot else None)
        text = render(tab, fmt)
        if out:
            stages[0].write_text(text)
    if not out:
        click.echo(text, nl=False)
