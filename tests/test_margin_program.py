"""Claims of the certified margin program (sinkcheck.solvers: program, certify, ladder) that the solver tests
left unstated (found by mutation testing, docs/testing.md): the documented solver ladder is what
runs when an attempt cannot be certified, a solver's "infeasible" after a feasible LP is reported
with its status, and an M that meets no scaling of the constraints is refused, not rescaled."""

from __future__ import annotations

import os

import cvxpy as cp
import numpy as np
import pytest

from sinkcheck.solvers import certify as ct
from sinkcheck.solvers import ladder as mp
from sinkcheck.solvers import program as pg
from sinkcheck.construct.sinkdiag.min_cost import min_cost, scaled_program
from sinkcheck.construct.sink_lp import min_nuclear_sink
from sinkcheck.construct.sinkdiag.instance import sample_instance
from sinkcheck.errors import IllConditionedError, InfeasibleError, InvalidInputError, SolverError, WideBracketError

Z3 = np.eye(3)
"""The smallest sink problem of tests/test_sink_lp.py: z_0, z_1, z_2 orthonormal, J = {1, 2}."""


def sink_program():
    """Its scaled margin program: constraints z_i^T M (z_0 - z_j) >= 1 for (i, j) = (1, 1), (2, 1), (2, 2)."""
    i, j = np.array([1, 2, 2]), np.array([1, 1, 2])
    return Z3, pg.Triples(query=i, target=np.zeros_like(i), competitor=j)


def record_solves(monkeypatch, inaccurate: int, status=cp.OPTIMAL_INACCURATE):
    """Record every solve (ladder._run, which every solve goes through) as its solver, its
    settings and whether it started from an iterate ("from"); the first ``inaccurate`` attempts end
    with ``status`` (the short run that estimates OPT for the rescaled attempt is left as it ends)."""
    original, seen = mp._run, []

    def run(prob, solver, opts, start=None):
        seen.append({"solver": solver} | opts | {"from": start is not None})
        out = original(prob, solver, opts, start)
        if opts != mp.ESTIMATE and sum(not estimate_run(s) for s in seen) <= inaccurate:
            prob._status = status
        return out

    monkeypatch.setattr(mp, "_run", run)
    return seen


def estimate_run(solve: dict) -> bool:
    """Whether a recorded solve is the short run of ESTIMATE."""
    return {k: v for k, v in solve.items() if k not in ("solver", "from")} == mp.ESTIMATE


def documented_solves(attempts):
    """The solves that ``attempts`` make when each ends inaccurate: the rescaled attempt first
    runs ESTIMATE, then its first stage (a stage that does not end optimal ends the attempt)."""
    out = []
    for name, opts in attempts:
        plain = {k: v for k, v in opts.items() if k not in ("rescale", "stages")}
        if opts.get("rescale"):
            out.append((name, mp.ESTIMATE))
        if "stages" in opts:
            plain |= {"eps": opts["stages"]["kron"][0]}
        out.append((name, plain))
    return out


@pytest.mark.parametrize("inaccurate", [1, 2])
def test_an_uncertified_attempt_is_retried_with_the_next_documented_solver_settings(monkeypatch, inaccurate):
    seen = record_solves(monkeypatch, inaccurate)
    sol = mp.solve(*sink_program())
    assert [(s["solver"], {k: v for k, v in s.items() if k not in ("solver", "from")}) for s in seen] == \
        documented_solves(mp.ATTEMPTS[:inaccurate + 1])
    assert sol.solver == mp.ATTEMPTS[inaccurate][0] and sol.lower <= sol.upper


def test_the_ladder_settings_differ_from_each_other_and_start_with_the_rescaled_SCS_attempt():
    # a retry with the same settings would reach the same stall
    configs = [(name, repr(sorted(opts.items()))) for name, opts in mp.ATTEMPTS]
    assert len(set(configs)) == len(configs) and mp.ATTEMPTS[0] == ("SCS", mp.RESCALED)
    assert mp.ATTEMPTS[-1] is mp.LAST_RESORT and not mp.LAST_RESORT[1].get("rescale")


