"""The parameters of a Section 7 instance (Súkeník et al.): one schema of names, types, defaults
and rules, the rules joining them, and the one seeded sampler of the space the suite draws from.

:data:`PARAMS` gives each parameter its default (whose type is the parameter's type) and its
rule; :func:`check_arguments` checks a whole point (each rule, ``d >= 2C + 1 + r_eta``, the
H1 + H2 parity rule and the memory that sampling and evaluating need). The CLI (``sinkcheck
bounds``), the sweep's ``sinkdiag`` kind, the grid file of ``sinkcheck table``, the Hypothesis
strategies and the report's checks all read this module. :func:`draw_arguments` is the sampler,
written once against a :class:`Picker`: the report's checks drive it with a seeded Generator
(:class:`RngPicker`), the Hypothesis strategies with Hypothesis draws (so failures shrink).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from sinkcheck import validate
from sinkcheck.core.limits import check_memory
from sinkcheck.errors import InvalidInputError

PATTERNS = ("sink", "diag")
"""The two attention patterns whose costs Section 7 compares, in the order of every result."""

SCALES = (1e-6, 1e6)
"""The range allowed for lam, kappa and delta. The margin programs' coefficients grow like
lam^2 d and their solutions like kappa / lam; outside this range the LP and conic solvers' double
precision no longer reaches them (a solver error or a failed factorisation instead of a number)."""


def typed(label: str, value: Any, kind: type) -> Any:
    """``value`` checked to be of type ``kind`` (bool, int, float or str) and normalised (an int
    given for a float becomes that float), or InvalidInputError naming ``label``."""
    if kind is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise InvalidInputError(f"{label}: must be true or false (got {value!r})")
        return bool(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InvalidInputError(f"{label}: must be an integer (got {value!r})")
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise InvalidInputError(f"{label}: must be a number (got {value!r})")
        return float(value)
    if not isinstance(value, str):
        raise InvalidInputError(f"{label}: must be a string (got {value!r})")
    return value


@dataclass(frozen=True)
class Param:
    """A parameter's default (its type is the parameter's type) and its rule (raises naming it)."""

    default: Any
    rule: Callable[[str, Any], Any] | None = None

    def check(self, label: str, value: Any) -> Any:
        """``value`` type-checked, normalised and checked against the rule (errors name ``label``)."""
        value = typed(label, value, type(self.default))
        if self.rule is not None:
            self.rule(label, value)
        return value


def at_least(minimum: int) -> Callable[[str, Any], int]:
    """The rule "an integer >= minimum"."""
    return lambda label, v: validate.integer_at_least(label, v, minimum)


def scale(label: str, value: float) -> float:
    """The rule of lam, kappa and delta: positive and within :data:`SCALES`."""
    return validate.in_interval(label, validate.positive(label, value), *SCALES)


PARAMS = {
    "d": Param(32, at_least(3)), "C": Param(2, at_least(1)), "n": Param(2, at_least(2)),
    "r_eta": Param(2, at_least(1)), "lam": Param(1.0, scale), "kappa": Param(1.0, scale),
    "seed": Param(0, at_least(0)), "centred": Param(True), "equal_norms": Param(True),
    "delta": Param(1.0, scale), "decay": Param(0.0, validate.nonnegative), "fallback": Param(True),
}
"""Every parameter of a Section 7 point, its default and rule (``n``: the size of every group;
``centred`` is H1, ``equal_norms`` H2; ``fallback``: impose the group-absent copy constraints)."""

INSTANCE = tuple(k for k in PARAMS if k != "fallback")
"""The parameters of :func:`~sinkcheck.construct.sinkdiag.instance.sample_instance`."""


def memory_bytes(d: int, C: int, n: int | list[int], r_eta: int, evaluation: bool = True) -> float:
    """An upper estimate of the bytes that sampling an instance takes (its arrays: N + 2C + 1 +
    r_eta rows of length d, a few copies) and, with ``evaluation``, evaluating both patterns on it:
    the within-group differences and their P x P Gram matrix (P pairs), and per pattern the K
    margin constraints, each a row of r^2 coefficients in the program
    (:func:`sinkcheck.core.limits.check_memory`)."""
    r = 2 * C + 1 + r_eta
    if isinstance(n, (int, np.integer)):  # closed forms: no list of C sizes is made
        N, P = C * n, C * n * (n - 1) // 2
        K = N * (C + N) + C * (n + 1) * (1 + C + N - n)
    else:
        N, P = sum(n), sum(v * (v - 1) // 2 for v in n)
        K = N * (C + N) + sum((v + 1) * (1 + C + N - v) for v in n)
    sampling = 32.0 * d * (r + 2 * N)
    if not evaluation:
        return sampling
    return float(sampling + 16 * P * (d + P) + 200 * P + 32 * N * N + K * (200 + 8 * r * r))


def check_size(d: int, C: int, n: int | list[int], r_eta: int, evaluation: bool = True,
               label: str = "d, C, n, r_eta") -> None:
    """Refuse an instance whose sampling (and, with ``evaluation``, evaluation) cannot fit in this
    machine's memory, before anything is allocated."""
    sizes = [n] if isinstance(n, (int, np.integer)) else list(n)
    shown = sizes[0] if min(sizes) == max(sizes) else f"{min(sizes)}..{max(sizes)}"
    what = "with its margin programs" if evaluation else "(its arrays)"
    check_memory(label, memory_bytes(d, C, n, r_eta, evaluation),
                 f"the instance d = {d}, C = {C}, n = {shown}, r_eta = {r_eta} {what}")


