"""Gu et al.'s Table 1 input protocol (``sinkcheck pretrained --inputs random|repeated``): the ids it
draws, the special tokens around them, its seeds, its option errors, its JSON, and Appendix C.1's
lemma on random-weight and planted decoders (docs/gu_inputs.md)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from sinkcheck.cli import main
from sinkcheck.construct import gu_inputs as GI
from sinkcheck.errors import InvalidInputError
from sinkcheck.experiments import pretrained as P

pytestmark = [pytest.mark.torch, pytest.mark.skipif(P.missing_extra("any") is not None, reason="needs transformers")]


@pytest.fixture(scope="module")
def decoder_tok():
    from sinkcheck.models.random_models import tokenizer

    return tokenizer()


@pytest.fixture(scope="module")
def bert_tok():
    from tests.support.tiny_models import _tokenizer

    return _tokenizer("bert")


def _frames(decoder_tok, bert_tok):
    """Each tokenizer with the special ids it must put around a body, read off its vocabulary by hand."""
    bos = decoder_tok.convert_tokens_to_ids("<s>")
    cls, sep = bert_tok.convert_tokens_to_ids("[CLS]"), bert_tok.convert_tokens_to_ids("[SEP]")
    return [(decoder_tok, [bos], []), (bert_tok, [cls], [sep])]


def framed_without_specials_inside(seqs, tok, before, after, T) -> bool:
    """Every sequence is ``before`` + T body ids + ``after``, and no body id is a special token."""
    special = set(tok.all_special_ids)
    return all(s[:len(before)] == before and s[len(s) - len(after):] == after and len(s) == T + len(before + after)
               and not special & set(s[len(before):len(s) - len(after)]) for s in seqs)


def test_random_inputs_hold_no_special_token_in_the_body_and_the_tokenizers_own_special_tokens_around_it(
        decoder_tok, bert_tok):
    for tok, before, after in _frames(decoder_tok, bert_tok):
        seqs = GI.sequences("random", tok, 64, 5, seed=0)
        assert framed_without_specials_inside(seqs, tok, before, after, 64)
        assert len(set(seqs[0][len(before):len(seqs[0]) - len(after)])) > 20  # drawn, not one id


def test_a_planted_error_that_lets_special_ids_into_the_body_is_caught(decoder_tok, bert_tok, monkeypatch):
    monkeypatch.setattr(GI, "special_ids", lambda tok: set())  # the planted error: no id counts as special
    for tok, before, after in _frames(decoder_tok, bert_tok):
        seqs = GI.sequences("random", tok, 64, 20, seed=0)
        assert not framed_without_specials_inside(seqs, tok, before, after, 64)


def test_bare_inputs_are_the_body_alone(decoder_tok):
    seqs = GI.sequences("random", decoder_tok, 10, 3, seed=4, special_tokens=False)
    assert [len(s) for s in seqs] == [10] * 3 and not set(decoder_tok.all_special_ids) & {i for s in seqs for i in s}


def test_repeated_inputs_repeat_one_non_special_id_and_sequences_draw_different_ids(decoder_tok, bert_tok):
    for tok, before, after in _frames(decoder_tok, bert_tok):
        seqs = GI.sequences("repeated", tok, 64, 8, seed=1)
        bodies = [s[len(before):len(s) - len(after)] for s in seqs]
        assert all(len(b) == 64 and len(set(b)) == 1 for b in bodies)
        assert not set(tok.all_special_ids) & {b[0] for b in bodies}
        assert len({b[0] for b in bodies}) > 1


def test_the_same_seed_gives_the_same_ids_and_another_seed_other_ids(decoder_tok):
    for kind in ("random", "repeated"):
        a, b = GI.sequences(kind, decoder_tok, 16, 6, seed=3), GI.sequences(kind, decoder_tok, 16, 6, seed=3)
        c = GI.sequences(kind, decoder_tok, 16, 6, seed=4)
        assert a == b and a != c
        assert GI.sequences(kind, decoder_tok, 16, 3, seed=3) == a[:3]  # sequence n has its own seed (seed, n)


def test_the_ordinary_ids_are_exactly_the_vocabulary_less_the_special_tokens(bert_tok):
    special = {bert_tok.convert_tokens_to_ids(t) for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")}
    assert set(GI.ordinary_ids(bert_tok).tolist()) == set(range(len(bert_tok))) - special
    assert set(GI.ordinary_ids(bert_tok, vocab_size=50).tolist()) == set(range(50)) - special


def test_a_tokenizer_whose_frame_cannot_be_read_is_an_error():
    class Odd:  # gives different ids for the text with special tokens than without
        def __call__(self, text, add_special_tokens=True):
            return {"input_ids": [1, 7, 2] if add_special_tokens else [5]}

    with pytest.raises(InvalidInputError, match="^--model: cannot tell where its tokenizer puts"):
        GI.special_frame(Odd())


# ---- Appendix C.1's lemma on random-weight and planted decoders ------------------------------------

@pytest.fixture(scope="module")
def decoders(decoder_tok):
    from sinkcheck.models import random_models as R

    n = len(decoder_tok)
    return {"llama": R.build("llama", vocab_size=n), "bloom": R.build("bloom", vocab_size=n),
            "llama_bos": GI.plant_bos_content(R.build("llama", vocab_size=n), decoder_tok.bos_token_id, 1, 1),
            "llama_lone": GI.plant_lone_first_row(R.build("llama", vocab_size=n), 1, 1),
            "gpt2_p1": GI.plant_first_position(R.build("gpt2", vocab_size=n), 1, 1)}


def _sink_first(tok, model, kind, bare=False, n=8):
    from sinkcheck.experiments.pretrained_report import measure_inputs

    res = measure_inputs(kind, n_sequences=n, special_tokens=not bare, loaded=(tok, model))
    return float(res["rates"].sink_k[0]), res["rates"].per_head[..., 0]


@pytest.mark.parametrize("arch", ["llama", "bloom"])
def test_one_repeated_token_gives_random_weight_rope_and_alibi_decoders_no_first_token_sink(decoder_tok, decoders, arch):
    for bare in (False, True):
        assert _sink_first(decoder_tok, decoders[arch], "repeated", bare)[0] == 0


def test_a_sink_on_the_first_learned_position_survives_repeated_tokens_in_the_planted_head_only(decoder_tok, decoders):
    for kind in ("random", "repeated"):
        for bare in (False, True):
            sink, per_head = _sink_first(decoder_tok, decoders["gpt2_p1"], kind, bare)
            assert sink == 1 / 4 and per_head[1, 1] == 1 and per_head.sum() == 1  # one head of four, every sequence


def test_a_sink_on_the_bos_content_of_a_rope_decoder_vanishes_when_every_token_is_the_same(decoder_tok, decoders):
    # with <s> in front the first token differs from the rest and the planted head finds it; with the
    # repeated token alone every position has the same hidden state (the lemma) and no sink is left
    assert _sink_first(decoder_tok, decoders["llama_bos"], "repeated")[0] == 1 / 4
    assert _sink_first(decoder_tok, decoders["llama_bos"], "random")[0] == 1 / 4
    assert _sink_first(decoder_tok, decoders["llama_bos"], "repeated", bare=True)[0] == 0


def test_a_bare_repeated_sequence_gives_a_rope_decoder_equal_hidden_states_at_every_position(decoder_tok, decoders):
    # Appendix C.1's lemma, read off the model: every layer input is the same vector at every position
    run = P.run_ids(decoder_tok, decoders["llama_bos"], [37] * 12)
    assert np.allclose(run.hidden, run.hidden[:, :1], atol=1e-5)
    with_bos = P.run_ids(decoder_tok, decoders["llama_bos"], [decoder_tok.bos_token_id] + [37] * 11)
    assert not np.allclose(with_bos.hidden[1:], with_bos.hidden[1:, :1], atol=1e-3)


def test_a_sink_on_the_lone_first_attention_row_of_a_rope_decoder_needs_no_marker_and_vanishes_on_one_repeated_token(
        decoder_tok, decoders):
    # no token is marked and nothing is added to the input: the first token differs only because its
    # causal row holds itself alone; bare random tokens keep the sink, a bare repeated token removes it
    for kind, bare, expected in (("random", True, 1.0), ("random", False, 1.0), ("repeated", True, 0.0)):
        sink, per_head = _sink_first(decoder_tok, decoders["llama_lone"], kind, bare)
        assert per_head[1, 1] == expected and sink == expected / 4
    E = decoders["llama_lone"].embed_tokens.weight.detach().numpy()
    assert np.all(E[:, GI.J_ALL] == 1) and np.allclose(np.linalg.norm(E[:, 2:18], axis=1), 0.1)  # no token marked


def test_equal_hidden_states_are_what_removes_the_lone_first_row_sink(decoder_tok, decoders):
    from sinkcheck.theory.repeated_tokens import uniform_alpha1

    model, T = decoders["llama_lone"], 64
    run = P.run_ids(decoder_tok, model, [37] * T)
    assert np.allclose(run.hidden, run.hidden[:, :1], atol=1e-5)  # the lemma: one hidden state everywhere
    row = np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]
    assert np.abs(run.attn[1, 1] - row).max() < 1e-3  # so the planted head attends uniformly
    assert abs(run.attn[1, 1][:, 0].mean() - float(uniform_alpha1(T))) < 1e-4  # alpha_1 = H_64 / 64, no sink
    random_run = P.run_ids(decoder_tok, model, GI.sequences("random", decoder_tok, T, 1, seed=0, special_tokens=False)[0])
    assert np.abs(random_run.attn[0, 0] - row).max() < 1e-6  # head (0, 0) averages its causal row on any input
    assert random_run.attn[1, 1][:, 0].mean() > 0.9  # and the planted head finds the lone first row on random tokens
    # break the equality at the first position only (the tokenizer's <s> in front): the sink is back
    framed = P.run_ids(decoder_tok, model, [decoder_tok.bos_token_id] + [37] * T)
    assert framed.attn[1, 1][:, 0].mean() > 0.3


def test_the_report_calls_a_construction_that_disagrees_with_the_lemma_a_broken_run():
    from sinkcheck.report.checks.gu_inputs import constructions_agree

    good = {"llama_bos_plant": {"random": 0.25, "random_bare": 0.0, "repeated": 0.25, "repeated_bare": 0.0},
            "llama_lone_first_plant": {"random_bare": 0.25, "repeated_bare": 0.0},
            "gpt2_p1_plant": {"random": 0.25, "random_bare": 0.25, "repeated": 0.25, "repeated_bare": 0.25}}
    assert all(constructions_agree(good, "repeated").values()) and all(constructions_agree(good, "random").values())
    kept = {**good, "llama_lone_first_plant": {"random_bare": 0.25, "repeated_bare": 0.25}}
    assert constructions_agree(kept, "repeated") == {"bos_plant_kept_with_bos": True,
                                                     "bos_plant_absent_without_bos": True,
                                                     "lone_first_plant_gone_when_all_equal": False,
                                                     "p1_plant_kept": True}
    never = {**good, "llama_lone_first_plant": {"random_bare": 0.0, "repeated_bare": 0.0}}  # no sink at all: no test
    assert not constructions_agree(never, "repeated")["lone_first_plant_gone_when_all_equal"]
    assert not constructions_agree(never, "random")["lone_first_plant_kept_bare"]


# ---- the command on local checkpoints, offline -----------------------------------------------------

@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, decoder_tok, decoders):
    from sinkcheck.models import random_models as R

    root = tmp_path_factory.mktemp("gu_inputs")
    for name in ("llama_bos", "gpt2_p1"):
        decoder_tok.save_pretrained(root / name)
        decoders[name].save_pretrained(root / name)
    R.save("bloom", root / "bloom")
    return root


def _run(*args):
    return CliRunner().invoke(main, ["pretrained", *map(str, args)])


def test_the_json_names_the_protocol_and_gives_sink_first_on_a_local_checkpoint(checkpoints, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for kind, bare, expected in (("random", False, 0.25), ("repeated", False, 0.25), ("repeated", True, 0.0)):
        out = tmp_path / f"{kind}{bare}"
        args = ["--model", checkpoints / "llama_bos", "--inputs", kind, "--length", 32, "--sequences", 4, "--seed", 7,
                "--no-progress", "--out", out] + (["--no-special-tokens"] if bare else [])
        result = _run(*args)
        assert result.exit_code == 0, result.output
        summary = json.loads((out / "summary.json").read_text())
        assert summary["protocol"] == {"inputs": kind, "length": 32, "sequences": 4, "seed": 7,
                                       "special_tokens": not bare, "before": [] if bare else ["<s>"], "after": [],
                                       "sequence_length": 32 + (not bare)}
        assert summary["sink_first"] == expected and summary["sink_first_per_layer"] == [0.0, 2 * expected]
        assert f"{kind} inputs, T = 32 body tokens, 4 sequences, seed 7" in result.output
        assert (out / "sink_per_position.md").is_file() and not (out / "figures").exists()


def test_the_same_seed_writes_the_same_bytes(checkpoints, tmp_path):
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert _run("--model", checkpoints / "gpt2_p1", "--inputs", "random", "--sequences", 3, "--length", 16,
                    "--no-progress", "--out", out).exit_code == 0
    assert all((outs[0] / f).read_bytes() == (outs[1] / f).read_bytes()
               for f in ("summary.json", "sink_per_layer.csv", "sink_per_position.csv"))


def test_the_default_model_runs_random_inputs_and_puts_cls_first(tmp_path):
    if P.missing_extra() is not None:
        pytest.skip(P.missing_extra())
    result = _run("--inputs", "random", "--sequences", 2, "--length", 8, "--no-progress", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["protocol"]["before"] == ["[CLS]"] and summary["protocol"]["after"] == ["[SEP]"]
    assert summary["attention"] == "bidirectional" and 0 <= summary["sink_first"] <= 1


def _one_line_error(result, fragment):
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    return result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


@pytest.mark.parametrize("args, fragment", [
    (["--length", "1"], "--length: must be an integer >= 2"),
    (["--length", "0"], "--length: must be an integer >= 2"),
    (["--length", "-5"], "--length: must be an integer >= 2"),
    (["--length", "x"], "'x' is not a valid integer"),
    (["--length", "256"], "--length: must be an integer in [2, 255] for this model (256 positions, 1 of them"),
    (["--sequences", "0"], "--sequences: must be an integer >= 1"),
    (["--seed", "-1"], "--seed: must be an integer >= 0"),
    (["--inputs", "noise"], "'noise' is not one of"),
    (["--inputs", "natural", "--length", "8"], "--length: applies to --inputs random or repeated only"),
    (["--inputs", "natural", "--no-special-tokens"], "--special-tokens/--no-special-tokens: applies to --inputs"),
    (["--limit", "3"], "--limit: applies to --inputs natural only"),
])
def test_bad_protocol_options_are_one_line_errors_that_write_nothing(checkpoints, tmp_path, args, fragment):
    if "--inputs" not in args:
        args = ["--inputs", "repeated"] + args
    result = _run("--model", checkpoints / "llama_bos", *args, "--out", tmp_path / "o")
    assert _one_line_error(result, fragment), result.output
    assert not (tmp_path / "o").exists()


def test_an_alibi_checkpoint_without_a_position_limit_takes_a_longer_length_up_to_the_machines_memory(checkpoints, tmp_path):
    result = _run("--model", checkpoints / "bloom", "--inputs", "repeated", "--length", "300", "--sequences", "1",
                  "--no-progress", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["protocol"]["sequence_length"] == 301
    huge = _run("--model", checkpoints / "bloom", "--inputs", "repeated", "--length", "10000000", "--out", tmp_path / "h")
    assert _one_line_error(huge, "--length, --sequences: 100 sequences of 10000001 tokens (one sequence's attention maps"), huge.output
    assert not (tmp_path / "h").exists()


def test_saving_a_random_checkpoint_never_writes_into_an_existing_path(tmp_path):
    from sinkcheck.models import random_models as R

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.json").write_text("the user's file")
    with pytest.raises(InvalidInputError, match="path:"):
        R.save("llama", mine)
    assert [p.name for p in mine.iterdir()] == ["config.json"] and (mine / "config.json").read_text() == "the user's file"
