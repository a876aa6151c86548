"""Prop. 4.1 made precise (sinkcheck.theory.sink_geometry, Theorems G and C) and the sink LP."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sinkcheck.construct import sink_lp as sl
from sinkcheck.construct.factors import nuclear_norm, qk_cost
from sinkcheck.errors import InfeasibleError, InvalidInputError, SolverError
from sinkcheck.construct import sink_hulls as hulls
from sinkcheck.theory import sink_geometry as sg
from sinkcheck.strategies import HALF_INTEGERS as grid, sink_problems
from sinkcheck.construct.sink_lp import PROBLEM_KINDS, shape_problem
from tests.support.profiles import examples
from sinkcheck.construct.sink_lp import verify_certificate, visible_keys

KINDS = PROBLEM_KINDS


def own_margins(Z, J, W, mask):
    """Score gaps recomputed here, independently of sinkcheck.core: z_i^T W (z_0 - z_j) / sqrt(d)."""
    T, d = Z.shape[0] - 1, Z.shape[1]
    return [Z[i] @ W @ (Z[0] - Z[j]) / np.sqrt(d) for i in J for j in range(1, (i if mask == "causal" else T) + 1)]


def own_certificate_residual(Z, pairs, y):
    assert np.all(y >= -1e-12) and abs(y.sum() - 1) < 1e-9
    G = np.zeros((Z.shape[1], Z.shape[1]))
    for w, (i, j) in zip(y, pairs):
        G += w * np.outer(Z[i], Z[0] - Z[j])
    return np.abs(G).max() / max(1.0, np.abs(Z).max() ** 2)


# ------------------------------------------------------------------ Theorem G vs the LP
# found by the thorough profile: parallel grid rows (1, 1) and (2, 2) normalised one ulp apart, so
# the sink "equalled" a key only up to rounding and the two decisions split on it
@example((*shape_problem(np.array([[1.0, 1.0], [2.0, 2.0], [0.0, 1.0]]), [1], "equal_norms", np.ones(2)),
          "causal", "equal_norms"))
@example((*shape_problem(np.array([[1.0, 1.0], [2.0, 2.0], [0.5, 0.5]]), [1], "equal_norms", np.ones(2)),
          "causal", "equal_norms"))
# found by the thorough profile: six equal keys (1, 1), and z_0 = (w / sum w) @ keys with w = 1 landed
# one ulp away from them (six times 1/6 does not sum to 1)
@example((*shape_problem(np.ones((7, 2)), [1, 6], "sink_in_hull", np.ones(6)), "causal", "sink_in_hull"))
@given(sink_problems())
def test_lp_decision_agrees_with_the_alignment_condition(problem):
    Z, J, mask, _ = problem
    assert sl.decide(Z, J, 1.0, mask).feasible == hulls.alignment_condition(Z, J, mask)["representable"]


def test_both_feasible_and_infeasible_instances_occur_and_agree():
    rng = np.random.default_rng(7)
    seen = {True: 0, False: 0}
    for kind in KINDS:
        for _ in range(6):
            d, T = int(rng.integers(2, 5)), int(rng.integers(2, 8))
            Z = rng.standard_normal((T + 1, d))
            if kind == "sink_in_hull":
                Z[0] = rng.dirichlet(np.ones(T)) @ Z[1:]
            if kind == "antipodal_queries":
                Z[T] = -Z[1]
            if kind == "anisotropic":
                Z[1:, 0] += 4.0
            if kind in ("equal_norms", "anisotropic"):
                Z /= np.linalg.norm(Z, axis=1, keepdims=True)
            J = list(range(1, T + 1))
            lp = sl.decide(Z, J, 1.0, "causal").feasible
            assert lp == hulls.alignment_condition(Z, J, "causal")["representable"]
            seen[lp] += 1
    assert seen[True] >= 5 and seen[False] >= 5, seen


@given(sink_problems())
def test_lp_returns_a_W_meeting_every_margin_or_a_certificate_that_verifies_independently(problem):
    Z, J, mask, _ = problem
    res = sl.decide(Z, J, 0.7, mask)
    if res.feasible:
        assert min(own_margins(Z, J, res.W, mask)) >= 0.7 * (1 - 1e-6)
    else:
        assert own_certificate_residual(Z, res.pairs, res.y) < 1e-7


@given(sink_problems())
def test_the_proof_of_theorem_g_builds_a_witness_or_a_certificate(problem):
    Z, J, mask, _ = problem
    if hulls.alignment_condition(Z, J, mask)["representable"]:
        W = hulls.rank_one_witness(Z, J, 2.0, mask)
        assert min(own_margins(Z, J, W, mask)) >= 2.0 * (1 - 1e-5) and np.linalg.matrix_rank(W) == 1
    else:
        pairs, y = hulls.geometric_certificate(Z, J, mask)
        assert own_certificate_residual(Z, pairs, y) < 1e-7


@settings(max_examples=examples(10))
@given(sink_problems(), st.floats(0.01, 100))
def test_feasibility_does_not_depend_on_kappa(problem, kappa):
    Z, J, mask, _ = problem
    assert sl.decide(Z, J, kappa, mask).feasible == sl.decide(Z, J, 1.0, mask).feasible


# ------------------------------------------------------------------ corollaries and named examples
def test_antipodal_queries_cannot_share_a_sink_even_with_equal_norms():
    """Named example: z_2 = -z_1 on the unit circle; both query z_0 (distinct from every key)."""
    Z = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    res = sl.decide(Z, [1, 2], 1.0, "causal")
    cond = hulls.alignment_condition(Z, [1, 2], "causal")
    assert not res.feasible and cond["sink_separated_from_keys"] and not cond["queries_in_open_halfspace"]


def test_a_single_query_is_feasible_iff_the_sink_is_outside_its_key_hull():
    Z = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # z_0 = (z_1 + z_2)/2
    assert not sl.decide(Z, [2], 1.0, "causal").feasible
    Z[0] = [2.0, 2.0]
    assert sl.decide(Z, [3], 1.0, "causal").feasible


def test_linearly_independent_queries_reduce_to_the_separation_condition():
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((4, 5))  # 3 independent queries in R^5
    assert hulls.alignment_condition(Z, [1, 2, 3], "causal")["queries_in_open_halfspace"]
    Z[0] = 0.2 * Z[1] + 0.8 * Z[3]
    assert not sl.decide(Z, [1, 2, 3], 1.0, "causal").feasible and sl.decide(Z, [1, 2], 1.0, "causal").feasible


@given(hnp.arrays(np.float64, (6, 3), elements=grid))
def test_with_equal_norms_the_sink_is_separated_unless_it_equals_a_key(Z):
    Z[np.linalg.norm(Z, axis=1) == 0] = [0.0, 0.0, 1.0]
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    distinct = min(np.linalg.norm(Z[0] - Z[1:], axis=1)) > 1e-6
    assert hulls.alignment_condition(Z, [5], "causal")["sink_separated_from_keys"] == distinct


# ------------------------------------------------------------------ Theorem C (cost)
@settings(max_examples=examples(12))
@given(sink_problems(kinds=("anisotropic", "generic")))
def test_min_cost_equals_the_closed_form_for_the_full_mask_and_is_bracketed_for_causal(problem):
    Z, J, mask, _ = problem
    if not hulls.alignment_condition(Z, J, mask)["representable"]:
        return
    opt = sl.min_nuclear_sink(Z, J, 1.0, mask)
    b = hulls.cost_bounds(Z, J, 1.0, mask)
    # lower <= OPT/2 <= upper against the solver's certified bracket cost_lower <= OPT <= cost;
    # both sides are certified, so the only slack is rounding (1e-12)
    assert b["lower"] <= opt.cost / 2 * (1 + 1e-12) and opt.info["cost_lower"] / 2 <= b["upper"] * (1 + 1e-12)
    if mask == "full":  # Theorem C: the closed form is OPT, so the two brackets nearly coincide
        assert b["upper"] <= b["lower"] * (1 + 1e-9)


def test_full_mask_cost_is_two_kappa_sqrt_d_over_gamma_q_gamma_0():
    rng = np.random.default_rng(11)
    Z = rng.standard_normal((7, 4))
    Z[1:, 0] += 3.0
    opt = sl.min_nuclear_sink(Z, [2, 4, 6], 1.5, "full")
    g = hulls.gammas(Z, [2, 4, 6], "full")
    closed = 2 * 1.5 * np.sqrt(4) / (g["gamma_Q"] * g["gamma_0"])  # a valid lower bound (QP's gammas)
    assert closed <= opt.cost * (1 + 1e-12) and opt.info["cost_lower"] <= closed * (1 + 1e-12)


def test_a_planted_wrong_cost_constant_is_caught():
    """Writing the cost as kappa sqrt(d)/(gamma_Q gamma_0) (dropping the factor 2) is refuted."""
    rng = np.random.default_rng(11)
    Z = rng.standard_normal((7, 4))
    Z[1:, 0] += 3.0
    opt = sl.min_nuclear_sink(Z, [2, 4, 6], 1.0, "full")
    g = hulls.gammas(Z, [2, 4, 6], "full")
    assert not np.isclose(opt.cost, np.sqrt(4) / (g["gamma_Q"] * g["gamma_0"]), rtol=1e-3)


def test_min_nuclear_solution_is_factored_at_cost_two_nuclear_norm_and_beats_the_lp_witness():
    rng = np.random.default_rng(5)
    Z = rng.standard_normal((6, 3))
    Z[1:, 0] += 3.0
    opt, lp = sl.min_nuclear_sink(Z, [3, 5], 1.0), sl.decide(Z, [3, 5], 1.0)
    assert qk_cost(*opt.factors) == pytest.approx(2 * nuclear_norm(opt.W), rel=1e-9)
    assert opt.cost <= lp.cost * (1 + 1e-6) and opt.min_margin >= 1 - 1e-5


@given(hnp.arrays(np.float64, (6, 3), elements=grid))
def test_gamma_0_lies_between_the_cosine_bounds_for_equal_norms(Z):
    Z[np.linalg.norm(Z, axis=1) == 0] = [0.0, 0.0, 1.0]
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    c = float(max(Z[1:] @ Z[0]))
    lo, hi = sg.cosine_gamma_bounds(1.0, min(c, 1.0))
    g0 = hulls.hull_distance(Z[1:], Z[0])[0]
    assert lo - 1e-6 <= g0 <= hi + 1e-6


def test_symbolic_steps_of_theorems_g_and_c_hold_exactly():
    steps = sg.symbolic_steps()
    assert all(steps.values()), steps


# ------------------------------------------------------------------ planted errors, solver states
def test_a_planted_condition_without_the_query_halfspace_is_caught():
    """'(b) alone suffices' is refuted by the antipodal example (LP says infeasible, (b) holds)."""
    Z = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    cond = hulls.alignment_condition(Z, [1, 2], "causal")
    assert cond["sink_separated_from_keys"] != sl.decide(Z, [1, 2], 1.0, "causal").feasible


def test_a_planted_condition_without_sink_separation_is_caught():
    Z = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])
    cond = hulls.alignment_condition(Z, [2], "causal")
    assert cond["queries_in_open_halfspace"] != sl.decide(Z, [2], 1.0, "causal").feasible


def test_a_planted_flipped_margin_is_caught():
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((5, 3))
    Z[1:, 0] += 3.0
    W = sl.decide(Z, [2, 4], 1.0).W
    assert sl.verify_margins(Z, [2, 4], W, 1.0) >= 1 - 1e-9 and sl.verify_margins(Z, [2, 4], -W, 1.0) < 0


def test_a_planted_bad_certificate_is_rejected():
    Z = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    assert sl.verify_certificate(Z, [(1, 1), (2, 1)], np.array([0.5, 0.5])) < 1e-15
    assert sl.verify_certificate(Z, [(1, 1), (2, 1)], np.array([0.9, 0.1])) > 0.1


def test_min_nuclear_sink_on_an_infeasible_problem_raises_infeasible_error():
    Z = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    with pytest.raises(InfeasibleError):
        sl.min_nuclear_sink(Z, [1, 2], 1.0)


@pytest.mark.parametrize("args, name", [
    ((np.array([[np.nan, 1.0], [1.0, 0.0]]), [1], 1.0, "causal"), "Z"),
    ((np.ones((1, 2)), [1], 1.0, "causal"), "Z"),
    ((np.eye(3), [1], 0.0, "causal"), "kappa"),
    ((np.eye(3), [1], -1.0, "causal"), "kappa"),
    ((np.eye(3), [], 1.0, "causal"), "J"),
    ((np.eye(3), [0, 1], 1.0, "causal"), "J"),
    ((np.eye(3), [3], 1.0, "causal"), "J"),
    ((np.eye(3), [1, 1], 1.0, "causal"), "J"),
    ((np.eye(3), [1], 1.0, "sliding"), "mask"),
])
def test_invalid_inputs_raise_naming_the_parameter(args, name):
    for fn in (sl.decide, sl.min_nuclear_sink, lambda Z, J, k, m: hulls.cost_bounds(Z, J, k, m)):
        with pytest.raises(InvalidInputError, match=f"^{name}:"):
            fn(*args)


def test_mismatched_certificate_shape_raises():
    with pytest.raises(InvalidInputError, match="^y:"):
        sl.verify_certificate(np.eye(3), [(1, 1)], np.ones(2) / 2)


def test_hull_distance_is_exact_on_a_degenerate_hull_with_duplicate_points():
    # three copies of a = (1, 1, 1) and b = (0, 0, -0.5), x = (0, 0, 0.5): the nearest point is on the
    # segment [b, a] at t = (x - b).(a - b) / |a - b|^2 = 6/17, at distance sqrt(1 - 9/17) = sqrt(8/17)
    P = np.array([[1.0, 1.0, 1.0]] * 3 + [[0.0, 0.0, -0.5]])
    dist, w = hulls.hull_distance(P, np.array([0.0, 0.0, 0.5]))
    assert dist == pytest.approx(np.sqrt(8 / 17), rel=1e-12)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0) and w[3] == pytest.approx(11 / 17, rel=1e-12)


def test_hull_distance_is_exact_when_fifteen_points_lie_on_the_nearest_face():
    # fifteen points on the segment [-3, 3] x {0} and x = (0.3, 2): the projection is (0.3, 0) at
    # distance 2 exactly, however many of the points the nearest face holds (the old QP + polish
    # gave up above twelve)
    P = np.c_[np.linspace(-3.0, 3.0, 15), np.zeros(15)]
    dist, w = hulls.hull_distance(P, np.array([0.3, 2.0]))
    assert dist == pytest.approx(2.0, rel=1e-14) and w @ P == pytest.approx([0.3, 0.0], abs=1e-14)


def test_theorem_c_bounds_by_hand_with_the_default_kappa_1_and_causal_mask():
    # queries z_1 = (-1, 1), z_2 = (1, 1): gamma_Q = 1 (midpoint (0, 1)); sink z_0 = (0, -1):
    # gamma_0 = dist(z_0, [z_1, z_2]) = 2; c = kappa sqrt(d) = sqrt(2).  Causal lower terms:
    # c / (gamma_Q |z_0 - z_1|) = sqrt(2/5) (key of the first query), c / (|z_1| |z_0 - z_1|) = 1/sqrt(5),
    # c / (|z_2| dist(z_0, [z_1, z_2])) = 1/2; the largest is sqrt(2/5).  Upper: c / (gamma_Q gamma_0).
    Z = np.array([[0.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    b = hulls.cost_bounds(Z, [1, 2])
    assert b["lower"] == pytest.approx(np.sqrt(2 / 5), rel=1e-12)
    assert b["upper"] == pytest.approx(np.sqrt(2) / 2, rel=1e-12)
    full = hulls.cost_bounds(Z, [1, 2], 3.0, "full")  # Theorem C: lower = upper, linear in kappa
    assert full["lower"] == pytest.approx(3 * np.sqrt(2) / 2, rel=1e-12)
    assert full["upper"] == pytest.approx(3 * np.sqrt(2) / 2, rel=1e-12)


@settings(max_examples=examples(60))
# found by the thorough profile: twelve copies of the origin and one more point, x outside the hull;
# the QP's support (13 points) was too large for the old polish and its point was off by 3e-5
@example((np.array([[1, 0]] + [[0, 0]] * 12), np.array([1, 1])))
@given(st.integers(1, 4).flatmap(lambda d: st.tuples(
    hnp.arrays(np.int64, st.tuples(st.integers(1, 15), st.just(d)), elements=st.integers(-6, 6)),
    hnp.arrays(np.int64, (d,), elements=st.integers(-6, 6)))))
def test_hull_distance_returns_the_projection_onto_the_hull(Px):
    # p = P^T w is the projection of x onto conv(P) iff w >= 0, sum w = 1 and every vertex P_j lies
    # beyond p: (P_j - p) . (p - x) >= 0 (the first-order condition); half-integer grids give the
    # degenerate cases (collinear points, duplicates, x inside the hull)
    P, x = Px[0] / 2.0, Px[1] / 2.0
    dist, w = hulls.hull_distance(P, x)
    p = P.T @ w
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-12)
    assert dist == pytest.approx(np.linalg.norm(p - x), abs=1e-12)
    assert min((P - p) @ (p - x)) >= -1e-12


@pytest.mark.parametrize("P,x,name", [
    (np.array([[1.0, np.nan]]), np.zeros(2), "P"), (np.ones(2), np.zeros(2), "P"),
    (np.ones((2, 2)), np.zeros(3), "x"), (np.ones((2, 2)), np.zeros((1, 2)), "x"), (np.ones((2, 2)), [np.inf, 0], "x"),
])
def test_hull_distance_refuses_bad_input_naming_the_argument(P, x, name):
    with pytest.raises(InvalidInputError, match=f"^{name}: "):
        hulls.hull_distance(P, x)


def test_hull_distance_reports_a_stall_of_wolfes_algorithm_instead_of_a_distance(monkeypatch):
    # a wrong affine step (the corral's current weights back) leaves |x| where it was: the
    # first-order condition still fails on the point just added, which must be an error, not a number
    monkeypatch.setattr(hulls, "_affine_weights", lambda A: np.r_[1.0, np.zeros(A.shape[0] - 1)])
    with pytest.raises(SolverError, match=r"^hull distance: Wolfe's algorithm"):
        hulls.hull_distance(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2))


# ---- further claims of Theorems G and C --------------------------------------------------------------
# (Claims of theory/sink_geometry.py that no earlier test stated (found by mutation testing,)

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
    monkeypatch.setattr(hulls, "gammas", lambda Z, J, mask: fake)
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

    monkeypatch.setattr(hulls, "linprog", lambda *a, **k: SimpleNamespace(status=4, message="numerical difficulties", x=None))
    with pytest.raises(SolverError, match=r"^hull LP: HiGHS status 4 \(numerical difficulties\)$"):
        hulls.in_hull(np.eye(2), np.zeros(2))
