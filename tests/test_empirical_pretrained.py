"""all-MiniLM-L6-v2 measurements, the per-head smoothing quantities, and the shipped sentences."""

import numpy as np
import pytest

from sinkcheck.core.metrics import sink_rate
from sinkcheck.errors import InvalidInputError
from sinkcheck.experiments.pretrained import load_sentences, missing_extra, token_roles
from sinkcheck.experiments.pretrained_heads import head_class, head_table_row
from sinkcheck.evaluate.smoothing_heads import uniform_attention

needs_model = pytest.mark.skipif(missing_extra() is not None, reason=f"pretrained extra missing: {missing_extra()}")


def test_shipped_sentences_are_50_to_100_distinct_lines_of_varied_length():
    s = load_sentences()
    lengths = [len(x.split()) for x in s]
    assert 50 <= len(s) <= 100 and len(set(s)) == len(s)
    assert min(lengths) <= 3 and max(lengths) >= 15


def test_token_roles_mark_the_first_token_special_tokens_and_punctuation():
    special = {"[CLS]", "[SEP]"}
    assert token_roles(["[CLS]", "hi", ",", "there", ".", "[SEP]"], special) == [
        "first", "word", "punct", "word", "punct", "special"]
    # GPT-2 marks a word start with "Ġ"; position 0 is "first" whatever it is
    assert token_roles(["The", "Ġcat", "Ġ.", "Ġ,"], set()) == ["first", "word", "punct", "punct"]


