"""Tables, JSON and figures of the pretrained-model measurements (:mod:`sinkcheck.experiments.pretrained`)."""

from __future__ import annotations

import itertools

from pathlib import Path

from tqdm import tqdm

from sinkcheck.construct import gu_inputs as GI
from sinkcheck.core.attention_torch import one_thread
from sinkcheck.core.figures import pyplot, save
from sinkcheck.core.limits import check_memory
from sinkcheck.core.metrics import GU_EPS, sink_rates
from sinkcheck.core.tables import Table
from sinkcheck.errors import InvalidInputError
from sinkcheck.experiments import pretrained as P
from sinkcheck.experiments.pretrained_heads import head_class

SKIPPED = "value norms, score split and smoothing need the heads' weights: known for model types {}"


def measure(n_sentences: int | None = None, smoothing: bool = True, device: str = "cpu",
            progress: bool = False, eps: float = GU_EPS, model_path=None, sentences_path=None) -> dict:
    """Run the model (default: the shipped MiniLM) on the sentences (default: the shipped ones) and
    collect every measurement (deterministic)."""
    sentences = P.load_sentences(n_sentences, sentences_path)
    tok, model = P.load_model(model_path, device)
    runs = P.run_sentences(tok, model, list(tqdm(sentences, desc="forward", disable=not progress)), device)
    causal = P.is_causal(runs)
    Z = P.read_tokens(runs, model)
    known = P.architecture(model) is not None
    return {
        "model": P.describe(model_path, model),
        "config": P.config_summary(model),
        "first_token": P.first_token(tok),
        "causal": causal,
        "variant": "gu" if causal else "encoder",
        "n_sentences": len(runs),
        "tokens": sum(len(r.tokens) for r in runs),
        "sinks": P.sink_by_position(runs, eps, "gu" if causal else "encoder"),
        "roles": P.mass_by_role(runs),
        "alignment": P.alignment(runs, Z),
        "theorem_g": P.theorem_g(runs, Z),
        "values": P.value_norms(runs, Z, model) if known else None,
        "first_logit": P.first_logit_split(runs, Z, model) if known else None,
        "smoothing": P.smoothing(runs, Z, model, causal) if smoothing and known else None,
        "skipped": None if known else SKIPPED.format(", ".join(P.ARCHITECTURES)),
        "eps": eps,
    }


