"""docs/cost_identity.md: the span reduction's basis spans exactly the embeddings."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sinkcheck.construct.factors import span_basis

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
