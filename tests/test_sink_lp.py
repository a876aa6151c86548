"""Claims of construct/sink_lp.py that no earlier test stated (found by mutation testing,
docs/testing.md): the exact margin of the LP's W at the default kappa, the certificate of an instance
whose constraints all vanish, and the residual and refusals of verify_certificate, computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sinkcheck.solvers import certify as ct
from sinkcheck.solvers import ladder as mp
from sinkcheck.construct import sink_lp
from sinkcheck.errors import InvalidInputError, SolverError


def test_the_LP_W_meets_the_default_margin_kappa_1_exactly():
    # tokens e_0, e_1, e_2 (d = 3), causal, J = {1, 2}: feasible; the LP rescales W so that the
    # smallest margin (z_i^T W z_0 - z_i^T W z_j) / sqrt(d) over visible j != 0 is exactly kappa = 1
    Z = np.eye(3)
    res = sink_lp.decide(Z, [1, 2])
    assert res.feasible
    margins = [(Z[i] @ res.W @ Z[0] - Z[i] @ res.W @ Z[j]) / np.sqrt(3) for i, j in [(1, 1), (2, 1), (2, 2)]]
    assert min(margins) == pytest.approx(1.0, rel=1e-9)
    assert res.pairs == [(1, 1), (2, 1), (2, 2)] and res.min_margin == pytest.approx(1.0, rel=1e-9)
    # its balanced factors reproduce W and cost 2 ||W||_* (||Wq||_F^2 + ||Wk||_F^2)
    Wq, Wk = res.factors
    assert np.allclose(Wq.T @ Wk, res.W, rtol=0, atol=1e-12)
    assert (Wq**2).sum() + (Wk**2).sum() == pytest.approx(2 * np.linalg.svd(res.W, compute_uv=False).sum(), rel=1e-9)
    assert res.cost == pytest.approx(2 * np.linalg.svd(res.W, compute_uv=False).sum(), rel=1e-12)


def test_with_the_full_mask_the_reported_margin_is_the_minimum_over_every_key():
    Z = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    res = sink_lp.decide(Z, [1, 2], mask="full")
    assert res.feasible
    margins = [(Z[i] @ res.W @ Z[0] - Z[i] @ res.W @ Z[j]) / np.sqrt(3) for i in (1, 2) for j in (1, 2, 3)]
    assert res.min_margin == pytest.approx(min(margins), rel=1e-9)


def test_an_LP_that_does_not_solve_is_reported_not_read(monkeypatch):
    class Failed:
        status, message = 4, "numerical difficulties"

    monkeypatch.setattr(sink_lp, "linprog", lambda *a, **k: Failed())
    with pytest.raises(SolverError, match=r"^sink LP: HiGHS ended with status 4 \(numerical difficulties\)"):
        sink_lp.decide(np.eye(3), [1, 2])


def test_when_every_constraint_vanishes_the_uniform_certificate_has_residual_0():
    # all tokens equal the sink: z_i (z_0 - z_j)^T = 0 for every pair, so no W works and any y certifies
    Z = np.ones((3, 2))
    res = sink_lp.decide(Z, [1, 2])
    assert not res.feasible and res.pairs == [(1, 1), (2, 1), (2, 2)]
    assert res.y == pytest.approx([1 / 3] * 3, rel=1e-15) and res.residual == 0.0
    assert res.info == {"t_star": 0.0}


def test_certificate_residual_is_the_frobenius_norm_over_the_largest_pair_scale():
    # by hand, Z scaled by 0.1: z_0 = (.1, 0), z_1 = (0, .2), z_2 = (.3, 0); pair (1, 2), y = 1:
    # ||z_1 (z_0 - z_2)^T||_F = 0.2 * 0.2 = 0.04, scale ||z_1|| ||z_0 - z_2|| = 0.04, residual 1
    Z = 0.1 * np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]])
    assert sink_lp.verify_certificate(Z, [(1, 2)], np.array([1.0])) == pytest.approx(1.0, rel=1e-12)


def test_a_certificate_within_1e_12_of_nonnegative_is_accepted():
    Z = np.eye(3)
    sink_lp.verify_certificate(Z, [(1, 1), (2, 2)], np.array([1.0 + 1e-12, -1e-12]))


@pytest.mark.parametrize("y", [[1.5, -0.5], [0.6, 0.6]], ids=["negative_entry", "sum_1_2"])
def test_a_certificate_that_is_not_a_probability_vector_is_refused(y):
    with pytest.raises(InvalidInputError, match=r"^y: must be >= 0 with sum 1 \(got min"):
        sink_lp.verify_certificate(np.eye(3), [(1, 1), (2, 2)], np.array(y))


def test_verify_certificate_refuses_a_token_vector_and_a_certificate_matrix_naming_them():
    with pytest.raises(InvalidInputError, match=r"^Z: must be a 2-d array"):
        sink_lp.verify_certificate(np.ones(3), [(1, 1)], np.array([1.0]))
    with pytest.raises(InvalidInputError, match=r"^y: must be a 1-d array"):
        sink_lp.verify_certificate(np.eye(3), [(1, 1)], np.array([[1.0]]))


def test_the_answer_records_t_star_and_the_span_rank_both_when_feasible_and_when_certified():
    res = sink_lp.decide(np.eye(3), [1, 2])
    assert set(res.info) == {"t_star", "r"} and res.info["r"] == 3 and res.info["t_star"] > 0
    # z_2 = -z_1: query 2 must prefer z_0 over z_1 while query 1 prefers z_0 over z_1 too: infeasible
    Z = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    cert = sink_lp.decide(Z, [1, 2])
    assert not cert.feasible and set(cert.info) == {"t_star", "r"} and cert.info["r"] == 2
    assert abs(cert.info["t_star"]) <= 1e-9
    assert cert.y.min() >= 0 and cert.y.sum() == pytest.approx(1.0, rel=1e-12) and cert.residual <= 1e-7


def test_a_dual_that_does_not_certify_is_reported_as_undecided(monkeypatch):
    # an LP answer with t* = 0 whose multipliers do not cancel (residual 1, by hand): refused, not returned
    class Zero:
        status, message, fun, x = 0, "ok", -0.0, np.zeros(10)  # t* = -fun = 0

        class ineqlin:
            marginals = np.array([-1.0, 0.0, 0.0])

    monkeypatch.setattr(sink_lp, "linprog", lambda *a, **k: Zero())
    with pytest.raises(SolverError, match=r"^sink LP: undecided \(t\* = 0, certificate residual 1\)"):
        sink_lp.decide(np.eye(3), [1, 2])


def test_min_nuclear_sink_meets_the_default_margin_kappa_1():
    Z = np.eye(3)
    res = sink_lp.min_nuclear_sink(Z, [1, 2])
    margins = [(Z[i] @ res.W @ Z[0] - Z[i] @ res.W @ Z[j]) / np.sqrt(3) for i, j in [(1, 1), (2, 1), (2, 2)]]
    assert min(margins) == pytest.approx(1.0, rel=1e-6)


def _forced_fallback(monkeypatch, n_fail: int, *, raise_instead: bool = False):
    """Make the first ``n_fail`` solver attempts end inaccurate (or every solve raise, as cvxpy does
    when a solver fails); return the solves seen (ladder._run, which every solve goes
    through; the rescaled attempt's short estimate run included, left as it ends)."""
    import cvxpy as cp

    original, seen = mp._run, []

    def run(prob, solver, opts, start=None):
        seen.append({"solver": solver} | opts)
        out = original(prob, solver, opts, start)
        if opts != mp.ESTIMATE and sum(s != {"solver": "SCS"} | mp.ESTIMATE for s in seen) <= n_fail:
            prob._status = cp.OPTIMAL_INACCURATE
        return out

    def fail(self, *args):
        raise cp.error.SolverError("planted failure")

    monkeypatch.setattr(mp, "_run", run)
    if raise_instead:
        monkeypatch.setattr(cp.Problem, "unpack_results", fail)
    return seen


@pytest.mark.parametrize("n_fail,solver", [(1, "CLARABEL"), (2, "CLARABEL"), (6, "CLARABEL"), (7, "SCS")])
def test_when_an_attempt_stalls_the_fallback_attempts_reach_the_same_optimum(monkeypatch, n_fail, solver):
    Z = np.eye(3)
    want = sink_lp.min_nuclear_sink(Z, [1, 2]).cost  # the rescaled SCS attempt
    seen = _forced_fallback(monkeypatch, n_fail)
    res = sink_lp.min_nuclear_sink(Z, [1, 2])
    assert len(seen) == 1 + n_fail + 1 and res.info["solver"] == solver  # the estimate run, the failures, the winner
    assert res.cost == pytest.approx(want, rel=1e-6) and res.min_margin >= 1 - 1e-6


def test_a_solver_that_raises_is_reported_naming_it(monkeypatch):
    _forced_fallback(monkeypatch, 0, raise_instead=True)
    with pytest.raises(SolverError, match=r"^min-nuclear sink: solver SCS failed: planted failure"):
        sink_lp.min_nuclear_sink(np.eye(3), [1, 2])


def test_min_nuclear_sink_refuses_an_infeasible_instance_pointing_to_the_certificate():
    from sinkcheck.errors import InfeasibleError

    Z = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])  # infeasible (see above)
    with pytest.raises(InfeasibleError, match=r"^min-nuclear sink: infeasible .*\(see decide\(\) for a certificate\)$"):
        sink_lp.min_nuclear_sink(Z, [1, 2])