def metric_name(res: dict) -> str:
    """How the sink columns were computed, for every table title."""
    how = ("alpha_k = column sum / (T - k), causal maps" if res["variant"] == "gu"
           else "encoder variant: alpha_k = column mean over all T queries, bidirectional maps")
    return f"Gu et al.'s Sink^{res['eps']:g} (thresholded per sentence, layer and head, then averaged; {how})"


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
    rates = s["rates"]
    L, H = rates.per_head.shape[:2]
    values = (lambda l: [float(x) for x in v[l].mean(axis=0)]) if v is not None else (lambda l: [None] * 3)
    out = {}
    out["sink_per_layer"] = Table(
        ["layer", "sink_first", "sink_last", "sink_last_minus_1", "heads_mean_alpha_first_above_eps", "mean_alpha_first",
         "mass_first", "mass_special", "mass_punct", "mass_word", "cos_first_others", "min_cos_first_others",
         "cos_last_others", "cos_token_token", "theorem_g_b_first", "theorem_g_b_ordinary", "value_norm_first",
         "value_norm_last", "value_norm_others"],
        [[l, float(rates.per_layer[l, 0]), float(s["last_per_layer"][l]), float(s["last1_per_layer"][l]),
          float((rates.mean_alpha[l, :, 0] > res["eps"]).mean()), float(rates.mean_alpha[l, :, 0].mean()),
          *(float(x) for x in res["roles"][l].mean(axis=0)), float(al["first"][l]), float(al["first_min"][l]),
          float(al["last"][l]), float(al["baseline"][l]), float(res["theorem_g"]["b"][l]),
          float(res["theorem_g"]["baseline_b"][l]), *values(l)]
         for l in range(L)],
        title=f"{res['model']} per layer. sink_*: {metric_name(res)}; heads_mean_alpha_first_above_eps: the fraction "
              "of heads whose importance of the first token, averaged over the sentences first, exceeds eps (a "
              "different statistic); attention mass by token role; cosines of the tokens the heads read; "
              "theorem_g_b_*: the fraction of sentences (of ordinary tokens) for which the first token (an ordinary "
              "token) lies outside the convex hull of the others, Theorem G's (b); ||W_OV z||")
    T = len(rates.samples)
    out["sink_per_position"] = Table(
        ["k", "sentences_with_k", "sink_k", "heads_mean_alpha_above_eps", "mean_alpha_k", "max_head_mean_alpha_k"],
        [[k, int(rates.samples[k]), float(rates.sink_k[k]), float(rates.heads_mean_alpha_above_eps[k]),
          float(rates.mean_alpha[..., k].mean()), float(rates.mean_alpha[..., k].max())] for k in range(T)],
        title=f"{res['model']}: Sink_k at every absolute position k (0 = the first token) over the {L * H} heads; "
              f"{metric_name(res)}")
    smooth = res["smoothing"]
    adv = res["first_logit"]
    out["heads"] = Table(
        ["layer", "head", "sink_freq_first", "mean_alpha_first", "mean_alpha_last", "mass_first", "mass_special",
         "mass_punct", "mass_word", "first_score_adv", "first_score_adv_from_b_Q"]
        + (["beta", "beta_tr_BW", "sharpen", "class", "dcos_attn_vs_sparse", "dcos_uniform_vs_attn"] if smooth else []),
        [[l, h, float(rates.per_head[l, h, 0]), float(rates.mean_alpha[l, h, 0]), float(s["alpha_last"][l, h]),
          *(float(x) for x in res["roles"][l, h]), *((float(x) for x in adv[l, h]) if adv is not None else (None, None))]
         + ([smooth[l * H + h][k] for k in ("beta", "beta_tr_BW", "sharpen")]
            + [head_class(smooth[l * H + h]["beta_tr_BW"], smooth[l * H + h]["sharpen"])]
            + [smooth[l * H + h][k] for k in ("dcos_attn_vs_sparse", "dcos_uniform_vs_attn")] if smooth else [])
         for l in range(L) for h in range(H)],
        title=f"{res['model']} per head: sink_freq_first, the fraction of sentences in which the head's importance "
              "of the first token exceeds eps; mean importances; mass by role; section 4 conditions and cosine changes")
    if smooth:
        sm = smoothing_summary(smooth)
        out["smoothing"] = Table(["class", "heads", "fig8_agree", "fig9_agree", "fig8_positive", "fig9_positive"],
                                 [[c, *sm[c].values()] for c in sm],
                                 title="Section 4 classes and whether the cosine change has the predicted sign")
    return out


def summary_json(res: dict) -> dict:
    s, rates = res["sinks"], res["sinks"]["rates"]
    out = {
        "model": res["model"], **res["config"], "first_token": res["first_token"],
        "attention": "causal" if res["causal"] else "bidirectional", "importance": res["variant"],
        "metric": metric_name(res),
        "sentences": res["n_sentences"], "tokens": res["tokens"], "eps": res["eps"],
        "sink": float(rates.sink_k[0]),
        "sink_per_layer": [float(x) for x in rates.per_layer[:, 0]],
        "heads_mean_alpha_first_above_eps": float(rates.heads_mean_alpha_above_eps[0]),
        "sink_last": s["sink_last"],
        "sink_k": [float(x) for x in rates.sink_k],
        "cos_first_others": [float(x) for x in res["alignment"]["first"]],
        "cos_token_token": [float(x) for x in res["alignment"]["baseline"]],
        "theorem_g_b_first": [float(x) for x in res["theorem_g"]["b"]],
        "theorem_g_b_ordinary": [float(x) for x in res["theorem_g"]["baseline_b"]],
    }
    if res["first_logit"] is not None:
        out["first_score_adv_per_layer"] = [float(x) for x in res["first_logit"][..., 0].mean(axis=1)]
        out["first_score_adv_from_b_Q_per_layer"] = [float(x) for x in res["first_logit"][..., 1].mean(axis=1)]
    if res["smoothing"]:
        out["smoothing"] = smoothing_summary(res["smoothing"])
    if res["skipped"]:
        out["skipped"] = res["skipped"]
    return out


