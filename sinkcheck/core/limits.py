"""Sizes refused before anything is allocated: one rule, the machine's memory (docs/commands.md, "Limits").

Each command estimates from the shapes it will build how many bytes a run needs (the estimates
live next to the code that allocates: the instance sampler, the models) and calls
:func:`check_memory` before it starts. The estimates are of the order of magnitude, erring high;
a run they let through that still runs out of memory ends with a one-line error, never a
traceback. ``SINKCHECK_MAX_MEMORY`` (bytes) lowers the limit, e.g. on a shared machine.
"""

from __future__ import annotations

import os

from sinkcheck.errors import InvalidInputError

ENV_LIMIT = "SINKCHECK_MAX_MEMORY"


def machine_memory() -> int:
    """The machine's physical memory in bytes (or ``SINKCHECK_MAX_MEMORY`` when that is smaller)."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    text = os.environ.get(ENV_LIMIT)
    if text:
        try:
            limit = int(float(text))
        except ValueError:
            raise InvalidInputError(f"{ENV_LIMIT}: must be a number of bytes (got {text!r})") from None
        if limit <= 0:
            raise InvalidInputError(f"{ENV_LIMIT}: must be a number of bytes > 0 (got {text!r})")
        total = min(total, limit)
    return total


def human(nbytes: float) -> str:
    """``nbytes`` in binary units, e.g. ``"23.4 GiB"``."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.3g} {unit}" if unit != "PiB" or value < 1e6 else f"{value:.2e} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def check_memory(label: str, nbytes: float, what: str) -> None:
    """Refuse a run whose estimated memory ``nbytes`` exceeds the machine's.

    Raises:
        InvalidInputError: ``"<label>: <what> needs about X of memory, more than this machine's Y"``.
    """
    total = machine_memory()
    if nbytes > total:
        raise InvalidInputError(f"{label}: {what} needs about {human(nbytes)} of memory, more than this "
                                f"machine's {human(total)}")
