"""Every attention operation of the registry trained on the trigger and dormant tasks, as one grid
of the sweep's ``variant`` kind (:mod:`sinkcheck.sweep.kinds`; one run:
:func:`sinkcheck.experiments.variants_train.run`), through the engine
(:mod:`sinkcheck.runtime.engine`: serially, or on local Dask workers).

:func:`run_grid` trains the grid (results in grid order; with ``store`` a sweep directory whose
database keeps every finished run, so an interrupted grid resumes), :func:`summarise` pools the
seeds per (operation, task, heads).  A user's operation (``sinkcheck.variants.register``) reaches
Dask workers inside the work function: the ``Operation`` is pickled with it
(Dask's cloudpickle: a function of an importable module travels by name and must import on the
worker; one defined in ``__main__`` or a notebook travels by value) and registered there before its
runs (a user's operation stays registered in that worker until it exits).  The shipped
measurement of the default grid is ``sinkcheck/data/variants_runs.json`` and ``variants.csv``,
written by ``write(Path("sinkcheck/data"), run_grid(workers=2))`` (:func:`shipped`, :func:`differences`);
softmax1's rows were re-run alone (``run_grid(ops=["softmax1"])``) when its dropped column became its
slot, every other row kept byte for byte.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from sinkcheck import __version__, validate, variants
from sinkcheck.core.tables import Table
from sinkcheck.errors import InvalidInputError
from sinkcheck.runtime import engine
from sinkcheck.runtime.tasks import Task, plain
from sinkcheck.sweep import kinds as K

BUILTIN = tuple(name for name, op in variants.OPERATIONS.items() if op.builtin)
"""The built-in operations, in the registry's order."""

DEFAULT_GRID = {"ops": BUILTIN, "tasks": ("trigger", "dormant"), "heads": (1, 2), "seeds": (0, 1, 2)}
"""The default grid, every built-in operation x both tasks x 1 and 2 heads x seeds 0, 1, 2 (each
task at its own default steps), crossed in this order (:func:`points`)."""

METRICS = ("loss", "off_first", "off_slot", "off_content", "off_mass", "sink", "sink_raw", "sink_slot", "gate_off",
           "gate_on", "solved_score")
"""The numbers :func:`summarise` pools over seeds (mean, min, max)."""

RUNS = "variants_runs.json"
SUMMARY = "variants.csv"
"""The package-data files of the shipped default grid (its runs and :func:`summarise` as CSV)."""


def points(ops=None, tasks=DEFAULT_GRID["tasks"], heads=DEFAULT_GRID["heads"], seeds=DEFAULT_GRID["seeds"],
           steps: int | None = None) -> list[Task]:
    """The grid's tasks in grid order (operation, task, heads, seed), every parameter checked by the
    variant kind's rules (a bad one, or a size that cannot fit, is a one-line InvalidInputError)."""
    from sinkcheck.experiments.variants_train import TASKS

    ops = BUILTIN if ops is None else tuple(ops)
    if steps is not None:
        validate.integer_at_least("steps", steps, 1)
    for name, values in (("ops", ops), ("tasks", tasks), ("heads", heads), ("seeds", seeds)):
        if len(values) == 0:
            raise InvalidInputError(f"{name}: must list at least one value (got none)")
    for s in seeds:
        validate.integer_at_least("seeds", s, 0)
    out = []
    for op in ops:
        validate.choice("ops", op, tuple(variants.OPERATIONS))
        for task in tasks:
            validate.choice("tasks", task, TASKS)
            for H in heads:
                validate.integer_at_least("heads", H, 1)
                params = {"task": task, "attention": op, "heads": int(H), "steps": steps or _steps(task)}
                K.get("variant").joint(params)
                out += [Task("variant", params, int(s)) for s in seeds]
    return out


def _steps(task: str) -> int:
    from sinkcheck.experiments.variants_train import STEPS

    return STEPS[task]


def _work(kind: str, params: dict, seed: int, _device: str, device: str = "cpu", ops: tuple = ()) -> dict:
    for op in ops:  # a user's operations, registered where the task runs (a Dask worker's own registry)
        if variants.OPERATIONS.get(op.name) is not op:
            variants.register(op.name, op.torch_weights, normalises=op.normalises, summary=op.summary,
                              weights=op.weights, extra=op.extra, score=op.score, source=op.source,
                              dropped=op.dropped)
    return plain(K.run_task(kind, params, seed, device))


