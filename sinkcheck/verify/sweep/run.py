"""A sweep into a directory: run the tasks its database lacks, save counterexamples, export.

``DIR`` holds ``results.sqlite`` (:mod:`.db`), ``rows.jsonl`` (the canonical export),
``counterexamples/<key>.npz`` (a sinkdiag instance with a violated inequality, inside or outside
the stated hypothesis; ``sinkcheck bounds --instance`` reloads it) and, from :func:`write_views`,
``tables/`` and ``figures/``. Rerunning the same SPEC computes only the missing rows.
"""

from __future__ import annotations

from pathlib import Path

from sinkcheck.core.files import check_parent, staged
from sinkcheck.core.tables import write_table
from sinkcheck.errors import InvalidInputError
from sinkcheck.verify.sweep import engine, views
from sinkcheck.verify.sweep import kinds as K
from sinkcheck.verify.sweep.db import FILENAME, ResultsDB
from sinkcheck.verify.sweep.spec import Spec
from sinkcheck.verify.sweep.tasks import Task

EXPORT = "rows.jsonl"
COUNTEREXAMPLES = "counterexamples"
TABLE_FORMATS = ("markdown", "csv", "latex", "json")


def check_out(out: Path) -> None:
    """Fail before any work when ``out`` cannot hold a sweep (a file, or a missing parent)."""
    check_parent(out)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"--out: must be a directory (got the file {str(out)!r})")


def save_counterexample(out: Path, task: Task, outcome: dict) -> str | None:
    """Write the instance of a sinkdiag task with a violated inequality (atomically; the file's
    bytes depend on the task only) and return its path relative to ``out``."""
    if task.kind != "sinkdiag" or outcome["status"] != "ok" or not K.violations(outcome["result"]):
        return None
    name = f"{COUNTEREXAMPLES}/{task.key}.npz"
    (out / COUNTEREXAMPLES).mkdir(exist_ok=True)
    with staged(out / name, directory=False) as (stage,):
        K.sinkdiag_instance(task.params, task.seed).save(stage)
    return name


def run_sweep(spec: Spec, out: Path, workers: int | None = None, scheduler: str | None = None,
              resources: dict | None = None, progress: bool = False, client=None) -> dict[str, int]:
    """Run the tasks of ``spec`` that ``out``'s database lacks, committing each row as it finishes,
    then write the export. Returns {"tasks", "skipped", "done", "failed"}. A Dask ``client`` given
    is used as it is (``workers`` and ``scheduler`` are then ignored)."""
    check_out(out)
    out.mkdir(exist_ok=True)
    with ResultsDB(out) as db:
        have = db.keys()
        pending = [t for t in spec.tasks if t.key not in have]
        counts = {"done": 0, "failed": 0}
        if pending:
            def record(task: Task, outcome: dict) -> None:
                db.write(task, outcome, save_counterexample(out, task, outcome))

            desc = f"sweep ({spec.kind})"
            if client is not None:
                counts = engine.run(pending, record, client, resources, progress, desc)
            else:
                with engine.session(workers, scheduler, resources) as own:
                    counts = engine.run(pending, record, own, resources, progress, desc)
        write_export(out, db)
    return {"tasks": len(spec.tasks), "skipped": len(spec.tasks) - len(pending), **counts}


def write_export(out: Path, db: ResultsDB) -> None:
    """``out/rows.jsonl``: the database's canonical export (replaced atomically)."""
    with staged(out / EXPORT, directory=False) as (stage,):
        stage.write_text(db.export())


def open_results(out: Path) -> ResultsDB:
    """The database of an existing sweep directory (InvalidInputError naming DIR when there is none)."""
    if not (Path(out) / FILENAME).is_file():
        raise InvalidInputError(f"DIR: holds no sweep database {FILENAME} (got {str(out)!r})")
    return ResultsDB(out)


def write_views(out: Path) -> list[str]:
    """Write the export, ``tables/`` (Markdown, CSV, LaTeX, JSON) and ``figures/`` of the sweep in
    ``out`` from its database; returns the table names."""
    with open_results(out) as db:
        write_export(out, db)
        rows = db.rows()
    tables, figures = views.tables(rows), views.figures(rows)
    with staged(out / "tables", out / "figures") as (tdir, fdir):
        for name, table in tables.items():
            write_table(table, tdir / name, TABLE_FORMATS)
        for name, draw in figures.items():
            draw(fdir / name)
    return list(tables)
