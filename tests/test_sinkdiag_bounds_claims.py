"""Claims of theory/sinkdiag_bounds.py that no earlier test stated (found by mutation testing,
docs/mutation.md).

Every expected value is derived independently of the code under test: by hand (the quadratics
behind the thresholds, the stated bounds at numbers), or by a different computation (the nuclear
norm of the numerically built construction, sympy's nsolve).
"""

from __future__ import annotations

import math

import pytest
import sympy as sp

from sinkcheck.construct.sinkdiag_weights import construction
from sinkcheck.construct.sinkdiag_instance import sample_instance
from sinkcheck.theory import sinkdiag_bounds as T


# ---- the names of the checked proof steps (they are the evidence keys of the sinkdiag certificate) ---
def test_the_exact_margin_steps_of_the_diagonal_construction_have_their_certificate_names():
    assert set(T.check_diag_scores_meet_margins_exactly()) == {
        "dormant_vs_group_mate_at_Delta", "dormant_self_score_is_kappa_plus_alpha_norm", "copy_vs_self",
        "fallback_self_vs_zero", "cost_of_alpha_P_eta_equals_U_diag_r_eta_term"}


def test_the_exact_lower_bound_steps_have_their_certificate_names():
    assert set(T.check_lower_bound_steps()) == {"trace_bound_step", "copy_matrix_op_norm", "lambda_threshold",
                                                "lambda_threshold_fallback"}


# ---- the closed-form construction costs equal the nuclear norm of the built construction ---------
CASES = [(d, lam, kappa, fb) for d, lam, kappa in [(9, 0.4, 0.7), (16, 2.5, 3.0), (11, 1.0, 1.0)]
         for fb in (True, False)]


def _at(expr, inst):
    return float(expr.subs({T.kappa: inst.kappa, T.d: inst.dim, T.lam: inst.lam, T.C: inst.C,
                            T.r_eta: inst.r_eta, T.Delta: inst.Delta_diag}))


@pytest.mark.parametrize("d,lam,kappa,fallback", CASES)
def test_closed_form_sink_cost_is_twice_the_nuclear_norm_of_the_built_sink_construction(d, lam, kappa, fallback):
    inst = sample_instance(d, 2, 2, 2, lam, kappa, seed=3)
    closed = T.sink_construction_cost(fallback, lam_at_least_one=lam >= 1)
    assert _at(closed, inst) == pytest.approx(construction(inst, "sink", fallback).cost, rel=1e-12)


@pytest.mark.parametrize("d,lam,kappa,fallback", CASES)
def test_closed_form_diag_cost_is_twice_the_nuclear_norm_of_the_built_diag_construction(d, lam, kappa, fallback):
    inst = sample_instance(d, 2, 2, 2, lam, kappa, seed=3, centred=True, equal_norms=True)
    assert inst.Delta_diag > 0
    assert _at(T.diag_construction_cost(fallback), inst) == pytest.approx(
        construction(inst, "diag", fallback).cost, rel=1e-12)


def test_the_sink_knobs_by_default_are_those_of_the_fallback_construction_at_lam_at_least_one():
    # a = kappa / sqrt(d), b = (kappa + a sqrt(d)) / (lam sqrt(d)) = 2 kappa / (lam sqrt(d)) (by hand)
    a_, b_ = T.sink_knobs_symbolic()
    vals = {T.kappa: 3, T.d: 4, T.lam: 5}
    assert (a_.subs(vals), b_.subs(vals)) == (sp.Rational(3, 2), sp.Rational(3, 5))
    # on the lam < 1 branch the dormant margin sets a = kappa / (lam sqrt(d)), b = kappa (1 + 1/lam) / (lam sqrt(d))
    a_, b_ = T.sink_knobs_symbolic(True, lam_at_least_one=False)
    assert (a_.subs(vals), b_.subs(vals)) == (sp.Rational(3, 10), sp.Rational(9, 25))


def test_the_sink_cost_by_default_is_that_of_the_fallback_construction_at_lam_at_least_one():
    inst = sample_instance(16, 3, 2, 1, 2.5, 3.0, seed=1)
    assert _at(T.sink_construction_cost(), inst) == pytest.approx(construction(inst, "sink", True).cost, rel=1e-12)


