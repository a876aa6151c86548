"""Claims of construct/sinkdiag_weights.py that no earlier test stated (found by mutation testing,
docs/mutation.md): the knobs each construction reports, their defaults, and the refusals.

Expected knobs are the margin-walk formulas of the module docstring evaluated by hand.
"""

from __future__ import annotations

import math

import numpy as np

import pytest

from sinkcheck.construct.sinkdiag_instance import RANK_RTOL, sample_instance
from sinkcheck.construct.sinkdiag_weights import construction, diag_knobs, sink_knobs
from sinkcheck.errors import InvalidInputError


@pytest.fixture(scope="module")
def inst():
    # d = 16 (sqrt(d) = 4), lam = 0.5, kappa = 2, under H1 and H2 (Delta_diag > 0)
    return sample_instance(16, 2, 2, 2, 0.5, 2.0, seed=0)


def test_sink_construction_reports_its_pattern_and_the_knobs_of_the_margin_walk(inst):
    con = construction(inst, "sink")
    # fallback, lam < 1: a = kappa / (sqrt(d) lam) = 2 / 2 = 1, b = (kappa + a sqrt(d)) / (lam sqrt(d)) = 6 / 2 = 3
    assert con.pattern == "sink"
    assert con.params.keys() == {"a", "b"}
    assert con.params["a"] == pytest.approx(1.0, rel=1e-15) and con.params["b"] == pytest.approx(3.0, rel=1e-15)


def test_diag_construction_reports_its_pattern_and_the_seed_knobs(inst):
    con = construction(inst, "diag", fallback=False)
    # s = kappa / (lam^2 sqrt d) = 2, a = 0 without fallback, b = 2 kappa / (lam sqrt d) = 2,
    # alpha = 2 kappa sqrt(d) / Delta_diag = 16 / Delta_diag
    assert con.pattern == "diag"
    assert con.params.keys() == {"s", "a", "b", "alpha_diag"}
    assert [con.params[k] for k in ("s", "a", "b")] == pytest.approx([2.0, 0.0, 2.0], rel=1e-15)
    assert con.params["alpha_diag"] == pytest.approx(16 / inst.Delta_diag, rel=1e-15)


def test_knobs_by_default_are_those_with_the_fallback_constraints():
    # sink at lam = 2 >= 1: a = kappa / (sqrt(d) min(lam, 1)) = 2 / 3 (without fallback it would be 1 / 3),
    # b = (kappa + a sqrt(d)) / (lam sqrt(d)) = 4 / 6; diag: a = kappa / sqrt(d) = 2 / 3 (0 without fallback)
    a, b = sink_knobs(9, 2.0, 2.0)
    assert a == pytest.approx(2 / 3, rel=1e-15) and b == pytest.approx(2 / 3, rel=1e-15)
    assert diag_knobs(9, 0.5, 2.0, 0.1)["a"] == pytest.approx(2 / 3, rel=1e-15)


def test_a_Delta_diag_at_the_rank_tolerance_counts_as_zero_and_is_refused():
    with pytest.raises(InvalidInputError, match=r"^Delta_diag: must be > 0"):
        diag_knobs(9, 0.5, 2.0, RANK_RTOL)
    assert math.isfinite(diag_knobs(9, 0.5, 2.0, 2 * RANK_RTOL)["alpha_diag"])


def test_an_unknown_pattern_is_refused_naming_the_two_patterns(inst):
    with pytest.raises(InvalidInputError, match=r"^pattern: must be one of sink, diag \(got 'band'\)"):
        construction(inst, "band")


# ---- construct/sinkdiag_constraints.py -----------------------------------------------------------
from sinkcheck.construct import sinkdiag_constraints as sc  # noqa: E402


def _hand_constraints(C, group, pattern, fallback):
    """The constraint list of the module docstring, written out by hand."""
    N = len(group)
    copies, dormant = list(range(1, C + 1)), list(range(C + 1, C + 1 + N))
    rows = set()
    for k in dormant:
        target = 0 if pattern == "sink" else k
        rows |= {(k, target, y, "dormant") for y in range(1 + C + N) if y != target}
    for c in range(C):
        q = 1 + c
        keys = [0] + copies + [k for k, g in zip(dormant, group) if g != c]
        rows |= {(q, t, y, "copy") for t, g in zip(dormant, group) if g == c for y in keys}
        if fallback:
            target = 0 if pattern == "sink" else q
            rows |= {(q, target, y, "fallback") for y in keys if y != target}
    return rows


@pytest.mark.parametrize("pattern", ["sink", "diag"])
def test_the_constraints_are_exactly_the_documented_list_once_each_with_fallback_by_default(inst, pattern):
    cons = sc.margin_constraints(inst, pattern)
    got = list(zip(cons.query.tolist(), cons.target.tolist(), cons.competitor.tolist(), cons.kind.tolist()))
    assert len(got) == len(set(got)) and set(got) == _hand_constraints(inst.C, list(inst.group), pattern, True)
    no_fb = sc.margin_constraints(inst, pattern, fallback=False)
    assert "fallback" not in set(no_fb.kind.tolist()) and len(no_fb) == len(_hand_constraints(inst.C, list(inst.group), pattern, False))


def test_a_W_built_without_fallback_violates_exactly_the_fallback_constraints_at_lam_above_1():
    inst4 = sample_instance(9, 2, 2, 1, 4.0, 1.0, seed=0)
    W = construction(inst4, "sink", fallback=False).form.full()
    assert sc.violations(inst4, W, "sink", fallback=False, tol=1e-9) == []  # binding margins are 0 up to rounding
    bad = sc.violations(inst4, W, "sink", tol=1e-9)  # fallback constraints are checked by default
    assert bad and {v.kind for v in bad} == {"fallback"} and all(1 <= v.query <= 2 and v.target == 0 for v in bad)
    # each reported margin is s(q, target) - s(q, competitor) - kappa, recomputed from the tokens
    Z = inst4.tokens()
    S = Z @ W @ Z.T / np.sqrt(inst4.dim)
    for v in bad:
        assert v.margin == pytest.approx(S[v.query, v.target] - S[v.query, v.competitor] - 1.0, abs=1e-12)
        assert v.margin < 0 and v.competitor != 0
    mins = sc.min_margin_by_kind(inst4, W, "sink")
    assert mins.keys() == {"dormant", "copy", "fallback"}
    assert mins["fallback"] < 0 <= min(mins["dormant"], mins["copy"]) + 1e-12


def test_constraint_helpers_refuse_bad_arguments_naming_them(inst):
    with pytest.raises(InvalidInputError, match=r"^pattern: must be one of sink, diag"):
        sc.margin_constraints(inst, "band")
    with pytest.raises(InvalidInputError, match=r"^W: must have shape"):
        sc.all_scores(inst, np.zeros((inst.dim + 1, inst.dim + 1)))
    with pytest.raises(InvalidInputError, match=r"^tol: must be finite and >= 0"):
        sc.violations(inst, np.zeros((inst.dim, inst.dim)), "sink", tol=-1.0)