def test_min_nuclear_sink_reports_a_feasible_answer_with_its_pairs_rank_scale_solver_and_bracket():
    res = sink_lp.min_nuclear_sink(np.eye(3), [1, 2])
    assert res.feasible is True and res.pairs == [(1, 1), (2, 1), (2, 2)]
    assert set(res.info) == {"r", "scale", "solver", "cost_lower"} and res.info["r"] == 3 and res.info["scale"] > 0
    assert 0 < res.info["cost_lower"] <= res.cost <= res.info["cost_lower"] * (1 + 1e-6)


def test_min_nuclear_sink_with_the_full_mask_reports_the_minimum_margin_over_every_key():
    Z = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    res = sink_lp.min_nuclear_sink(Z, [1, 2], mask="full")
    margins = [(Z[i] @ res.W @ Z[0] - Z[i] @ res.W @ Z[j]) / np.sqrt(3) for i in (1, 2) for j in (1, 2, 3)]
    assert res.min_margin == pytest.approx(min(margins), rel=1e-9)


def test_when_every_attempt_ends_inaccurate_a_certified_iterate_is_still_an_answer(monkeypatch):
    # an "optimal_inaccurate" status is not a result, but the iterate is certified by weak duality:
    # when no attempt ends optimal, the tightest certified bracket within MAX_GAP is the answer
    exact = sink_lp.min_nuclear_sink(np.eye(3), [1, 2])
    _forced_fallback(monkeypatch, len(mp.ATTEMPTS))
    res = sink_lp.min_nuclear_sink(np.eye(3), [1, 2])
    assert res.feasible and res.min_margin >= 1 - 1e-6
    assert (res.cost - res.info["cost_lower"]) / res.cost <= ct.MAX_GAP
    assert res.info["cost_lower"] <= exact.cost * (1 + 1e-9) and exact.info["cost_lower"] <= res.cost * (1 + 1e-9)


