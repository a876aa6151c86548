"""Many training runs of the trigger and dormant experiments as tasks of the engine
(:func:`sinkcheck.runtime.engine.run`), serially and in this process, in order.

A run that fails raises its own exception with its traceback (in one process it need not travel
as a :class:`~sinkcheck.runtime.outcome.TaskError`).
"""

from __future__ import annotations

from typing import Any

from sinkcheck.runtime import engine
from sinkcheck.runtime.outcome import Outcome
from sinkcheck.runtime.tasks import Task


def run_all(tasks: list[Task], work: engine.Work, progress: bool = False, desc: str = "runs") -> list[Any]:
    """``work(task.kind, task.params, task.seed, "cpu")`` for each task, in order; their results."""
    results: list[Any] = []
    raised: list[Exception] = []

    def keeping(kind: str, params: dict, seed: int, device: str) -> Any:
        try:
            return work(kind, params, seed, device)
        except Exception as exc:
            raised.append(exc)
            raise

    def collect(task: Task, outcome: Outcome) -> None:
        if outcome.status == "failed":
            raise raised[-1]
        results.append(outcome.result)

    engine.run(tasks, keeping, collect, client=None, progress=progress, desc=desc)
    return results
