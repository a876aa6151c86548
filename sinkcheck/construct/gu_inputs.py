"""Gu et al. (ICLR 2025) Table 1's input protocol (Section 3.3, "Beyond natural languages"), and two
first-token sinks planted into random-weight decoders to test it (docs/gu_inputs.md).

The protocol, one place (``sinkcheck pretrained --inputs``):

- ``natural``: sentences of text, tokenized as usual (the suite's shipped sentences by default);
- ``random``: T ids drawn uniformly, with replacement, from the tokenizer's non-special ids;
- ``repeated``: one such id, repeated T times.

A random or repeated body is wrapped in the special tokens that the tokenizer adds to any text
(:func:`special_frame`: [CLS] ... [SEP] for BERT, ``<s>`` in front for LLaMA-style tokenizers), or
left bare. Sequence n of a run draws from ``numpy.random.default_rng((seed, n))``.

Appendix C.1's lemma needs x_1 = ... = x_T from the first position on: a special token in front of
a repeated body breaks it. The plants show both sides (:func:`plant_bos_content` on RoPE,
:func:`plant_first_position` on learned absolute positions, as in GPT-2 and Table 7), and
:func:`plant_lone_first_row` tests the lemma itself: a RoPE sink with no content marker and no
position vector, which singles the first token out only because its causal attention row holds
itself alone, so it sinks on random tokens and must vanish when every hidden state is equal.
"""

from __future__ import annotations

import numpy as np

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError

KINDS = ("natural", "random", "repeated")
"""The input kinds of Table 1 (natural text, random tokens, one token repeated)."""

PAPER_T = 64
"""The body length T of Gu et al.'s random and repeated inputs (Section 3.2 fixes T = 64)."""

PAPER_SEQUENCES = 100
"""The number of sequences Gu et al. average Sink_1 over (Figure 3)."""

PROBE = "a"
"""The text whose tokenization with and without special tokens reveals the tokenizer's frame."""


def special_frame(tok) -> tuple[list[int], list[int]]:
    """(prefix, suffix): the special ids the tokenizer puts before and after the tokens of a text,
    read off its own tokenization of :data:`PROBE` with and without special tokens."""
    framed = list(tok(PROBE)["input_ids"])
    body = list(tok(PROBE, add_special_tokens=False)["input_ids"])
    for i in range(len(framed) - len(body) + 1):
        if body and framed[i:i + len(body)] == body:
            return framed[:i], framed[i + len(body):]
    raise InvalidInputError("--model: cannot tell where its tokenizer puts its special tokens (the tokens of "
                            f"{PROBE!r} do not appear whole among those it gives with special tokens)")


def special_ids(tok) -> set[int]:
    """Every special id of the tokenizer: its named special tokens and every added token marked special."""
    added = getattr(tok, "added_tokens_decoder", {}) or {}
    return set(tok.all_special_ids) | {i for i, t in added.items() if getattr(t, "special", False)}


def ordinary_ids(tok, vocab_size: int | None = None) -> np.ndarray:
    """The ids a random body is drawn from: 0 .. min(len(tok), vocab_size) - 1 less every special id."""
    n = len(tok) if vocab_size is None else min(len(tok), vocab_size)
    special = special_ids(tok)
    ids = np.array([i for i in range(n) if i not in special], dtype=np.int64)
    if ids.size == 0:
        raise InvalidInputError("--model: its tokenizer has no id that is not a special token")
    return ids


def body(kind: str, ids: np.ndarray, T: int, seed: int, n: int) -> list[int]:
    """The T body ids of sequence n: uniform draws from ``ids`` (random) or one draw repeated (repeated)."""
    validate.choice("--inputs", kind, KINDS[1:])
    rng = np.random.default_rng((seed, n))
    if kind == "random":
        return [int(i) for i in rng.choice(ids, size=T)]
    return [int(rng.choice(ids))] * T


def sequences(kind: str, tok, T: int, count: int, seed: int, vocab_size: int | None = None,
              special_tokens: bool = True) -> list[list[int]]:
    """``count`` input sequences of ``kind`` ("random" or "repeated"): T body ids each, wrapped in the
    tokenizer's special tokens unless ``special_tokens`` is False."""
    validate.integer_at_least("--length", T, 2)
    validate.integer_at_least("--sequences", count, 1)
    validate.integer_at_least("--seed", seed, 0)
    prefix, suffix = special_frame(tok) if special_tokens else ([], [])
    ids = ordinary_ids(tok, vocab_size)
    return [prefix + body(kind, ids, T, seed, n) + suffix for n in range(count)]


# ---- planted first-token sinks ---------------------------------------------------------------------

J_FIRST, J_ALL = 0, 1
"""The residual coordinates the plants use (J_FIRST marks what singles the first token out; J_ALL is
1 on every ordinary token, and the planted query reads it)."""

STRENGTH = 1.0
"""The plants' weight S (the planted head scores the marked key about S^2 d / sqrt(d_head) above the others)."""


