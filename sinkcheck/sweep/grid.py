"""Section 7 instances with explicit seeds through the sweep engine: what ``sinkcheck table`` and
the report's sampled Section 7 checks evaluate (serially and in-process unless given a client, so
their outputs are those of :func:`~sinkcheck.evaluate.sinkdiag_eval.evaluate` itself)."""

from __future__ import annotations

from sinkcheck.core.tables import Table
from sinkcheck.errors import InvalidInputError, SolverError
from sinkcheck.evaluate.sinkdiag_table import entries, table_of
from sinkcheck.runtime import engine
from sinkcheck.sweep import kinds as K
from sinkcheck.runtime.tasks import Task


def evaluate_entries(rows: list[tuple[dict, bool]], client=None, progress: bool = False,
                     desc: str = "sink vs diag") -> list[dict]:
    """The engine's outcomes of (sample_instance arguments with ``seed``, fallback) pairs, in order."""
    tasks = [Task("sinkdiag", {**{k: v for k, v in kw.items() if k != "seed"}, "fallback": fb}, kw["seed"])
             for kw, fb in rows]
    got: dict[str, dict] = {}
    engine.run(tasks, K.run_task, lambda t, o: got.__setitem__(t.key, o), client, progress=progress, desc=desc,
               trains=K.trains)
    return [got[t.key] for t in tasks]


def reraise(outcome: dict) -> None:
    """Raise the error a failed outcome carries again (InvalidInputError, else SolverError)."""
    name, _, message = outcome["error"].partition(": ")
    raise (InvalidInputError if name == "InvalidInputError" else SolverError)(message)


def grid_table(grid: list[dict], client=None, progress: bool = False) -> tuple[Table, list[dict]]:
    """The bound-comparison table of ``grid`` (:mod:`~sinkcheck.evaluate.sinkdiag_table`) and
    the raw evaluations; the first failed row's error is raised."""
    rows = entries(grid)
    raw = []
    for outcome in evaluate_entries(rows, client, progress):
        if outcome["status"] == "failed":
            reraise(outcome)
        raw.append(outcome["result"])
    return table_of(rows, raw), raw