def plot(res: dict, fig_dir: Path) -> list[str]:
    """Figures: per-head sink frequency of the first token, Sink_k per position, cosine alignment
    per layer; and the smoothing scatter when it was computed.  Named minilm_* for the shipped
    model, model_* for one of yours."""
    prefix = "minilm" if res["model"] == P.MINILM else "model"
    plt = pyplot()
    s, al = res["sinks"], res["alignment"]
    rates = s["rates"]
    L, H = rates.per_head.shape[:2]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    im = axes[0].imshow(rates.per_head[:, :, 0], vmin=0, vmax=1, cmap="viridis")
    axes[0].set_xlabel("head")
    axes[0].set_ylabel("layer")
    axes[0].set_title(f"first token: fraction of sentences with alpha > {res['eps']:g}", fontsize=9)
    fig.colorbar(im, ax=axes[0], fraction=0.04)
    K = min(len(rates.sink_k), 20)
    axes[1].bar(range(K), rates.sink_k[:K], label="absolute position k")
    axes[1].axhline(s["sink_last"], color="r", ls="--", label="last token")
    axes[1].set_xlabel("k (0 = first token)")
    axes[1].set_ylabel(f"Sink_k^{res['eps']:g}")
    axes[1].legend(fontsize=7)
    axes[1].set_title(f"Gu et al.'s Sink_k over the {L * H} heads ({res['variant']} importance)", fontsize=9)
    layers = range(L)
    axes[2].plot(layers, al["first"], "o-", label="cos(first, other)")
    axes[2].plot(layers, al["first_min"], "v:", label="min cos(first, other)")
    axes[2].plot(layers, al["last"], "s-", label="cos(last, other)")
    axes[2].plot(layers, al["baseline"], "x--", label="cos(token, token)")
    axes[2].axhline(0, color="k", lw=0.5)
    axes[2].set_xlabel("layer input")
    axes[2].legend(fontsize=7)
    axes[2].set_title("Alignment of the tokens each layer reads", fontsize=9)
    fig.tight_layout()
    name = f"{prefix}_sinks.png"
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
        save(fig, fig_dir / f"{prefix}_smoothing.png", dpi=80)
        names.append(f"{prefix}_smoothing.png")
    return names


# ---- Table 1's random and repeated inputs (sinkcheck pretrained --inputs) -------------------------

MAP_BYTES = 32
"""Bytes per attention weight of one forward pass, erring high (the model's float32 maps, our float64
copy, the eager softmax's intermediates)."""


