"""Tables, JSON summary and figures of the sink-emergence runs (:mod:`sinkcheck.experiments.dormant_train`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sinkcheck.core.attention import KINDS
from sinkcheck.core.figures import pyplot, save
from sinkcheck.experiments.dormant_train import BASE_WD, RunResult
from sinkcheck.core.tables import Table



def _r(x):
    return None if x is None else float(x)


def runs_table(results: list[tuple[dict, RunResult]]) -> Table:
    """One row per run: settings, Sink_1 (after / at init), BOS weights, self weight, loss."""
    rows = []
    for r, res in results:
        rows.append([r["task"], r["kind"], r["mlp"], r["key_bias"], r["weight_decay"], r["seed"], r["steps"],
                     res.sink, res.sink_init, float(res.alpha0.max()), res.bos_nontrigger, _r(res.bos_trigger),
                     float(res.diag.mean()), res.bos_raw, _r(res.bias_mass), _r(res.sink_bias), res.loss])
    return Table(["task", "kind", "mlp", "key_bias", "weight_decay", "seed", "steps", "sink", "sink_init",
                  "max_alpha0", "bos_nontrigger", "bos_trigger", "self_weight", "bos_raw", "bias_mass",
                  "sink_bias", "loss"], rows, title="Sink_1^0.3 per run (position 0 = BOS)")


def _groups(results):
    groups: dict[tuple, list[RunResult]] = {}
    for r, res in results:
        key = (r["task"], r["kind"], r["mlp"], r["key_bias"], r["weight_decay"])
        groups.setdefault(key, []).append(res)
    return groups


def summary_table(results: list[tuple[dict, RunResult]]) -> Table:
    """Per setting: mean and min/max Sink_1 over seeds, the fraction of seeds with a sink
    (Sink_1 > 0: at least one head with alpha_0 > 0.3), and the mean loss."""
    rows = []
    for (task, kind, mlp, kb, wd), rs in _groups(results).items():
        s = np.array([x.sink for x in rs])
        rows.append([task, kind, mlp, kb, wd, len(rs), float(s.mean()), float(s.min()), float(s.max()),
                     float(np.mean(s > 0)), float(np.mean([x.bos_nontrigger for x in rs])),
                     float(np.mean([x.loss for x in rs]))])
    return Table(["task", "kind", "mlp", "key_bias", "weight_decay", "seeds", "mean_sink", "min_sink", "max_sink",
                  "frac_seeds_with_sink", "mean_bos_nontrigger", "mean_loss"], rows,
                 title="Sink_1^0.3 over seeds per setting")


def summary_json(results: list[tuple[dict, RunResult]]) -> dict:
    """{kind: {"sink": mean Sink_1 over seeds on bb at weight decay 0.1 (main MLP setting, no key bias),
    "frac_seeds_with_sink", "tasks": {task: {...}}}, "weight_decay": {wd: {...}}}."""
    out: dict = {}
    base_mlp = results[0][0]["mlp"]  # the grid's main setting (attention only unless --mlp)
    for (task, kind, mlp, kb, wd), rs in _groups(results).items():
        s = [x.sink for x in rs]
        entry = {"sink": float(np.mean(s)), "frac_seeds_with_sink": float(np.mean(np.array(s) > 0)),
                 "seeds": len(s), "loss": float(np.mean([x.loss for x in rs]))}
        if mlp == base_mlp and not kb and wd == BASE_WD:
            out.setdefault(kind, {"tasks": {}})["tasks"][task] = entry
        if task == "bb" and kind == "softmax" and mlp == base_mlp and not kb:
            out.setdefault("weight_decay", {})[str(wd)] = entry
        if kb:
            out.setdefault("key_bias", {})[task] = dict(entry, sink_bias=float(np.mean([x.sink_bias for x in rs])))
    for kind in KINDS:
        if kind in out:
            main = out[kind]["tasks"].get("bb") or next(iter(out[kind]["tasks"].values()))
            out[kind].update(sink=main["sink"], frac_seeds_with_sink=main["frac_seeds_with_sink"])
    return out


def plot_attention(results: list[tuple[dict, RunResult]], path: Path) -> None:
    """Mean held-out attention maps of every head, first run of each kind at weight decay 0.1 on bb."""
    plt = pyplot()
    picks, base_mlp = [], results[0][0]["mlp"]
    for kind in KINDS:
        for r, res in results:
            if r["kind"] == kind and r["task"] == "bb" and r["mlp"] == base_mlp and not r["key_bias"] and r["weight_decay"] == BASE_WD:
                picks.append((r, res))
                break
    if not picks:
        picks = results[:1]
    L, H = picks[0][1].attn.shape[:2]
    fig, axes = plt.subplots(len(picks), L * H, figsize=(2.2 * L * H, 2.3 * len(picks)), squeeze=False)
    for row, (r, res) in enumerate(picks):
        for l in range(L):
            for h in range(H):
                ax = axes[row, l * H + h]
                ax.imshow(res.attn[l, h], cmap="viridis", vmin=0, vmax=1)
                ax.set_title(f"{r['kind']} L{l} H{h}\nalpha0={res.alpha0[l, h]:.2f}", fontsize=7)
                ax.set_xticks([])
                ax.set_yticks([])
    fig.suptitle(f"Mean attention (proxy) on held-out {picks[0][0]['task']} sequences; column 0 = BOS", fontsize=8)
    fig.tight_layout()
    save(fig, path, dpi=80)


def plot_weight_decay(results: list[tuple[dict, RunResult]], path: Path) -> bool:
    """Sink_1 (mean over seeds, with each seed as a dot) against weight decay (softmax, bb)."""
    plt = pyplot()
    base_mlp = results[0][0]["mlp"]
    pts = [(r["weight_decay"], res.sink, res.loss) for r, res in results
           if r["task"] == "bb" and r["kind"] == "softmax" and r["mlp"] == base_mlp and not r["key_bias"]]
    wds = sorted({p[0] for p in pts})
    if len(wds) < 2:
        return False
    fig, ax = plt.subplots(figsize=(4.5, 3))
    xs = {wd: i for i, wd in enumerate(wds)}
    ax.scatter([xs[p[0]] for p in pts], [p[1] for p in pts], s=12, alpha=0.5, label="one seed")
    ax.plot(range(len(wds)), [np.mean([p[1] for p in pts if p[0] == wd]) for wd in wds], "o-", label="mean")
    ax.set_xticks(range(len(wds)))
    ax.set_xticklabels([str(w) for w in wds])
    ax.set_xlabel("AdamW weight decay")
    ax.set_ylabel("Sink_1^0.3")
    ax.set_title("Softmax, bigram-backcopy", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, path, dpi=80)
    return True
