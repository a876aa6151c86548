"""Claims of construct/trigger_weights.py that no earlier test stated (found by mutation testing,
docs/mutation.md).  Errors and masses are measured by running the heads on the probe sequences;
the expected values are the margin walk-through formulas evaluated by hand at R != 1."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sinkcheck.construct import trigger_weights as tw
from sinkcheck.construct.trigger_task import equal_content_batch, sample_batch
from sinkcheck.errors import InvalidInputError

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
