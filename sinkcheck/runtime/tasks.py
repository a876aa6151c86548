"""A task of a sweep: a kind, its parameters and its seed; its key and canonical JSON.

The seed of a task derives from the sweep seed and the task's parameters only (a hash), never
from its place in the sweep or the machine it ran on; the key hashes the kind, the parameters
and that seed, so a rerun of the same sweep finds the task's row (the sinkcheck version that
computed a row is stored beside it; a database holds the rows of one version only).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

SEED_BITS = 31
"""Derived seeds lie in [0, 2^31), valid for numpy, torch and every seeded function of the suite."""


def plain(obj: Any) -> Any:
    """``obj`` as plain JSON data: numpy scalars and arrays as Python numbers and lists, tuples as
    lists, non-finite floats as the strings "inf", "-inf" and "nan" (so the JSON is standard)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "tolist"):
        return plain(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def canonical(obj: Any) -> str:
    """Canonical JSON of ``obj``: sorted keys, no spaces, floats exactly (shortest repr)."""
    return json.dumps(plain(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _digest(obj: Any) -> str:
    return hashlib.sha256(canonical(obj).encode()).hexdigest()


def derive_seed(sweep_seed: int, kind: str, params: dict) -> int:
    """The seed of the task (``kind``, ``params``) in the sweep of seed ``sweep_seed``."""
    return int(_digest({"sweep_seed": sweep_seed, "kind": kind, "params": params})[:16], 16) % 2**SEED_BITS


@dataclass(frozen=True)
class Task:
    """One unit of work: ``params`` holds every parameter of its kind (defaults filled in)."""

    kind: str
    params: dict
    seed: int

    @property
    def key(self) -> str:
        """Hash of kind, parameters and seed (the row's primary key)."""
        return _digest({"kind": self.kind, "params": self.params, "seed": self.seed})[:24]
