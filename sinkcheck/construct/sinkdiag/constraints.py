"""The pairwise margin constraints of the sink and diagonal patterns (docs/sink_vs_diagonal.md).

Attention is causal with BOS first and every other token in any order and any subset, so each
pattern is the finite list of constraints ``s(x, target) - s(x, y) >= kappa`` for every key ``y``
that the query ``x`` can meet, with ``s(x, y) = x^T W y / sqrt(d)``. Tokens are indexed as in
:meth:`~sinkcheck.construct.sinkdiag.instance.SinkDiagInstance.tokens`: 0 is BOS, 1..C the copy queries, C+1..C+N the dormant tokens.

- dormant d_ci: target b (sink) or d_ci itself (diagonal); competitors: every other token;
- copy query c_c with its group present ("copy"): target each d_ci; competitors: b, every copy
  query (c_c included), every dormant token outside group c;
- copy query c_c with its group absent ("fallback"): target b (sink) or c_c (diagonal);
  competitors: the same keys as above with the target removed and b / c_c added back.

:func:`violations` is the validator (tracr style): it returns the violated constraints with their
margins and lets the caller decide what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sinkcheck import validate
from sinkcheck.solvers.program import Triples
from sinkcheck.construct.sinkdiag.instance import SinkDiagInstance
from sinkcheck.construct.sinkdiag.params import PATTERNS


@dataclass(frozen=True)
class Constraints(Triples):
    """Index triples (query, target, competitor) and the kind of each constraint."""

    kind: np.ndarray  # "dormant" | "copy" | "fallback"


def margin_constraints(inst: SinkDiagInstance, pattern: str, fallback: bool = True) -> Constraints:
    """All pairwise constraints of ``pattern`` ("sink" | "diag"); ``fallback=False`` drops the
    group-absent copy constraints."""
    validate.choice("pattern", pattern, PATTERNS)
    C, N = inst.C, inst.N
    copies = np.arange(1, C + 1)
    dormant = np.arange(C + 1, C + 1 + N)
    everyone = np.arange(1 + C + N)
    rows: list[tuple[int, int, int, str]] = []
    for k, g in zip(dormant, inst.group):
        target = 0 if pattern == "sink" else k
        rows += [(k, target, y, "dormant") for y in everyone if y != target]
    for c in range(C):
        q = 1 + c
        outside = dormant[inst.group != c]
        keys = np.concatenate([[0], copies, outside])
        for t in dormant[inst.group == c]:
            rows += [(q, t, y, "copy") for y in keys]
        if fallback:
            target = 0 if pattern == "sink" else q
            rows += [(q, target, y, "fallback") for y in keys if y != target]
    q, t, y, kind = zip(*rows)
    return Constraints(np.array(q), np.array(t), np.array(y), np.array(kind))


@dataclass(frozen=True)
class SpanForm:
    """W = basis @ M @ basis.T with orthonormal ``basis`` (d, r): ||W||_* = ||M||_*, cheap at large d."""

    basis: np.ndarray
    M: np.ndarray

    def full(self) -> np.ndarray:
        """The d x d matrix W."""
        return self.basis @ self.M @ self.basis.T


def all_scores(inst: SinkDiagInstance, W: np.ndarray | SpanForm) -> np.ndarray:
    """(T, T) scores s(x, y) = x^T W y / sqrt(d) between all tokens (rows: queries)."""
    Z = inst.tokens()
    if isinstance(W, SpanForm):
        Zr = Z @ W.basis
        return Zr @ W.M @ Zr.T / np.sqrt(inst.dim)
    W = validate.finite_array("W", W, shape=(inst.dim, inst.dim))
    return Z @ W @ Z.T / np.sqrt(inst.dim)


def constraint_margins(inst: SinkDiagInstance, W: np.ndarray | SpanForm, cons: Constraints) -> np.ndarray:
    """s(x, target) - s(x, y) - kappa for every constraint (>= 0 means met)."""
    S = all_scores(inst, W)
    return S[cons.query, cons.target] - S[cons.query, cons.competitor] - inst.kappa


@dataclass(frozen=True)
class Violation:
    """One violated constraint: its kind, the (query, target, competitor) token indices, margin."""

    kind: str
    query: int
    target: int
    competitor: int
    margin: float


def violations(inst: SinkDiagInstance, W: np.ndarray | SpanForm, pattern: str, fallback: bool = True,
               tol: float = 0.0) -> list[Violation]:
    """The constraints of ``pattern`` that ``W`` violates by more than ``tol`` (margin < -tol)."""
    tol = validate.nonnegative("tol", tol)
    cons = margin_constraints(inst, pattern, fallback)
    m = constraint_margins(inst, W, cons)
    bad = np.flatnonzero(m < -tol)
    return [Violation(str(cons.kind[i]), int(cons.query[i]), int(cons.target[i]), int(cons.competitor[i]),
                      float(m[i])) for i in bad]


def min_margin_by_kind(inst: SinkDiagInstance, W: np.ndarray | SpanForm, pattern: str, fallback: bool = True,
                       cons: Constraints | None = None) -> dict:
    """Smallest margin over each kind of constraint (evidence for reports); ``cons``: the pattern's
    constraints when the caller has built them already."""
    cons = margin_constraints(inst, pattern, fallback) if cons is None else cons
    m = constraint_margins(inst, W, cons)
    return {k: float(m[cons.kind == k].min()) for k in ("dormant", "copy", "fallback") if np.any(cons.kind == k)}