def measure_inputs(kind: str, length: int | None = None, n_sequences: int | None = None, seed: int = 0,
                   special_tokens: bool = True, eps: float = GU_EPS, model_path=None, device: str = "cpu",
                   progress: bool = False, loaded=None) -> dict:
    """Gu et al.'s Sink_k^eps of the model (default: the shipped MiniLM; ``loaded``: a (tokenizer,
    model) pair already in memory) on Table 1's ``kind`` inputs ("random" or "repeated",
    :mod:`sinkcheck.construct.gu_inputs`): ``length`` body tokens (default 64) per sequence,
    ``n_sequences`` sequences (default 100), one map at a time (deterministic)."""
    T = GI.PAPER_T if length is None else length
    count = GI.PAPER_SEQUENCES if n_sequences is None else n_sequences
    tok, model = loaded if loaded is not None else P.load_model(model_path, device)
    prefix, suffix = GI.special_frame(tok) if special_tokens else ([], [])
    limit = P.max_positions(model)
    if limit is not None and T + len(prefix) + len(suffix) > limit:
        raise InvalidInputError(f"--length: must be an integer in [2, {limit - len(prefix) - len(suffix)}] for this "
                                f"model ({limit} positions, {len(prefix) + len(suffix)} of them special tokens; got {T})")
    S, c = T + len(prefix) + len(suffix), P.config_summary(model)
    LH = (c["layers"] or 1) * (c["heads"] or 1)
    check_memory("--length, --sequences", LH * S * (MAP_BYTES * S + 8 * count),
                 f"{count} sequences of {S} tokens (one sequence's attention maps, every importance alpha_k)")
    seqs = GI.sequences(kind, tok, T, count, seed, getattr(model.config, "vocab_size", None), special_tokens)
    with one_thread():  # one sequence at a time: threads only contend
        runs = (P.run_ids(tok, model, ids, device) for ids in tqdm(seqs, desc="forward", disable=not progress))
        first = next(runs)
        causal = P.is_causal([first])
        variant = "gu" if causal else "encoder"
        rates = sink_rates((r.attn for r in itertools.chain([first], runs)), eps=eps, variant=variant)
    names = tok.convert_ids_to_tokens(prefix + suffix)
    return {
        "model": P.describe(model_path, model) if loaded is None else model.config.model_type,
        "config": P.config_summary(model), "causal": causal, "variant": variant, "eps": eps, "rates": rates,
        "protocol": {"inputs": kind, "length": T, "sequences": count, "seed": seed, "special_tokens": special_tokens,
                     "before": names[:len(prefix)], "after": names[len(prefix):], "sequence_length": len(seqs[0])},
        "first_token": (f"{names[0]} (the tokenizer's own, in front of every sequence)" if prefix
                        else f"the first {kind} token (no special tokens)"),
    }


def protocol_text(res: dict) -> str:
    """The protocol in one line: inputs, T, sequences, seed and the special tokens around the body."""
    p = res["protocol"]
    frame = (" ".join(p["before"] + ["..."] + p["after"]) if p["special_tokens"] else "no special tokens")
    return (f"{p['inputs']} inputs, T = {p['length']} body tokens, {p['sequences']} sequences, seed {p['seed']}, "
            f"wrapped as {frame}")


def inputs_tables(res: dict) -> dict[str, Table]:
    """Sink_first per layer and Sink_k per position of a :func:`measure_inputs` run."""
    rates = res["rates"]
    L = rates.per_layer.shape[0]
    return {
        "sink_per_layer": Table(
            ["layer", "sink_first", "mean_alpha_first", "heads_mean_alpha_first_above_eps"],
            [[l, float(rates.per_layer[l, 0]), float(rates.mean_alpha[l, :, 0].mean()),
              float((rates.mean_alpha[l, :, 0] > res["eps"]).mean())] for l in range(L)],
            title=f"{res['model']}, {protocol_text(res)}. sink_first: {metric_name(res)}"),
        "sink_per_position": Table(
            ["k", "sink_k", "mean_alpha_k"],
            [[k, float(rates.sink_k[k]), float(rates.mean_alpha[..., k].mean())] for k in range(len(rates.sink_k))],
            title=f"{res['model']}, {protocol_text(res)}: Sink_k at every position k (0 = the first token)"),
    }


def inputs_summary_json(res: dict) -> dict:
    """The JSON summary of a :func:`measure_inputs` run: the protocol and Sink_first (position 0)."""
    rates = res["rates"]
    return {"model": res["model"], **res["config"], "protocol": res["protocol"], "first_token": res["first_token"],
            "attention": "causal" if res["causal"] else "bidirectional", "importance": res["variant"],
            "metric": metric_name(res), "eps": res["eps"], "sink_first": float(rates.sink_k[0]),
            "sink_first_per_layer": [float(x) for x in rates.per_layer[:, 0]],
            "heads_mean_alpha_first_above_eps": float(rates.heads_mean_alpha_above_eps[0]),
            "sink_k": [float(x) for x in rates.sink_k]}


