"""What an evaluation of Section 7's chain L <= OPT <= cost(construction) <= U returns, as data.

An :class:`Evaluation` (one instance, both patterns) holds a :class:`PatternResult` per pattern,
each with one :class:`Verdict` per :class:`Inequality`. Only ``to_json`` / ``from_json`` know the
JSON spelling (the stable keys of ``sinkcheck bounds --format json`` and of a sweep's rows);
Python code reads attributes and the enum. This module imports no solver, so the sweep's kinds and
views read rows without importing cvxpy.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

from sinkcheck.construct.sinkdiag.params import PATTERNS


class Inequality(StrEnum):
    """The four inequalities of the chain; each value is its stable JSON key."""

    LOWER_OPT = "lower<=opt"
    OPT_CONSTRUCTION = "opt<=construction"
    CONSTRUCTION_UPPER = "construction<=upper"
    OPT_UPPER = "opt<=upper"


def _number(x) -> float | None:
    """A number read back from JSON (a results row spells non-finite floats "inf", "-inf", "nan")."""
    return None if x is None else float(x)


@dataclass(frozen=True)
class Verdict:
    """The verdict on one inequality lhs <= rhs: "holds", "violated", "undecided" or "n/a", and its
    ``slack`` rhs - lhs (upper ends of brackets; None when not computed)."""

    verdict: str
    slack: float | None

    def to_json(self) -> dict:
        """``{"verdict": ..., "slack": ...}``."""
        return {"verdict": self.verdict, "slack": self.slack}

    @classmethod
    def from_json(cls, data: dict) -> "Verdict":
        """The verdict written by :meth:`to_json`."""
        return cls(data["verdict"], _number(data["slack"]))


_NUMBERS = ("lower", "opt", "opt_lower", "opt_upper", "construction", "upper", "value_cost", "lower_proved",
            "construction_min_margin")


@dataclass(frozen=True)
class PatternResult:
    """One pattern's chain, QK costs 2 ||W_QK||_* (see :mod:`sinkcheck.evaluate.sinkdiag_eval`):
    the bounds ``lower``, ``upper`` and their value part ``value_cost``, our ``lower_proved``, OPT
    (``opt``, None unless ``status`` is "optimal") within its certified bracket [``opt_lower``,
    ``opt_upper``], the ``solver`` that certified it, the ``construction``'s cost, smallest margin
    and validity, one :class:`Verdict` per :class:`Inequality`, and the ``error`` of a failed solve."""

    lower: float
    opt: float | None
    opt_lower: float | None
    opt_upper: float | None
    construction: float | None
    upper: float
    value_cost: float
    lower_proved: float
    status: str
    solver: str | None
    construction_min_margin: float | None
    construction_valid: bool
    verdicts: dict[Inequality, Verdict]
    error: str | None

    def verdict(self, inequality: Inequality) -> Verdict:
        """The verdict on ``inequality``."""
        return self.verdicts[inequality]

    def opt_cell(self) -> float | str:
        """OPT for a table: the number, "infeasible", "failed", or its bracket "[lo, hi]"."""
        if self.status in ("infeasible", "failed"):
            return self.status
        return self.opt if self.status == "optimal" else f"[{self.opt_lower:.6g}, {self.opt_upper:.6g}]"

    def to_json(self) -> dict:
        """The stable JSON of the pattern (keys in field order; verdicts by inequality)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["verdicts"] = {ineq.value: v.to_json() for ineq, v in self.verdicts.items()}
        return out

    @classmethod
    def from_json(cls, data: dict) -> "PatternResult":
        """The result written by :meth:`to_json`."""
        kw = {f.name: data[f.name] for f in fields(cls)}
        kw.update({k: _number(data[k]) for k in _NUMBERS})
        kw["verdicts"] = {Inequality(k): Verdict.from_json(v) for k, v in data["verdicts"].items()}
        return cls(**kw)


@dataclass(frozen=True)
class Evaluation:
    """Both patterns' chains on one instance: its summary ``instance``, ``fallback``, ``sink`` and
    ``diag``, the ratio OPT_diag / OPT_sink (None unless both are optimal), the cheaper pattern
    ``winner`` ("sink", "diag" or "undecided"), and, for a sweep's task, ``hypotheses``: per
    (pattern, inequality) of a stated bound, whether the instance satisfies the hypothesis its
    claim adds."""

    instance: dict
    fallback: bool
    sink: PatternResult
    diag: PatternResult
    ratio_diag_over_sink: float | None
    winner: str
    hypotheses: dict[tuple[str, Inequality], bool] | None = None

    def pattern(self, name: str) -> PatternResult:
        """The result of pattern ``name`` ("sink" or "diag")."""
        return {"sink": self.sink, "diag": self.diag}[name]

    def inside_hypothesis(self, pattern: str, inequality: Inequality) -> bool:
        """Whether the instance satisfies the hypothesis the claim of (``pattern``, ``inequality``)
        adds (True where no hypothesis is recorded for it)."""
        return (self.hypotheses or {}).get((pattern, inequality), True)

    def violations(self) -> list[tuple[str, Inequality, bool]]:
        """The violated inequalities as (pattern, inequality, inside the hypothesis), by pattern and
        then by the inequality's JSON key."""
        return [(p, ineq, self.inside_hypothesis(p, ineq)) for p in PATTERNS
                for ineq, v in sorted(self.pattern(p).verdicts.items(), key=lambda kv: kv[0].value)
                if v.verdict == "violated"]

    def to_json(self) -> dict:
        """The stable JSON of the evaluation (the output of ``sinkcheck bounds --format json``, a
        sweep's result column); ``hypotheses`` keyed "pattern inequality", only when recorded."""
        out = {"instance": self.instance, "fallback": self.fallback, "sink": self.sink.to_json(),
               "diag": self.diag.to_json(), "ratio_diag_over_sink": self.ratio_diag_over_sink, "winner": self.winner}
        if self.hypotheses is not None:
            out["hypotheses"] = {f"{p} {ineq.value}": ok for (p, ineq), ok in self.hypotheses.items()}
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Evaluation":
        """The evaluation written by :meth:`to_json` (also as read back from a results database)."""
        hyp = data.get("hypotheses")
        return cls(data["instance"], data["fallback"], PatternResult.from_json(data["sink"]),
                   PatternResult.from_json(data["diag"]), _number(data["ratio_diag_over_sink"]), data["winner"],
                   None if hyp is None else {(k.split(" ", 1)[0], Inequality(k.split(" ", 1)[1])): v
                                             for k, v in hyp.items()})