# ---- thresholds: roots of quadratics solved by hand ---------------------------------------------
def test_diag_upper_threshold_is_the_root_of_its_quadratic_with_and_without_fallback():
    # 4((u + a')^2 + 4u) = 169 with u = 1/lam^2: a' = 1 gives u = -3 + sqrt(201)/2, a' = 0 gives u = -2 + sqrt(185)/2
    u_fb, u_no = -3 + math.sqrt(201) / 2, -2 + math.sqrt(185) / 2
    assert float(T.diag_upper_lambda_threshold()) == pytest.approx(1 / math.sqrt(u_fb), rel=1e-12)
    assert float(T.diag_upper_lambda_threshold(fallback=False)) == pytest.approx(1 / math.sqrt(u_no), rel=1e-12)


@pytest.mark.parametrize("C_value", [1, 3])
def test_sink_upper_threshold_is_the_root_of_cost_minus_U_sink_to_double_precision(C_value):
    # independent: sympy's nsolve on the cost written out by hand on the lam < 1 branch (kappa = d = 1):
    # a = 1/lam, b = (1 + a)/lam, cost = 2[(C - 1) b + sqrt(2 C a^2 + b^2 + 2 sqrt(C) a b)] = 12 C
    x = sp.symbols("x", positive=True)
    a_ = 1 / x
    b_ = (1 + a_) / x
    cost = 2 * ((C_value - 1) * b_ + sp.sqrt(2 * C_value * a_**2 + b_**2 + 2 * sp.sqrt(C_value) * a_ * b_))
    want = float(sp.nsolve(cost - 12 * C_value, x, 0.5, prec=30))
    assert T.sink_upper_lambda_threshold(C_value) == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert T.sink_upper_lambda_threshold(C_value, fallback=False) == pytest.approx(want, rel=1e-12, abs=1e-15)


VALS = {T.kappa: 1.5, T.C: 4, T.r_eta: 3, T.delta: 0.8, T.r_eff: 2.0}


def _positive_root(c2, c1, c0):
    return (-c1 + math.sqrt(c1 * c1 - 4 * c2 * c0)) / (2 * c2)


def test_sinks_win_threshold_is_the_positive_root_of_stated_L_diag_equals_U_sink():
    # kappa r_eff / delta^2 t^2 - 5 (r_eta + C) t + (1/2 - 12) kappa C = 0 (times t; t = sqrt(d))
    k, C, r, dl, re = 1.5, 4, 3, 0.8, 2.0
    want = _positive_root(k * re / dl**2, -5 * (r + C), (0.5 - 12) * k * C)
    assert float(T.sinks_win_threshold().subs(VALS)) == pytest.approx(want, rel=1e-12)


def test_sinks_win_threshold_with_the_repaired_L_diag_uses_2_kappa_C_over_sqrt_2d():
    # L_diag_proved at lam = 1: kappa r_eff t / delta^2 + 2 kappa C / sqrt(2) / t
    k, C, r, dl, re = 1.5, 4, 3, 0.8, 2.0
    want = _positive_root(k * re / dl**2, -5 * (r + C), (math.sqrt(2) - 12) * k * C)
    assert float(T.sinks_win_threshold(repaired=True).subs(VALS)) == pytest.approx(want, rel=1e-12)


# ---- qk_value: the QK part of a bound at numbers ------------------------------------------------
def test_qk_value_evaluates_the_stated_bound_at_the_given_numbers_and_ignores_unused_ones():
    assert T.qk_value("U_sink", kappa=2.0, C=3, d=4) == pytest.approx(12 * 2 * 3 / 2, rel=1e-15)
    assert T.qk_value("L_sink", kappa=2.0, C=3, d=4, r_eta=7, Delta_diag=0.1) == pytest.approx(2 * 3 / 4, rel=1e-15)
    # U_diag = 13 kappa C / sqrt(d) + 4 kappa sqrt(d) r_eta / Delta
    assert T.qk_value("U_diag", kappa=1.0, C=2, d=9, r_eta=2, Delta_diag=0.5) == pytest.approx(26 / 3 + 48, rel=1e-15)