TABLE1_MODELS = {"minilm": "learned absolute", "llama": "RoPE", "bloom": "ALiBi", "gpt2": "learned absolute",
                 "llama_bos_plant": "RoPE", "llama_lone_first_plant": "RoPE", "gpt2_p1_plant": "learned absolute"}
"""The models of the Table 1 comparison with their positional encodings (the shipped MiniLM, the
random-weight decoders, and the three planted ones of :mod:`sinkcheck.construct.gu_inputs`)."""

PLANT = (1, 1)
"""(layer, head) of the planted sink in the 2-layer, 2-head random-weight decoders."""


def table1_models(seed: int = 0, device: str = "cpu") -> dict:
    """name -> (tokenizer, model) for :data:`TABLE1_MODELS`, in memory (seeded random weights)."""
    from sinkcheck.models import random_models as R

    tok = R.tokenizer()
    out = {"minilm": P.load_model(None, device)}
    for arch in ("llama", "bloom", "gpt2"):
        out[arch] = (tok, R.build(arch, seed=seed, vocab_size=len(tok)).to(device))
    out["llama_bos_plant"] = (tok, GI.plant_bos_content(R.build("llama", seed=seed, vocab_size=len(tok)),
                                                        tok.bos_token_id, *PLANT).to(device))
    out["llama_lone_first_plant"] = (tok, GI.plant_lone_first_row(R.build("llama", seed=seed, vocab_size=len(tok)),
                                                                  *PLANT).to(device))
    out["gpt2_p1_plant"] = (tok, GI.plant_first_position(R.build("gpt2", seed=seed, vocab_size=len(tok)), *PLANT).to(device))
    return out


def table1_rows(n_sequences: int, seed: int = 0, n_sentences: int = 20, device: str = "cpu") -> list[dict]:
    """Sink_first^0.3 of every model of :data:`TABLE1_MODELS` on Table 1's inputs: the first
    ``n_sentences`` shipped sentences (natural), and ``n_sequences`` random and repeated sequences of
    T = 64, with the tokenizer's special tokens and without (``*_bare``). Each row also holds, per
    column, the mean importance of the first token (``alpha``) and Sink_first per (layer, head)
    (``per_head``), the numbers the page's prose cites."""
    sentences = P.load_sentences(n_sentences)
    rows = []
    for name, (tok, model) in table1_models(seed, device).items():
        with one_thread():
            runs = P.run_sentences(tok, model, sentences, device)
        causal = P.is_causal(runs)
        row = {"model": name, "positions": TABLE1_MODELS[name], "attention": "causal" if causal else "bidirectional",
               "alpha": {}, "per_head": {}}
        _record(row, "natural", sink_rates([r.attn for r in runs], variant="gu" if causal else "encoder"))
        for kind in ("random", "repeated"):
            for bare in (False, True):
                res = measure_inputs(kind, n_sequences=n_sequences, seed=seed, special_tokens=not bare,
                                     device=device, loaded=(tok, model))
                _record(row, kind + "_bare" * bare, res["rates"])
        rows.append(row)
    return rows


def _record(row: dict, column: str, rates) -> None:
    row[column] = float(rates.sink_k[0])
    row["alpha"][column] = float(rates.mean_alpha[..., 0].mean())
    row["per_head"][column] = rates.per_head[..., 0].tolist()


TABLE1_COLUMNS = ("model", "positions", "attention", "natural", "random", "repeated", "random_bare", "repeated_bare")


def table1_table(rows: list[dict]) -> Table:
    """The rows of :func:`table1_rows` as a table (Sink_first, a fraction)."""
    return Table(list(TABLE1_COLUMNS), [[r[c] for c in TABLE1_COLUMNS] for r in rows],
                 title="Sink_first^0.3 on Table 1's inputs (Gu et al.'s pooling; *_bare: no special tokens; "
                       "natural: the first shipped sentences)")
