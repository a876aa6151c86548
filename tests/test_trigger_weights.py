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
import math


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


@given(st.integers(0, 10**6), st.integers(2, 12), st.integers(1, 4))
def test_with_the_preceding_normaliser_a_position_free_relu_head_solves_the_task_exactly_with_no_BOS_weight(seed, T, p):
    batch = sample_batch(seed, 64, T, p, 1.0, positional=False)
    O, A = tw.head_forward(batch, *tw.relu_preceding_head(p, T), "relu", "preceding")
    assert tw.sup_error(batch, O) < 1e-12 and A[..., 0].max() == 0.0


@pytest.mark.parametrize("normalise, bound", [("length", 0.2), ("none", 1 / 3)])
def test_the_same_position_free_head_under_the_other_normalisers_keeps_the_no_position_error(normalise, bound):
    # the exactness above is the normaliser's: with n_t = t + 1 or 1 the bound of Theorem 4(b) applies
    probes = equal_content_batch(np.array([1.0]), 3, positional=False)
    err = tw.sup_error(probes, tw.head_forward(probes, *tw.relu_preceding_head(1, 3), "relu", normalise)[0])
    assert err >= bound - 1e-12


def test_planted_stronger_no_position_bound_is_refuted_by_the_explicit_head():
    probes = equal_content_batch(np.array([1.0]), 3, positional=False)
    err = tw.sup_error(probes, tw.head_forward(probes, *tw.relu_positionless_head(1, 3), "relu", "length")[0])
    assert err < 1 / 4  # a claimed bound R/4 (instead of R/5) would be false


@given(st.integers(0, 10**6), st.sampled_from([("relu", "length", 0.2), ("relu", "none", 1 / 3), ("sigmoid", "-", 1 / 3)]),
       st.integers(1, 2))
def test_position_free_relu_and_sigmoid_heads_never_beat_the_no_position_bound(seed, case, n_heads):
    from sinkcheck.evaluate.trigger_necessity import random_head

    kind, normalise, bound = case
    rng = np.random.default_rng(seed)
    heads = [random_head(rng, 1, 3, float(rng.uniform(0.1, 3)), True, False) for _ in range(n_heads)]
    norm = normalise if kind == "relu" else "length"
    errs = [tw.sup_error(b, sum(tw.head_forward(b, W, V, kind, norm)[0] for W, V in heads))
            for b in (equal_content_batch(np.array([1.0]), 3, False), equal_content_batch(np.array([-1.0]), 3, False))]
    assert max(errs) >= bound - 1e-12


# ---- further claims of the explicit heads ------------------------------------------------------------
# (Claims of construct/trigger_weights.py that no earlier test stated (found by mutation testing,)

R, EPS, T = 2.0, 0.3, 6


def _probes(R_=R):
    return equal_content_batch(np.array([0.0, R_]), T, positional=False)


@pytest.mark.parametrize("delta", [EPS / R, 0.01])
def test_tight_head_errs_by_exactly_eps_at_a_trigger_in_position_2_and_at_the_last_plain_position(delta):
    # margin walk: trigger error at t = 2 is (1 - (1 - delta) c) R = eps, non-trigger error at i = T is m c R = eps
    W, V, m = tw.tight_head(2, T, R, EPS, delta)
    probes = _probes()
    O, A = tw.head_forward(probes, W, V)
    err = tw.position_errors(probes, O)
    at_2 = int(np.nonzero(probes.trigger == 2)[0][0])
    plain = int(np.nonzero(probes.trigger == -1)[0][0])
    assert err[at_2, 2] == pytest.approx(EPS, rel=1e-12)
    assert err[plain, T] == pytest.approx(EPS, rel=1e-12)
    # content mass at i = T without trigger: m = (1 - delta) eps / (R - eps), measured and returned
    content_mass = 1 - A[plain, T, 0]
    assert content_mass == pytest.approx((1 - delta) * EPS / (R - EPS), rel=1e-12)
    assert m == pytest.approx((1 - delta) * EPS / (R - EPS), rel=1e-12)


def test_tight_head_accepts_eps_just_below_R_over_2_and_delta_equal_to_eps_over_R():
    W, V, m = tw.tight_head(2, T, R, 0.99, 0.99 / R)  # R/3 < eps < R/2, delta at its upper end
    assert 0 < m < 1


