"""Tiny Hugging Face checkpoints built offline for the ``--model PATH`` tests: a GPT-2 (decoder)
and a BERT (encoder) with random weights from a config, a tokenizer trained on a few sentences,
and optionally one planted sink head that sends every query to position 0.

The plant: embedding coordinate J is 0 for every token and position except position 0, where it
is BIG; no head's keys read coordinate J except the planted head, whose key coordinate 0 reads it
(weight KEY) and whose query bias is QUERY on that coordinate.  After a LayerNorm position 0 alone
has a large coordinate J, so the planted head scores position 0 about QUERY * KEY * sqrt(d) /
sqrt(d_head) above the other keys; every other head is near uniform at initialisation.
"""

from __future__ import annotations

from pathlib import Path

import torch

J, BIG, KEY, QUERY = 0, 10.0, 5.0, 5.0
WORDS = ("the a cat dog sat ran on under mat rug while sinks heads keys queries attention token "
         "first model paper proof bound cheap costly softmax layer").split()


def sentences(n: int = 8, length: int = 20) -> list[str]:
    """n sentences of ``length`` words (long enough that a near-uniform causal head gives the first
    token an importance H_T / T < 0.3), ending in a full stop."""
    return [" ".join(WORDS[(7 * i + 3 * j) % len(WORDS)] for j in range(length)) + "." for i in range(n)]


def _tokenizer(kind: str):
    from tokenizers import BertWordPieceTokenizer, ByteLevelBPETokenizer
    from tokenizers.processors import BertProcessing
    from transformers import PreTrainedTokenizerFast

    text = sentences(16)
    if kind == "gpt2":
        bpe = ByteLevelBPETokenizer()
        bpe.train_from_iterator(text, vocab_size=400, min_frequency=1, special_tokens=["<|endoftext|>"],
                                show_progress=False)
        return PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>",
                                       eos_token="<|endoftext|>")
    wp = BertWordPieceTokenizer(lowercase=True)
    wp.train_from_iterator(text, vocab_size=200, min_frequency=1, show_progress=False)
    wp._tokenizer.post_processor = BertProcessing(("[SEP]", wp.token_to_id("[SEP]")), ("[CLS]", wp.token_to_id("[CLS]")))
    return PreTrainedTokenizerFast(tokenizer_object=wp._tokenizer, cls_token="[CLS]", sep_token="[SEP]",
                                   pad_token="[PAD]", unk_token="[UNK]", mask_token="[MASK]")


def _plant_gpt2(model, plant):
    d = model.config.n_embd
    hs = d // model.config.n_head
    with torch.no_grad():
        model.wte.weight[:, J] = 0
        model.wpe.weight[:, J] = 0
        if plant is None:
            return
        model.wpe.weight[0, J] = BIG
        for l, block in enumerate(model.h):
            block.attn.c_attn.weight[J, d:2 * d] = 0  # Conv1D (in, out): no key reads coordinate J
        layer, head = plant
        attn = model.h[layer].attn.c_attn
        attn.weight[J, d + head * hs] = KEY
        attn.bias[head * hs] = QUERY


def _plant_bert(model, plant):
    hs = model.config.hidden_size // model.config.num_attention_heads
    emb = model.embeddings
    with torch.no_grad():
        emb.word_embeddings.weight[:, J] = 0
        emb.position_embeddings.weight[:, J] = 0
        emb.token_type_embeddings.weight[:, J] = 0
        if plant is None:
            return
        emb.position_embeddings.weight[0, J] = BIG
        for block in model.encoder.layer:
            block.attention.self.key.weight[:, J] = 0  # Linear (out, in)
        layer, head = plant
        sa = model.encoder.layer[layer].attention.self
        sa.key.weight[head * hs, J] = KEY
        sa.query.bias[head * hs] = QUERY


def save_tiny(kind: str, path: Path, plant: tuple[int, int] | None = None, seed: int = 0) -> Path:
    """Save a tiny ``kind`` ("gpt2", "bert", or "llama": a model type whose heads sinkcheck does not
    take apart, without a plant) checkpoint with random weights (seeded) into ``path``, with a sink
    head at ``plant`` = (layer, head) when given."""
    from transformers import BertConfig, BertModel, GPT2Config, GPT2Model, LlamaConfig, LlamaModel

    torch.manual_seed(seed)
    tok = _tokenizer("bert" if kind == "bert" else "gpt2")
    if kind == "llama":
        model = LlamaModel(LlamaConfig(num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                       hidden_size=32, intermediate_size=64, vocab_size=len(tok),
                                       max_position_embeddings=128, bos_token_id=tok.bos_token_id,
                                       eos_token_id=tok.eos_token_id))
    elif kind == "gpt2":
        model = GPT2Model(GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=len(tok), n_positions=128,
                                     bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id))
        _plant_gpt2(model, plant)
    else:
        model = BertModel(BertConfig(num_hidden_layers=2, num_attention_heads=2, hidden_size=32,
                                     intermediate_size=64, vocab_size=len(tok), max_position_embeddings=128))
        _plant_bert(model, plant)
    path.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(path)
    model.save_pretrained(path)
    return path
