"""Theorem 1 (necessity of a sink) on sampled softmax heads, its planted errors, and the
counterexamples to its unrepaired forms (sinkcheck.theory.trigger)."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sinkcheck.construct import trigger_counterexamples as ce
from sinkcheck.construct import trigger_weights as tw
from sinkcheck.construct.trigger_task import equal_content_batch, sample_batch
from sinkcheck.theory import trigger as th
from sinkcheck.evaluate import trigger_necessity as tn
from tests.support.profiles import examples

TOL = 1e-9  # float64 round-off on O(1) margins


def unit(rng, p, r=1.0):
    x = rng.standard_normal(p)
    return r * x / np.linalg.norm(x)


@given(st.integers(0, 10**6), st.integers(1, 3), st.integers(2, 6), st.floats(0.1, 8.0), st.booleans())
def test_random_heads_never_beat_the_necessity_bound(seed, p, T, scale, content_free):
    rng = np.random.default_rng(seed)
    head = tn.random_head(rng, p, T, scale, content_free)
    assert tn.probe(unit(rng, p, rng.uniform(0.3, 3.0)), T, [head], True).margin >= -TOL


# sink heads across the whole range of sink logits, sink-avoiding ones (L < 0) included
@given(st.integers(2, 10), st.floats(-4.0, 16.0))
@example(T=2, L=-4.0)
def test_sink_heads_of_every_logit_obey_the_bound(T, L):
    pr = tn.probe(np.array([0.0, 1.0]), T, [tw.softmax_sink_head(2, T, L)], False)
    assert pr.margin >= -TOL


@pytest.mark.torch
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("bos_penalty", [0.0, 2.0])
def test_optimised_heads_obey_the_bound(seed, bos_penalty):
    pr = tn.probe(np.array([1.0, 0.0]), 5, [tn.optimised_head(seed, 2, 5, 120, bos_penalty)], True)
    assert pr.margin >= -TOL


@pytest.mark.torch
def test_heads_pushed_off_the_sink_pay_at_least_the_predicted_error():
    pr = tn.probe(np.array([1.0, 0.0]), 5, [tn.optimised_head(0, 2, 5, 120, bos_penalty=2.0)], True)
    assert pr.bos_min_before < 0.5  # it did avoid the sink ...
    assert pr.eps >= pr.required_error >= 0.3  # ... and its error is at least m r/(1+m) with m > 1/2


def test_tight_head_meets_the_bound_to_within_delta():
    W, V, _ = tw.tight_head(2, 5, 1.0, 0.1, 1e-6)
    pr = tn.probe(np.array([1.0, 0.0]), 5, [(W, V)], False)
    assert 0 <= pr.margin < 1e-6


# planted errors: a wrong f is refuted by the tight head
@pytest.mark.parametrize("wrong_f", [
    lambda e, r: e / r,  # dropped the -eps in the denominator
    lambda e, r: e / (r - e) / 2,  # halved constant
    lambda e, r: e**2 / (r - e),  # wrong power
])
def test_planted_wrong_f_is_caught_by_the_tight_head(wrong_f):
    eps = 0.2
    W, V, m = tw.tight_head(2, 5, 1.0, eps, 1e-4)
    pr = tn.probe(np.array([1.0, 0.0]), 5, [(W, V)], False)
    assert pr.content_mass > wrong_f(pr.eps, 1.0)


@pytest.mark.parametrize("T", [2, 3, 8])
def test_value_offset_head_refutes_the_claim_without_the_value_hypothesis(T):
    W, V = ce.value_offset_head(K=9.0, b=0.001, T=T)
    batch = sample_batch(0, 512, T, 1, 1.0)
    O, A = tw.head_forward(batch, W, V)
    eps = max(tw.sup_error(batch, O), ce.value_offset_trigger_error(9.0, 0.001, 1.0))
    assert eps < 1e-3
    assert A[..., 0][batch.scored & ~batch.is_trigger].max() <= 0.1 + 1e-12 < 1 - th.f_bound(eps, 1.0)


def test_value_offset_head_obeys_the_bound_with_its_own_beta():
    pr = tn.probe(np.array([1.0]), 5, [ce.value_offset_head(9.0, 0.01, 5)], True)
    assert pr.beta > 1.0 and pr.margin >= -TOL  # beta exceeds r: the repaired bound is vacuous, not false


def test_trigger_can_replace_bos_as_the_sink_after_the_trigger():
    batch = sample_batch(2, 256, 6, 3, positional=False)
    O, A = tw.head_forward(batch, *ce.trigger_sink_head(3, 6, 8.0, 4.0))
    eps = tw.sup_error(batch, O)
    after = (np.arange(7) > batch.trigger[:, None]) & (batch.trigger[:, None] > 0)
    assert A[..., 0][after].max() < 0.05 < 1 - th.f_bound(eps, 1.0)


def test_two_heads_cancel_and_need_no_sink_anywhere():
    batch = sample_batch(3, 256, 6, 3, positional=False)
    O, A = tw.multi_head_forward(batch, ce.two_head_cancellation(3, 6, 8.0))
    assert tw.sup_error(batch, O) <= ce.two_head_error_bound(6, 1.0, 8.0) < 0.01
    assert A[..., 0][:, batch.scored].max() < 1e-3


@given(st.integers(0, 10**6), st.integers(2, 6))
@settings(max_examples=examples(20))
def test_non_cancelling_heads_obey_the_weighted_bound(seed, T):
    rng = np.random.default_rng(seed)
    heads = [tw.softmax_sink_head(2, T, float(rng.uniform(0, 10))) for _ in range(2)]
    heads = [(W + rng.normal(0, 0.5, W.shape), V * rng.uniform(0.1, 1.0)) for W, V in heads]
    x = np.array([1.0, 0.0])
    probes = equal_content_batch(x, T, positional=False)
    eps = tw.sup_error(probes, tw.multi_head_forward(probes, heads)[0])
    g = np.array([x @ V[:, :2] @ x for _, V in heads])
    mass = np.array([tn.probe(x, T, [h], False).content_mass for h in heads])
    assert eps >= 1.0 or g @ mass / g.sum() <= th.f_bound(eps, 1.0) + TOL
