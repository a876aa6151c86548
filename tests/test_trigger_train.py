"""Tiny training runs on the trigger task (seconds each on CPU) and the ``sinkcheck trigger`` CLI."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from sinkcheck.cli import main
from sinkcheck.errors import InvalidInputError

torch = pytest.importorskip("torch")
from sinkcheck.evaluate import trigger_necessity as tn  # noqa: E402
from sinkcheck.experiments import trigger_train as tr  # noqa: E402

pytestmark = pytest.mark.torch
SMALL = dict(T=8, p=2, steps=200)


@pytest.fixture(scope="module")
def runs():
    torch.set_num_threads(1)
    return {kind: tr.run(tr.TriggerRunConfig(kind=kind, **SMALL), keep_model=True) for kind in ("softmax", "relu", "sigmoid")}


def test_trained_softmax_head_puts_a_bos_sink_at_non_trigger_positions(runs):
    assert runs["softmax"]["bos_nontrigger"] >= 0.9
    assert runs["softmax"]["relative_error_trigger"] < 0.1


def test_trained_relu_head_solves_the_task_with_almost_no_bos_coefficient(runs):
    assert runs["relu"]["bos_nontrigger"] <= 0.05
    assert runs["relu"]["relative_error_trigger"] < 0.1


def test_trained_sigmoid_head_has_a_small_bos_coefficient_but_gu_proxy_calls_it_a_sink(runs):
    # the coefficient itself is small; its share of a near-zero row total is not (proxy metric)
    assert runs["sigmoid"]["bos_nontrigger"] <= 0.2
    assert runs["sigmoid"]["mass_nontrigger"] <= 0.3


def test_trained_softmax_head_obeys_the_necessity_bound_with_its_own_beta(runs):
    heads = tr.to_numpy_heads(runs["softmax"]["model"])
    pr = tn.probe(np.array([1.0, 0.0]), 8, heads, True)
    assert pr.margin >= -1e-6  # float32 weights


def test_a_softmax_run_stuck_without_a_sink_fails_the_task_by_the_predicted_amount():
    # seed 0 at T=6, p=2 stalls (found while choosing test sizes): no sink, and a large error
    r = tr.run(tr.TriggerRunConfig(kind="softmax", T=6, p=2, batch=32, steps=200), keep_model=True)
    pr = tn.probe(np.array([1.0, 0.0]), 6, tr.to_numpy_heads(r["model"]), True)
    assert r["bos_nontrigger"] < 0.6
    assert pr.eps >= pr.required_error > 0.1


def test_same_seed_gives_the_same_numbers():
    cfg = tr.TriggerRunConfig(kind="relu", T=4, p=2, steps=20)
    a, b = tr.run(cfg), tr.run(cfg)
    assert a["bos_nontrigger"] == b["bos_nontrigger"] and a["error_sup"] == b["error_sup"]


@pytest.mark.parametrize("field, value", [("kind", "linear"), ("T", 1), ("p", 0), ("R", 0.0), ("lr", -1.0),
                                          ("init_scale", 0.0), ("loss_weighting", "max"), ("heads", 0)])
def test_invalid_training_settings_raise_naming_the_parameter(field, value):
    with pytest.raises(InvalidInputError, match=rf"^{field}:"):
        tr.TriggerRunConfig(**{field: value}).validated()


def test_cli_writes_tables_summary_json_and_figure(tmp_path):
    res = CliRunner().invoke(main, ["trigger", "--seeds", "1", "--steps", "5", "--heads", "1", "--no-progress",
                                    "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "training_summary.json").read_text())
    assert set(summary) == {"softmax", "relu", "sigmoid"} and {"bos", "error"} <= set(summary["relu"]["1"])
    assert (tmp_path / "figures" / "trigger_attention.png").stat().st_size > 0


def test_cli_rejects_zero_seeds_with_a_one_line_error(tmp_path):
    res = CliRunner().invoke(main, ["trigger", "--seeds", "0", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "seeds:" in res.output


@pytest.mark.parametrize("normalise, n2, n3", [("length", 3, 4), ("none", 1, 1)])
def test_trained_position_free_relu_heads_respect_the_no_position_error_bound(normalise, n2, n3):
    from sinkcheck.construct import trigger_weights as tw
    from sinkcheck.construct.trigger_task import equal_content_batch
    from sinkcheck.theory.trigger import relu_no_position_error

    r = tr.run(tr.TriggerRunConfig(kind="relu", relu_normalise=normalise, positional=False, T=3, p=1, steps=150),
               keep_model=True)
    heads = tr.to_numpy_heads(r["model"])
    probes = [equal_content_batch(np.array([s]), 3, positional=False) for s in (1.0, -1.0)]
    err = max(tw.sup_error(b, sum(tw.head_forward(b, W, V, "relu", normalise)[0] for W, V in heads)) for b in probes)
    assert err >= relu_no_position_error(n2, n3, 1.0)
