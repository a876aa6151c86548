"""The registry of named checks that ``sinkcheck report`` runs.

A check is a function ``Context -> Certificate``, registered with :func:`check`.  Each module
listed in :data:`CHECK_MODULES` registers its checks when imported; the report imports them in
that order, so the order of the summary is fixed.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sinkcheck import claims, ledger
from sinkcheck.core.tables import Table

CHECK_VERDICTS = tuple(dict.fromkeys(v for kind in ledger.KINDS for v in ledger.KIND_VERDICTS[kind])) + ("skipped",)
"""Every verdict a check may give. A check gives one of its claim kind's vocabulary
(:data:`sinkcheck.ledger.KIND_VERDICTS`), or "skipped" (with the reason, e.g. an optional extra that is
not installed)."""

CHECK_MODULES = [
    "sinkcheck.report.checks.foundation",
    "sinkcheck.report.checks.switch",
    "sinkcheck.report.checks.sinkdiag",
    "sinkcheck.report.checks.smoothing",
    "sinkcheck.report.checks.trigger",
    "sinkcheck.report.checks.empirical",
    "sinkcheck.report.checks.gu_theory",
    "sinkcheck.report.checks.gu_inputs",
    "sinkcheck.report.checks.gu_training",
    "sinkcheck.report.checks.variants_theory",
    "sinkcheck.report.checks.variants",
]
"""Modules whose import registers checks, in report order."""


@dataclass
class Context:
    """What every check receives: the random seed, the profile, where to write figures, the device,
    and the samples that several checks share within one run (:meth:`shared`)."""

    seed: int = 0
    profile: str = "quick"
    out_dir: Path = Path("sinkcheck-report")
    device: str = "cpu"
    progress: bool = True
    samples: dict[str, Any] = field(default_factory=dict, repr=False)

    def shared(self, name: str, compute: Callable[[Context], Any]) -> Any:
        """``compute(self)``, computed once per context (one report run) and shared by the checks
        that ask for ``name``: a sample drawn with this context's seed and profile."""
        if name not in self.samples:
            self.samples[name] = compute(self)
        return self.samples[name]

    @property
    def figure_dir(self) -> Path:
        path = self.out_dir / "figures"
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass
class Certificate:
    """The outcome of one check: the claim it decides, what was measured, and the verdict.

    ``check`` is the check's name, which a registered check's body leaves to :func:`check`;
    ``claim`` is the claim id (:mod:`sinkcheck.claims`); a built-in check leaves it out and the
    ledger supplies it from the check's name, together with the statement and, for a verdict
    "holds_with_hypothesis", the added hypothesis, when the check gives none. A check of your own
    names its claim (any id) and gives both. ``evidence`` holds margins and counts (never just a
    boolean); ``tables`` are written by the report as Markdown, CSV and LaTeX; ``figures`` are file
    names under ``out_dir/figures``.
    """

    check: str = ""
    claim: str | None = None
    statement: str | None = None
    verdict: str = "skipped"
    parameters: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    added_hypothesis: str | None = None
    counterexample: dict[str, Any] | None = None
    tables: dict[str, Table] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.verdict not in CHECK_VERDICTS:
            raise ValueError(f"verdict: must be one of {', '.join(CHECK_VERDICTS)} (got {self.verdict!r})")
        if not self.check:  # built in a registered check's body: :func:`check` names it
            return
        if self.claim is None:
            record = claims.claim_of_check(self.check)
            self.claim = record.id
            allowed = ledger.KIND_VERDICTS[record.kind] + ("skipped",)
            if self.verdict not in allowed:
                raise ValueError(f"verdict: the check {self.check!r} decides a {record.kind} claim, whose verdicts "
                                 f"are {', '.join(allowed)} (got {self.verdict!r})")
            if self.statement is None:
                self.statement = record.checked_statement
            if self.verdict == "holds_with_hypothesis" and self.added_hypothesis is None:
                self.added_hypothesis = record.hypothesis
        if not self.statement:
            raise ValueError(f"statement: the check {self.check!r} of a claim outside the ledger must state it")
        if self.verdict == "holds_with_hypothesis" and not self.added_hypothesis:
            raise ValueError("added_hypothesis: a verdict 'holds_with_hypothesis' must name the hypothesis")


CheckFn = Callable[[Context], Certificate]
CHECKS: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check under ``name`` (unique), the one place its name is written: a certificate its
    body returns without ``check`` is given this name (and with it, its claim from the ledger)."""

    def deco(fn: CheckFn) -> CheckFn:
        @functools.wraps(fn)
        def named(ctx: Context) -> Certificate:
            cert = fn(ctx)
            if cert.check and cert.check != name:
                raise ValueError(f"check {name!r} returned the certificate of {cert.check!r}")
            return cert if cert.check else dataclasses.replace(cert, check=name)

        if name in CHECKS and getattr(CHECKS[name], "__wrapped__", None) is not fn:
            raise ValueError(f"check {name!r} is registered twice")
        CHECKS[name] = named
        return named

    return deco


def load_checks() -> dict[str, CheckFn]:
    """Import every module of :data:`CHECK_MODULES` and return the registry."""
    for module in CHECK_MODULES:
        importlib.import_module(module)
    return CHECKS


def library_versions() -> dict[str, str]:
    """Versions of the libraries a certificate depends on (recorded in every certificate)."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in ("sinkcheck", "numpy", "scipy", "sympy", "cvxpy", "torch", "hypothesis"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out
