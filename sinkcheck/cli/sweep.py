"""``sinkcheck sweep SPEC --out DIR`` and ``sinkcheck results DIR`` (issue #18; README, "Sweeps").

``sweep`` runs the tasks of SPEC that DIR's results database lacks (in-process with
``--workers 0``, on an embedded Dask LocalCluster by default, or on an existing scheduler with
``--scheduler``), commits each row as it finishes, and writes ``DIR/rows.jsonl``; ``--table`` also
writes the tables and figures, which ``results`` writes from the database alone.
"""

from __future__ import annotations

from pathlib import Path

import click

WORKERS_HELP = "Dask worker processes of the embedded LocalCluster (default: one per core); 0 runs in-process, serially."
SCHEDULER_HELP = "Address of an existing Dask scheduler, tcp://HOST:PORT (default: $DASK_SCHEDULER_ADDRESS)."


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Sweep directory: results database, export, counterexamples (created; reruns resume).")
@click.option("--workers", type=click.IntRange(min=0), default=None, help=WORKERS_HELP)
@click.option("--scheduler", default=None, help=SCHEDULER_HELP)
@click.option("--resources", default=None, help="Worker resources each training task asks for, e.g. GPU=1 (it then trains on cuda).")
@click.option("--table", "tables", is_flag=True, help="Also write the summary tables and figures (as `sinkcheck results`).")
@click.option("--no-progress", is_flag=True, help="No progress bar (on stderr).")
def sweep(spec, out, workers, scheduler, resources, tables, no_progress) -> None:
    """Run a sweep of tasks from a SPEC over many instances or training runs, on Dask, into a results database."""
    from sinkcheck.verify.sweep import engine, run
    from sinkcheck.verify.sweep.spec import read

    checked = read(spec)
    asks = engine.parse_resources(resources)
    run.check_out(out)
    counts = run.run_sweep(checked, out, workers, scheduler, asks, progress=not no_progress)
    names = run.write_views(out) if tables else []
    click.echo(f"{counts['tasks']} tasks: {counts['skipped']} already in {out}, {counts['done']} run now "
               f"({counts['failed']} failed); export {out / run.EXPORT}"
               + (f"; tables: {', '.join(names)}" if names else ""))


@click.command()
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
def results(directory) -> None:
    """Write the summary tables, figures and export of a sweep directory from its results database."""
    from sinkcheck.verify.sweep import run

    names = run.write_views(directory)
    click.echo(f"tables in {directory / 'tables'}: {', '.join(names)}; export {directory / run.EXPORT}")
