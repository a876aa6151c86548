"""Gu et al.'s importance alpha_k and Sink_k^eps (Gu et al. 2025; docs/empirical.md)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sinkcheck.core import attention as att
from sinkcheck.core.metrics import importance, proxy_scores, sink_rate
from sinkcheck.errors import InvalidInputError


def test_importance_averages_column_k_over_the_queries_that_see_it():
    A = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]])
    # alpha_0 = (1 + .5 + .2)/3, alpha_1 = (.5 + .3)/2, alpha_2 = .5/1
    np.testing.assert_allclose(importance(A), [1.7 / 3, 0.4, 0.5])


def test_a_perfect_bos_sink_has_importance_one_at_position_zero():
    T = 6
    A = np.zeros((T, T))
    A[:, 0] = 1
    assert importance(A)[0] == 1.0


def test_sink_rate_counts_the_fraction_of_heads_above_eps():
    T = 4
    sink = np.zeros((T, T)); sink[:, 0] = 1
    uniform = att.softmax_attention(np.zeros((T, T)), att.causal_mask(T))  # alpha_0 = mean(1/(i+1)) ~ 0.52
    diag = np.eye(T)
    A = np.stack([np.stack([sink, diag]), np.stack([diag, uniform])])  # (L=2, H=2, T, T)
    assert sink_rate(A, k=0, eps=0.3) == pytest.approx(2 / 4)
    assert sink_rate(A, k=0, eps=0.6) == pytest.approx(1 / 4)


@given(st.integers(2, 6).flatmap(lambda T: hnp.arrays(np.float64, (T, T), elements=st.floats(0, 5))))
def test_proxy_scores_are_normalised_unless_the_row_is_off(A):
    P = proxy_scores(A)
    sums = P.sum(axis=-1)
    off = A.sum(axis=-1) == 0
    assert np.allclose(sums[~off], 1.0) and np.all(sums[off] == 0)


def test_sink_rate_rejects_a_position_outside_the_sequence():
    with pytest.raises(InvalidInputError, match="^k:"):
        sink_rate(np.zeros((1, 1, 3, 3)), k=3)
