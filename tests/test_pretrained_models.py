"""``sinkcheck pretrained --model PATH`` on tiny checkpoints saved offline (a GPT-2 decoder and a
BERT encoder, random weights): a planted sink head is found in that head and in no other, the
per-head weights reproduce the model's own attention output, and unusable checkpoints are
one-line errors."""

import json
import types

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from sinkcheck.cli import main
from sinkcheck.errors import InvalidInputError
from sinkcheck.experiments import pretrained as P

pytestmark = [pytest.mark.pretrained, pytest.mark.torch,
              pytest.mark.skipif(P.missing_extra("any") is not None, reason="needs transformers")]

PLANT = (1, 1)  # (layer, head)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    from tests.support.tiny_models import save_tiny, sentences

    root = tmp_path_factory.mktemp("tiny")
    (root / "sentences.txt").write_text("\n".join(sentences()) + "\n")
    for kind in ("gpt2", "bert"):
        save_tiny(kind, root / kind, plant=PLANT)
        save_tiny(kind, root / f"{kind}_plain")
    save_tiny("llama", root / "llama")
    return root


def _run(*args):
    return CliRunner().invoke(main, ["pretrained", *map(str, args)])


def _analyse(root, name, tmp_path):
    out = tmp_path / name
    result = _run("--model", root / name, "--sentences", root / "sentences.txt", "--no-progress", "--out", out)
    assert result.exit_code == 0, result.output
    heads = json.loads((out / "heads.json").read_text())["rows"]
    return result.output, json.loads((out / "summary.json").read_text()), heads


@pytest.mark.parametrize("kind, attention, first", [("gpt2", "causal", "adds no BOS"),
                                                   ("bert", "bidirectional", "adds [CLS] at position 0")])
def test_a_planted_sink_head_is_found_in_that_head_and_no_other(checkpoints, kind, attention, first, tmp_path):
    output, summary, heads = _analyse(checkpoints, kind, tmp_path)
    freq = {(h["layer"], h["head"]): h["sink_freq_first"] for h in heads}
    assert freq.pop(PLANT) == 1.0 and set(freq.values()) == {0.0}
    assert summary["sink_k"][0] == 1 / 4 and max(summary["sink_k"][1:]) == 0  # one head of four, position 0 only
    assert summary["attention"] == attention and first in summary["first_token"] and first in output
    assert summary["importance"] == ("gu" if attention == "causal" else "encoder")


@pytest.mark.parametrize("kind", ["gpt2", "bert"])
def test_without_the_plant_no_head_is_a_sink(checkpoints, kind, tmp_path):
    _, summary, heads = _analyse(checkpoints, f"{kind}_plain", tmp_path)
    assert max(summary["sink_k"]) == 0 and {h["sink_freq_first"] for h in heads} == {0.0}


def test_a_model_type_without_known_heads_gets_the_sink_analyses_and_says_what_it_skipped(checkpoints, tmp_path):
    output, summary, heads = _analyse(checkpoints, "llama", tmp_path)
    assert summary["model_type"] == "llama" and summary["attention"] == "causal" and len(summary["sink_k"]) == 21
    assert "skipped: value norms, score split and smoothing" in output and "smoothing" not in summary
    assert len(heads) == 4 and all(h["first_score_adv"] is None for h in heads)


OUTPUT_PROJECTION = {"gpt2": lambda m, l: m.h[l].attn.c_proj, "bert": lambda m, l: m.encoder.layer[l].attention.output.dense}
"""The module whose output is sum_h A_h Z W_OV^h^T + W_O b_V + b_O, per architecture (known to the test alone)."""


@pytest.mark.parametrize("kind", ["gpt2", "bert"])
def test_per_head_weights_and_read_tokens_reproduce_the_attention_output(checkpoints, kind):
    tok, model = P.load_model(checkpoints / kind)
    caught = {}
    layer = 1
    hook = OUTPUT_PROJECTION[kind](model, layer).register_forward_hook(lambda mod, i, o: caught.update(out=o))
    run = P.run_sentences(tok, model, ["the cat sat on the mat while the dog ran."])[0]
    hook.remove()
    Z = P.read_tokens([run], model)[0][layer]
    H = run.attn.shape[1]
    W = P.head_ov(model, layer, H)
    w = P.architecture(model).weights(model, layer)
    ours = sum(run.attn[layer, h] @ Z @ W[h].T for h in range(H)) + w["W_O"] @ w["b_V"]
    ours = ours + OUTPUT_PROJECTION[kind](model, layer).bias.detach().double().numpy()
    assert np.allclose(ours, caught["out"][0].double().numpy(), atol=1e-5)


def _one_line_error(result, fragment):
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    return result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


def test_unusable_checkpoints_are_one_line_errors(checkpoints, tmp_path):
    assert _one_line_error(_run("--model", tmp_path / "nowhere"), "--model: must be a local checkpoint directory")
    (tmp_path / "empty").mkdir()
    assert _one_line_error(_run("--model", tmp_path / "empty"), "--model: ")
    assert "has no config.json" in _run("--model", tmp_path / "empty").output
    # a config without weights: loading it would need the network
    (tmp_path / "config_only").mkdir()
    (tmp_path / "config_only" / "config.json").write_text((checkpoints / "gpt2" / "config.json").read_text())
    result = _run("--model", tmp_path / "config_only", "--out", tmp_path / "out")
    assert _one_line_error(result, "--model: cannot load"), result.output
    assert not (tmp_path / "out").exists()
    assert _one_line_error(_run("--model", checkpoints / "gpt2", "--sentences", tmp_path / "none.txt"), "--sentences:")


def test_a_model_that_returns_no_attention_maps_is_an_error():
    class Tokenizer:  # the little of a tokenizer that run_sentences uses
        all_special_tokens = []

        def __call__(self, text, **kw):
            return types.SimpleNamespace(to=lambda device: {"input_ids": torch.tensor([[1, 2, 3]])})

    class Model:  # a model that ignores output_attentions (as sdpa-only models do)
        config = types.SimpleNamespace(model_type="mystery", max_position_embeddings=8)

        def __call__(self, **kw):
            return types.SimpleNamespace(attentions=(), hidden_states=(torch.zeros(1, 3, 4),))

    with pytest.raises(InvalidInputError, match=r"^--model: mystery returns no attention maps"):
        P.run_sentences(Tokenizer(), Model(), ["a b c"])
