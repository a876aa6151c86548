"""A sweep's SPEC (YAML or JSON): which kind of task, and the values of its parameters::

    kind: sinkdiag          # sinkdiag | trigger | dormant (sinkcheck.verify.sweep.kinds)
    seed: 0                 # the sweep seed (default 0)
    seeds: 3                # replicates per parameter point (default 1)
    parameters:             # a value or a list of values per parameter; lists are crossed
      C: [1, 2, 3]
      lam: [0.2, 1.0, 5.0]

With ``random: N`` the sweep draws N parameter points from a generator seeded by the sweep seed
instead of crossing lists: a list is then a uniform choice, and ``{range: [lo, hi]}`` (with
``log: true`` for a log-uniform draw) a uniform draw (integers inclusive). Every parameter point
is crossed with ``replicate`` = 0 .. seeds - 1, and each task's seed derives from the sweep seed
and its parameters (:func:`~sinkcheck.verify.sweep.tasks.derive_seed`).

Every rule is checked before any work: a bad SPEC raises InvalidInputError naming the key
(``kind``, ``seeds``, ``parameters.lam``, ...) and the rule.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError
from sinkcheck.verify.sweep import kinds as K
from sinkcheck.verify.sweep.tasks import Task, derive_seed

TOP_KEYS = ("kind", "parameters", "random", "seed", "seeds")


@dataclass(frozen=True)
class Spec:
    """A checked SPEC and its tasks (distinct, in expansion order)."""

    kind: str
    seed: int
    tasks: tuple[Task, ...]


def read(path: str | Path) -> Spec:
    """Read and check the SPEC file at ``path`` (``.yaml``/``.yml`` or ``.json``)."""
    path = Path(path)
    if path.suffix not in (".yaml", ".yml", ".json"):
        raise InvalidInputError(f"SPEC: must be a .yaml, .yml or .json file (got {path.name!r})")
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidInputError(f"SPEC: cannot read {path.name} ({exc.strerror})") from None
    import yaml

    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidInputError(f"SPEC: cannot parse {path.name} ({type(exc).__name__})") from None
    return parse(data)


def parse(data: Any) -> Spec:
    """Check a SPEC given as a mapping and expand it into tasks."""
    if not isinstance(data, dict):
        raise InvalidInputError("SPEC: must be a mapping with the keys kind, parameters, ... (got "
                                f"{type(data).__name__})")
    unknown = sorted(set(map(str, data)) - set(TOP_KEYS))
    if unknown:
        raise InvalidInputError(f"{unknown[0]}: unknown key of a SPEC (allowed: {', '.join(TOP_KEYS)})")
    if "kind" not in data:
        raise InvalidInputError(f"kind: is required (one of {', '.join(K.KIND_NAMES)})")
    if not isinstance(data["kind"], str):
        raise InvalidInputError(f"kind: must be one of {', '.join(K.KIND_NAMES)} (got {data['kind']!r})")
    kind = K.get(data["kind"])
    seed = validate.integer_at_least("seed", data.get("seed", 0), 0)
    seeds = validate.integer_at_least("seeds", data.get("seeds", 1), 1)
    params = data.get("parameters", {}) or {}
    if not isinstance(params, dict):
        raise InvalidInputError(f"parameters: must be a mapping of parameter names to values (got {params!r})")
    if "random" in data:
        points = _random_points(kind, params, validate.integer_at_least("random", data["random"], 1), seed)
    else:
        points = _grid_points(kind, params)
    tasks: dict[str, Task] = {}
    for point in points:
        for r in range(seeds):
            full = {**{k: p.default for k, p in kind.params.items()}, **point, "replicate": r}
            task = Task(kind.name, full, derive_seed(seed, kind.name, full))
            tasks.setdefault(task.key, task)
    return Spec(kind.name, seed, tuple(tasks.values()))


def _values(kind: K.Kind, name: str, value: Any) -> list:
    """The checked values of one parameter: a value, or a non-empty list of values."""
    if isinstance(value, dict):
        raise InvalidInputError(f"parameters.{name}: a range needs random: N (got {value!r})")
    values = value if isinstance(value, list) else [value]
    if not values:
        raise InvalidInputError(f"parameters.{name}: must be a value or a non-empty list (got [])")
    return [kind.check(name, v) for v in values]


def _grid_points(kind: K.Kind, params: dict) -> list[dict]:
    names = list(params)
    lists = [_values(kind, n, params[n]) for n in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*lists)]


def _random_points(kind: K.Kind, params: dict, count: int, seed: int) -> list[dict]:
    """``count`` points drawn by ``default_rng([seed, 1])``, parameters in sorted order."""
    draws = {n: _sampler(kind, n, params[n]) for n in sorted(params)}
    rng = np.random.default_rng([seed, 1])
    return [{n: kind.check(n, draw(rng)) for n, draw in draws.items()} for _ in range(count)]


def _sampler(kind: K.Kind, name: str, value: Any):
    """A function of a Generator drawing one value of parameter ``name``."""
    if not isinstance(value, dict):
        values = _values(kind, name, value)
        return lambda rng: values[int(rng.integers(len(values)))]
    label = f"parameters.{name}"
    extra = sorted(set(value) - {"range", "log"})
    if extra or "range" not in value:
        raise InvalidInputError(f"{label}: a range is {{range: [lo, hi], log: true|false}} (got {value!r})")
    bounds = value["range"]
    if not isinstance(bounds, list) or len(bounds) != 2:
        raise InvalidInputError(f"{label}.range: must be a list [lo, hi] (got {bounds!r})")
    lo, hi = (kind.check(name, b) for b in bounds)
    log = value.get("log", False)
    if not isinstance(log, bool):
        raise InvalidInputError(f"{label}.log: must be true or false (got {log!r})")
    if isinstance(lo, (bool, str)):
        raise InvalidInputError(f"{label}.range: a range needs a numeric parameter (got {bounds!r})")
    if not lo <= hi:
        raise InvalidInputError(f"{label}.range: must have lo <= hi (got {bounds!r})")
    if log and lo <= 0:
        raise InvalidInputError(f"{label}.range: a log range needs lo > 0 (got {bounds!r})")
    if isinstance(lo, int):
        if log:
            return lambda rng: int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))
        return lambda rng: int(rng.integers(lo, hi + 1))
    if log:
        return lambda rng: float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    return lambda rng: float(rng.uniform(lo, hi))