def run_grid(ops=None, tasks=DEFAULT_GRID["tasks"], heads=DEFAULT_GRID["heads"], seeds=DEFAULT_GRID["seeds"],
             steps: int | None = None, workers: int = 1, device: str = "cpu", progress: bool = True,
             store: str | Path | None = None) -> list[dict]:
    """Train every point of the grid (:func:`points`; ``steps`` None: each task's default) through
    the engine, ``workers`` > 1 on a local Dask cluster of that many processes; the results in grid
    order (plain JSON, :data:`~sinkcheck.experiments.variants_train.RESULT_KEYS`).  With ``store`` (a
    sweep directory, new or an earlier grid's) finished runs are read back and new ones committed as
    they finish.  A run that fails stops the grid with its own exception."""
    validate.integer_at_least("workers", workers, 1)
    validate.choice("device", device, ("cpu", "cuda"))
    todo = points(ops, tasks, heads, seeds, steps)
    user = tuple({t.params["attention"]: variants.get(t.params["attention"]) for t in todo
                  if not variants.get(t.params["attention"]).builtin}.values())
    work = functools.partial(_work, device=device, ops=user)
    done: dict[str, dict] = {}
    if store is None:
        _run(todo, work, workers, progress, lambda task, outcome: done.__setitem__(task.key, outcome.value()))
        return [done[t.key] for t in todo]
    from sinkcheck.core.marker import SWEEP_LOCK
    from sinkcheck.runtime.db import ResultsDB
    from sinkcheck.sweep.resume import check_database, sweep_dir

    out = sweep_dir(store, option="store")
    out.create()
    with out.lock(SWEEP_LOCK), ResultsDB(out.path, create=True) as db:
        check_database(db, SimpleNamespace(fingerprint="variants-grid", kind="variant"), out, extend=False)
        db.claim("variants-grid", __version__)
        done = {r["key"]: r["result"] for r in db.rows() if r["status"] == "ok"}

        def record(task: Task, outcome) -> None:
            db.write(task, outcome)
            done[task.key] = outcome.value()

        _run([t for t in todo if t.key not in done], work, workers, progress, record)
    return [done[t.key] for t in todo]


def _run(todo: list[Task], work, workers: int, progress: bool, collect) -> None:
    if not todo:
        return
    # the long (dormant) runs first, so that on several workers the last one to finish is a short run
    todo = sorted(todo, key=lambda t: t.params["task"] != "dormant")
    with engine.session(0 if workers == 1 else workers) as client:
        engine.run(todo, work, collect, client=client, progress=progress, desc="variants")


def summarise(runs: list[dict]) -> list[dict]:
    """One row per (attention, task, heads), in first-seen order: ``seeds`` (the count),
    ``mean_M``, ``min_M``, ``max_M`` over seeds for each M of :data:`METRICS` (None where the
    operation has no such number), and ``solved``, the fraction of seeds solved."""
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["attention"], r["task"], r["heads"]), []).append(r)
    rows = []
    for (name, task, H), rs in groups.items():
        row = {"attention": name, "task": task, "heads": H, "seeds": len(rs), "steps": rs[0]["steps"],
               "normalises": rs[0].get("normalises"), "extra": rs[0].get("extra")}
        for m in METRICS:
            vals = [float(r[m]) for r in rs if r.get(m) is not None]
            stats = (float(np.mean(vals)), min(vals), max(vals)) if vals else (None, None, None)
            row.update(zip((f"mean_{m}", f"min_{m}", f"max_{m}"), stats))
        row["solved"] = float(np.mean([bool(r["solved"]) for r in rs]))
        rows.append(row)
    return rows


def table(runs: list[dict]) -> Table:
    """:func:`summarise` as a :class:`~sinkcheck.core.tables.Table` (its keys as columns)."""
    rows = summarise(runs)
    columns = list(rows[0]) if rows else ["attention", "task", "heads"]
    return Table(columns, [[r[c] for c in columns] for r in rows],
                 title="Attention operations on the trigger and dormant tasks (means over seeds)")


def write(out: Path, runs: list[dict]) -> Table:
    """Write the runs (JSON, exact floats) and the summary (CSV) under ``out``; the summary."""
    from sinkcheck.core.tables import render

    t = table(runs)
    (out / SUMMARY).write_text(render(t, "csv"))
    (out / RUNS).write_text(json.dumps(plain({"version": 1, "runs": runs}), sort_keys=True, separators=(",", ":"))
                            + "\n")
    return t


def shipped() -> list[dict]:
    """The shipped runs of the default grid (plain JSON, grid order)."""
    return json.loads(resources.files("sinkcheck").joinpath("data", RUNS).read_text())["runs"]


def differences(result: dict, shipped_run: dict) -> list[str]:
    """What a re-run differs in from a shipped run (every key but ``device``; empty: identical)."""
    keys = sorted((set(result) | set(shipped_run)) - {"device"})
    mine, theirs = plain(result), plain(shipped_run)
    return [f"{k}: re-run {mine.get(k)!r}, shipped {theirs.get(k)!r}" for k in keys if mine.get(k) != theirs.get(k)]
