"""The public strategies (sinkcheck.strategies) draw what their docstrings promise, in every regime
the claims distinguish."""

import numpy as np
from hypothesis import find, given, settings

from sinkcheck import strategies as S
from sinkcheck.construct.sinkdiag.hypotheses import LAM_DIAG
from sinkcheck.construct.sinkdiag.instance import SinkDiagInstance
from sinkcheck.construct import sink_hulls as hulls
from tests.support.profiles import examples


@given(S.sec7_arguments(lam_min=LAM_DIAG, h2=True))
def test_sec7_arguments_respect_the_asked_range_and_hypotheses(args):
    kw, fallback = args
    assert kw["lam"] >= LAM_DIAG and kw["equal_norms"] and kw["d"] >= 2 * kw["C"] + 1 + kw["r_eta"]
    assert isinstance(fallback, bool)


def test_sec7_arguments_reach_both_sides_of_every_threshold_of_the_ledger():
    for lam_side in (lambda kw: kw["lam"] < LAM_DIAG, lambda kw: kw["lam"] > 15 ** 0.5, lambda kw: kw["lam"] == 1.0):
        find(S.sec7_arguments(), lambda a, side=lam_side: side(a[0]))
    find(S.sec7_arguments(), lambda a: a[0]["centred"] and a[0]["equal_norms"] and not a[1])


@settings(max_examples=examples(10), deadline=None)
@given(S.sec7_instances(C_values=(1, 2)))
def test_sec7_instances_are_instances_with_the_drawn_group_count(pair):
    inst, fallback = pair
    assert isinstance(inst, SinkDiagInstance) and inst.C in (1, 2) and isinstance(fallback, bool)


def test_sink_problems_land_on_both_sides_of_theorem_G():
    for feasible in (True, False):
        find(S.sink_problems(), lambda p, f=feasible: hulls.alignment_condition(p[0], p[1], p[2])["representable"] == f)


@given(S.smoothing_models())
def test_smoothing_models_have_a_psd_joint_covariance(model):
    cov = model.joint_covariance()
    assert np.linalg.eigvalsh(cov).min() >= -1e-9 * max(1.0, np.abs(cov).max())


@given(S.trigger_batches())
def test_trigger_batches_have_at_most_one_trigger_per_sequence_at_the_recorded_position(batch):
    assert (batch.is_trigger.sum(axis=1) <= 1).all()
    rows = np.flatnonzero(batch.trigger >= 0)
    assert batch.is_trigger[rows, batch.trigger[rows]].all() and np.isfinite(batch.Y).all()