def _tokens(T=9, d=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((T, d)) + 0.3


def test_a_positive_identity_head_is_predicted_to_smooth_and_does():
    # W = c I, X = Z: beta tr(BW) = c tr(B) > 0; uniform attention adds c * mean(z) to every token
    Z = _tokens()
    r = head_table_row(Z, Z, np.eye(9), 0.8 * np.eye(6))
    assert head_class(r["beta_tr_BW"], r["sharpen"]) == "smooths"
    assert r["dcos_uniform_vs_attn"] > 0


def test_a_small_negative_identity_head_is_predicted_to_sharpen_and_does():
    # W = -c I with 0 < c < 1: beta tr(BW) + tr(B W^T W) = c (c - 1) tr(B) < 0; subtracting c * mean(z)
    Z = _tokens()
    r = head_table_row(Z, Z, np.eye(9), -0.5 * np.eye(6))
    assert head_class(r["beta_tr_BW"], r["sharpen"]) == "sharpens"
    assert r["dcos_uniform_vs_attn"] < 0


def test_planted_sign_flip_of_the_value_map_changes_the_predicted_class():
    Z = _tokens(seed=1)
    good = head_table_row(Z, Z, np.eye(9), 0.5 * np.eye(6))
    flipped = head_table_row(Z, Z, np.eye(9), -0.5 * np.eye(6))
    assert head_class(good["beta_tr_BW"], good["sharpen"]) != head_class(flipped["beta_tr_BW"], flipped["sharpen"])


def test_traces_match_the_explicit_covariance():
    rng = np.random.default_rng(2)
    X, Z, W = rng.standard_normal((7, 5)), rng.standard_normal((7, 5)), rng.standard_normal((5, 5))
    r = head_table_row(X, Z, uniform_attention(7), W)
    Zc = Z - Z.mean(0)
    B = Zc.T @ Zc / 7
    assert np.isclose(r["tr_BW"], np.trace(B @ W)) and np.isclose(r["tr_BWtW"], np.trace(B @ W.T @ W))


@pytest.mark.parametrize("args", [
    (np.ones((3, 2)), np.ones((3, 3)), np.eye(3), np.eye(2)),
    (np.ones((3, 2)), np.ones((3, 2)), np.eye(3), np.eye(3)),
    (np.full((3, 2), np.nan), np.ones((3, 2)), np.eye(3), np.eye(2)),
])
def test_head_table_row_rejects_bad_shapes_and_non_finite_input(args):
    with pytest.raises(InvalidInputError):
        head_table_row(*args)


@pytest.fixture(scope="module")
def minilm():
    from sinkcheck.experiments import pretrained as P

    tok, model = P.load_model()
    return P, model, P.run_sentences(tok, model, load_sentences(6))


@pytest.mark.pretrained
@needs_model
def test_extracted_head_maps_reproduce_the_attention_sublayer(minilm):
    # sum_h A_h Z W_OV^h^T + W_O b_V + b_O must equal the model's own pre-LayerNorm attention output
    import torch

    P, model, runs = minilm
    layer, r = 2, runs[0]
    W = P.head_ov(model, layer, 12)
    att = model.encoder.layer[layer].attention
    Z = r.hidden[layer]
    ours = sum(r.attn[layer, h] @ Z @ W[h].T for h in range(12))
    ours = ours + att.output.dense.weight.double().detach().numpy() @ att.self.value.bias.double().detach().numpy()
    ours = ours + att.output.dense.bias.double().detach().numpy()
    with torch.no_grad():
        ctx = att.self(torch.tensor(Z, dtype=torch.float32)[None])[0][0]
        theirs = att.output.dense(ctx).double().numpy()
    assert np.allclose(ours, theirs, atol=1e-3)


@pytest.mark.pretrained
@needs_model
def test_cls_is_a_sink_in_most_middle_layer_heads(minilm):
    P, _, runs = minilm
    s = P.sink_by_position(runs, variant="encoder")
    assert s["rates"].per_layer[1:5, 0].mean() > 0.5


@pytest.mark.pretrained
@needs_model
def test_the_last_position_is_pooled_like_the_absolute_positions_on_equal_lengths(minilm):
    # on sentences of one length, "last" is an absolute position: both must give the same Sink
    P, _, runs = minilm
    T = runs[0].attn.shape[-1]
    same = [r for r in runs if r.attn.shape[-1] == T]
    s = P.sink_by_position(same, variant="encoder")
    assert s["sink_last"] == sink_rate(np.stack([r.attn for r in same]), k=T - 1, variant="encoder")


def _run_of(Z):
    from sinkcheck.experiments.pretrained import SentenceRun

    L, T, _ = Z.shape
    return SentenceRun(["t"] * T, ["word"] * T, np.zeros((L, 1, T, T)), Z)


def test_theorem_g_condition_b_fails_when_the_first_token_is_a_mean_of_the_others_and_a_fails_around_0():
    from sinkcheck.experiments.pretrained import theorem_g

    # by hand, in the plane: in layer 0, z_0 = (1, 1) is the midpoint of (2, 0) and (0, 2); in layer 1 the
    # others surround 0 (weights 1/3 each)
    layer0 = np.array([[1.0, 1.0], [2.0, 0.0], [0.0, 2.0], [1.0, 3.0]])
    layer1 = np.array([[5.0, 5.0], [1.0, 0.0], [-1.0, 1.0], [0.0, -1.0]])
    Z = np.stack([layer0, layer1])
    g = theorem_g([_run_of(Z)], [Z])
    assert list(g["b"]) == [0.0, 1.0] and list(g["a"]) == [1.0, 0.0]
    # ordinary tokens as the sink, layer 0: (2, 0), (0, 2), (1, 3) are vertices of the hull of all four: outside
    # the others' hull; layer 1: (1, 0), (-1, 1), (0, -1) are vertices too
    assert list(g["baseline_b"]) == [1.0, 1.0]


def test_theorem_g_condition_holds_for_every_token_when_there_are_fewer_tokens_than_dimensions():
    from sinkcheck.experiments.pretrained import theorem_g

    Z = np.random.default_rng(0).standard_normal((2, 8, 32))
    g = theorem_g([_run_of(Z)], [Z])
    assert list(g["b"]) == [1.0, 1.0] and list(g["baseline_b"]) == [1.0, 1.0] and g["dim"] == 32