@pytest.mark.parametrize("call,message", [
    (lambda: tw.tight_head(2, T, R, 1.0, 0.1), r"^eps: must be < R/2 = 1\.0 \(got 1\.0\)$"),
    (lambda: tw.tight_head(2, T, R, EPS, 0.3), r"^delta: must be <= eps/R = 0\.15 \(got 0\.3\)$"),
    (lambda: tw.tight_head(2, T, 0.0, EPS, 0.1), r"^R: "),
    (lambda: tw.tight_head(2, T, R, 0.0, 0.1), r"^eps: "),
    (lambda: tw.tight_head(2, T, R, EPS, 0.0), r"^delta: "),
])
def test_tight_head_refuses_each_bad_argument_naming_it(call, message):
    with pytest.raises(InvalidInputError, match=message):
        call()


def test_sink_head_error_is_R_T_over_e_L_plus_T():
    # by hand: T = 4, R = 2, L = log 4 gives 2 * 4 / (4 + 4) = 1
    assert tw.sink_head_error(4, 2.0, math.log(4)) == pytest.approx(1.0, rel=1e-15)


def test_sink_head_error_matches_the_measured_error_of_the_sink_head():
    L = 1.5
    probes = equal_content_batch(np.array([0.0, 2.0]), 5, positional=False)
    measured = tw.sup_error(probes, tw.head_forward(probes, *tw.softmax_sink_head(2, 5, L))[0])
    assert tw.sink_head_error(5, 2.0, L) == pytest.approx(measured, rel=1e-12)


@pytest.mark.parametrize("call,message", [
    (lambda: tw.sink_head_error(1, 1.0, 0.0), r"^T: "),
    (lambda: tw.sink_head_error(4, 0.0, 0.0), r"^R: "),
    (lambda: tw.sink_head_error(4, 1.0, [0.0]), r"^L: must be a 0-d array"),
    (lambda: tw.sink_head_error(4, 1.0, np.inf), r"^L: "),
    (lambda: tw.softmax_sink_head(2, 4, [1.0]), r"^L: must be a 0-d array"),
])
def test_sink_head_helpers_refuse_bad_arguments_naming_them(call, message):
    with pytest.raises(InvalidInputError, match=message):
        call()


def test_forward_functions_refuse_bad_shapes_and_kinds_naming_them():
    batch = sample_batch(0, 4, 4, 2, positional=False)
    lay = batch.lay
    W, V = np.zeros((lay.d, lay.d)), np.zeros((lay.p, lay.d))
    with pytest.raises(InvalidInputError, match=r"^W: must have shape"):
        tw.head_forward(batch, np.zeros((lay.d + 1, lay.d + 1)), V)
    with pytest.raises(InvalidInputError, match=r"^V: must have shape"):
        tw.head_forward(batch, W, np.zeros((lay.p + 1, lay.d)))
    with pytest.raises(InvalidInputError, match=r"^kind: must be one of"):
        tw.head_forward(batch, W, V, kind="tanh")
    with pytest.raises(InvalidInputError, match=r"^heads: must not be empty \(got \[\]\)$"):
        tw.multi_head_forward(batch, [])
    with pytest.raises(InvalidInputError, match=r"^O: must have shape"):
        tw.position_errors(batch, np.zeros((4, 5, 3)))
    with pytest.raises(InvalidInputError, match=r"^normalise: must be one of"):
        tw.relu_positionless_head(2, 3, "sum")


def test_relu_heads_default_to_the_length_normaliser_and_solve_the_task_exactly():
    batch = sample_batch(3, 32, 5, 2, 2.0)
    O, A = tw.head_forward(batch, *tw.relu_exact_head(2, 5), "relu")
    assert tw.sup_error(batch, O) < 1e-12 and np.all(A[..., 0] == 0.0)


def test_a_one_head_sum_is_that_head_run_with_the_given_kind():
    batch = sample_batch(4, 32, 5, 2, 2.0)
    head = tw.relu_exact_head(2, 5)
    O, A = tw.multi_head_forward(batch, [head], kind="relu")
    assert tw.sup_error(batch, O) < 1e-12 and A.shape[0] == 1 and np.all(A[0, ..., 0] == 0.0)


def test_sink_head_error_accepts_the_shortest_task_T_2():
    # by hand: T = 2, R = 3, L = 0 gives 3 * 2 / (1 + 2) = 2
    assert tw.sink_head_error(2, 3.0, 0.0) == pytest.approx(2.0, rel=1e-15)


def test_the_exact_relu_knobs_default_to_the_length_normaliser_and_need_T_at_least_2():
    assert tw.relu_exact_knobs(4) == tw.relu_exact_knobs(4, "length")
    with pytest.raises(InvalidInputError, match=r"^T: must be an integer >= 2 \(got 1\)"):
        tw.relu_exact_knobs(1)
