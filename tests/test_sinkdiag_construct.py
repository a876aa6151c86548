"""Instances, constructions, validator and min-cost solver of the sink-vs-diagonal setting
(Súkeník et al., Section 7; docs/cost_identity.md, docs/sink_vs_diagonal.md).

Tolerances: constructions are exact up to float rounding (margins >= -1e-9 kappa); a solve comes
with a certified bracket opt_lower <= OPT <= opt (weak duality), and its W meets every margin up to
float rounding (it is rescaled onto the constraints).
"""

from __future__ import annotations

import numpy as np
import pytest

from sinkcheck.construct.factors import nuclear_norm, qk_cost
from sinkcheck.construct.sinkdiag.min_cost import instance_basis, min_cost
from sinkcheck.construct.sinkdiag.constraints import (constraint_margins, margin_constraints, min_margin_by_kind,
                                                      violations)
from sinkcheck.construct.sinkdiag.instance import SinkDiagInstance, load_instance, sample_instance
from sinkcheck.construct.sinkdiag.weights import diag_construction, sink_construction, sink_knobs
from sinkcheck.errors import InvalidInputError, SolverError
from sinkcheck.solvers.ladder import Policy
from sinkcheck.theory import sinkdiag_bounds as T
import math
from sinkcheck.construct.sinkdiag.instance import RANK_RTOL
from sinkcheck.construct.sinkdiag.weights import construction, diag_knobs

EXACT = 1e-9


@pytest.fixture(scope="module")
def inst():
    return sample_instance(12, 3, [2, 3, 2], 2, 0.7, 1.5, seed=3)


# ---- instances ---------------------------------------------------------------------------
@pytest.mark.parametrize("centred,equal_norms", [(True, True), (True, False), (False, True), (False, False)])
def test_sampler_realises_the_requested_hypotheses(centred, equal_norms):
    I = sample_instance(14, 2, [3, 4], 3, 0.5, 1.0, seed=0, centred=centred, equal_norms=equal_norms)
    assert (I.is_centred, I.has_equal_norms) == (centred, equal_norms)


def test_sampler_is_deterministic_in_the_seed():
    a, b = (sample_instance(10, 2, 2, 2, 1.0, 1.0, seed=7) for _ in range(2))
    assert np.array_equal(a.d, b.d) and np.array_equal(a.eta, b.eta)


def test_instance_round_trips_through_npz(tmp_path, inst):
    inst.save(tmp_path / "i.npz")
    back = load_instance(tmp_path / "i.npz")
    assert np.array_equal(back.d, inst.d) and back.lam == inst.lam and back.kappa == inst.kappa


