"""The results database of a sweep directory: one SQLite file (stdlib ``sqlite3``, no server).

One row per task, keyed by :attr:`~sinkcheck.verify.sweep.tasks.Task.key`, committed when the task
finishes (so an interrupted sweep keeps every finished row). Columns:

- ``key``, ``kind``, ``params`` (canonical JSON), ``seed``, ``version``;
- ``status`` ("ok", or "failed" with ``error``: the exception's type and message);
- ``result``: the task's whole result as canonical JSON (floats exactly; query it with SQLite's
  ``json_extract``); ``counterexample``: the ``.npz`` file saved for it, if any;
- ``wall_time``, ``worker``, ``finished``: when, where and how long. These differ from run to run,
  so :meth:`ResultsDB.export` leaves them out.

Only the client writes the database; workers return results to it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from sinkcheck.verify.sweep.tasks import Task, canonical

FILENAME = "results.sqlite"
CANONICAL = ("key", "kind", "params", "seed", "version", "status", "error", "result", "counterexample")
"""The columns of the export (wall time, worker and finishing time are left out)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, seed INTEGER NOT NULL,
    version TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('ok', 'failed')), error TEXT,
    result TEXT, counterexample TEXT, wall_time REAL, worker TEXT, finished TEXT
)"""


class ResultsDB:
    """The database at ``DIR/results.sqlite`` (created when missing). A context manager."""

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / FILENAME
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")  # a reader never blocks the writer
        self.conn.execute("PRAGMA synchronous=NORMAL")  # commits survive a killed process
        self.conn.execute(SCHEMA)

    def __enter__(self) -> "ResultsDB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def keys(self) -> set[str]:
        """The keys of every finished task."""
        return {k for (k,) in self.conn.execute("SELECT key FROM tasks")}

    def write(self, task: Task, outcome: dict, counterexample: str | None = None) -> None:
        """Commit the row of ``task`` from an :func:`~sinkcheck.verify.sweep.engine.execute` outcome."""
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.execute(
                "INSERT OR REPLACE INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (task.key, task.kind, canonical(task.params), task.seed, outcome["version"], outcome["status"],
                 outcome["error"], None if outcome["result"] is None else canonical(outcome["result"]),
                 counterexample, outcome["wall_time"], outcome["worker"],
                 time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())))

    def rows(self) -> list[dict]:
        """Every row (JSON columns decoded), sorted by key."""
        cur = self.conn.execute("SELECT * FROM tasks ORDER BY key")
        names = [c[0] for c in cur.description]
        out = []
        for values in cur:
            row = dict(zip(names, values))
            row["params"] = json.loads(row["params"])
            row["result"] = None if row["result"] is None else json.loads(row["result"])
            out.append(row)
        return out

    def export(self) -> str:
        """The canonical export: one JSON line per row, sorted by key, the columns of :data:`CANONICAL`
        only, so the same sweep gives the same bytes however and wherever it ran."""
        return "".join(canonical({c: row[c] for c in CANONICAL}) + "\n" for row in self.rows())
