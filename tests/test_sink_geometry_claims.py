"""Claims of theory/sink_geometry.py that no earlier test stated (found by mutation testing,
docs/mutation.md)."""

import numpy as np
import pytest

from sinkcheck.construct.sink_lp import verify_certificate, visible_keys
from sinkcheck.errors import InvalidInputError, SolverError
from sinkcheck.construct import sink_hulls as hulls
from sinkcheck.theory import sink_geometry as sg


def test_the_symbolic_steps_of_theorems_g_and_c_have_their_report_names():
    # the names appear as evidence keys in the report's certificates
    assert list(sg.symbolic_steps()) == ["G_regrouping", "G_rank_one_score", "G_positive_combination",
                                         "C_cosine_bounds", "C_gamma_0_lower"]


# ---- cosine_gamma_bounds: rho (1 - c) <= gamma_0 <= rho sqrt(2 (1 - c)), by hand ------------------------
@pytest.mark.parametrize("rho, c, by_hand", [(2.0, 0.5, (1.0, 2.0)), (1.0, -1.0, (2.0, 2.0)), (3.0, 1.0, (0.0, 0.0)),
                                             (0.5, -0.125, (0.5625, 0.75))])
def test_the_cosine_bounds_on_gamma_0_are_the_stated_formulas(rho, c, by_hand):
    assert sg.cosine_gamma_bounds(rho, c) == pytest.approx(by_hand, rel=1e-15)


@pytest.mark.parametrize("rho, c, name", [(1.0, 1.5, "cos_max"), (1.0, -1.5, "cos_max"), (0.0, 0.5, "rho")])
def test_a_cosine_outside_minus_1_to_1_or_a_non_positive_norm_is_refused_naming_it(rho, c, name):
    with pytest.raises(InvalidInputError, match=rf"^{name}: "):
        sg.cosine_gamma_bounds(rho, c)


# ---- Theorem G's certificate and witness --------------------------------------------------------------
SINK_IS_A_LATER_KEY = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
"""Query 1 alone; z_0 = z_2: the sink coincides with a key the query sees only under the full mask."""

ANTIPODAL = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
"""Queries 1, 2 antipodal: (a) fails, (b) holds (z_0 is off the segment of the keys)."""


def test_the_full_mask_certificate_uses_a_key_after_the_last_query():
    pairs, y = hulls.geometric_certificate(SINK_IS_A_LATER_KEY, [1], mask="full")
    assert pairs == [(1, 1), (1, 2)] and y.tolist() == [0.0, 1.0]
    assert verify_certificate(SINK_IS_A_LATER_KEY, pairs, y) == 0.0
    with pytest.raises(InvalidInputError, match=r"^J: conditions \(a\) and \(b\) hold, so the sink is representable"):
        hulls.geometric_certificate(SINK_IS_A_LATER_KEY, [1])  # causal: query 1 never sees z_2


@pytest.mark.parametrize("mask", ["causal", "full"])
def test_a_certificate_pairs_each_query_only_with_keys_it_sees(mask):
    pairs, y = hulls.geometric_certificate(ANTIPODAL, [1, 2], mask=mask)
    assert all(j in visible_keys(i, 2, mask) for i, j in pairs) and verify_certificate(ANTIPODAL, pairs, y) < 1e-12


def test_the_certificate_and_the_witness_default_to_the_causal_mask_and_kappa_1():
    pairs, y = hulls.geometric_certificate(ANTIPODAL, [1, 2])
    pairs_c, y_c = hulls.geometric_certificate(ANTIPODAL, [1, 2], mask="causal")
    assert pairs == pairs_c and np.array_equal(y, y_c)
    Z = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, -0.5], [0.5, 0.6]])  # key 3 follows the queries: masks differ
    W = hulls.rank_one_witness(Z, [1, 2])
    assert np.array_equal(W, hulls.rank_one_witness(Z, [1, 2], 1.0, "causal"))
    assert not np.allclose(W, hulls.rank_one_witness(Z, [1, 2], 1.0, "full"))


@pytest.mark.parametrize("Z, J", [(ANTIPODAL, [1, 2]), (SINK_IS_A_LATER_KEY, [1])], ids=["a fails", "b fails"])
def test_the_witness_is_refused_when_a_condition_of_theorem_g_fails(Z, J):
    with pytest.raises(InvalidInputError, match=r"^Z: conditions \(a\)/\(b\) fail"):
        hulls.rank_one_witness(Z, J, mask="full")


@pytest.mark.parametrize("which", ["gamma_Q", "gamma_0"])
def test_the_witness_refuses_a_gamma_below_1e_minus_9_of_the_scale_of_Z(which):
    # at scale 1e6 a distance 1e-4 is 1e-10 relative: degenerate, although far above 1e-9 absolute
    s = 1e6
    if which == "gamma_Q":  # the query segment passes 1e-10 s above the origin
        Z = s * np.array([[0.0, 1.0], [1.0, 1e-10], [-1.0, 1e-10]])
    else:  # the sink sits 1e-10 s above the key segment
        Z = s * np.array([[0.0, 1.0 + 1e-10], [1.0, 1.0], [-1.0, 1.0]])
    g = hulls.gammas(Z, [1, 2], mask="full")
    assert g[which] == pytest.approx(1e-10 * s, rel=1e-3)
    with pytest.raises(InvalidInputError, match=r"^Z: conditions \(a\)/\(b\) fail"):
        hulls.rank_one_witness(Z, [1, 2], mask="full")


