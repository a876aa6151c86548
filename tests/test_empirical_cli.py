"""``sinkcheck train dormant|lm``, ``sinkcheck pretrained`` and the empirical report checks, tiny."""

import json

import numpy as np

import pytest
from click.testing import CliRunner

from sinkcheck.cli import main
from sinkcheck.report.checks import empirical as checks_empirical
from sinkcheck.experiments.pretrained import missing_extra
from sinkcheck.report.registry import Context

TINY_DORMANT = ["train", "dormant", "--steps", "2", "--seeds", "0", "--tasks", "bb", "--weight-decays", "0.1",
                "--no-progress"]


@pytest.mark.torch
def test_train_dormant_writes_a_sink_per_kind_and_the_same_bytes_for_the_same_seed(tmp_path):
    outs = []
    for name in ("a", "b"):
        res = CliRunner().invoke(main, TINY_DORMANT + ["--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        outs.append(tmp_path / name)
    data = json.loads((outs[0] / "summary.json").read_text())
    assert {"softmax", "sigmoid", "relu"} <= set(data) and 0.0 <= data["softmax"]["sink"] <= 1.0
    assert all((outs[0] / f).read_bytes() == (outs[1] / f).read_bytes() for f in ("runs.csv", "summary.json"))


@pytest.mark.torch
def test_train_lm_writes_sink_per_layer(tmp_path):
    res = CliRunner().invoke(main, ["train", "lm", "--steps", "2", "--no-progress", "--out", str(tmp_path / "lm")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "lm" / "summary.json").read_text())
    assert len(data["sink_per_layer"]) == 2 and data["tokens_seen"] == 2 * 16 * 63


@pytest.mark.parametrize("args", [
    ["train", "dormant", "--seeds", "a,b"],
    ["train", "dormant", "--kinds", "tanh"],
    ["train", "dormant", "--weight-decays", "x"],
])
def test_bad_training_options_are_one_line_errors(tmp_path, args):
    res = CliRunner().invoke(main, args + ["--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and res.output.strip().startswith("error:")


@pytest.mark.pretrained
@pytest.mark.skipif(missing_extra() is not None, reason=f"pretrained extra missing: {missing_extra()}")
def test_pretrained_writes_overall_and_per_layer_first_position_sink(tmp_path):
    res = CliRunner().invoke(main, ["pretrained", "--limit", "3", "--no-smoothing", "--no-progress",
                                    "--out", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert len(data["sink_per_layer"]) == 6 and data["sink"] > 0


def test_pretrained_checks_are_skipped_with_a_reason_when_the_extra_is_missing(monkeypatch):
    import sinkcheck.experiments.pretrained as P

    monkeypatch.setattr(P, "missing_extra", lambda: "needs the optional extra 'pretrained'")
    for fn in (checks_empirical.pretrained_sinks, checks_empirical.pretrained_alignment,
               checks_empirical.pretrained_smoothing):
        cert = fn(Context(progress=False))
        assert cert.verdict == "skipped" and "pretrained" in cert.evidence["reason"]


@pytest.mark.parametrize("b,baseline,verdict", [
    ([1.0] * 6, [1.0] * 6, "inconclusive"),   # holds for every token alike: says nothing about alignment
    ([1.0] * 6, [0.2] * 6, "reproduced"),     # holds for [CLS] and singles it out
    ([1.0] * 5 + [0.9], [0.2] * 6, "inconclusive"),  # fails in one sentence: one encoder does not refute decoders
])
def test_the_figure_1_record_is_reproduced_only_when_theorem_g_singles_the_sink_out(monkeypatch, b, baseline, verdict):
    import sinkcheck.experiments.pretrained as P

    monkeypatch.setattr(P, "missing_extra", lambda: None)
    res = {"n_sentences": 20, "alignment": {"first": np.zeros(6), "first_min": np.zeros(6), "baseline": np.zeros(6)},
           "theorem_g": {"a": np.ones(6), "b": np.array(b), "baseline_b": np.array(baseline), "max_tokens": 21,
                         "dim": 384}}
    monkeypatch.setattr(checks_empirical, "_pretrained", lambda ctx: res)
    assert checks_empirical.pretrained_alignment(Context(progress=False)).verdict == verdict