def check_arguments(d: int, C: int, n: int | list[int], r_eta: int, lam: float, kappa: float, seed: int,
                    centred: bool = True, equal_norms: bool = True, delta: float = 1.0, decay: float = 0.0,
                    evaluation: bool = True) -> tuple:
    """The arguments of :func:`~sinkcheck.construct.sinkdiag.instance.sample_instance`, checked
    (each rule of :data:`PARAMS`, the rules joining them, and the memory that sampling and, with
    ``evaluation``, evaluating the instance need) and normalised: (d, C, sizes, r_eta, lam, kappa,
    delta, decay, seed). ``n`` may also be a list of C sizes. Raises InvalidInputError naming the
    parameter, before anything is drawn."""
    given = dict(d=d, C=C, r_eta=r_eta, lam=lam, kappa=kappa, seed=seed, centred=centred, equal_norms=equal_norms,
                 delta=delta, decay=decay)
    p = {k: PARAMS[k].rule(k, v) if PARAMS[k].rule else typed(k, v, bool) for k, v in given.items()}
    uniform = isinstance(n, (int, np.integer)) and not isinstance(n, bool)
    if uniform:
        n = PARAMS["n"].rule("n", n)
    else:
        n = [validate.integer_at_least("n", v, 2) for v in n]
        if len(n) != p["C"]:
            raise InvalidInputError(f"n: must be an int or a list of C = {p['C']} sizes (got {len(n)} sizes)")
    d, C, r_eta = p["d"], p["C"], p["r_eta"]
    if d < 2 * C + 1 + r_eta:
        raise InvalidInputError(f"d: must be >= 2C + 1 + r_eta = {2 * C + 1 + r_eta} (got {d})")
    check_size(d, C, n, r_eta, evaluation)
    sizes = [n] * C if uniform else n
    if p["centred"] and p["equal_norms"] and r_eta == 1 and any(v % 2 for v in sizes):
        raise InvalidInputError("n: H1 and H2 with r_eta = 1 need even group sizes (got odd n_c)")
    return d, C, sizes, r_eta, p["lam"], p["kappa"], p["delta"], p["decay"], p["seed"]


def check_point(point: dict) -> None:
    """The rules joining the parameters of a whole point (every key of :data:`PARAMS` but
    ``seed``, which a sweep derives), and its memory, before anything is drawn."""
    check_arguments(**{k: point[k] for k in INSTANCE if k != "seed"}, seed=0)


SEC7_LAMBDAS = (0.15, 0.4, 0.8, 1.0, 2.5, 6.0, 20.0)
"""The lam values drawn for Section 7, below the thresholds of the stated upper bounds (0.4945 for
U_diag, 1 for U_sink) and above those of the lower bounds (sqrt 15; 16 in the kept counterexamples)."""


class Picker(Protocol):
    """A source of draws: :func:`draw_arguments` is written once against it, and driven by a seeded
    numpy generator (:class:`RngPicker`, the report's checks) or by Hypothesis
    (:func:`sinkcheck.strategies.sec7_arguments`, which can then shrink each coordinate)."""

    def choice(self, options: Sequence) -> Any: ...

    def integer(self, lo: int, hi: int) -> int: ...  # lo..hi inclusive

    def boolean(self) -> bool: ...


class RngPicker:
    """:class:`Picker` of a numpy generator (a choice among one option draws nothing)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def choice(self, options: Sequence) -> Any:
        return options[0] if len(options) == 1 else options[int(self.rng.integers(len(options)))]

    def integer(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi + 1))

    def boolean(self) -> bool:
        return bool(self.rng.integers(2))


def draw_arguments(pick: Picker, C_values: Sequence[int], lambdas: Sequence[float],
                   kappas: Sequence[float] = (1.0,), h1: bool | None = None, h2: bool | None = None) -> dict:
    """One draw of :func:`~sinkcheck.construct.sinkdiag.instance.sample_instance`'s arguments, the
    suite's one sampler of the Section 7 space: C from ``C_values``, r_eta in 1..3, H1 (``centred``)
    and H2 (``equal_norms``) each either way unless ``h1`` / ``h2`` fix them, n in {2, 3} (n = 2 when
    H1, H2 and r_eta = 1, the only centred equal-norm case), lam from ``lambdas``, d = 2C + 1 + r_eta
    + (0..3), kappa from ``kappas`` and an instance seed in 0..10000."""
    C = int(pick.choice(tuple(C_values)))
    r_eta = pick.integer(1, 3)
    centred = pick.boolean() if h1 is None else h1
    equal = pick.boolean() if h2 is None else h2
    n = 2 if (centred and equal and r_eta == 1) else pick.integer(2, 3)
    lam = float(pick.choice(tuple(lambdas)))
    d = 2 * C + 1 + r_eta + pick.integer(0, 3)
    return dict(d=d, C=C, n=n, r_eta=r_eta, lam=lam, kappa=float(pick.choice(tuple(kappas))),
                seed=pick.integer(0, 10_000), centred=centred, equal_norms=equal)
