"""Section 7 instances with explicit seeds through the sweep engine: the grid of ``sinkcheck table``
and the report's sampled Section 7 checks (serially and in-process unless given a client, so their
outputs are those of :func:`~sinkcheck.evaluate.sinkdiag_eval.evaluate` itself).

The path of ``sinkcheck table --grid FILE``, each module entered once: ``sinkcheck.cli.sinkdiag``
-> this module (:func:`load` reads the file through the schema
:mod:`sinkcheck.construct.sinkdiag.params`; :func:`grid_table` makes one sinkdiag task per point)
-> :mod:`sinkcheck.runtime.engine` -> :mod:`sinkcheck.sweep.kinds` ->
:mod:`sinkcheck.evaluate.sinkdiag_eval` -> :mod:`sinkcheck.construct.sinkdiag.min_cost` -> the
solvers; back here, :mod:`sinkcheck.evaluate.sinkdiag_table` formats the table and the plot.
"""

from __future__ import annotations

import json
from pathlib import Path

from sinkcheck.construct.sinkdiag.params import PARAMS, check_arguments
from sinkcheck.core.tables import Table
from sinkcheck.errors import InvalidInputError
from sinkcheck.evaluate.sinkdiag_result import Evaluation
from sinkcheck.evaluate.sinkdiag_table import DEFAULT_GRID, plot_cost_vs_d, table_of
from sinkcheck.runtime import engine
from sinkcheck.runtime.outcome import Outcome
from sinkcheck.runtime.tasks import Task
from sinkcheck.sweep import kinds as K

MAX_GRID_BYTES = 1_000_000
"""The largest grid file read."""

REQUIRED = ("d", "C", "r_eta", "lam")
"""The keys every grid entry gives (the others default as in :data:`~sinkcheck.construct.sinkdiag.params.PARAMS`)."""


def load(path: str | Path) -> list[dict]:
    """Read a JSON list of parameter objects, each checked as :func:`points` checks it."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_GRID_BYTES:
            raise InvalidInputError(f"--grid: must be at most {MAX_GRID_BYTES} bytes (got {path.stat().st_size})")
        grid = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"--grid: cannot read {path.name} as JSON ({type(exc).__name__})") from None
    if not isinstance(grid, list) or not grid or not all(isinstance(g, dict) for g in grid):
        raise InvalidInputError("--grid: must be a non-empty JSON list of parameter objects")
    points(grid)
    return grid


def points(grid: list[dict]) -> list[dict]:
    """The grid's entries with every parameter of the schema (defaults filled in), each checked
    before anything is solved: known keys, the required ones, true/false flags, and every rule of
    :func:`~sinkcheck.construct.sinkdiag.params.check_arguments`."""
    out = []
    for i, g in enumerate(grid):
        unknown = set(g) - set(PARAMS)
        if unknown:
            raise InvalidInputError(f"--grid: unknown keys {sorted(unknown)} in entry {i} (allowed: {sorted(PARAMS)})")
        missing = set(REQUIRED) - set(g)
        if missing:
            raise InvalidInputError(f"--grid: entry {i} lacks keys {sorted(missing)}")
        for flag in (k for k, p in PARAMS.items() if isinstance(p.default, bool)):
            if flag in g and not isinstance(g[flag], bool):
                raise InvalidInputError(f"--grid: {flag} in entry {i} must be true or false (got {g[flag]!r})")
        point = {**{k: p.default for k, p in PARAMS.items()}, **g}
        try:
            check_arguments(**{k: v for k, v in point.items() if k != "fallback"})
        except InvalidInputError as exc:
            raise InvalidInputError(f"--grid: entry {i}: {exc}") from None
        out.append(point)
    return out


def evaluate_points(points: list[dict], client=None, progress: bool = False,
                    desc: str = "sink vs diag") -> list[Outcome]:
    """The engine's outcomes of sinkdiag tasks, one per point (a dict of the schema's parameters
    with its instance ``seed``), in order."""
    tasks = [Task("sinkdiag", {k: v for k, v in p.items() if k != "seed"}, p["seed"]) for p in points]
    got: dict[str, Outcome] = {}
    engine.run(tasks, K.run_task, lambda t, o: got.__setitem__(t.key, o), client, progress=progress, desc=desc,
               trains=K.trains)
    return [got[t.key] for t in tasks]


def grid_table(grid: list[dict] | None = None, client=None, progress: bool = False,
               plot: str | Path | None = None) -> tuple[Table, list[Evaluation]]:
    """The bound-comparison table of ``grid`` (default :data:`~sinkcheck.evaluate.sinkdiag_table.DEFAULT_GRID`)
    and the raw evaluations, with the cost-against-d figure written to ``plot`` if given; the first
    failed row's own error is raised again."""
    grid = DEFAULT_GRID if grid is None else grid
    full = points(grid)
    raw = [Evaluation.from_json(outcome.value()) for outcome in evaluate_points(full, client, progress)]
    if plot is not None:
        plot_cost_vs_d(grid, raw, plot)
    return table_of(full, raw), raw