def stages_run(monkeypatch, gaps):
    """The (solver, eps, started from an iterate) of the solves after the estimate run, when the k-th certified
    bracket is widened to relative gap ``gaps[k]`` (the later ones left as they are) and the repair
    is off; and the solution."""
    seen, calls, original = record_solves(monkeypatch, 0), [], mp.certify

    def widened(Z, cons, Mp, y):
        Mf, upper, lower = original(Z, cons, Mp, y)
        calls.append(upper)
        return ct.Bracket(Mf, upper, (upper * (1 - gaps[len(calls) - 1]) if len(calls) <= len(gaps) else lower))
    monkeypatch.setattr(mp, "certify", widened)
    monkeypatch.setattr(mp, "repair", lambda *args: None)
    sol = mp.solve(*sink_program())
    return [(s["solver"], s.get("eps"), s["from"]) for s in seen if not estimate_run(s)], sol


KRON = [("SCS", eps, True) for eps in mp.RESCALED["stages"]["kron"]]
"""The rescaled attempt's stages on a kron-form program: eps 1e-6, 1e-7, 1e-8, 1e-9, the first started
from the estimate run's iterate and each of the others from the last."""


@pytest.mark.parametrize("gaps,solves,winner", [
    ([], KRON[:1], "SCS"),                                                     # certified: one stage
    ([5e-4], KRON[:2], "SCS"),                                                 # far, but not before the last stage
    ([5e-4, 5e-4, 5e-6], KRON, "SCS"),                                         # close before the last stage: on to it
    ([5e-4, 5e-4, 5e-4], KRON[:3] + [("CLARABEL", None, False)], "CLARABEL"),  # far before the last: the next attempt
])
def test_the_rescaled_attempt_goes_on_to_its_last_stage_only_from_a_gap_within_NEXT_STAGE_GAP(
        monkeypatch, gaps, solves, winner):
    got, sol = stages_run(monkeypatch, gaps)
    assert got == solves and sol.solver == winner and sol.upper - sol.lower <= ct.SOLVER_RTOL * sol.upper


def scales_of_the_first_stage(monkeypatch, form):
    """The margins rho of each SCS solve of the rescaled attempt on the sink program in ``form``,
    with the estimate runs marked "estimate"; the iterate each solve started from and the one it
    returned; and the solution."""
    original, seen, starts, runs = mp._run, [], [], []

    def run(prob, solver, opts, start=None):
        seen.append("estimate" if opts == mp.ESTIMATE else float(prob.parameters()[0].value))
        starts.append(start)
        runs.append(original(prob, solver, opts, start))
        return runs[-1]
    monkeypatch.setattr(mp, "_run", run)
    return seen, starts, runs, mp.solve(*sink_program(), mp.Policy(form=form))


def test_the_split_form_rescales_by_the_weak_duality_bound_at_y_equal_1_without_a_solve(monkeypatch):
    Z, cons = sink_program()
    bound = ct.dual_lower(Z, cons, np.ones(len(cons)))  # K / ||G(1)||_op, a lower bound on OPT
    seen, starts, _, sol = scales_of_the_first_stage(monkeypatch, "split")
    assert "estimate" not in seen and seen[0] == pytest.approx(1.0 / bound, rel=1e-12) and starts[0] is None
    assert 0 < bound <= sol.lower and sol.upper - sol.lower <= ct.SOLVER_RTOL * sol.upper


@pytest.mark.parametrize("form", ["kron", "dual"])
def test_the_kron_and_dual_forms_rescale_by_their_short_estimate_run_and_start_from_its_iterate(monkeypatch, form):
    seen, starts, runs, sol = scales_of_the_first_stage(monkeypatch, form)
    assert seen[0] == "estimate" and form not in mp.UNIFORM_SCALE
    assert seen[1] == pytest.approx(1.0 / sol.upper, rel=1e-2)  # ESTIMATE's eps: within a per cent of OPT
    moved = mp.rescaled(runs[0], seen[1])  # the estimate's iterate, its margins 1 moved to rho
    assert all(np.array_equal(starts[1][v], moved[v]) for v in "xys")


