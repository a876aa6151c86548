"""Sink vs diagonal as a training problem (docs/sink_vs_diagonal.md, docs/empirical.md)."""

import pytest

from sinkcheck.experiments.sinkdiag_train import INSTANCE, read_pattern, train_head

pytestmark = pytest.mark.torch


def _inst(d=16, seed=0):
    from sinkcheck.construct.sinkdiag.instance import sample_instance

    return sample_instance(d=d, seed=seed, **INSTANCE)


@pytest.mark.parametrize("pattern", ["sink", "diag"])
def test_reading_a_construction_gives_its_pattern_and_at_most_its_cost(pattern):
    # the construction meets every margin >= kappa, so rescaling to margin kappa cannot raise its cost
    from sinkcheck.construct.sinkdiag.weights import construction

    inst = _inst()
    con = construction(inst, pattern)
    r = read_pattern(inst, con.form.full())
    assert r["pattern"] == pattern
    assert r["rescaled_cost"] <= con.cost * (1 + 1e-9)


def test_trained_head_solves_its_realised_pattern_and_pays_at_least_twice_its_nuclear_norm():
    inst = _inst(d=64)
    r = train_head(inst, steps=300, seed=0)
    assert r["min_gap"] > 0 and r["rescaled_cost"] is not None
    assert r["trained_cost"] >= r["trained_2nuc"] * (1 - 1e-9)


def test_planted_scaling_error_is_caught_by_the_optimum():
    # halving a construction's W halves its cost but breaks the margins: the read-out must then
    # rescale back, never report the halved cost
    from sinkcheck.construct.sinkdiag.min_cost import min_cost
    from sinkcheck.construct.sinkdiag.weights import construction

    inst = _inst()
    W = 0.5 * construction(inst, "sink").form.full()
    r = read_pattern(inst, W)
    assert r["rescaled_cost"] >= min_cost(inst, "sink").opt * (1 - 1e-6)
    assert r["trained_2nuc"] < min_cost(inst, "sink").opt
