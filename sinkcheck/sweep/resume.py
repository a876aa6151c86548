"""A sweep into a directory: run the tasks its database lacks, save counterexamples, export.

``DIR`` holds ``results.sqlite`` (:mod:`.db`), ``rows.jsonl`` (the canonical export),
``counterexamples/<key>.npz`` (a sinkdiag instance with a violated inequality, inside or outside
the stated hypothesis; ``sinkcheck bounds --instance`` reloads it) and, from :func:`write_views`,
``tables/`` and ``figures/``. ``DIR`` is an output directory of ``sinkcheck sweep``
(:class:`~sinkcheck.core.files.OutputDir`: new, empty, or an earlier sweep's; only sinkcheck's own
files in it are ever replaced); one sweep at a time runs into it (its lock file), and
``results`` may write the views while a sweep runs (it reads the database read-only).

Rerunning the same SPEC computes only the rows the database lacks and retries the failed ones; a
SPEC with other tasks is refused unless ``extend``, and so is a database of another sinkcheck
version (its rows would mix two versions' numbers).
"""

from __future__ import annotations

import io
from pathlib import Path

from sinkcheck import __version__
from sinkcheck.core.files import OutputDir
from sinkcheck.core.marker import SWEEP_LOCK
from sinkcheck.core.tables import write_table
from sinkcheck.errors import InvalidInputError
from sinkcheck.evaluate.sinkdiag_result import Evaluation
from sinkcheck.runtime import engine
from sinkcheck.sweep import views
from sinkcheck.sweep import kinds as K
from sinkcheck.runtime.db import ResultsDB
from sinkcheck.runtime.outcome import Outcome
from sinkcheck.sweep.spec import Spec
from sinkcheck.runtime.tasks import Task

EXPORT = "rows.jsonl"
COUNTEREXAMPLES = "counterexamples"
TABLE_FORMATS = ("markdown", "csv", "latex", "json")
COMMAND = "sweep"


def sweep_dir(out: str | Path | OutputDir, force: bool = False, option: str = "--out") -> OutputDir:
    """``out`` as the output directory of a sweep (checked: see :class:`~sinkcheck.core.files.OutputDir`)."""
    return out if isinstance(out, OutputDir) else OutputDir(out, COMMAND, option=option, force=force)


def save_counterexample(out: OutputDir, task: Task, outcome: Outcome) -> str | None:
    """Write the instance of a sinkdiag task with a violated inequality (atomically; the file's
    bytes depend on the task only) and return its path relative to ``out``."""
    if task.kind != "sinkdiag" or not outcome.ok or not Evaluation.from_json(outcome.result).violations():
        return None
    name = f"{COUNTEREXAMPLES}/{task.key}.npz"
    buffer = io.BytesIO()
    K.sinkdiag_instance(task.params, task.seed).save(buffer)
    out.write_new(name, buffer.getvalue())
    return name


def check_database(db: ResultsDB, spec: Spec, out: OutputDir, extend: bool) -> None:
    """Refuse a database of another sinkcheck version, or of other SPECs unless ``extend``."""
    if db.version is not None and db.version != __version__:
        raise InvalidInputError(f"{out.option}: {out.path} holds rows computed by sinkcheck {db.version}, and this is "
                                f"{__version__}; rows of two versions are not mixed: sweep into a new {out.option}")
    if db.specs and spec.fingerprint not in db.specs and not extend:
        raise InvalidInputError(f"{out.option}: {out.path} holds a sweep of another SPEC (tasks "
                                f"{', '.join(db.specs)}; this SPEC's are {spec.fingerprint}); sweep into a new "
                                f"{out.option}, or pass --extend to add this SPEC's tasks to it")
    kinds = db.kinds()
    if kinds - {spec.kind}:
        raise InvalidInputError(f"{out.option}: {out.path} holds {', '.join(sorted(kinds))} tasks, not {spec.kind} "
                                f"ones; sweep into a new {out.option}")


def run_sweep(spec: Spec, out: str | Path | OutputDir, workers: int | None = None, scheduler: str | None = None,
              resources: dict | None = None, progress: bool = False, client=None,
              extend: bool = False) -> dict[str, int]:
    """Run the tasks of ``spec`` that ``out``'s database lacks or holds as failed, committing each
    row as it finishes, then write the export. Returns {"tasks", "skipped", "retried", "done",
    "failed"}. A Dask ``client`` given is used as it is (``workers`` and ``scheduler`` are then
    ignored)."""
    out = sweep_dir(out)
    scheduler = engine.scheduler_address(scheduler) if client is None else None
    out.create()
    with out.lock(SWEEP_LOCK), ResultsDB(out.path, create=True) as db:
        check_database(db, spec, out, extend)
        db.claim(spec.fingerprint, __version__)
        status = db.statuses()
        pending = [t for t in spec.tasks if status.get(t.key) != "ok"]
        retried = sum(status.get(t.key) == "failed" for t in pending)
        counts = {"done": 0, "failed": 0}
        if pending:
            def record(task: Task, outcome: Outcome) -> None:
                db.write(task, outcome, save_counterexample(out, task, outcome))

            desc = f"sweep ({spec.kind})"
            if client is not None:
                counts = engine.run(pending, K.run_task, record, client, resources, progress, desc, K.trains)
            else:
                with engine.session(workers, scheduler, resources) as own:
                    counts = engine.run(pending, K.run_task, record, own, resources, progress, desc, K.trains)
        write_export(out, db)
    return {"tasks": len(spec.tasks), "skipped": len(spec.tasks) - len(pending), "retried": retried, **counts}


def write_export(out: OutputDir, db: ResultsDB) -> None:
    """``out/rows.jsonl``: the database's canonical export (replaced atomically)."""
    with out.staged(scope=(EXPORT,)) as stage:
        (stage / EXPORT).write_text(db.export())


def write_views(out: str | Path | OutputDir, force: bool = False) -> list[str]:
    """Write the export, ``tables/`` (Markdown, CSV, LaTeX, JSON) and ``figures/`` of the sweep in
    ``out`` from its database (opened read-only); returns the table names."""
    out = sweep_dir(out, force, option="DIR")
    if not out.path.is_dir():
        raise InvalidInputError(f"DIR: holds no sweep database (got {str(out.path)!r})")
    with ResultsDB(out.path, readonly=True) as db:  # a running sweep may go on writing rows
        rows, export = db.rows(), db.export()
    tables, figures = views.tables(rows), views.figures(rows)
    with out.staged(scope=(EXPORT, "tables", "figures")) as stage:
        (stage / EXPORT).write_text(export)
        for sub in ("tables", "figures"):
            (stage / sub).mkdir()
        for name, table in tables.items():
            write_table(table, stage / "tables" / name, TABLE_FORMATS)
        for name, draw in figures.items():
            draw(stage / "figures" / name)
    return list(tables)
