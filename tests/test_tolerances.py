"""Derived float tolerances (sinkcheck.core.tolerances) and the margins the checks report."""

import pytest

from sinkcheck.errors import InvalidInputError
from sinkcheck.report.checks import foundation as checks_foundation
from sinkcheck.report.checks import smoothing as checks_smoothing
from sinkcheck.report.registry import Context
from sinkcheck.core.tolerances import U, gamma, margin, rounding_tolerance


def test_gamma_is_higham_n_u_over_one_minus_n_u():
    assert U == 2.0**-53
    assert gamma(10) == pytest.approx(10 * 2.0**-53 / (1 - 10 * 2.0**-53), rel=1e-15)


def test_gamma_rejects_n_with_n_u_at_least_one():
    with pytest.raises(InvalidInputError, match=r"^n: must satisfy n u < 1"):
        gamma(2**53)


def test_margin_reports_error_tolerance_and_their_difference():
    assert margin(1e-15, 1e-13) == {"error": 1e-15, "tolerance": 1e-13, "margin": 1e-13 - 1e-15,
                                    "fraction_of_tolerance_used": pytest.approx(0.01)}


def test_cost_identity_attains_twice_the_nuclear_norm_within_the_derived_rounding_tolerance(tmp_path):
    ev = checks_foundation.cost_identity(Context(seed=0, profile="quick", out_dir=tmp_path, progress=False)).evidence
    assert ev["attainment"]["tolerance"] == rounding_tolerance(136) and ev["attainment"]["margin"] > 0
    assert ev["attainment"]["tolerance"] < 1e-12  # the derived tolerance is far below the old 1e-9


def test_closed_forms_match_exact_moments_within_the_derived_rounding_tolerance(tmp_path):
    cert = checks_smoothing.exact_vs_closed(Context(seed=0, profile="quick", out_dir=tmp_path, progress=False))
    assert cert.verdict == "holds" and 0 < cert.evidence["max_fraction_of_tolerance_used"] <= 1.0
    assert cert.evidence["largest_tolerance_used"] < 1e-9