def test_problem_defaults_are_kappa_1_and_the_causal_mask():
    Z = np.eye(3)
    assert sink_lp.check_problem(Z, [2, 1]) == (pytest.approx(Z), [1, 2], 1.0)
    assert sink_lp.sink_pairs(Z, [1, 2]) == [(1, 1), (2, 1), (2, 2)]  # causal: query i sees keys 1..i


def test_a_sink_and_one_token_is_the_smallest_problem():
    assert sink_lp.check_problem(np.eye(2), [1])[1] == [1]
    with pytest.raises(InvalidInputError, match=r"^Z: must have a sink and at least one more token"):
        sink_lp.check_problem(np.eye(2)[:1], [1])
    with pytest.raises(InvalidInputError, match=r"^Z: must be a 2-d array"):
        sink_lp.check_problem(np.ones(3), [1])


def test_query_indices_may_be_numpy_integers():
    assert sink_lp.check_problem(np.eye(3), np.array([2, 1]))[1] == [1, 2]


@pytest.mark.parametrize("call", [lambda: sink_lp.sink_pairs(np.eye(3), [1, 2], "band"),
                                  lambda: sink_lp.decide(np.eye(3), [1, 2], mask="band"),
                                  lambda: sink_lp.verify_margins(np.eye(3), [1, 2], np.eye(3), 1.0, "band")])
def test_an_unknown_mask_is_refused_naming_it(call):
    with pytest.raises(InvalidInputError, match=r"^mask: must be one of"):
        call()


@pytest.mark.parametrize("J,message", [
    (5, r"^J: must be a collection of integers \(got 5\)$"),
    ([], r"^J: must be a non-empty set of query indices \(got \[\]\)$"),
    ([1, 1], r"^J: must be distinct indices in \[1, 2\] \(got \[1, 1\]\)$"),
    ([1, 3], r"^J: must be distinct indices in \[1, 2\] \(got \[1, 3\]\)$"),
])
def test_bad_query_indices_are_refused_stating_the_rule(J, message):
    with pytest.raises(InvalidInputError, match=message):
        sink_lp.check_problem(np.eye(4)[:3], J)  # 3 tokens (sink + 2) in d = 4