LATER_KEY = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, -0.5], [0.5, 0.6]])
"""Queries 1, 2 and a key 3 after them: the causal mask's K_max is {1, 2}, the full mask's {1, 2, 3}."""


@pytest.mark.parametrize("fn", [hulls.alignment_condition, hulls.gammas])
def test_the_conditions_and_gammas_read_the_keys_of_the_mask_causal_by_default(fn):
    assert fn(LATER_KEY, [1, 2])["K_max"] == [1, 2] == fn(LATER_KEY, [1, 2], mask="causal")["K_max"]
    assert fn(LATER_KEY, [1, 2], mask="full")["K_max"] == [1, 2, 3]


@pytest.mark.parametrize("fn", [hulls.alignment_condition, hulls.gammas, hulls.geometric_certificate, hulls.rank_one_witness])
def test_an_unknown_mask_is_refused_naming_it(fn):
    with pytest.raises(InvalidInputError, match=r"^mask: must be one of causal, full"):
        fn(LATER_KEY, [1, 2], mask="sideways")


def test_gamma_0_is_the_distance_to_the_keys_of_the_mask():
    # causal: keys z_1 = (1, 0), z_2 = (1, -0.5): nearest point to z_0 = (0, 1) is z_1, distance sqrt(2);
    # full adds z_3 = (0.5, 0.6), at distance sqrt(0.25 + 0.16) from z_0 (nearer than the segments)
    assert hulls.gammas(LATER_KEY, [1, 2])["gamma_0"] == pytest.approx(np.sqrt(2.0), rel=1e-9)
    assert hulls.gammas(LATER_KEY, [1, 2], mask="full")["gamma_0"] <= np.sqrt(0.41) + 1e-12


def test_the_witness_on_two_antipodal_tokens_is_kappa_sqrt_d_q_k_over_gamma_Q_gamma_0_by_hand():
    # z_0 = e_1, one query-key z_1 = -e_1: q = -e_1 (gamma_Q = 1), k = e_1 (gamma_0 = |z_0 - z_1| = 2)
    Z = np.array([[1.0, 0.0], [-1.0, 0.0]])
    W = hulls.rank_one_witness(Z, [1], kappa=3.0)
    np.testing.assert_allclose(W, 3.0 * np.sqrt(2) / (1 * 2) * np.array([[-1.0, 0.0], [0.0, 0.0]]), rtol=1e-12)


@pytest.mark.parametrize("Z, lam, mu, message", [
    # q = z_1 / |z_1| = e_1 is orthogonal to the query z_2 = e_2: alpha = 0 exactly
    ([[0.0, 2.0], [1.0, 0.0], [0.0, 1.0]], [1.0, 0.0], [0.0, 1.0], "alpha=0, beta=1"),
    # k = e_2 is orthogonal to z_0 - z_2 = (-2, 0): beta = 0 exactly
    ([[1.0, 2.0], [1.0, 0.0], [3.0, 2.0]], [1.0, 0.0], [1.0, 0.0], "alpha=1, beta=0"),
], ids=["alpha", "beta"])
def test_a_witness_from_inaccurate_nearest_points_is_refused_naming_alpha_and_beta(monkeypatch, Z, lam, mu, message):
    # the guard behind the upper bound of Theorem C: nearest points whose attained minimum is not
    # positive would give an infinite or negative-margin witness
    fake = {"gamma_Q": 1.0, "gamma_0": 1.0, "lam": np.array(lam), "mu": np.array(mu), "K_max": [1, 2]}
    monkeypatch.setattr(sg, "gammas", lambda Z, J, mask: fake)
    with pytest.raises(SolverError, match=rf"^rank-one witness: inaccurate nearest points \({message}\)$"):
        hulls.rank_one_witness(np.array(Z), [1, 2])


@pytest.mark.parametrize("P, x, message", [
    (np.ones(2), np.zeros(2), r"^P: must be a 2-d array \(got 'shape \(2,\)'\)$"),
    (np.eye(2), np.zeros((1, 2)), r"^x: must be a 1-d array \(got 'shape \(1, 2\)'\)$"),
    (np.eye(2), np.zeros(3), r"^x: must have shape \(2,\) \(got 'shape \(3,\)'\)$"),
], ids=["P 1-d", "x 2-d", "x too long"])
def test_the_hull_membership_LP_refuses_points_of_the_wrong_shape_naming_them(P, x, message):
    with pytest.raises(InvalidInputError, match=message):
        hulls.in_hull(P, x)


def test_a_hull_LP_that_ends_neither_optimal_nor_infeasible_is_an_error_naming_the_status(monkeypatch):
    # never a verdict from a solve that did not finish: HiGHS status 4 = numerical difficulties
    from types import SimpleNamespace

    monkeypatch.setattr(sg, "linprog", lambda *a, **k: SimpleNamespace(status=4, message="numerical difficulties", x=None))
    with pytest.raises(SolverError, match=r"^hull LP: HiGHS status 4 \(numerical difficulties\)$"):
        hulls.in_hull(np.eye(2), np.zeros(2))
