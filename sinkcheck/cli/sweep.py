"""``sinkcheck sweep SPEC --out DIR`` and ``sinkcheck results DIR`` (docs/sweeps.md).

``sweep`` runs the tasks of SPEC that DIR's results database lacks or holds as failed (in-process
with ``--workers 0``, on an embedded Dask LocalCluster by default, or on an existing scheduler with
``--scheduler``), commits each row as it finishes, and writes ``DIR/rows.jsonl``; ``--table`` also
writes the tables and figures, which ``results`` writes from the database alone.
"""

from __future__ import annotations

from pathlib import Path

import click

from sinkcheck.cli.options import FORCE

WORKERS_HELP = "Dask worker processes of the embedded LocalCluster (default: one per core); 0 runs in-process, serially."
SCHEDULER_HELP = "Address of an existing Dask scheduler, tcp://HOST:PORT (default: $DASK_SCHEDULER_ADDRESS)."


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Sweep directory: results database, export, counterexamples. New, empty, or an earlier "
                   "sweep of the same SPEC (reruns resume and retry failed tasks).")
@click.option("--workers", type=click.IntRange(min=0), default=None, help=WORKERS_HELP)
@click.option("--scheduler", default=None, help=SCHEDULER_HELP)
@click.option("--resources", default=None, help="Worker resources each training task asks for, e.g. GPU=1 (it then trains on cuda).")
@click.option("--table", "tables", is_flag=True, help="Also write the summary tables and figures (as `sinkcheck results`).")
@click.option("--extend", is_flag=True, help="Add this SPEC's tasks to a sweep directory of another SPEC (same kind).")
@click.option("--max-tasks", type=click.IntRange(min=1), default=None,
              help="Refuse a SPEC of more tasks than this (default 100000).")
@click.option("--strict", is_flag=True, help="Exit 1 when any task failed.")
@FORCE
@click.option("--no-progress", is_flag=True, help="No progress bar (on stderr).")
def sweep(spec, out, workers, scheduler, resources, tables, extend, max_tasks, strict, force, no_progress) -> None:
    """Run a sweep of tasks from a SPEC over many instances or training runs, on Dask, into a results database."""
    from sinkcheck.runtime import engine
    from sinkcheck.sweep import resume
    from sinkcheck.sweep.spec import MAX_TASKS, read

    target = resume.sweep_dir(out, force)
    scheduler = engine.scheduler_address(scheduler)
    asks = engine.parse_resources(resources)
    checked = read(spec, MAX_TASKS if max_tasks is None else max_tasks)
    counts = resume.run_sweep(checked, target, workers, scheduler, asks, progress=not no_progress, extend=extend)
    names = resume.write_views(target) if tables else []
    retried = f"; {counts['retried']} of them retried after failing before" if counts["retried"] else ""
    click.echo(f"{counts['tasks']} tasks: {counts['skipped']} already in {out}, {counts['done']} run now "
               f"({counts['failed']} failed{retried}); export {out / resume.EXPORT}"
               + (f"; tables: {', '.join(names)}" if names else ""))
    if strict and counts["failed"]:
        raise SystemExit(1)


@click.command()
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@FORCE
def results(directory, force) -> None:
    """Write the summary tables, figures and export of a sweep directory from its results database."""
    from sinkcheck.sweep import resume

    names = resume.write_views(directory, force)
    click.echo(f"tables in {directory / 'tables'}: {', '.join(names)}; export {directory / resume.EXPORT}")
