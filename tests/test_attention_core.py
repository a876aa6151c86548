"""The attention core: each property is a claim about softmax / ReLU / sigmoid attention."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sinkcheck.core import attention as att
from sinkcheck.core import attention_torch as att_t
from sinkcheck.errors import InvalidInputError

scores_st = st.integers(1, 7).flatmap(
    lambda T: hnp.arrays(np.float64, (T, T), elements=st.floats(-30, 30, allow_nan=False))
)


@given(scores_st)
def test_softmax_rows_are_probability_vectors_on_visible_keys(S):
    A = att.softmax_attention(S, att.causal_mask(S.shape[0]))
    assert np.allclose(A.sum(axis=-1), 1.0)
    assert np.all(A[np.triu_indices(S.shape[0], 1)] == 0.0)
    assert np.all(A >= 0)


@given(scores_st, st.sampled_from(att.KINDS))
def test_numpy_and_torch_attention_agree(S, kind):
    mask = att.causal_mask(S.shape[0])
    A_np = att.attention(S, kind, mask)
    A_t = att_t.attention(torch.tensor(S), kind, torch.tensor(mask)).numpy()
    np.testing.assert_allclose(A_np, A_t, rtol=1e-12, atol=1e-12)


@given(st.integers(1, 5), st.integers(1, 4), st.data())
def test_numpy_and_torch_scores_and_outputs_agree(T, d, data):
    Z = data.draw(hnp.arrays(np.float64, (T, d), elements=st.floats(-3, 3)))
    W = data.draw(hnp.arrays(np.float64, (d, d), elements=st.floats(-3, 3)))
    V = data.draw(hnp.arrays(np.float64, (2, d), elements=st.floats(-3, 3)))
    S = att.scores(Z, Z, W)
    S_t = att_t.scores(torch.tensor(Z), torch.tensor(Z), torch.tensor(W))
    np.testing.assert_allclose(S, S_t.numpy(), rtol=1e-12, atol=1e-12)
    A = att.softmax_attention(S, att.causal_mask(T))
    O = att.head_output(A, Z, V)
    O_t = att_t.head_output(torch.tensor(A), torch.tensor(Z), torch.tensor(V))
    np.testing.assert_allclose(O, O_t.numpy(), rtol=1e-12, atol=1e-12)


def test_scores_are_the_scaled_bilinear_form():
    Z = np.array([[1.0, 2.0], [0.0, -1.0]])
    W = np.array([[2.0, 0.0], [1.0, 1.0]])
    # by hand: z_0^T W z_1 = [1,2] @ W @ [0,-1] = [4, 2] @ [0, -1] = -2; scale 1/sqrt(2)
    assert att.scores(Z, Z, W)[0, 1] == pytest.approx(-2 / np.sqrt(2))


def test_relu_attention_is_length_normalised_and_zero_below_zero():
    S = np.array([[2.0, 0.0], [-1.0, 4.0]])
    A = att.relu_attention(S, att.causal_mask(2))
    np.testing.assert_array_equal(A, [[2.0, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(att.relu_attention(S, att.causal_mask(2), normalise="none"),
                                  [[2.0, 0.0], [0.0, 4.0]])


def test_the_preceding_normaliser_divides_by_the_tokens_between_BOS_and_the_query():
    # by hand, causal, 4 positions: n_i = max(i + 1 - 2, 1) = 1, 1, 1, 2
    S = np.full((4, 4), 6.0)
    A = att.relu_attention(S, att.causal_mask(4), normalise="preceding")
    np.testing.assert_array_equal(A.max(axis=-1), [6.0, 6.0, 6.0, 3.0])


def test_sigmoid_attention_is_not_normalised():
    A = att.sigmoid_attention(np.zeros((3, 3)), att.full_mask(3))
    np.testing.assert_allclose(A.sum(axis=-1), 1.5)


def test_head_output_is_attention_weighted_sum_of_values():
    Z = np.eye(3)
    V = np.diag([1.0, 2.0, 3.0])
    A = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0, 0, 1.0]])
    np.testing.assert_allclose(att.head_output(A, Z, V), [[1, 0, 0], [0.5, 1.0, 0], [0, 0, 3]])


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: att.softmax_attention(np.array([[np.nan]])), "S"),
        (lambda: att.scores(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 2))), "W"),
        (lambda: att.attention(np.zeros((2, 2)), "linear"), "kind"),
        (lambda: att.softmax_attention(np.zeros((2, 2)), np.zeros((2, 2), bool)), "mask"),
        (lambda: att.causal_mask(0), "T"),
        (lambda: att.head_output(np.ones((2, 2)), np.ones((3, 2)), np.eye(2)), "A"),
    ],
)
def test_bad_input_raises_an_error_naming_the_parameter(call, name):
    with pytest.raises(InvalidInputError, match=rf"^{name}:"):
        call()