def plant_bos_content(model, bos_id: int, layer: int, head: int, strength: float = STRENGTH):
    """Plant a sink on the BOS token's *content* into a random-weight LLaMA (RoPE) ``model``, in place.

    The embedding of ``bos_id`` gets coordinate J_FIRST = 1 (and J_ALL = 0), every other token
    J_ALL = 1 (and J_FIRST = 0); after RMSNorm each is about sqrt(d). Head ``head`` of ``layer``
    gets query weight S on J_ALL and key weight S on J_FIRST in the lowest-frequency rotary pair,
    whose angle stays near 0 over a few hundred positions, so every query prefers the BOS key. The
    sink needs a BOS token: on a sequence of one repeated token no content singles position 0 out.
    """
    if model.config.model_type != "llama":
        raise InvalidInputError(f"model: plant_bos_content plants into llama (RoPE) models (got {model.config.model_type})")
    import torch

    hs = model.config.hidden_size // model.config.num_attention_heads
    row = head * hs + hs // 2 - 1  # the lowest rotary frequency is the last of the first half
    attn = model.layers[layer].self_attn
    with torch.no_grad():
        E = model.embed_tokens.weight
        E[:, J_FIRST], E[:, J_ALL] = 0.0, 1.0
        E[bos_id, J_FIRST], E[bos_id, J_ALL] = 1.0, 0.0
        attn.q_proj.weight[row, J_ALL] = strength
        attn.k_proj.weight[row, J_FIRST] = strength
    return model


def plant_first_position(model, layer: int, head: int, strength: float = STRENGTH):
    """Plant a sink on the first *position* into a random-weight GPT-2 (learned absolute positions)
    ``model``, in place: the position vector p_1 gets coordinate J_FIRST = 1 and no token or other
    position has it (after LayerNorm about sqrt(d)); head ``head`` of ``layer`` gets key weight S on
    J_FIRST and query bias S sqrt(d), the query the LLaMA plant reads off J_ALL. The
    sink needs no token content, so it survives any input, repeated tokens included."""
    if model.config.model_type != "gpt2":
        raise InvalidInputError(f"model: plant_first_position plants into gpt2 models (got {model.config.model_type})")
    import torch

    d = model.config.n_embd
    hs = d // model.config.n_head
    with torch.no_grad():
        model.wte.weight[:, J_FIRST] = 0.0
        model.wpe.weight[:, J_FIRST] = 0.0
        model.wpe.weight[0, J_FIRST] = 1.0
        for block in model.h:
            block.attn.c_attn.weight[J_FIRST, d:2 * d] = 0.0  # Conv1D (in, out): no key reads J_FIRST
        attn = model.h[layer].attn.c_attn
        attn.weight[J_FIRST, d + head * hs] = strength
        attn.bias[head * hs] = strength * np.sqrt(d)
    return model


def plant_lone_first_row(model, layer: int, head: int, strength: float = STRENGTH, gain: float = 5.0):
    """Plant a first-token sink that needs neither a content marker nor a position vector into a
    random-weight LLaMA (RoPE) ``model``, in place (Appendix C.1's lemma is what removes it).

    Every token's embedding gets the same J_ALL = 1 and the same norm on the block B of ``hs``
    coordinates after J_ALL (no token is marked). Head 0 of layer 0 attends uniformly (zero query)
    and writes ``gain`` times the mean of its causal row's B blocks back into B. Position 0's row
    is itself alone, so its B block is one unit-norm vector; any later row averages distinct
    vectors of that norm, which is strictly shorter (triangle inequality). The next RMSNorm turns
    that norm into a smaller J_ALL at position 0 only, and head ``head`` of ``layer`` reads J_ALL
    with query weight 10 S and key weight -10 S in the slowest rotary pair, so every query prefers
    the key with the smallest J_ALL: the first one. On a bare repeated token every row averages one
    vector and every hidden state is the same (the lemma): no key is preferred.
    """
    if model.config.model_type != "llama":
        raise InvalidInputError(f"model: plant_lone_first_row plants into llama (RoPE) models (got {model.config.model_type})")
    import torch

    hs = model.config.hidden_size // model.config.num_attention_heads
    B = slice(J_ALL + 1, J_ALL + 1 + hs)
    row = head * hs + hs // 2 - 1  # the lowest rotary frequency is the last of the first half
    first, attn = model.layers[0].self_attn, model.layers[layer].self_attn
    with torch.no_grad():
        E = model.embed_tokens.weight
        E[:, J_FIRST], E[:, J_ALL] = 0.0, 1.0
        E[:, B] = E[:, B] / E[:, B].norm(dim=1, keepdim=True) * 0.1
        first.q_proj.weight[:hs] = 0.0  # head 0 of layer 0: uniform causal attention
        first.v_proj.weight[:hs] = 0.0
        first.o_proj.weight[:, :hs] = 0.0
        first.v_proj.weight[:hs, B] = torch.eye(hs)
        first.o_proj.weight[B, :hs] = gain * torch.eye(hs)
        attn.q_proj.weight[row, J_ALL] = 10 * strength
        attn.k_proj.weight[row, J_ALL] = -10 * strength
    return model
