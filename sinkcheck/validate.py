"""Argument checks shared by every public function: one place for each rule.

Each check raises :class:`~sinkcheck.errors.InvalidInputError` with a message of the form
``"<name>: <rule> (got <value>)"`` so that the CLI can print it as it is.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sinkcheck.errors import InvalidInputError


def _fail(name: str, rule: str, got: Any) -> InvalidInputError:
    return InvalidInputError(f"{name}: {rule} (got {got!r})")


def positive(name: str, value: float) -> float:
    """Return ``value`` as a float if it is finite and > 0."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _fail(name, "must be a real number", value) from None
    if not math.isfinite(x) or x <= 0:
        raise _fail(name, "must be finite and > 0", value)
    return x


def nonnegative(name: str, value: float) -> float:
    """Return ``value`` as a float if it is finite and >= 0."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _fail(name, "must be a real number", value) from None
    if not math.isfinite(x) or x < 0:
        raise _fail(name, "must be finite and >= 0", value)
    return x


def in_interval(name: str, value: float, lo: float, hi: float) -> float:
    """Return ``value`` as a float if lo <= value <= hi."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _fail(name, "must be a real number", value) from None
    if not (lo <= x <= hi):
        raise _fail(name, f"must lie in [{lo}, {hi}]", value)
    return x


def integer_at_least(name: str, value: int, minimum: int) -> int:
    """Return ``value`` as an int if it is an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _fail(name, f"must be an integer >= {minimum}", value)
    if value < minimum:
        raise _fail(name, f"must be an integer >= {minimum}", value)
    return int(value)


def finite_array(name: str, value: Any, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
    """Return ``value`` as a float64 array, checking finiteness and (optionally) its shape.

    ``shape`` may contain ``None`` for a free axis.
    """
    if np.iscomplexobj(value):
        raise _fail(name, "must be a real array", "complex entries")
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail(name, "must be a real array", type(value).__name__) from None
    if ndim is not None and a.ndim != ndim:
        raise _fail(name, f"must be a {ndim}-d array", f"shape {a.shape}")
    if shape is not None:
        if a.ndim != len(shape) or any(s is not None and s != t for s, t in zip(shape, a.shape)):
            want = tuple("*" if s is None else s for s in shape)
            raise _fail(name, f"must have shape {want}", f"shape {a.shape}")
    if a.size == 0:
        raise _fail(name, "must not be empty", f"shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise _fail(name, "must be finite (no NaN or inf)", "non-finite entries")
    return a


def choice(name: str, value: str, options: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``options``."""
    if value not in options:
        raise _fail(name, f"must be one of {', '.join(options)}", value)
    return value
