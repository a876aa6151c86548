"""Gu et al.'s importance alpha_k and Sink_k^eps (docs/empirical.md, "Gu et al.'s metric, exactly"):
thresholded per (sample, layer, head), then averaged; the per-head pooled statistic kept apart."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sinkcheck.core import attention as att
from sinkcheck.core.metrics import importance, proxy_scores, sink_rate, sink_rates
from sinkcheck.errors import InvalidInputError

# two causal maps of one head (T = 3), written out by hand
A1 = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]])  # alpha = (1.7/3, 0.8/2, 0.5/1)
A2 = np.array([[1.0, 0, 0], [0, 1, 0], [0, 0.1, 0.9]])  # alpha = (1/3, 1.1/2, 0.9/1)


def test_importance_averages_column_k_over_the_queries_that_see_it():
    np.testing.assert_allclose(importance(A1), [1.7 / 3, 0.4, 0.5])
    np.testing.assert_allclose(importance(A2), [1 / 3, 0.55, 0.9])


def test_a_perfect_bos_sink_has_importance_one_at_position_zero():
    T = 6
    A = np.zeros((T, T))
    A[:, 0] = 1
    assert importance(A)[0] == 1.0


def test_gu_pooling_thresholds_each_sample_before_averaging_and_differs_from_per_head_pooling():
    # eps = 0.4, position 0: alpha = 0.567 (sink) and 0.333 (not): Gu et al.'s Sink_1 = 1/2.
    # Averaged over the samples first, alpha = 0.45 > 0.4: "heads whose mean importance exceeds eps" = 1.
    maps = np.stack([A1[None, None], A2[None, None]])  # (N=2, L=1, H=1, 3, 3)
    rates = sink_rates(maps, eps=0.4)
    assert rates.sink_k[0] == 0.5 and rates.heads_mean_alpha_above_eps[0] == 1.0
    # position 1: alpha = 0.4 (not above 0.4: strict) and 0.55: 1/2; mean 0.475: 1
    assert rates.sink_k[1] == 0.5 and rates.heads_mean_alpha_above_eps[1] == 1.0
    assert sink_rate(maps, k=0, eps=0.4) == 0.5


def test_a_sink_needs_importance_strictly_above_eps():
    A = np.array([[1.0, 0], [0.0, 1.0]])  # alpha_0 = (1 + 0) / 2 = 0.5 exactly (dyadic)
    maps = A[None, None, None]
    assert importance(A)[0] == 0.5
    assert sink_rate(maps, k=0, eps=0.5) == 0.0
    assert sink_rate(maps, k=0, eps=np.nextafter(0.5, 0)) == 1.0


def test_sink_rate_counts_sinks_over_samples_layers_and_heads():
    T = 4
    sink = np.zeros((T, T))
    sink[:, 0] = 1
    uniform = att.softmax_attention(np.zeros((T, T)), att.causal_mask(T))  # alpha_0 = H_4 / 4 ~ 0.52
    diag = np.eye(T)
    sample = np.stack([np.stack([sink, diag]), np.stack([diag, uniform])])  # (L=2, H=2, T, T)
    maps = np.stack([sample, sample[::-1]])  # the second sample swaps the layers
    assert sink_rate(maps, k=0, eps=0.3) == pytest.approx(2 / 4)
    assert sink_rate(maps, k=0, eps=0.6) == pytest.approx(1 / 4)
    np.testing.assert_allclose(sink_rates(maps, eps=0.3).per_layer[:, 0], [0.5, 0.5])


def test_the_encoder_variant_averages_over_all_queries_where_gu_formula_inflates_late_positions():
    T = 8
    uniform = np.full((T, T), 1 / T)  # bidirectional, no sink anywhere
    maps = uniform[None, None, None]
    # Gu et al.'s formula divides the full column (1) by T - k: alpha_k = 1 / (T - k), above 0.3 for k >= 5
    np.testing.assert_allclose(importance(uniform, "gu"), 1 / (T - np.arange(T)))
    assert list(sink_rates(maps, eps=0.3, variant="gu").sink_k) == [0, 0, 0, 0, 0, 1, 1, 1]
    np.testing.assert_allclose(importance(uniform, "encoder"), np.full(T, 1 / T))
    assert not sink_rates(maps, eps=0.3, variant="encoder").sink_k.any()


def test_on_causal_maps_gu_formula_is_the_mean_over_the_queries_that_see_k():
    A = att.softmax_attention(np.random.default_rng(0).standard_normal((6, 6)), att.causal_mask(6))
    np.testing.assert_allclose(importance(A, "gu"), [A[k:, k].mean() for k in range(6)])


def test_sequences_of_different_lengths_pool_position_k_over_the_sequences_that_have_it():
    short = np.eye(2)[None, None]  # alpha = (1/2, 1)
    long = np.zeros((1, 1, 4, 4))
    long[..., 0] = 1  # alpha_0 = 1, alpha_1..3 = 0
    rates = sink_rates([short, long], eps=0.3)
    np.testing.assert_array_equal(rates.samples, [2, 2, 1, 1])
    np.testing.assert_array_equal(rates.sink_k, [1.0, 0.5, 0.0, 0.0])


def _gu_by_loops(maps, eps):
    """Gu et al.'s Sink_k^eps written out as the sum over samples, layers and heads."""
    N, L, H, T, _ = maps.shape
    out = np.zeros(T)
    for k in range(T):
        hits = 0
        for n in range(N):
            for l in range(L):
                for h in range(H):
                    alpha = sum(maps[n, l, h, i, k] for i in range(T)) / (T - k)
                    hits += alpha > eps
        out[k] = hits / (N * L * H)
    return out


causal_maps = st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 2), st.integers(1, 5)).flatmap(
    lambda s: hnp.arrays(np.float64, s + (s[-1],), elements=st.floats(-3, 3))).map(
    lambda S: att.softmax_attention(S, att.causal_mask(S.shape[-1])))


@given(causal_maps, st.sampled_from([0.1, 0.3, 0.5]))
def test_sink_k_equals_gu_definition_written_as_loops(maps, eps):
    np.testing.assert_array_equal(sink_rates(maps, eps=eps).sink_k, _gu_by_loops(maps, eps))


@given(st.integers(2, 6).flatmap(lambda T: hnp.arrays(np.float64, (T, T), elements=st.floats(0, 5))))
def test_proxy_scores_are_normalised_unless_the_row_is_off(A):
    P = proxy_scores(A)
    sums = P.sum(axis=-1)
    off = A.sum(axis=-1) == 0
    assert np.allclose(sums[~off], 1.0) and np.all(sums[off] == 0)


def test_sink_rate_rejects_a_position_outside_the_sequence():
    with pytest.raises(InvalidInputError, match="^k:"):
        sink_rate(np.zeros((1, 1, 1, 3, 3)), k=3)
