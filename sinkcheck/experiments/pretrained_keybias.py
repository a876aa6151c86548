"""Gu et al. Section 3.1's first-token geometry in a pretrained model on disk (default: the shipped
all-MiniLM-L6-v2), through :mod:`sinkcheck.experiments.pretrained`'s loaders and per-head weights.

Per layer and head, over the sentences: the first token's key and value norms over the mean norm
of the other tokens', and the mean cosine between its key and the other tokens' queries against
the mean cosine between those queries and the other keys. In an encoder every query sees every
key (the comparison keys are all j > 1, the query's own included); the paper's claim is about
autoregressive models, so an encoder's numbers are reported beside it, not as a test of it.
"""

from __future__ import annotations

import numpy as np

from sinkcheck.experiments import pretrained as PT


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-30)


def first_token_geometry(n_sentences: int | None = 20, path=None, device: str = "cpu") -> dict:
    """``k1_ratio``, ``v1_ratio``, ``cos_first``, ``cos_other`` (L, H), each the mean over the first
    ``n_sentences`` shipped sentences; ``causal`` says whether the model is a decoder."""
    tok, model = PT.load_model(path, device)
    runs = PT.run_sentences(tok, model, PT.load_sentences(n_sentences), device)
    Z = PT.read_tokens(runs, model)
    arch = PT.architecture(model)
    L, H = runs[0].attn.shape[:2]
    causal = PT.is_causal(runs)
    out = {k: np.zeros((L, H)) for k in ("k1_ratio", "v1_ratio", "cos_first", "cos_other")}
    for layer in range(L):
        w = arch.weights(model, layer)
        hs = w["W_Q"].shape[0] // H
        for z in Z:
            q, k, v = (z[layer] @ w[f"W_{m}"].T + w[f"b_{m}"] for m in ("Q", "K", "V"))  # (T, d_all)
            for h in range(H):
                qh, kh, vh = (x[:, h * hs:(h + 1) * hs] for x in (q, k, v))
                kn, vn = np.linalg.norm(kh, axis=1), np.linalg.norm(vh, axis=1)
                cos = _unit(qh[1:]) @ _unit(kh).T  # queries t > 1 against every key
                seen = np.tril(np.ones((len(kh) - 1, len(kh) - 1), dtype=bool)) if causal else np.ones(
                    (len(kh) - 1, len(kh) - 1), dtype=bool)
                out["k1_ratio"][layer, h] += kn[0] / kn[1:].mean()
                out["v1_ratio"][layer, h] += vn[0] / vn[1:].mean()
                out["cos_first"][layer, h] += cos[:, 0].mean()
                out["cos_other"][layer, h] += cos[:, 1:][seen].mean()
    return {**{k: v / len(runs) for k, v in out.items()}, "causal": causal, "sentences": len(runs)}


def summary(geometry: dict) -> dict:
    """The fractions of heads where the first token's key and value are shorter than the others'
    and where its key's cosine with the queries is the larger, with the medians."""
    g = geometry
    return {"heads": int(g["k1_ratio"].size), "frac_small_key": float(np.mean(g["k1_ratio"] < 1)),
            "frac_small_value": float(np.mean(g["v1_ratio"] < 1)),
            "frac_larger_cosine": float(np.mean(g["cos_first"] > g["cos_other"])),
            "median_k1_ratio": float(np.median(g["k1_ratio"])), "median_v1_ratio": float(np.median(g["v1_ratio"])),
            "causal": g["causal"], "sentences": g["sentences"]}
