"""The explicit heads, run with the numpy core on generated batches."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sinkcheck.construct import trigger_counterexamples as ce
from sinkcheck.construct import trigger_weights as tw
from sinkcheck.construct.trigger_task import equal_content_batch, sample_batch
from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import trigger as th
from tests.support.profiles import examples


@given(st.integers(0, 10**6), st.integers(2, 10), st.integers(1, 4), st.floats(-2.0, 14.0))
def test_sink_head_error_never_exceeds_R_T_over_exp_L_plus_T(seed, T, p, L):
    batch = sample_batch(seed, 32, T, p, 1.0, positional=False)
    W, V = tw.softmax_sink_head(p, T, L)
    assert tw.sup_error(batch, tw.head_forward(batch, W, V)[0]) <= T / (np.exp(L) + T) + 1e-12


def test_sink_head_error_falls_as_the_sink_logit_grows():
    probes = equal_content_batch(np.array([1.0, 0.0, 0.0]), 8, positional=False)
    errs = [tw.sup_error(probes, tw.head_forward(probes, *tw.softmax_sink_head(3, 8, L))[0]) for L in range(0, 14, 2)]
    assert all(a > b for a, b in zip(errs, errs[1:]))


def test_sink_head_puts_at_least_1_minus_eps_over_R_on_bos_off_the_trigger():
    T, eps = 8, 0.01
    batch = sample_batch(1, 128, T, 3, positional=False)
    O, A = tw.head_forward(batch, *tw.softmax_sink_head(3, T, tw.sink_logit(T, 1.0, eps)))
    before = batch.scored & ~batch.is_trigger & ((batch.trigger[:, None] < 0) | (np.arange(T + 1) < batch.trigger[:, None]))
    assert A[..., 0][before].min() >= 1 - eps - 1e-12


@pytest.mark.parametrize("normalise", ["length", "none"])
@given(seed=st.integers(0, 10**6), T=st.integers(2, 10), p=st.integers(1, 4))
@settings(max_examples=examples(15))
def test_relu_head_solves_the_task_exactly_with_zero_bos_attention(normalise, seed, T, p):
    batch = sample_batch(seed, 32, T, p, 2.0)
    O, A = tw.head_forward(batch, *tw.relu_exact_head(p, T, normalise), "relu", normalise)
    assert tw.sup_error(batch, O) < 1e-12
    assert np.all(A[..., 0] == 0.0)


def test_planted_relu_head_with_the_wrong_normaliser_is_caught():
    batch = sample_batch(0, 64, 6, 2)
    O, _ = tw.head_forward(batch, *tw.relu_exact_head(2, 6, "none"), "relu", "length")
    assert tw.sup_error(batch, O) > 0.1


@pytest.mark.parametrize("eps", [0.01, 0.1, 0.3])
def test_tight_head_has_error_eps_and_content_mass_1_minus_delta_times_f(eps):
    delta = 1e-3 * eps
    W, V, m = tw.tight_head(2, 6, 1.0, eps, delta)
    probes = equal_content_batch(np.array([0.0, 1.0]), 6, positional=False)
    O, A = tw.head_forward(probes, W, V)
    assert tw.sup_error(probes, O) == pytest.approx(eps, rel=1e-9)
    content_mass = 1 - A[0, 6, 0]
    assert content_mass == pytest.approx((1 - delta) * th.f_bound(eps, 1.0), rel=1e-9)


def test_tight_head_keeps_error_eps_on_random_batches():
    W, V, _ = tw.tight_head(3, 7, 1.0, 0.1, 1e-4)
    batch = sample_batch(5, 256, 7, 3, positional=False)
    assert tw.sup_error(batch, tw.head_forward(batch, W, V)[0]) <= 0.1 + 1e-12


@pytest.mark.parametrize("call, name", [
    (lambda: tw.sink_logit(1, 1.0, 0.1), "T"), (lambda: tw.sink_logit(4, 0.0, 0.1), "R"),
    (lambda: tw.sink_logit(4, 1.0, 0.0), "eps"), (lambda: tw.sink_logit(4, 1.0, 1.0), "eps"),
    (lambda: tw.softmax_sink_head(0, 4, 1.0), "p"), (lambda: tw.softmax_sink_head(2, 4, np.inf), "L"),
    (lambda: tw.tight_head(2, 4, 1.0, 0.1, 0.5), "delta"), (lambda: tw.relu_exact_head(2, 4, "sum"), "normalise"),
    (lambda: ce.value_offset_head(0.0, 0.1), "K"), (lambda: ce.two_head_cancellation(2, 4, np.nan), "M"),
])
def test_invalid_construction_arguments_raise_naming_the_parameter(call, name):
    with pytest.raises(InvalidInputError, match=rf"^{name}:"):
        call()


def test_non_finite_or_misshaped_weights_are_rejected():
    batch = sample_batch(0, 2, 4, 2, positional=False)
    W, V = tw.softmax_sink_head(2, 4, 1.0)
    with pytest.raises(InvalidInputError, match="^W:"):
        tw.head_forward(batch, np.full_like(W, np.nan), V)
    with pytest.raises(InvalidInputError, match="^V:"):
        tw.head_forward(batch, W, V[:, :-1])


@pytest.mark.parametrize("normalise, bound", [("length", 0.2), ("none", 1 / 3)])
def test_position_free_relu_head_attains_the_no_position_bound_at_T_3(normalise, bound):
    batch = sample_batch(4, 512, 3, 2, 1.0, positional=False)
    probes = equal_content_batch(np.array([0.6, 0.8]), 3, positional=False)
    head = tw.relu_positionless_head(2, 3, normalise)
    errs = [tw.sup_error(b, tw.head_forward(b, *head, "relu", normalise)[0]) for b in (batch, probes)]
    assert errs[0] <= bound + 1e-12 and errs[1] == pytest.approx(bound, rel=1e-12)


def test_planted_stronger_no_position_bound_is_refuted_by_the_explicit_head():
    probes = equal_content_batch(np.array([1.0]), 3, positional=False)
    err = tw.sup_error(probes, tw.head_forward(probes, *tw.relu_positionless_head(1, 3), "relu", "length")[0])
    assert err < 1 / 4  # a claimed bound R/4 (instead of R/5) would be false


@given(st.integers(0, 10**6), st.sampled_from([("relu", "length", 0.2), ("relu", "none", 1 / 3), ("sigmoid", "-", 1 / 3)]),
       st.integers(1, 2))
def test_position_free_relu_and_sigmoid_heads_never_beat_the_no_position_bound(seed, case, n_heads):
    from sinkcheck.verify.measure.trigger_necessity import random_head

    kind, normalise, bound = case
    rng = np.random.default_rng(seed)
    heads = [random_head(rng, 1, 3, float(rng.uniform(0.1, 3)), True, False) for _ in range(n_heads)]
    norm = normalise if kind == "relu" else "length"
    errs = [tw.sup_error(b, sum(tw.head_forward(b, W, V, kind, norm)[0] for W, V in heads))
            for b in (equal_content_batch(np.array([1.0]), 3, False), equal_content_batch(np.array([-1.0]), 3, False))]
    assert max(errs) >= bound - 1e-12
