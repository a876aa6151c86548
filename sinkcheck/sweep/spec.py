"""A sweep's SPEC (YAML or JSON): which kind of task, and the values of its parameters::

    kind: sinkdiag          # sinkdiag | trigger | dormant | variant (sinkcheck.sweep.kinds)
    seed: 0                 # the sweep seed (default 0)
    seeds: 3                # replicates per parameter point (default 1)
    parameters:             # a value or a list of values per parameter; lists are crossed
      C: [1, 2, 3]
      lam: [0.2, 1.0, 5.0]

With ``random: N`` the sweep draws N parameter points from a generator seeded by the sweep seed
instead of crossing lists: a list is then a uniform choice, and ``{range: [lo, hi]}`` (with
``log: true`` for a log-uniform draw) a uniform draw (integers inclusive); a drawn point that
breaks a rule joining its parameters is drawn again. A crossed grid must list runnable points only. Every parameter point
is crossed with ``replicate`` = 0 .. seeds - 1, and each task's seed derives from the sweep seed
and its parameters (:func:`~sinkcheck.runtime.tasks.derive_seed`).

Every rule is checked before any work: a bad SPEC raises InvalidInputError naming the key
(``kind``, ``seeds``, ``parameters.lam``, ...) and the rule. That includes the rules joining
parameters (``d >= 2C + 1 + r_eta``), sizes that cannot fit in memory, duplicate keys, and more
than ``max_tasks`` tasks (:data:`MAX_TASKS`; counted before any task is made).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError
from sinkcheck.sweep import kinds as K
from sinkcheck.runtime.tasks import Task, derive_seed

TOP_KEYS = ("kind", "parameters", "random", "seed", "seeds")

MAX_TASKS = 100_000
"""The most tasks a SPEC may expand to unless ``--max-tasks`` raises it (a million sinkdiag tasks
take days on a small cluster and their rows about 10 GB)."""

MAX_BYTES = 1_000_000
"""The largest SPEC file read (a SPEC is a few lines; lists of values are short)."""


@dataclass(frozen=True)
class Spec:
    """A checked SPEC, its canonical form and its tasks (distinct, in expansion order)."""

    kind: str
    seed: int
    tasks: tuple[Task, ...]

    @property
    def fingerprint(self) -> str:
        """A hash of the SPEC's set of task keys (two SPECs with the same tasks share it)."""
        return hashlib.sha256(" ".join(sorted(t.key for t in self.tasks)).encode()).hexdigest()[:16]


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a mapping that repeats a key (YAML would keep the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise InvalidInputError(f"{key}: appears twice in one mapping of the SPEC (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep)


def _unique_pairs(pairs: list) -> dict:
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise InvalidInputError(f"{k}: appears twice in one object of the SPEC")
        seen[k] = v
    return seen


def read(path: str | Path, max_tasks: int = MAX_TASKS) -> Spec:
    """Read and check the SPEC file at ``path`` (``.yaml``/``.yml`` or ``.json``)."""
    path = Path(path)
    if path.suffix not in (".yaml", ".yml", ".json"):
        raise InvalidInputError(f"SPEC: must be a .yaml, .yml or .json file (got {path.name!r})")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InvalidInputError(f"SPEC: must be at most {MAX_BYTES} bytes (got {path.stat().st_size} in {path.name})")
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"SPEC: cannot read {path.name} ({getattr(exc, 'strerror', None) or exc})") from None

    try:
        if path.suffix == ".json":
            data = json.loads(text, object_pairs_hook=_unique_pairs)
        else:
            data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"SPEC: cannot parse {path.name} ({type(exc).__name__})") from None
    return parse(data, max_tasks)


def count_tasks(kind: K.Kind, data: dict, params: dict, seeds: int) -> int:
    """The number of tasks of a SPEC before any is made (points x seeds; an upper count, as equal
    points are merged)."""
    if "random" in data:
        return validate.integer_at_least("random", data["random"], 1) * seeds
    points = 1
    for value in params.values():
        points *= len(value) if isinstance(value, list) else 1
    return points * seeds


def parse(data: Any, max_tasks: int = MAX_TASKS) -> Spec:
    """Check a SPEC given as a mapping and expand it into tasks (at most ``max_tasks``)."""
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
    count = count_tasks(kind, data, params, seeds)
    if count > max_tasks:
        raise InvalidInputError(f"seeds, parameters: the SPEC has {count} tasks, more than the limit of {max_tasks} "
                                "(raise it with --max-tasks)")
    if "random" in data:
        points = _random_points(kind, params, data["random"], seed)
    else:
        points = _grid_points(kind, params)
    tasks: dict[str, Task] = {}
    for point in points:
        full = {**{k: p.default for k, p in kind.params.items()}, **point}
        kind.check_point(full)
        for r in range(seeds):
            full_r = {**full, "replicate": r}
            task = Task(kind.name, full_r, derive_seed(seed, kind.name, full_r))
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


REDRAWS = 1000
"""How many times a random point that breaks a rule joining its parameters is drawn again."""


def _random_points(kind: K.Kind, params: dict, count: int, seed: int) -> list[dict]:
    """``count`` points drawn by ``default_rng([seed, 1])``, parameters in sorted order. A point that
    breaks a rule joining its parameters (``d >= 2C + 1 + r_eta``, ...) is drawn again, so the
    points follow the ranges conditioned on being runnable (still seeded); after :data:`REDRAWS`
    failed draws in a row the rule is the SPEC's error."""
    draws = {n: _sampler(kind, n, params[n]) for n in sorted(params)}
    defaults = {k: p.default for k, p in kind.params.items()}
    rng = np.random.default_rng([seed, 1])
    points = []
    for _ in range(count):
        for attempt in range(REDRAWS):
            point = {n: kind.check(n, draw(rng)) for n, draw in draws.items()}
            try:
                kind.check_point({**defaults, **point})
                break
            except InvalidInputError as exc:
                if attempt == REDRAWS - 1:
                    raise InvalidInputError(f"{exc} (every one of {REDRAWS} random draws broke it)") from None
        points.append(point)
    return points


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
        if hi >= 2**63 - 1:
            raise InvalidInputError(f"{label}.range: an integer range must end below 2^63 (got {bounds!r})")
        if log:
            return lambda rng: int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))
        return lambda rng: int(rng.integers(lo, hi + 1))
    if log:
        return lambda rng: float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    return lambda rng: float(rng.uniform(lo, hi))