@pytest.mark.parametrize("off", [1.0, 1 + 2 * mp.ESTIMATE_AGREEMENT])
def test_a_short_run_whose_value_its_conic_objective_does_not_confirm_is_not_trusted(monkeypatch, off):
    # the kron form's value ||M||_* at the iterate against SCS's conic objective at the same iterate:
    # far apart, the LP's certified lower bound is the scale and the first stage starts cold
    _, Z, cons = scaled_program(sample_instance(d=32, C=2, n=3, r_eta=6, lam=1.0, kappa=1.0, seed=0), "diag")
    original, starts, scales = mp._run, [], []

    def run(prob, solver, opts, start=None):
        starts.append(start)
        scales.append(float(prob.parameters()[0].value))
        out = original(prob, solver, opts, start)
        if opts == mp.ESTIMATE:
            out["info"]["pobj"] *= off  # the conic objective, moved off the value by the factor off
        return out
    monkeypatch.setattr(mp, "_run", run)
    sol = mp.solve(Z, cons, mp.Policy(form="kron"))
    lp_bound = ct.dual_lower(Z, cons, ct.box_margin(pg.sparse_copy(Z), cons)[1])
    assert lp_bound > 0
    if off == 1.0:
        assert starts[1] is not None and scales[1] == pytest.approx(1.0 / sol.upper, rel=1e-2)
    else:
        assert starts[1] is None and scales[1] == pytest.approx(1.0 / lp_bound, rel=1e-9)
    assert sol.upper - sol.lower <= ct.SOLVER_RTOL * sol.upper


def scs_data(prob) -> tuple:
    """A, b, c of the conic form min c^T x s.t. A x + s = b, s in K that cvxpy gives SCS."""
    data = prob.get_problem_data(cp.SCS)[0]
    return data["A"], data["b"], data["c"]


def kkt_residuals(data, run) -> tuple[float, float, float]:
    """The optimality residuals of SCS's iterate (x, y, s): primal ||A x + s - b||, dual ||A^T y + c||
    and gap abs(c^T x + b^T y), each relative to the size of its terms (max norm)."""
    A, b, c = data
    x, y, s = run["x"], run["y"], run["s"]
    primal = np.abs(A @ x + s - b).max() / max(np.abs(A @ x).max(), np.abs(s).max(), np.abs(b).max())
    dual = np.abs(A.T @ y + c).max() / max(np.abs(A.T @ y).max(), np.abs(c).max())
    gap = abs(c @ x + b @ y) / max(abs(c @ x), abs(b @ y))
    return primal, dual, gap


@pytest.mark.parametrize("form", pg.FORMS)
@pytest.mark.parametrize("f", [1 / 7.3, 41.0])
def test_an_iterate_moved_to_margins_f_rho_by_rescaled_is_as_optimal_there_as_it_was_at_rho(form, f):
    # the start of the rescaled attempt's first stage (RESCALED): every constant of the program's
    # conic form is a multiple of rho, so (f x, y, f s) meets the conditions that (x, y, s) met
    Z, cons = sink_program()
    rho = cp.Parameter(nonneg=True, value=1.0)
    prob = pg.program(Z, cons, form, rho)[0]
    run = mp._run(prob, "SCS", {"eps": 1e-9, "max_iters": 100_000})
    at_rho = kkt_residuals(scs_data(prob), run)
    rho.value = f
    at_f_rho = kkt_residuals(scs_data(prob), mp.rescaled(run, f))
    assert max(at_rho) < 1e-8 and at_f_rho == pytest.approx(at_rho, rel=1e-6, abs=1e-12)


def test_a_solver_infeasible_after_a_feasible_LP_is_reported_with_its_status(monkeypatch):
    record_solves(monkeypatch, 100, status=cp.INFEASIBLE)
    with pytest.raises(WideBracketError, match=r"^min-nuclear sink: infeasible \(status infeasible\) "
                                               r"\(but the feasibility LP found t\* = .* > 0, and the certified iterates "
                                               r"and the LP's box solution bracket OPT; best upper end: .*\)$"):
        min_nuclear_sink(Z3, [1, 2])


