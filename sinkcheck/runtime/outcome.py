"""What a task ends with: an :class:`Outcome`, and, when it failed, its :class:`TaskError`.

A task's exception travels from the worker to the client (and into the results database) as a
typed record: the exception's type name, its message and its data (the bracket ``lower``,
``upper`` of a :class:`~sinkcheck.errors.WideBracketError`, the ``lower`` of an
:class:`~sinkcheck.errors.IllConditionedError`), from which :meth:`TaskError.exception` rebuilds
the same sinkcheck exception with the same data. An exception of another library (a solver's own
error, MemoryError, a dead Dask worker) comes back as a :class:`~sinkcheck.errors.SolverError`
whose message starts with its type name.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from sinkcheck import errors
from sinkcheck.runtime.tasks import plain


def _data_names(cls: type) -> tuple[str, ...]:
    """The arguments of a sinkcheck exception's constructor after its message (its data)."""
    if cls.__init__ is Exception.__init__:
        return ()
    params = list(inspect.signature(cls.__init__).parameters.values())[2:]  # self, message
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def _sinkcheck_type(name: str) -> type | None:
    cls = getattr(errors, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, errors.SinkcheckError) else None


def _number(value: Any) -> Any:
    """A datum read back from JSON (non-finite floats are the strings "inf", "-inf", "nan")."""
    return float(value) if value in ("inf", "-inf", "nan") else value


@dataclass(frozen=True)
class TaskError:
    """A task's exception as data: ``type`` (the class name), ``message`` (on one line) and
    ``data`` (the constructor arguments after the message of a sinkcheck exception)."""

    type: str
    message: str
    data: dict = field(default_factory=dict)

    @classmethod
    def of(cls, exc: BaseException) -> "TaskError":
        """The record of ``exc``."""
        kind = type(exc)
        names = _data_names(kind) if _sinkcheck_type(kind.__name__) is kind else ()
        return cls(kind.__name__, " ".join(str(exc).split()), {n: getattr(exc, n) for n in names})

    @property
    def text(self) -> str:
        """``"Type: message"`` on one line (the error column of a results row)."""
        return f"{self.type}: {self.message}" if self.message else self.type

    def exception(self) -> Exception:
        """The exception again: the same sinkcheck type with the same message and data, or a
        SolverError naming the type of any other exception."""
        cls = _sinkcheck_type(self.type)
        if cls is None:
            return errors.SolverError(self.text)
        return cls(self.message, **{k: _number(v) for k, v in self.data.items()})

    def reraise(self):
        """Raise :meth:`exception` (without the worker's traceback, which did not travel)."""
        raise self.exception() from None

    def to_json(self) -> dict:
        """Plain JSON data (non-finite floats as strings, like every results row)."""
        return plain({"type": self.type, "message": self.message, "data": self.data})

    @classmethod
    def from_json(cls, data: dict) -> "TaskError":
        """The record written by :meth:`to_json`."""
        return cls(data["type"], data["message"], {k: _number(v) for k, v in data.get("data", {}).items()})


@dataclass(frozen=True)
class Outcome:
    """How one task ended: ``status`` "ok" with its ``result``, or "failed" with its ``error``; the
    sinkcheck ``version`` that ran it, its ``wall_time`` (seconds) and its ``worker``."""

    status: str
    result: Any
    error: TaskError | None
    version: str
    wall_time: float
    worker: str

    @property
    def ok(self) -> bool:
        """Whether the task returned a result."""
        return self.status == "ok"

    def value(self) -> Any:
        """The result, or the task's own exception raised again."""
        if self.error is not None:
            self.error.reraise()
        return self.result

