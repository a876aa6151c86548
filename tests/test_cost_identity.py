"""docs/cost_identity.md: min ||W_Q||^2 + ||W_K||^2 over W_Q^T W_K = W equals 2 ||W||_*."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sinkcheck.construct.factors import balanced_factors, nuclear_norm, qk_cost
from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import cost
from tests.support.strategies import low_rank_matrices


def test_amgm_step_holds_exactly():
    assert cost.check_amgm_step()


def test_cayley_matrices_are_exactly_orthogonal():
    import sympy as sp

    Q = cost.rational_orthogonal(4, seed=3)
    assert Q.T * Q == sp.eye(4)


@pytest.mark.parametrize("d_q, d_k", [(3, 4), (4, 2), (2, 2)])
def test_balanced_factorisation_reproduces_W_and_costs_twice_nuclear_in_exact_arithmetic(d_q, d_k):
    out = cost.check_balanced_factorisation(d_q, d_k, seed=d_q + d_k)
    assert out["product_is_W"] and out["cost_equals_twice_nuclear"]


@given(low_rank_matrices())
def test_balanced_factors_multiply_to_W(W):
    W_Q, W_K = balanced_factors(W)
    np.testing.assert_allclose(W_Q.T @ W_K, W, atol=1e-9 * max(1.0, np.abs(W).max()))


@given(low_rank_matrices())
def test_balanced_factors_cost_exactly_twice_the_nuclear_norm(W):
    W_Q, W_K = balanced_factors(W)
    assert qk_cost(W_Q, W_K) == pytest.approx(2 * nuclear_norm(W), rel=1e-9, abs=1e-12)


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.data())
def test_no_factorisation_costs_less_than_twice_the_nuclear_norm(r, d_q, d_k, data):
    el = st.floats(-5, 5, allow_nan=False)
    W_Q = data.draw(hnp.arrays(np.float64, (r, d_q), elements=el))
    W_K = data.draw(hnp.arrays(np.float64, (r, d_k), elements=el))
    assert qk_cost(W_Q, W_K) >= 2 * nuclear_norm(W_Q.T @ W_K) - 1e-9


def test_a_planted_wrong_constant_is_caught():
    """If the identity said 1 x ||W||_* (a wrong constant) the balanced cost would refute it."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 3))
    W_Q, W_K = balanced_factors(W)
    planted = 1.0 * nuclear_norm(W)
    assert not np.isclose(qk_cost(W_Q, W_K), planted)
    assert np.isclose(qk_cost(W_Q, W_K), 2.0 * nuclear_norm(W))


def test_factor_rows_must_match():
    with pytest.raises(InvalidInputError, match="^W_K:"):
        qk_cost(np.ones((2, 3)), np.ones((3, 3)))


def test_balanced_factors_have_exactly_rank_W_rows():
    W = np.diag([3.0, 1.0, 0.0, 0.0])  # rank 2 in exact arithmetic
    W_Q, W_K = balanced_factors(W, rtol=0.0)
    assert W_Q.shape == (2, 4) and W_K.shape == (2, 4)


def test_numerically_rank_deficient_W_drops_its_rounding_level_singular_values():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 6))  # rank 2, SVD gives ~1e-16 tails
    assert balanced_factors(W)[0].shape[0] == 2


def test_cayley_matrices_are_not_trivial():
    Q = cost.rational_orthogonal(3, seed=0)
    assert any(Q[i, j] != 0 for i in range(3) for j in range(3) if i != j)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: nuclear_norm(np.ones(3)), "W"),
        (lambda: nuclear_norm(np.array([[np.inf]])), "W"),
        (lambda: qk_cost(np.ones(3), np.ones((1, 3))), "W_Q"),
        (lambda: qk_cost(np.ones((1, 3)), np.ones(3)), "W_K"),
        (lambda: balanced_factors(np.ones((2, 2, 2))), "W"),
        (lambda: balanced_factors(np.ones((2, 2)), rtol=-1.0), "rtol"),
    ],
)
def test_bad_factor_input_raises_an_error_naming_the_parameter(call, name):
    with pytest.raises(InvalidInputError, match=rf"^{name}:"):
        call()


# ---- claims found by mutation testing ----------------------------------------------------------
def test_exact_balanced_factorisation_reports_a_cost_of_twice_its_nuclear_norm():
    out = cost.check_balanced_factorisation(3, 4, seed=0)
    assert out["cost"] == 2 * out["nuclear"] and out["nuclear"] > 0


def test_exact_instances_are_determined_by_their_seed():
    assert cost.rational_orthogonal(4, seed=5) == cost.rational_orthogonal(4, seed=5)
    assert cost.check_balanced_factorisation(3, 4, seed=2)["cost"] == cost.check_balanced_factorisation(3, 4, seed=2)["cost"]


def test_qk_cost_rejects_a_one_dimensional_W_K_even_when_its_length_matches():
    with pytest.raises(InvalidInputError, match=r"^W_K: must be a 2-d array"):
        qk_cost(np.ones((2, 3)), np.ones(2))


def test_qk_cost_row_mismatch_message_states_the_number_of_rows_of_W_Q():
    with pytest.raises(InvalidInputError, match=r"^W_K: must have as many rows as W_Q \(2\) \(got shape \(3, 3\)\)"):
        qk_cost(np.ones((2, 5)), np.ones((3, 3)))