def test_certify_refuses_an_M_that_meets_no_scaling_of_the_constraints():
    Z, cons = sink_program()
    with pytest.raises(SolverError, match=r"^the returned W violates a margin \(smallest value 0 <= 0\)$"):
        ct.certify(Z, cons, np.zeros((3, 3)), np.ones(3))
    with pytest.raises(SolverError, match=r"^the returned W violates a margin \(smallest value -1 <= 0\)$"):
        ct.certify(Z, cons, -np.outer(Z[1] + Z[2], Z[0]), np.ones(3))


def test_negative_dual_entries_are_dropped_from_the_lower_bound():
    # weak duality needs y >= 0: the bound of y is the bound of its positive part y+
    Z, cons = sink_program()
    M = np.outer(Z[1] + Z[2], Z[0])  # every constraint value 1
    _, upper, lower = ct.certify(Z, cons, M, np.array([1.0, -1.0, 1.0]))
    assert lower == ct.certify(Z, cons, M, np.array([1.0, 0.0, 1.0]))[2] and 0 < lower <= upper


def test_a_vanishing_dual_gives_the_trivial_lower_bound_0():
    Z, cons = sink_program()
    assert ct.certify(Z, cons, np.outer(Z[1] + Z[2], Z[0]), np.zeros(3))[2] == 0.0


def fake_ladder(monkeypatch, gaps, scale=1.0):
    """Attempt k of the ladder ends optimal with certified relative gap gaps[k] and upper bound
    scale * (k + 1) (None: the solver fails); returns the names of the attempts run."""
    Z, cons = sink_program()
    run, marker, real = [], np.outer(Z[1] + Z[2], Z[0]), mp.certify

    def solve(Z, cons, name, opts, form):
        run.append(name)
        if gaps[len(run) - 1] is None:
            raise SolverError(f"solver {name} ended with status 'optimal_inaccurate'")
        yield marker, np.full(len(cons), float(len(run))), "optimal"

    def certify(Z, cons, Mp, y):  # attempt k: upper scale (k + 1), relative gap gaps[k]
        if Mp is not marker:  # not an attempt's (the feasibility LP's box solution): certified for real
            return real(Z, cons, Mp, y)
        k = int(y[0]) - 1
        return ct.Bracket(Mp, scale * (k + 1.0), scale * (k + 1.0) * (1.0 - gaps[k]))

    monkeypatch.setattr(mp, "_solve", solve)
    monkeypatch.setattr(mp, "certify", certify)
    return Z, cons, run


CL, S = "CLARABEL", "SCS"


CL6 = [CL] * 6


