"""Claims of construct/sinkdiag_weights.py that no earlier test stated (found by mutation testing,
docs/mutation.md): the knobs each construction reports, their defaults, and the refusals.

Expected knobs are the margin-walk formulas of the module docstring evaluated by hand.
"""

from __future__ import annotations

import math

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
