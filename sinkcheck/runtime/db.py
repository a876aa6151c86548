"""The results database of a sweep directory: one SQLite file (stdlib ``sqlite3``, no server).

One row per task, keyed by :attr:`~sinkcheck.runtime.tasks.Task.key`, committed when the task
finishes (so an interrupted sweep keeps every finished row). Columns:

- ``key``, ``kind``, ``params`` (canonical JSON), ``seed``, ``version``;
- ``status`` ("ok", or "failed" with ``error``: the exception's type and message, and
  ``error_record``: its typed record, :class:`~sinkcheck.runtime.outcome.TaskError`, with the data
  the exception carried, such as a bracket);
- ``result``: the task's whole result as canonical JSON (floats exactly; query it with SQLite's
  ``json_extract``); ``counterexample``: the ``.npz`` file saved for it, if any;
- ``wall_time``, ``worker``, ``finished``: when, where and how long. These differ from run to run,
  so :meth:`ResultsDB.export` leaves them out.

A table ``sinkcheck`` holds what the database is: ``tool`` (always "sinkcheck"), ``schema``, the
``version`` of sinkcheck that computes its rows and the ``specs`` (fingerprints) swept into it.
A database without that table is not sinkcheck's and is never written to. Only the client writes
the database; workers return results to it. Any SQLite or JSON failure is an InvalidInputError
naming the file.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from pathlib import Path

from sinkcheck.errors import InvalidInputError
from sinkcheck.runtime.outcome import Outcome
from sinkcheck.runtime.tasks import Task, canonical

FILENAME = "results.sqlite"
SCHEMA_VERSION = "3"
CANONICAL = ("key", "kind", "params", "seed", "version", "status", "error", "error_record", "result",
             "counterexample")
"""The columns of the export (wall time, worker and finishing time are left out)."""

SCHEMA = """
CREATE TABLE tasks (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, seed INTEGER NOT NULL,
    version TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('ok', 'failed')), error TEXT,
    error_record TEXT, result TEXT, counterexample TEXT, wall_time REAL, worker TEXT, finished TEXT
);
CREATE TABLE sinkcheck (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ResultsDB:
    """The database at ``DIR/results.sqlite``, a context manager.

    ``create``: make it when missing (a sweep); otherwise it must exist. ``readonly``: open it
    read-only (``sinkcheck results``: nothing is ever written, not even SQLite's journal mode)."""

    def __init__(self, directory: str | Path, create: bool = False, readonly: bool = False):
        self.path = Path(directory) / FILENAME
        self.readonly = readonly
        new = not self.path.exists()
        if new and not create:
            raise InvalidInputError(f"DIR: holds no sweep database {FILENAME} (got {str(directory)!r})")
        with self._errors():
            if readonly:
                self.conn = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=ro", uri=True, isolation_level=None)
            else:
                self.conn = sqlite3.connect(self.path, isolation_level=None)
            if new:
                self.conn.execute("PRAGMA journal_mode=WAL")  # a reader never blocks the writer
                with self.conn:
                    self.conn.execute("BEGIN")
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            self.conn.execute(statement)
                    self.conn.executemany("INSERT INTO sinkcheck VALUES (?, ?)",
                                          [("tool", "sinkcheck"), ("schema", SCHEMA_VERSION), ("specs", "[]")])
            self.meta = self._meta()
            if not readonly:
                self.conn.execute("PRAGMA synchronous=NORMAL")  # commits survive a killed process

    @contextlib.contextmanager
    def _errors(self):
        """SQLite and JSON failures as one-line errors naming the file."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise InvalidInputError(f"{self.path}: cannot use it as a sinkcheck results database ({exc}); move "
                                    "it away, or sweep into a new --out") from None
        except (ValueError, TypeError) as exc:  # a row whose JSON was damaged
            if isinstance(exc, InvalidInputError):
                raise
            raise InvalidInputError(f"{self.path}: holds a damaged row ({type(exc).__name__}: {exc}); sweep into a "
                                    "new --out") from None

    def _meta(self) -> dict[str, str]:
        names = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"tasks", "sinkcheck"} <= names:
            raise InvalidInputError(f"{self.path}: was not made by sinkcheck (it lacks the sinkcheck and tasks tables); "
                                    "it is left as it is: sweep into a new --out")
        meta = dict(self.conn.execute("SELECT name, value FROM sinkcheck").fetchall())
        if meta.get("tool") != "sinkcheck" or meta.get("schema") != SCHEMA_VERSION:
            raise InvalidInputError(f"{self.path}: is not a sinkcheck results database of schema {SCHEMA_VERSION} "
                                    f"(schema {meta.get('schema')!r}); sweep into a new --out")
        return meta

    def __enter__(self) -> "ResultsDB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    # ---- what the database is ------------------------------------------------------------------
    @property
    def specs(self) -> list[str]:
        """The fingerprints of the SPECs swept into the database."""
        with self._errors():
            return list(json.loads(self.meta.get("specs", "[]")))

    @property
    def version(self) -> str | None:
        """The sinkcheck version that computes the rows (None before the first sweep)."""
        return self.meta.get("version")

    def claim(self, fingerprint: str, version: str) -> None:
        """Record that the SPEC ``fingerprint`` is swept into the database by ``version``."""
        specs = sorted(set(self.specs) | {fingerprint})
        with self._errors(), self.conn:
            self.conn.execute("BEGIN")
            self.conn.executemany("INSERT OR REPLACE INTO sinkcheck VALUES (?, ?)",
                                  [("specs", json.dumps(specs)), ("version", version)])
        self.meta = {**self.meta, "specs": json.dumps(specs), "version": version}

    # ---- rows ----------------------------------------------------------------------------------
    def statuses(self) -> dict[str, str]:
        """The status ("ok" or "failed") of every finished task, by key."""
        with self._errors():
            return dict(self.conn.execute("SELECT key, status FROM tasks"))

    def kinds(self) -> set[str]:
        """The kinds of task in the database."""
        with self._errors():
            return {k for (k,) in self.conn.execute("SELECT DISTINCT kind FROM tasks")}

    def keys(self) -> set[str]:
        """The keys of every finished task."""
        return set(self.statuses())

    def write(self, task: Task, outcome: Outcome, counterexample: str | None = None) -> None:
        """Commit the row of ``task`` from an :func:`~sinkcheck.runtime.engine.execute` outcome
        (replacing the row of an earlier, failed attempt)."""
        error = outcome.error
        with self._errors(), self.conn:
            self.conn.execute("BEGIN")
            self.conn.execute(
                "INSERT OR REPLACE INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (task.key, task.kind, canonical(task.params), task.seed, outcome.version, outcome.status,
                 None if error is None else error.text, None if error is None else canonical(error.to_json()),
                 None if outcome.result is None else canonical(outcome.result),
                 counterexample, outcome.wall_time, outcome.worker,
                 time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())))

    def rows(self) -> list[dict]:
        """Every row (JSON columns decoded), sorted by key."""
        with self._errors():
            cur = self.conn.execute("SELECT * FROM tasks ORDER BY key")
            names = [c[0] for c in cur.description]
            out = []
            for values in cur:
                row = dict(zip(names, values))
                row["params"] = json.loads(row["params"])
                for column in ("result", "error_record"):
                    row[column] = None if row[column] is None else json.loads(row[column])
                out.append(row)
            return out

    def export(self) -> str:
        """The canonical export: one JSON line per row, sorted by key, the columns of :data:`CANONICAL`
        only, so the same sweep gives the same bytes however and wherever it ran."""
        return "".join(canonical({c: row[c] for c in CANONICAL}) + "\n" for row in self.rows())