@pytest.mark.parametrize("gaps,attempts,winner", [
    ([1e-7, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [S], 0),                     # first gap <= SOLVER_RTOL: stop
    ([5e-5, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [S, CL], 1),                # Clarabel certifies: stop there
    ([5e-5, 3e-5, 2e-5, 1e-5, 4e-6, 3.5e-6, 3e-6, 0.0], [S] + CL6, 6),       # the smallest gap wins, the last resort not run
    ([2e-5, 5e-5, 5e-5, 5e-5, 5e-5, 5e-5, 5e-5, 0.0], [S] + CL6, 0),         # the first stays when the others are worse
    ([None, None, None, None, None, None, None, 3e-7], [S] + CL6 + [S], 7),  # the last resort only when no attempt ended optimal
    ([None, None, None, None, None, None, 5e-5, 0.0], [S] + CL6, 6),         # one optimal attempt is enough
    ([5e-5, 5e-5, 5e-5, 5e-5, 5e-5, 5e-5, 5e-5, 0.0], [S] + CL6, 0),         # a tie keeps the first
    ([None, None, None, 2e-6, 1e-8, 0.0, 0.0, 0.0], [S] + [CL] * 4, 4),      # regularised, then regularised and tight
])
def test_the_ladder_returns_the_best_certified_attempt_and_runs_the_last_resort_only_when_nothing_else_ended_optimal(
        monkeypatch, gaps, attempts, winner):
    Z, cons, run = fake_ladder(monkeypatch, gaps)
    sol = mp.solve(Z, cons)
    assert run == attempts and sol.solver == attempts[winner]
    assert sol.upper == winner + 1.0 and sol.lower == (winner + 1.0) * (1.0 - gaps[winner])


@pytest.mark.parametrize("scale", [10.0, 0.1])
@pytest.mark.parametrize("gaps,attempts,winner", [
    ([2e-5, 5e-5, 5e-5, 5e-5, 5e-5, 5e-5, 5e-5, 0.0], [S] + CL6, 0),
    ([5e-5, 2e-5, 5e-5, 5e-5, 5e-5, 5e-5, 5e-5, 0.0], [S] + CL6, 1),
    ([1e-7, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [S], 0),  # relative gap <= SOLVER_RTOL: stop, whatever the absolute gap
])
def test_the_ladder_judges_attempts_by_their_relative_gap_whatever_the_scale_of_OPT(monkeypatch, scale, gaps,
                                                                                    attempts, winner):
    Z, cons, run = fake_ladder(monkeypatch, gaps, scale)
    sol = mp.solve(Z, cons)
    assert run == attempts and sol.upper == scale * (winner + 1.0)


def test_a_badly_scaled_min_cost_program_is_certified_to_SOLVER_RTOL_scale_by_the_tight_attempt():
    # found by CI's exploration: Clarabel's defaults certify a gap of 3.1e-4 here (> MAX_GAP), and
    # the certificate refused it; tighter tolerances certify 2.4e-6 (OPT ~ 8e3 in scaled units)
    I = sample_instance(d=11, C=4, n=3, r_eta=2, lam=20.0, kappa=0.5, seed=3, centred=False, equal_norms=True)
    sol = min_cost(I, "diag", fallback=False)
    assert (sol.opt - sol.opt_lower) / sol.opt <= 1e-5


@pytest.mark.parametrize("policy,attempts", [(mp.Policy(attempts="scs"), [S, S]), (mp.Policy(last_resort=False), [S] + CL6)])
def test_the_ladder_is_scs_alone_or_ends_without_the_last_resort_when_asked(monkeypatch, policy, attempts):
    Z, cons, run = fake_ladder(monkeypatch, [None] * 8)
    with pytest.raises(SolverError, match=r"^margin program: solver .* \(but the feasibility LP found t\* = "):
        mp.solve(Z, cons, policy)
    assert run == attempts


def test_an_unknown_set_of_attempts_is_refused_by_name():
    with pytest.raises(InvalidInputError, match=r"^attempts: "):
        mp.Policy(attempts="MOSEK")


def test_an_infeasible_program_is_reported_under_the_default_name():
    Z, cons = sink_program()
    with pytest.raises(InfeasibleError, match=r"^margin program: infeasible \(no W meets every margin; best box margin t\* = -?0\)$"):
        mp.solve(np.zeros_like(Z), cons)


@pytest.mark.parametrize("scale, t_star", [(1.0, 1.0), (0.25, 0.125)])
def test_the_feasibility_LP_returns_the_best_box_margin_computed_by_hand(scale, t_star):
    # z_i^T M (z_0 - z_j) = scale^2 (M[i, 0] - M[i, j]) is at most 2 scale^2 over the box |M_ij| <= 1,
    # and t is capped at 1: t* = min(1, 2 scale^2)
    Z, cons = sink_program()
    assert ct.box_margin(scale * Z, cons)[0] == pytest.approx(t_star, abs=1e-12)


def test_a_certified_solve_below_one_over_ILL_CONDITIONED_skips_the_LP_and_records_its_wall_time(monkeypatch):
    import time

    Z, cons = sink_program()
    t0 = time.perf_counter()
    sol = mp.solve(0.25 * Z, cons)
    elapsed = time.perf_counter() - t0
    assert sol.t_star is None and sol.upper < 1 / ct.ILL_CONDITIONED
    t_star = min(1.0, 2 * 0.25 ** 2)  # the LP it skipped, by hand (previous test): t* = 0.125 >= 1 / upper
    assert sol.upper >= 1 / t_star
    assert isinstance(sol.seconds, float) and 0 < sol.seconds <= elapsed


def test_a_certified_solve_above_one_over_ILL_CONDITIONED_runs_the_LP_and_records_its_t_star(monkeypatch):
    # the LP refuses or accepts on t*, as when it ran first: here t* = 0.125 > ILL_CONDITIONED, so the
    # (planted) certified bracket [1e9 (1 - 1e-7), 1e9] is returned with the LP's t*
    Z, cons, run = fake_ladder(monkeypatch, [1e-7] * 8, scale=1e9)
    sol = mp.solve(0.25 * Z, cons)
    assert run == [S] and sol.t_star == pytest.approx(0.125, abs=1e-12)  # min(1, 2 scale^2), as above


def test_a_certified_solve_of_an_ill_conditioned_program_is_still_refused_by_the_LP(monkeypatch):
    # a (planted) LP answer t* = 5e-9 < ILL_CONDITIONED: a solver that certifies anyway does not get past it
    Z, cons, run = fake_ladder(monkeypatch, [1e-7] * 8, scale=1e9)
    monkeypatch.setattr(ct, "box_margin", lambda Z, cons: (5e-9, np.ones(len(cons))))
    with pytest.raises(IllConditionedError, match=r"^margin program: instance too badly conditioned \(best box margin t\* = 5e-09 < 1e-08"):
        mp.solve(Z, cons)


def test_a_gap_above_MAX_GAP_is_refused_with_the_relative_gap_in_the_message(monkeypatch):
    Z, cons, run = fake_ladder(monkeypatch, [None, 0.5, None, None, None, None, None, None])  # the second attempt: upper 2, lower 1
    with pytest.raises(SolverError, match=rf"^margin program: certified duality gap 0\.5 exceeds MAX_GAP = "
                                          rf"{ct.MAX_GAP:g} \(solver CLARABEL\)$"):
        mp.solve(Z, cons)


def test_a_program_wider_than_CLARABEL_MAX_R_is_not_given_to_Clarabel(monkeypatch):
    Z, cons, run = fake_ladder(monkeypatch, [None, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    monkeypatch.setattr(mp, "CLARABEL_MAX_R", Z.shape[1] - 1)
    assert mp.solve(Z, cons).solver == "SCS" and run == ["SCS", "SCS"]  # the rescaled attempt, the last resort


# ---- the forms of the program (program.FORMS) -----------------------------------------------
def sampled_program(pattern, C=3, seed=0):
    """A scaled Section 7 program: its Z (span coordinates / sqrt(d), round-off dropped as the solver
    does) and constraints."""
    from sinkcheck.construct.sinkdiag.min_cost import scaled_program
    _, Z, cons = scaled_program(sample_instance(d=32, C=C, n=3, r_eta=4, lam=1.0, kappa=1.0, seed=seed), pattern)
    return pg.sparse_copy(Z), cons


@pytest.mark.parametrize("pattern", ["sink", "diag"])
def test_the_split_rows_give_every_constraint_the_value_of_its_kron_row(pattern):
    Z, cons = sampled_program(pattern)
    M = np.random.default_rng(0).normal(size=(Z.shape[1],) * 2)
    A, split = pg.margin_rows(Z, cons, "split")
    assert 0 < split.size < np.unique(cons.query).size  # dormant queries on V, copy queries on kron rows
    values = A @ np.concatenate([M.ravel(), (Z[split] @ M).ravel()])
    assert np.allclose(values, np.einsum("ki,ij,kj->k", Z[cons.query], M, Z[cons.target] - Z[cons.competitor]),
                       rtol=1e-12, atol=1e-12)


def test_a_planted_error_in_the_split_rows_is_caught():
    Z, cons = sampled_program("sink")
    M = np.random.default_rng(0).normal(size=(Z.shape[1],) * 2)
    A, split = pg.margin_rows(Z, cons, "split")
    wrong = np.concatenate([M.ravel(), (Z[split[::-1]] @ M).ravel()])  # v_x of the wrong queries
    assert not np.allclose(A @ wrong, np.einsum("ki,ij,kj->k", Z[cons.query], M, Z[cons.target] - Z[cons.competitor]))


@pytest.mark.parametrize("pattern", ["sink", "diag"])
@pytest.mark.parametrize("seed", [0, 1])
def test_every_form_of_the_program_brackets_the_same_OPT(pattern, seed):
    Z, cons = sampled_program(pattern, seed=seed)
    sols = {form: mp.solve(Z, cons, mp.Policy(form=form)) for form in pg.FORMS}
    for form, sol in sols.items():
        assert sol.upper - sol.lower <= ct.SOLVER_RTOL * sol.upper, form
    assert max(s.lower for s in sols.values()) <= min(s.upper for s in sols.values())


def test_an_infeasible_program_is_reported_infeasible_in_every_form():
    Z, cons = sampled_program("diag")
    Z[cons.query[0]] = 0  # a dormant query that is 0 scores every key 0: it cannot prefer itself
    for form in pg.FORMS:
        with pytest.raises(InfeasibleError, match=r"^margin program: infeasible"):
            mp.solve(Z, cons, mp.Policy(form=form))


def test_an_unknown_form_is_refused_by_name():
    with pytest.raises(InvalidInputError, match="form"):
        mp.Policy(form="primal")


def failing_attempts(monkeypatch):
    """Every attempt fails; returns the (solver, form) of the attempts run, in order."""
    seen = []

    def solve(Z, cons, name, opts, form):
        seen.append((name, form))
        raise SolverError(f"solver {name} ended with status 'optimal_inaccurate'")

    monkeypatch.setattr(mp, "_solve", solve)
    return seen


@pytest.mark.parametrize("form", pg.FORMS)
def test_after_the_SCS_attempt_Clarabel_is_given_the_kron_form_and_SCS_the_chosen_one(monkeypatch, form):
    seen = failing_attempts(monkeypatch)
    with pytest.raises(SolverError):
        mp.solve(*sink_program(), mp.Policy(form=form))
    assert seen == [(name, form if name == "SCS" else "kron") for name, _ in mp.ATTEMPTS]


@pytest.mark.parametrize("form", pg.FORMS)
def test_clarabel_first_runs_every_Clarabel_attempt_in_the_chosen_form_before_SCS(monkeypatch, form):
    seen = failing_attempts(monkeypatch)
    with pytest.raises(SolverError):
        mp.solve(*sink_program(), mp.Policy(form=form, clarabel_first=True))
    assert seen == [(CL, form)] * 6 + [(S, form)] * 2  # Clarabel's six in ATTEMPTS' order, the rescaled SCS, the last resort
    assert [opts for name, opts in mp.ladder(3, mp.Policy(clarabel_first=True))] == \
        [opts for name, opts in mp.ATTEMPTS if name == CL] + [mp.RESCALED, mp.LAST_RESORT[1]]


def test_clarabel_first_still_skips_Clarabel_on_a_program_wider_than_CLARABEL_MAX_R():
    assert [name for name, _ in mp.ladder(mp.CLARABEL_MAX_R + 1, mp.Policy(clarabel_first=True))] == [S, S]


def test_the_spread_is_the_longest_constraint_direction_over_the_shortest_computed_by_hand():
    Z = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.5]])
    cons = pg.Triples(query=np.array([1, 2]), target=np.array([0, 1]), competitor=np.array([1, 2]))
    # w = z_0 - z_1 = (2, -1), of norm sqrt(5), and z_1 - z_2 = (0, 0.5), of norm 0.5
    assert pg.spread(Z, cons) == pytest.approx(2 * np.sqrt(5), rel=1e-15)
    same = pg.Triples(query=np.array([1, 2]), target=np.array([0, 2]), competitor=np.array([1, 2]))
    assert pg.spread(Z, same) == np.inf  # a constraint with w = 0 (no margin possible)


def scs_interrupted(monkeypatch, handler):
    """SCS's answer when Ctrl-C came during its solve (status -5; it catches SIGINT itself), in a
    process whose SIGINT handler is ``handler``."""
    def solve(problem, cone, **settings):
        os.write(1, b"Failure:interrupted\n")  # what SCS prints from C, verbose or not
        n, m = len(problem["c"]), len(problem["b"])
        return {"x": np.zeros(n), "y": np.zeros(m), "s": np.zeros(m),
                "info": {"status_val": -5, "status": "interrupted", "solve_time": 0.0, "setup_time": 0.0, "iter": 1,
                         "pobj": np.nan, "dobj": np.nan}}
    monkeypatch.setattr(mp.scs, "solve", solve)
    monkeypatch.setattr(mp.signal, "getsignal", lambda signum: handler)
    Z, cons = sink_program()
    return pg.program(Z, cons, "kron", 1.0)[0]


def test_a_ctrl_c_that_SCS_caught_is_raised_as_KeyboardInterrupt_not_taken_for_a_failed_attempt(monkeypatch, capfd):
    import signal
    prob = scs_interrupted(monkeypatch, signal.default_int_handler)
    with pytest.raises(KeyboardInterrupt):
        mp._run(prob, "SCS", {})
    assert capfd.readouterr().out == ""  # SCS's own line never reaches the user's stdout


def test_a_ctrl_c_that_SCS_caught_in_a_process_that_ignores_SIGINT_is_a_failed_solve(monkeypatch):
    import signal
    prob = scs_interrupted(monkeypatch, signal.SIG_IGN)
    with pytest.raises(SolverError, match="interrupted"):
        mp._run(prob, "SCS", {})


def test_when_no_attempt_ends_optimal_the_feasibility_LP_still_brackets_OPT(monkeypatch):
    # found by the sweep task (C = 17, lam = 1000): every attempt failed and the whole task was lost
    Z, cons = sink_program()
    exact = mp.solve(Z, cons)
    fake_ladder(monkeypatch, [None] * 8)
    with pytest.raises(WideBracketError, match=r"^margin program: solver .* \(but the feasibility LP found t\* = ") as err:
        mp.solve(Z, cons)
    assert err.value.lower <= exact.lower * (1 + 1e-9) and exact.upper <= err.value.upper * (1 + 1e-9)
    assert 0 < err.value.lower <= err.value.upper


def test_the_box_bracket_contains_the_certified_bracket_of_the_ladder():
    # the smallest sink problem of tests/test_sink_lp.py, solved by the ladder for the exact value
    Z, cons = sink_program()
    _, upper, lower = ct.box_bracket(Z, cons)
    exact = mp.solve(Z, cons)
    assert lower <= exact.lower * (1 + 1e-9) and exact.upper <= upper * (1 + 1e-9)


def test_when_no_attempt_ends_optimal_a_certified_inaccurate_iterate_tightens_the_bracket(monkeypatch):
    # every attempt ends "optimal_inaccurate" with an iterate near the optimum (the exact one, perturbed):
    # certify turns it into a bracket far tighter than the feasibility LP's, and the solve returns it
    Z, cons = sink_program()
    exact = mp.solve(Z, cons)
    prob, M_of, y_of = pg.program(Z, cons, "kron", 1.0)
    prob.solve(solver="CLARABEL")
    M_near, y_near = M_of() * (1 + 1e-9), y_of()

    def solve(Z_, cons_, name, opts, form):
        raise mp.InaccurateSolve(f"solver {name} ended with status 'optimal_inaccurate'", M_near, y_near)
        yield  # a generator, as _solve is

    monkeypatch.setattr(mp, "_solve", solve)
    sol = mp.solve(Z, cons)
    assert sol.status == "optimal_inaccurate" and sol.lower <= exact.upper * (1 + 1e-9)
    assert exact.lower <= sol.upper * (1 + 1e-9) and (sol.upper - sol.lower) / sol.upper <= ct.MAX_GAP
    box_upper = ct.box_bracket(Z, cons)[1]
    assert sol.upper <= box_upper


def test_an_inaccurate_attempt_without_a_finite_iterate_is_a_plain_solver_error():
    class Prob:
        status = cp.OPTIMAL_INACCURATE
    err = mp._ended_inaccurate("solver X ended", Prob(), lambda: None, lambda: np.ones(2))
    assert type(err) is SolverError
    err = mp._ended_inaccurate("solver X ended", Prob(), lambda: np.full((2, 2), np.nan), lambda: np.ones(2))
    assert type(err) is SolverError
    err = mp._ended_inaccurate("solver X ended", Prob(), lambda: np.eye(2), lambda: np.ones(2))
    assert isinstance(err, mp.InaccurateSolve)
