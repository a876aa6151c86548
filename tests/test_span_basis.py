"""docs/cost_identity.md: the span reduction's basis spans exactly the embeddings."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sinkcheck.construct.factors import span_basis
import pytest
from sinkcheck.errors import InvalidInputError

grid = st.integers(-4, 4).map(lambda v: v / 2.0)


@given(st.integers(1, 6), st.integers(1, 6), st.data())
def test_span_basis_is_orthonormal_and_reproduces_every_embedding(n, d, data):
    Z = data.draw(hnp.arrays(np.float64, (n, d), elements=grid))
    Q = span_basis(Z)
    assert np.allclose(Q.T @ Q, np.eye(Q.shape[1]), atol=1e-10)
    assert np.allclose(Z @ Q @ Q.T, Z, atol=1e-9)


@given(st.integers(1, 6), st.integers(1, 6), st.data())
def test_span_basis_has_as_many_columns_as_the_rank_of_the_embeddings(n, d, data):
    Z = data.draw(hnp.arrays(np.float64, (n, d), elements=grid))
    assert span_basis(Z).shape[1] == max(1, np.linalg.matrix_rank(Z))


def test_span_basis_does_not_grow_with_d():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((5, 4096))
    assert span_basis(Z).shape == (4096, 5)


# ---- span basis: refusals and rank -------------------------------------------------------------------
# (Claims of construct/factors.span_basis that no earlier test stated (found by mutation testing,)

def test_span_basis_refuses_a_single_vector_naming_Z():
    with pytest.raises(InvalidInputError, match=r"^Z: must be a 2-d array"):
        span_basis(np.ones(3))


def test_span_basis_refuses_a_negative_tolerance_naming_rtol():
    with pytest.raises(InvalidInputError, match=r"^rtol: must be finite and >= 0"):
        span_basis(np.eye(3), rtol=-1e-3)


@pytest.mark.parametrize("Z,rank", [
    (np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0]]), 1),  # two parallel rows: Cholesky fails, QR + SVD path
    (np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), 2),
    (np.zeros((2, 3)), 1),  # no span at all: still one column, so shapes stay valid
])
def test_a_rank_deficient_set_gets_one_orthonormal_column_per_dimension_of_its_span(Z, rank):
    Q = span_basis(Z)
    assert Q.shape == (3, rank) and np.allclose(Q.T @ Q, np.eye(rank), atol=1e-12)
    assert np.allclose(Z @ Q @ Q.T, Z, atol=1e-12)  # every row lies in the span of Q


def test_with_rtol_0_an_exactly_zero_singular_value_does_not_count():
    assert span_basis(np.array([[1.0, 0.0], [1.0, 0.0]]), rtol=0.0).shape == (2, 1)


def test_the_rank_tolerance_is_relative_to_the_largest_singular_value():
    # singular values about 1.4e-3, 1e-14 and 0 (a repeated row forces the QR + SVD path): the second
    # is above 1e-12 * 1.4e-3, so it counts, although it is below 1e-12 in absolute terms
    Z = np.array([[1e-3, 0.0], [0.0, 1e-14], [1e-3, 0.0]])
    assert span_basis(Z).shape == (2, 2)
