"""Claims of the counterexample heads (sinkcheck.construct.trigger_counterexamples) beyond the
refutations in test_trigger_necessity.py: each error bound is the stated formula, it bounds the
head's measured error at every radius R (not only R = 1), and the value-offset bound is attained."""

import numpy as np
import pytest

from sinkcheck.construct import trigger_counterexamples as ce
from sinkcheck.construct import trigger_weights as tw
from sinkcheck.construct.trigger_task import encode, equal_content_batch, layout, sample_batch


# R (2 e^{-M} / (1 + 2 e^{-M}) + (T - 1) / (T - 1 + e^M)), by hand at e^{-M} = 1, 1/2, 1/4
@pytest.mark.parametrize("T, R, M, by_hand", [
    (2, 1.0, 0.0, 2 / 3 + 1 / 2),
    (3, 1.0, np.log(2.0), 1 / 2 + 2 / 4),
    (5, 2.0, np.log(4.0), 2 * (1 / 3 + 4 / 8)),
])
def test_the_two_head_error_bound_is_the_stated_formula(T, R, M, by_hand):
    assert ce.two_head_error_bound(T, R, M) == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize("T, R, M", [(2, 2.0, 1.0), (4, 0.5, 2.0), (6, 3.0, 0.5)])
def test_the_two_head_bound_holds_at_every_radius_and_logit(T, R, M):
    batch = sample_batch(5, 256, T, 2, R, positional=False)
    O, _ = tw.multi_head_forward(batch, ce.two_head_cancellation(2, T, M))
    assert tw.sup_error(batch, O) <= ce.two_head_error_bound(T, R, M)


def test_two_cancelling_heads_err_at_the_first_trigger_by_the_masses_of_the_proof():
    # T = 2, trigger at t = 2, content x with |x| = R: head 1 misses 2 e^{-M} / (1 + 2 e^{-M}) of the
    # content, head 2 keeps 1 / (1 + e^M + e^{-M}); the error is R times their sum.
    R, M = 1.5, 1.2
    batch = equal_content_batch(np.array([0.0, R]), 2, positional=False)
    O, _ = tw.multi_head_forward(batch, ce.two_head_cancellation(2, 2, M))
    e = np.exp(-M)
    assert tw.sup_error(batch, O) == pytest.approx(R * (2 * e / (1 + 2 * e) + 1 / (1 + 1 / e + e)), rel=1e-12)


def _two_point_contents(T, R, n_plus):
    """One sequence, trigger at t = T, contents before it: n_plus of them +R, the rest -R."""
    x = np.full((1, T, 1), -R)
    x[0, :n_plus, 0] = R
    return x


@pytest.mark.parametrize("T, n", [(3, 3), (5, 5)])
def test_the_value_offset_error_bound_is_attained_by_equal_and_two_point_contents(T, n):
    # The grid of n means m = -R .. R has both ends of the proof's interval for u attained: all
    # contents equal to m (u = e^{bm}) and the two-point contents +-R with mean m (the other end).
    # With T - 1 = n - 1 contents before a trigger at T, every grid mean is a two-point mean.
    K, b, R = 4.0, 0.5, 2.0
    lay = layout(1, T, positional=True)
    grid = np.linspace(-R, R, n)
    X = [np.full((1, T, 1), m) for m in grid] + [_two_point_contents(T, R, k) for k in range(n)]
    batch = encode(np.concatenate(X), np.full(len(X), T), lay)
    O, _ = tw.head_forward(batch, *ce.value_offset_head(K, b, T))
    assert tw.sup_error(batch, O) == pytest.approx(ce.value_offset_trigger_error(K, b, R, n), rel=1e-10)


def test_the_value_offset_head_has_two_tokens_after_bos_by_default():
    W, V = ce.value_offset_head(9.0, 0.1)
    W2, V2 = ce.value_offset_head(9.0, 0.1, T=2)
    assert np.array_equal(W, W2) and np.array_equal(V, V2)
