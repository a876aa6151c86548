"""Small decoder checkpoints with random weights, built offline by ``transformers`` itself: one per
positional scheme of Gu et al.'s Appendix C.1 that a published architecture uses.

- ``llama``: RoPE (rotary positions on q and k, nothing added to the input);
- ``bloom``: ALiBi (a per-head linear distance bias on the scores, nothing added to the input);
- ``gpt2``: learned absolute positions added to the input (outside the repeated-token lemma).

Every model is seeded (same seed, same weights), uses eager attention so that the attention maps
come back, and shares one tokenizer: a byte-level BPE trained on the shipped sentences, which puts
its BOS token ``<s>`` in front of every text, as LLaMA's does.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import torch

from sinkcheck import validate
from sinkcheck.errors import InvalidInputError

ARCHITECTURES = {"llama": "RoPE", "bloom": "ALiBi", "gpt2": "learned absolute"}
"""Each architecture and its positional encoding."""

BOS, EOS = "<s>", "</s>"


def tokenizer():
    """A byte-level BPE (400 ids) trained on the shipped sentences; it adds ``<s>`` in front of
    every text and nothing after it."""
    from tokenizers import ByteLevelBPETokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    text = importlib.resources.files("sinkcheck").joinpath("data/sentences.txt").read_text(encoding="utf-8")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(text.splitlines(), vocab_size=400, min_frequency=1, special_tokens=[BOS, EOS],
                            show_progress=False)
    bos = bpe.token_to_id(BOS)
    bpe._tokenizer.post_processor = TemplateProcessing(single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B",
                                                       special_tokens=[(BOS, bos)])
    return PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=BOS, eos_token=EOS)


def build(arch: str, seed: int = 0, n_layer: int = 2, n_head: int = 2, width: int = 32, vocab_size: int = 400,
          max_positions: int = 256):
    """A ``transformers`` model of ``arch`` (:data:`ARCHITECTURES`) with random weights drawn after
    ``torch.manual_seed(seed)``, in eval mode, with eager attention."""
    from transformers import BloomConfig, BloomModel, GPT2Config, GPT2Model, LlamaConfig, LlamaModel

    validate.choice("arch", arch, tuple(ARCHITECTURES))
    for name, value in (("n_layer", n_layer), ("n_head", n_head), ("width", width), ("vocab_size", vocab_size)):
        validate.integer_at_least(name, value, 1)
    torch.manual_seed(seed)
    if arch == "llama":
        config = LlamaConfig(num_hidden_layers=n_layer, num_attention_heads=n_head, num_key_value_heads=n_head,
                             hidden_size=width, intermediate_size=2 * width, vocab_size=vocab_size,
                             max_position_embeddings=max_positions, bos_token_id=0, eos_token_id=1)
        model_cls = LlamaModel
    elif arch == "bloom":
        config = BloomConfig(n_layer=n_layer, n_head=n_head, hidden_size=width, vocab_size=vocab_size,
                             bos_token_id=0, eos_token_id=1)
        model_cls = BloomModel
    else:
        config = GPT2Config(n_layer=n_layer, n_head=n_head, n_embd=width, vocab_size=vocab_size,
                            n_positions=max_positions, bos_token_id=0, eos_token_id=1)
        model_cls = GPT2Model
    config._attn_implementation = "eager"
    return model_cls(config).eval()


def save(arch: str, path: str | Path, seed: int = 0) -> Path:
    """Save the tokenizer and ``build(arch, seed)`` (sized to the tokenizer) into ``path``, a directory
    this call creates (an existing path is refused, so no file of the user's is ever replaced): a
    checkpoint for ``sinkcheck pretrained --model``."""
    from transformers.utils import logging as hf_logging

    path = Path(path)
    if path.exists():
        raise InvalidInputError(f"path: must not exist yet, save() creates it (got existing {path})")
    hf_logging.disable_progress_bar()
    tok = tokenizer()
    model = build(arch, seed=seed, vocab_size=len(tok))
    path.mkdir(parents=True)
    tok.save_pretrained(path)
    model.save_pretrained(path)
    return path
