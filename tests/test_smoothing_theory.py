"""docs/smoothing.md: the symbolic derivation of D_k(lambda) and the cosine statement."""

import pytest
import sympy as sp

from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import smoothing as th


def test_path_matrix_is_doubly_stochastic_so_token_means_cancel():
    assert all(th.check_centering_step().values())
    assert all(th.check_mean_free_coefficients().values())


def test_cross_and_square_terms_are_the_traces_in_explicit_entries():
    assert all(th.check_trace_identities(d=3).values())


def test_coefficient_derivation_gives_the_closed_forms_for_symbolic_k():
    assert all(th.check_closed_forms().values())


@pytest.mark.parametrize("k_value", [2, 3, 4])
def test_brute_force_expectation_equals_closed_forms_in_all_entries(k_value):
    assert all(th.check_brute_force(k_value, d=2).values())


def test_a_planted_missing_factor_one_minus_one_over_k_is_caught_by_the_brute_force():
    m = th.brute_force_moments(3, 2)
    planted = sp.expand(m["D_closed"] / (1 - sp.Rational(1, 3)))  # the spec's formula without (1 - 1/k)
    assert sp.expand(m["D"] - planted) != 0


def test_a_planted_flipped_cross_term_is_caught_by_the_brute_force():
    m = th.brute_force_moments(2, 2)
    beta = sp.Symbol("beta", real=True)
    planted = m["D_closed"].subs(beta, -beta)  # D with -2 (1 - lam) p instead of +
    assert sp.expand(m["D"] - planted) != 0


def test_derivatives_at_0_and_1_match_the_seed_and_D_is_convex():
    out = th.check_derivatives()
    assert out["D_prime_at_1"] and out["D_prime_at_0"] and out["D_second"]
    assert out["D_prime_affine"] and out["stationary_point"] and out["endpoint_difference"]


def test_a_planted_sign_error_in_the_seed_derivative_is_caught():
    D = th.D_closed(th.k, th.lam, th.p, th.q, th.tSx)
    planted = 2 * th.p * (1 - 1 / th.k)  # D'(1) with the sign flipped
    assert sp.simplify(sp.diff(D, th.lam).subs(th.lam, 1) - planted) != 0


def test_monotonicity_classification_agrees_with_solveset_including_boundaries():
    out = th.check_monotonicity_exactly()
    assert all(ok for _, ok in out.values())
    assert out[(sp.Integer(0), sp.Integer(1))][0] == "strictly decreasing"


def test_boundary_p_zero_strictly_decreases_although_the_paper_condition_fails():
    """FINDING: the paper's 'strictly decreases iff beta tr(BW) > 0' fails at p = 0 < q: there
    D' = -2 (1 - 1/k) (1 - lam) q < 0 on [0, 1) and D strictly decreases."""
    assert th.monotonicity(0.0, 1.0) == "strictly decreasing"
    assert th.paper_condition(0.0, 1.0) == "neither"


def test_boundary_p_plus_q_zero_strictly_increases_although_the_paper_condition_fails():
    assert th.monotonicity(-1.0, 1.0) == "strictly increasing"
    assert th.paper_condition(-1.0, 1.0) == "neither"


def test_a_planted_seed_iff_classification_is_refuted_by_solveset():
    """Reading the paper's strict conditions as the exact classification disagrees with solveset."""
    def planted(pv, qv):
        return {"dense smooths": "strictly decreasing", "dense sharpens": "strictly increasing"}.get(
            th.paper_condition(pv, qv), "decreasing then increasing")
    exact = th.check_monotonicity_exactly()
    assert any(planted(pv, qv) != truth for (pv, qv), (truth, _) in exact.items() if qv > 0)


def test_cosine_ratio_moves_against_D_whenever_S_is_positive():
    assert all(th.check_cosine_identities().values())


def test_a_planted_wrong_constant_in_the_cosine_identity_is_caught():
    D, N = th.D_closed(th.k, th.lam, th.p, th.q, th.tSx), th.N_closed(th.k, th.lam, th.p, th.q, th.mm)
    S = th.S_closed(th.k, th.p, th.q, th.tSx, th.mm)
    assert sp.simplify(N + D / th.k - S) != 0  # 1/k instead of 1/(k - 1)


@pytest.mark.parametrize("p_value, q_value, param", [(0.0, -1.0, "q_value"), (1.0, 0.0, "p_value")])
def test_monotonicity_rejects_values_no_valid_model_has(p_value, q_value, param):
    with pytest.raises(InvalidInputError, match=f"^{param}:"):
        th.monotonicity(p_value, q_value)
