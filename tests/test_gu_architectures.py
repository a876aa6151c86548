"""Gu et al.'s Appendix C.1 on real architectures with random weights (sinkcheck.evaluate.repeated_states):
transformers' LLaMA (RoPE), BLOOM (ALiBi) and GPT-2 (learned positions), and the suite's GPT with
every positional encoding, fed 64 copies of one token; planted errors must be caught."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sinkcheck.evaluate import repeated_states as rs
from sinkcheck.models import positions as P
from sinkcheck.models.gpt import GPT, GPTConfig
from sinkcheck.models.random_models import build
from sinkcheck.theory import repeated_tokens as rt
from tests.support.profiles import examples

T = 64
SMALL = dict(n_layer=2, n_head=2, width=32, vocab_size=50)
TOL32 = 16 * T * 2.0**-24 / (1 - T * 2.0**-24)  # float32 softmax rounding over 64 keys (Higham's gamma_T)
TOL64 = 16 * T * 2.0**-53 / (1 - T * 2.0**-53)


def gpt(pos, norm="pre", seed=0):
    return GPT(GPTConfig(pos=pos, norm=norm, block_size=T, vocab_size=8, n_embd=32, n_head=2), seed=seed)


@pytest.mark.parametrize("arch", ["llama", "bloom"])
def test_repeated_tokens_have_equal_hidden_states_in_every_layer_of_llama_and_bloom(arch):
    spread = rs.hidden_spread(rs.run(build(arch, seed=1, **SMALL), T=T)["hidden"])
    assert len(spread) == 3 and max(spread) <= TOL32


def test_gpt2_learned_positions_and_a_planted_input_pe_break_the_equality():
    assert min(rs.hidden_spread(rs.run(build("gpt2", seed=1, **SMALL), T=T)["hidden"])[1:]) > 0.1
    assert rs.hidden_spread(rs.run(build("llama", seed=1, **SMALL), T=T, input_pe=0.02)["hidden"])[0] > 0.1


@pytest.mark.parametrize("pos", ["nope", "relative", "alibi", "rope", "learned", "sinusoidal"])
@pytest.mark.parametrize("norm", ["pre", "post"])
def test_the_suite_gpt_keeps_repeated_states_equal_exactly_when_no_position_enters_the_input(pos, norm):
    spread = max(rs.hidden_spread(rs.gpt_run(gpt(pos, norm), T=T)["hidden"]))
    if pos in P.INPUT_POSITIONS:
        assert spread > 0.1
    else:
        assert spread <= TOL64


@settings(max_examples=examples(12))
@given(st.sampled_from(["nope", "relative", "alibi", "rope"]), st.sampled_from(["pre", "post"]),
       st.integers(0, 2**16), st.integers(2, T), st.integers(0, 7), st.integers(1, 3))
def test_repeated_states_are_equal_for_random_position_free_gpts(pos, norm, seed, length, token, layers):
    model = GPT(GPTConfig(pos=pos, norm=norm, block_size=T, vocab_size=8, n_embd=16, n_head=2, n_layer=layers,
                          init_std=0.5), seed=seed)
    if pos == "relative":  # a random bias table instead of the zero initialisation
        with torch.no_grad():
            for b in model.blocks:
                b.attn.rel_bias.normal_(0, 2.0, generator=torch.Generator().manual_seed(seed))
    assert max(rs.hidden_spread(rs.gpt_run(model, token=token, T=length)["hidden"])) <= TOL64


def test_an_input_pe_slipped_into_a_nope_gpt_makes_the_lemma_check_fail():
    model = rs.slip_input_pe(gpt("nope"))
    assert max(rs.hidden_spread(rs.gpt_run(model, T=T)["hidden"])) > 0.1
    assert rs.uniform_gap(rs.nope_llama(rs.scale_qk(build("llama", seed=2, **SMALL), 10.0)), T=T) <= TOL32


def test_nope_weights_are_1_over_t_in_the_suite_gpt():
    for maps in rs.gpt_run(gpt("nope"), T=T)["attn"]:
        for A in maps:
            assert np.abs(np.tril(A - 1 / np.arange(1, T + 1)[:, None])).max() <= TOL64


def test_llama_weights_recomputed_from_its_q_and_k_match_and_obey_the_rope_bound():
    for scale in (1.0, 10.0):
        for head in rs.rope_heads(rs.scale_qk(build("llama", seed=3, **SMALL), scale), T=T):
            assert head["recompute_gap"] <= TOL32 and head["bound_excess"] <= TOL32
            assert 0 < head["exponent_used"] < 2
    assert rs.rope_heads(rs.scale_qk(build("llama", seed=3, **SMALL), 10.0), T=T)[0]["xi"] > 1


def test_a_wrong_exponent_is_caught_on_a_llama_head_that_reaches_the_bound_in_row_2():
    model = rs.tight_rope_head(build("llama", seed=4, **SMALL), 1.5)
    head = rs.rope_heads(model, T=T)[0]
    assert head["xi"] == pytest.approx(1.5, rel=1e-12) and head["exponent_used"] == pytest.approx(2.0, abs=1e-6)
    A = rs.run(model, T=T)["attn"][0][0]
    assert A[1, 1] == pytest.approx(math.exp(3.0) / (math.exp(3.0) + 1), rel=1e-6)
    assert rt.bound_excess(A, 1.5) <= TOL32 < 0.1 < rt.bound_excess(A, 1.5, exponent=1.0)


def test_bloom_maps_equal_the_alibi_closed_form_with_the_first_token_smallest():
    for head in rs.alibi_heads(build("bloom", seed=5, **SMALL), T=T):
        assert head["closed_form_gap"] <= TOL32 and head["first_is_row_min"]
        assert head["alpha1"] < head["uniform_alpha1"] < 0.3


def test_the_suite_gpt_alibi_maps_equal_the_closed_form_and_a_flipped_slope_is_caught():
    maps = rs.gpt_run(gpt("alibi"), T=T)["attn"]
    for A_layer in maps:
        for A, m in zip(A_layer, rt.alibi_slopes(2)):
            assert np.abs(A - rt.repeated_weights(-m * np.arange(T))).max() <= TOL64
            assert np.abs(A - rt.repeated_weights(m * np.arange(T))).max() > 1e-3


def test_the_models_positions_agree_with_the_theorys_buckets_and_slopes():
    assert P.t5_bucket(torch.arange(300)).tolist() == [rt.t5_bucket(d) for d in range(300)]
    assert P.alibi_slopes(8).tolist() == pytest.approx(rt.alibi_slopes(8), rel=1e-7)


@pytest.mark.parametrize("table, sinks", [(-torch.arange(32.0), False), (torch.arange(32.0), True)])
def test_a_relative_gpt_sinks_on_repeated_tokens_iff_its_bias_rises_with_distance(table, sinks):
    model = gpt("relative")
    with torch.no_grad():
        for b in model.blocks:
            b.attn.rel_bias.copy_(table.expand_as(b.attn.rel_bias))
    for head in rs.relative_heads(model, T=T):
        assert head["closed_form_gap"] <= TOL64
        assert (head["alpha1"] > 0.3) == sinks and bool(head["excess_at"]) == sinks
        if not sinks:
            assert head["alpha1"] <= float(rt.uniform_alpha1(T))