def test_truncated_npz_raises_invalid_input(tmp_path, inst):
    inst.save(tmp_path / "i.npz")
    raw = (tmp_path / "i.npz").read_bytes()
    (tmp_path / "t.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InvalidInputError, match="instance"):
        load_instance(tmp_path / "t.npz")


def test_npz_with_inconsistent_arrays_raises_invalid_input(tmp_path, inst):
    bad_d = inst.d.copy()
    bad_d[0, 0] += 1.0
    np.savez(tmp_path / "bad.npz", b=inst.b, dbar=inst.dbar, c=inst.c, d=bad_d, group=inst.group, eta=inst.eta,
             lam=inst.lam, kappa=inst.kappa)
    with pytest.raises(InvalidInputError, match="d: must equal"):
        load_instance(tmp_path / "bad.npz")


def test_instance_rejects_nuisance_inside_S(inst):
    eta = inst.eta + 0.1 * inst.b
    with pytest.raises(InvalidInputError, match="eta: must be orthogonal"):
        SinkDiagInstance(inst.b, inst.dbar, inst.c, inst.lam * inst.dbar[inst.group] + eta, inst.group, eta,
                         inst.lam, inst.kappa)


def test_instance_rejects_non_finite_arrays(inst):
    b = inst.b.copy()
    b[0] = np.nan
    with pytest.raises(InvalidInputError, match="b: must be finite"):
        SinkDiagInstance(b, inst.dbar, inst.c, inst.d, inst.group, inst.eta, inst.lam, inst.kappa)


# ---- constructions -----------------------------------------------------------------------
@pytest.mark.parametrize("lam", [0.3, 1.0, 4.0])
@pytest.mark.parametrize("fallback", [True, False])
def test_sink_construction_meets_every_margin(lam, fallback):
    I = sample_instance(12, 3, 2, 2, lam, 1.0, seed=1)
    assert violations(I, sink_construction(I, fallback).form, "sink", fallback, tol=EXACT * I.kappa) == []


@pytest.mark.parametrize("lam", [0.3, 1.0, 4.0])
@pytest.mark.parametrize("fallback", [True, False])
def test_diag_construction_meets_every_margin_under_H2(lam, fallback):
    I = sample_instance(12, 3, [2, 3, 2], 2, lam, 1.0, seed=1, centred=False, equal_norms=True)
    assert violations(I, diag_construction(I, fallback).form, "diag", fallback, tol=EXACT * I.kappa) == []


def test_sink_knobs_are_the_smallest_that_work(inst):
    # shrinking a or b by 1% breaks a margin: the dormant/fallback one for a, the copy one for b
    m = min_margin_by_kind(inst, sink_construction(inst).form, "sink")
    assert min(m["dormant"], m["fallback"]) == pytest.approx(0, abs=EXACT) and m["copy"] == pytest.approx(0, abs=EXACT)


def test_sink_construction_nuclear_norm_matches_the_closed_form(inst):
    con = sink_construction(inst)
    a, b = sink_knobs(inst.dim, inst.lam, inst.kappa)
    closed = float(T.sink_nuclear.subs({T.a: a, T.b: b, T.C: inst.C}))
    assert nuclear_norm(con.form.full()) == pytest.approx(closed, rel=1e-12)


def test_diag_construction_cost_matches_the_closed_form(inst):
    closed = T.diag_construction_cost().subs({T.kappa: inst.kappa, T.lam: inst.lam, T.d: inst.dim, T.C: inst.C,
                                              T.Delta: inst.Delta_diag, T.r_eta: inst.r_eta})
    assert diag_construction(inst).cost == pytest.approx(float(closed), rel=1e-12)


@pytest.mark.parametrize("pattern", ["sink", "diag"])
def test_construction_factors_reproduce_W_at_cost_twice_nuclear(inst, pattern):
    con = sink_construction(inst) if pattern == "sink" else diag_construction(inst)
    Wq, Wk = con.factors()
    assert np.allclose(Wq.T @ Wk, con.form.full(), atol=1e-12) and qk_cost(Wq, Wk) == pytest.approx(con.cost, rel=1e-10)


def test_validator_reports_a_planted_violation_with_its_margin(inst):
    W = sink_construction(inst).form.full() * 0.9  # every score shrinks by 10%
    bad = violations(inst, W, "sink")
    assert bad and min(v.margin for v in bad) == pytest.approx(-0.1 * inst.kappa, rel=1e-9)


def test_diag_construction_is_refused_when_Delta_diag_is_not_positive():
    I = sample_instance(12, 2, 3, 1, 1.0, 1.0, seed=0, centred=False, equal_norms=False)
    assert I.Delta_diag <= 0
    with pytest.raises(InvalidInputError, match="Delta_diag"):
        diag_construction(I)


# ---- span reduction and the solver ---------------------------------------------------------
def test_projecting_W_onto_the_span_keeps_every_score_and_lowers_the_nuclear_norm(inst):
    W = np.random.default_rng(0).standard_normal((inst.dim, inst.dim))
    Q = instance_basis(inst)
    P = Q @ Q.T
    cons = margin_constraints(inst, "sink")
    same = np.allclose(constraint_margins(inst, W, cons), constraint_margins(inst, P @ W @ P, cons), atol=1e-10)
    assert same and nuclear_norm(P @ W @ P) <= nuclear_norm(W)


@pytest.mark.parametrize("decay", [0.0, 16.0, 30.0])
def test_the_reduced_basis_is_U_then_every_nuisance_direction_even_when_their_variances_span_decades(decay):
    # instance_basis keeps the order and signs of [U | B_eta]: S first, unchanged, then r_eta unit
    # nuisance directions; at decay 30 the eigenvalues of eta eta^T span 14 decades, and a direction
    # that were not normalised before the orthonormalisation would fall below its rank tolerance
    I = sample_instance(12, 2, 3, 3, 1.0, 1.0, seed=0, centred=False, equal_norms=False, decay=decay)
    Q = instance_basis(I)
    assert Q.shape == (12, 2 * 2 + 1 + 3) and np.abs(Q[:, :5] - I.U).max() < 1e-12
    T = I.tokens()
    assert np.abs(Q.T @ Q - np.eye(8)).max() < 1e-12 and np.abs(T - T @ Q @ Q.T).max() < 1e-12


@pytest.mark.parametrize("pattern", ["sink", "diag"])
def test_reduced_and_naive_programs_agree_on_OPT_at_small_d(pattern):
    I = sample_instance(9, 2, 2, 2, 1.0, 1.0, seed=4)
    red, naive = min_cost(I, pattern), min_cost(I, pattern, reduce=False)
    assert naive.form.M.shape == (9, 9) and np.array_equal(naive.form.basis, np.eye(9))  # the d x d program
    assert red.opt_lower <= naive.opt and naive.opt_lower <= red.opt  # the two brackets overlap


@pytest.mark.parametrize("pattern", ["sink", "diag"])
def test_optimal_W_meets_the_margins_and_its_factors_cost_OPT(inst, pattern):
    sol = min_cost(inst, pattern)
    Wq, Wk = sol.factors()
    assert sol.min_margin >= -1e-6 * inst.kappa and qk_cost(Wq, Wk) == pytest.approx(sol.opt, rel=1e-8)


def test_clarabel_and_scs_agree_on_OPT(inst):
    assert min_cost(inst, "sink").opt == pytest.approx(min_cost(inst, "sink", policy=Policy(attempts="scs")).opt, rel=1e-5)


def test_non_optimal_status_raises_solver_error(inst, monkeypatch):
    import cvxpy as cp

    from sinkcheck.solvers import ladder

    def stop_early(prob, *args, **kwargs):  # every solve goes through ladder._run
        prob._status = cp.OPTIMAL_INACCURATE
        return None
    monkeypatch.setattr(ladder, "_run", stop_early)
    with pytest.raises(SolverError, match="optimal_inaccurate"):
        min_cost(inst, "sink", policy=Policy(last_resort=False))


def test_an_unknown_set_of_solver_attempts_is_rejected(inst):
    with pytest.raises(InvalidInputError, match="attempts"):
        min_cost(inst, "sink", policy=Policy(attempts="MOSEK"))


def test_diag_program_is_infeasible_when_two_group_mates_coincide(inst):
    from sinkcheck.errors import InfeasibleError
    eta = inst.eta.copy()
    eta[1] = eta[0]  # tokens 0 and 1 are in group 0: d_01 = d_02, Delta_diag = 0
    twin = SinkDiagInstance(inst.b, inst.dbar, inst.c, inst.lam * inst.dbar[inst.group] + eta, inst.group, eta,
                            inst.lam, inst.kappa)
    with pytest.raises(InfeasibleError, match="infeasible"):
        min_cost(twin, "diag")


@pytest.mark.parametrize("pattern", ["sink", "diag"])
def test_constructions_meet_every_margin_at_C_20(pattern):
    # many groups: the validator alone (OPT at C = 20: tests/test_min_cost_certificate.py)
    I = sample_instance(46, 20, 2, 4, 1.5, 1.0, seed=2)
    con = sink_construction(I) if pattern == "sink" else diag_construction(I)
    assert violations(I, con.form, pattern, tol=EXACT * I.kappa) == []


def test_diag_program_is_infeasible_when_a_token_lies_between_two_group_mates():
    # r_eta = 1 and n_c = 3: the three nuisance vectors are collinear, the middle dormant token is a
    # convex combination of the other two, and no linear functional W^T d can rank it strictly first
    from sinkcheck.errors import InfeasibleError
    I = sample_instance(6, 1, 3, 1, 1.0, 1.0, seed=0, centred=False, equal_norms=False)
    with pytest.raises(InfeasibleError):
        min_cost(I, "diag")


# ---- the knobs and constraints of the constructions --------------------------------------------------
# (Claims of construct/sinkdiag/weights.py that no earlier test stated (found by mutation testing,)

@pytest.fixture(scope="module")
def inst16():
    # d = 16 (sqrt(d) = 4), lam = 0.5, kappa = 2, under H1 and H2 (Delta_diag > 0)
    return sample_instance(16, 2, 2, 2, 0.5, 2.0, seed=0)


def test_sink_construction_reports_its_pattern_and_the_knobs_of_the_margin_walk(inst16):
    con = construction(inst16, "sink")
    # fallback, lam < 1: a = kappa / (sqrt(d) lam) = 2 / 2 = 1, b = (kappa + a sqrt(d)) / (lam sqrt(d)) = 6 / 2 = 3
    assert con.pattern == "sink"
    assert con.params.keys() == {"a", "b"}
    assert con.params["a"] == pytest.approx(1.0, rel=1e-15) and con.params["b"] == pytest.approx(3.0, rel=1e-15)


def test_diag_construction_reports_its_pattern_and_the_seed_knobs(inst16):
    con = construction(inst16, "diag", fallback=False)
    # s = kappa / (lam^2 sqrt d) = 2, a = 0 without fallback, b = 2 kappa / (lam sqrt d) = 2,
    # alpha = 2 kappa sqrt(d) / Delta_diag = 16 / Delta_diag
    assert con.pattern == "diag"
    assert con.params.keys() == {"s", "a", "b", "alpha_diag"}
    assert [con.params[k] for k in ("s", "a", "b")] == pytest.approx([2.0, 0.0, 2.0], rel=1e-15)
    assert con.params["alpha_diag"] == pytest.approx(16 / inst16.Delta_diag, rel=1e-15)


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


def test_an_unknown_pattern_is_refused_naming_the_two_patterns(inst16):
    with pytest.raises(InvalidInputError, match=r"^pattern: must be one of sink, diag \(got 'band'\)"):
        construction(inst16, "band")


# ---- construct/sinkdiag/constraints.py -----------------------------------------------------------
from sinkcheck.construct.sinkdiag import constraints as sc  # noqa: E402


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
def test_the_constraints_are_exactly_the_documented_list_once_each_with_fallback_by_default(inst16, pattern):
    cons = sc.margin_constraints(inst16, pattern)
    got = list(zip(cons.query.tolist(), cons.target.tolist(), cons.competitor.tolist(), cons.kind.tolist()))
    assert len(got) == len(set(got)) and set(got) == _hand_constraints(inst16.C, list(inst16.group), pattern, True)
    no_fb = sc.margin_constraints(inst16, pattern, fallback=False)
    assert "fallback" not in set(no_fb.kind.tolist()) and len(no_fb) == len(_hand_constraints(inst16.C, list(inst16.group), pattern, False))


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


def test_constraint_helpers_refuse_bad_arguments_naming_them(inst16):
    with pytest.raises(InvalidInputError, match=r"^pattern: must be one of sink, diag"):
        sc.margin_constraints(inst16, "band")
    with pytest.raises(InvalidInputError, match=r"^W: must have shape"):
        sc.all_scores(inst16, np.zeros((inst16.dim + 1, inst16.dim + 1)))
    with pytest.raises(InvalidInputError, match=r"^tol: must be finite and >= 0"):
        sc.violations(inst16, np.zeros((inst16.dim, inst16.dim)), "sink", tol=-1.0)
