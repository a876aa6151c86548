"""Report checks of Gu et al.'s Section 3.1, Section 4 and Tables 3-5 on bigram-backcopy
(docs/gu_training.md; the grid: :mod:`sinkcheck.sweep.gu_tables`).

Each check decides its claim from per-seed numbers of the grid's rows with an empirical verdict.
A part (one comparison) is "reproduced" when every seed shows the paper's direction (a sign or an
order, never a magnitude: the setting is a toy), "not_reproduced" when every seed shows the
opposite, "inconclusive" when the seeds disagree; Section 3.1's geometry is the exception: it pools
the sink heads of every seed (:func:`decide_key_bias`). The conditions of one statement join by
:func:`combine` (one against the paper decides); a record's separate sub-claims (rows, directions)
join by :func:`pool` (mixed parts are inconclusive). The quick profile decides from the shipped
grid and re-runs one row of each check (first grid seed, a prefix of ``gu_check_steps`` steps)
whose numbers must equal the shipped curve's at that step exactly: a mismatch makes the verdict
"inconclusive"; it does not recompute the final numbers or the geometry the rules read. The full
profile re-runs the whole grid and decides from its own runs.
"""

from __future__ import annotations

import numpy as np

from sinkcheck import profiles
from sinkcheck.core.metrics import GU_EPS
from sinkcheck.report.registry import Certificate, Context, check

DEFAULT_ROW = "table3.learned"
"""The grid's default model (softmax, learned absolute PE, pre-norm, no slot, lr 3e-3, weight decay 0.1)."""

PE_ROWS = ("table3.nope", "table3.absolute", "table3.learned", "table3.relative", "table3.alibi", "table3.rope")
KEY_SLOT_ROWS = ("table4.sink_token", "table4.kv", "table4.k")
VALUE_NORMS = {"e1": ("table5.zero", "table5.e1_1", "table5.e1_5", "table5.e1_20"),
               "ones": ("table5.zero", "table5.ones_1", "table5.ones_5", "table5.ones_20")}
LR_ROWS = ("sec4.lr_1e-3", "sec4.lr_3e-3", "sec4.lr_1e-2")
LR_LONG_ROW = "sec4.lr_1e-3_long"
"""Learning rate 1e-3 for three times the steps: the same lr x steps as the default (Table 9's compensation)."""
WD_ROWS = ("sec4.wd_0", "sec4.wd_0.01", "sec4.wd_0.1", "sec4.wd_0.5", "sec4.wd_1", "sec4.wd_2", "sec4.wd_5")


def _per_seed(runs: dict, row: str, key: str = "sink") -> list[float]:
    return [runs[row][s][key] for s in sorted(runs[row], key=int)]


def sign_verdict(values: list[float]) -> str:
    """"reproduced" when every seed's value is > 0 (the paper's sign), "not_reproduced" when every
    one is <= 0, "inconclusive" otherwise (also with no value: nothing was measured)."""
    if not values:
        return "inconclusive"
    if all(v > 0 for v in values):
        return "reproduced"
    return "not_reproduced" if all(v <= 0 for v in values) else "inconclusive"


def zero_verdict(values: list[float]) -> str:
    """"reproduced" when every seed's value is 0 (no sink, the paper's claim), "not_reproduced" when
    every one is > 0, "inconclusive" otherwise (also with no value: nothing was measured)."""
    if not values:
        return "inconclusive"
    if all(v == 0 for v in values):
        return "reproduced"
    return "not_reproduced" if all(v > 0 for v in values) else "inconclusive"


def combine(verdicts: list[str]) -> str:
    """One verdict from the conditions of one statement: any condition against the paper decides
    "not_reproduced", else every condition must be reproduced (no condition: inconclusive)."""
    if not verdicts:
        return "inconclusive"
    if "not_reproduced" in verdicts:
        return "not_reproduced"
    return "reproduced" if all(v == "reproduced" for v in verdicts) else "inconclusive"


def pool(verdicts: list[str]) -> str:
    """One verdict from a record's separate sub-claims: "reproduced" or "not_reproduced" when every
    part says so, "inconclusive" when they are mixed (one failed row does not overturn the others)
    or there is no part."""
    if not verdicts:
        return "inconclusive"
    for v in ("reproduced", "not_reproduced"):
        if all(x == v for x in verdicts):
            return v
    return "inconclusive"


def order_verdict(runs: dict, low: str, high: str, key: str = "sink") -> str:
    """Whether ``key`` is larger in row ``high`` than in row ``low`` seed by seed (the sign of the
    per-seed differences, :func:`sign_verdict`)."""
    return sign_verdict([h - lo for lo, h in zip(_per_seed(runs, low, key), _per_seed(runs, high, key))])


def decide_positional(runs: dict) -> tuple[str, dict]:
    """Table 3: every positional encoding forms a first-token sink (Sink_1 > 0 in every seed)."""
    parts = {r: sign_verdict(_per_seed(runs, r)) for r in PE_ROWS}
    return pool(list(parts.values())), parts


def decide_post_norm(runs: dict) -> tuple[str, dict]:
    """Section 7.2: the post-norm model still forms a sink (its being weaker than pre-norm is reported)."""
    parts = {"sink": sign_verdict(_per_seed(runs, "table3.post_norm")),
             "weaker_than_pre_norm": order_verdict(runs, "table3.post_norm", DEFAULT_ROW)}
    return parts["sink"], parts


def decide_biases(runs: dict) -> tuple[str, dict]:
    """Table 4: with a key slot (sink token, KV or K biases) the sink moves to the slot (Sink* above
    Sink_1, and Sink_1 below the no-bias model's: both, per slot); V biases alone leave it on the
    first token. The four rows are pooled (:func:`pool`)."""
    parts, rows = {}, []
    for r in KEY_SLOT_ROWS:
        parts[f"{r}: Sink* > Sink_1"] = sign_verdict([b - s for s, b in zip(_per_seed(runs, r),
                                                                           _per_seed(runs, r, "sink_bias"))])
        parts[f"{r}: Sink_1 below no bias"] = order_verdict(runs, r, DEFAULT_ROW)
        rows.append(combine([parts[f"{r}: Sink* > Sink_1"], parts[f"{r}: Sink_1 below no bias"]]))
    parts["table4.v: Sink_1 > 0"] = sign_verdict(_per_seed(runs, "table4.v"))
    return pool(rows + [parts["table4.v: Sink_1 > 0"]]), parts


def decide_value_norm(runs: dict) -> tuple[str, dict]:
    """Table 5: from v* = 0 to ||v*|| = 20 (each direction), Sink* falls and Sink_1 rises (both, per
    direction; the two directions pooled)."""
    parts, per_dir = {}, []
    for d, rows in VALUE_NORMS.items():
        parts[f"{d}: Sink* falls"] = order_verdict(runs, rows[-1], rows[0], "sink_bias")
        parts[f"{d}: Sink_1 rises"] = order_verdict(runs, rows[0], rows[-1])
        per_dir.append(combine([parts[f"{d}: Sink* falls"], parts[f"{d}: Sink_1 rises"]]))
    return pool(per_dir), parts


def decide_learning_rate(runs: dict) -> tuple[str, dict]:
    """Section 4 and Table 9: at equal steps the smallest learning rate gives a weaker sink than the
    largest, and with the steps compensated (1e-3 for three times the steps: the default's lr x
    steps) still a weaker sink than the default (per seed; the two pooled)."""
    parts = {"equal steps: smallest < largest": order_verdict(runs, LR_ROWS[0], LR_ROWS[-1]),
             "compensated steps: 1e-3 x 3 steps < default": order_verdict(runs, LR_LONG_ROW, LR_ROWS[1])}
    return pool(list(parts.values())), parts


def decide_weight_decay(runs: dict) -> tuple[str, dict]:
    """Section 4 (Table 2): a moderate weight decay (0.5) gives more sink than 0.1, and the largest
    (5) removes it (Sink_1 = 0 in every seed, below 0.1's); the two pooled."""
    parts = {"0.5 above 0.1": order_verdict(runs, "sec4.wd_0.1", "sec4.wd_0.5"),
             "5 removes the sink": combine([zero_verdict(_per_seed(runs, "sec4.wd_5")),
                                            order_verdict(runs, "sec4.wd_5", "sec4.wd_0.1")])}
    return pool(list(parts.values())), parts


def emergence_steps(curve: list[dict]) -> int | None:
    """The first evaluated step from which Sink_1 stays > 0 to the end (None: never)."""
    first = None
    for p in curve:
        first = (p["step"] if first is None else first) if p["sink"] > 0 else None
    return first


def decide_emergence(runs: dict) -> tuple[str, dict]:
    """Section 4: at initialisation no sink; it appears after some steps and stays (every seed; its
    growth is not tested)."""
    curves = [runs[DEFAULT_ROW][s]["curve"] for s in sorted(runs[DEFAULT_ROW], key=int)]
    parts = {"no sink at step 0": zero_verdict([c[0]["sink"] for c in curves]),
             "a sink at the end": sign_verdict([c[-1]["sink"] for c in curves]),
             "emerges after step 0": sign_verdict([emergence_steps(c) or 0 for c in curves])}
    return combine(list(parts.values())), parts


def decide_key_bias(runs: dict, eps: float = GU_EPS) -> tuple[str, dict]:
    """Section 3.1 in the sink heads (first-token importance > eps) of the default model, pooled over
    seeds: the first token's key and value norms below the other tokens' and its key's cosine with
    the queries above theirs, each in more than half of the sink heads; the cosine part failing in
    more than half decides "not_reproduced" (it is the paper's mechanism)."""
    k1, v1, gap = [], [], []
    for s in sorted(runs[DEFAULT_ROW], key=int):
        run = runs[DEFAULT_ROW][s]
        g, heads = run["key_bias"], np.array(run["alpha0"]) > eps
        k1 += list(np.array(g["k1_ratio"])[heads])
        v1 += list(np.array(g["v1_ratio"])[heads])
        gap += list((np.array(g["cos_first"]) - np.array(g["cos_other"]))[heads])
    if not k1:
        return "inconclusive", {"sink_heads": 0}
    frac = lambda xs: float(np.mean(xs))  # noqa: E731
    parts = {"sink_heads": len(k1), "frac_small_key": frac(np.array(k1) < 1), "frac_small_value": frac(np.array(v1) < 1),
             "frac_larger_cosine": frac(np.array(gap) > 0), "median_k1_ratio": float(np.median(k1)),
             "median_v1_ratio": float(np.median(v1)), "median_cos_gap": float(np.median(gap))}
    if parts["frac_larger_cosine"] < 0.5:
        return "not_reproduced", parts
    ok = all(parts[k] > 0.5 for k in ("frac_small_key", "frac_small_value", "frac_larger_cosine"))
    return ("reproduced" if ok else "inconclusive"), parts


# ---- the measurement each check decides from --------------------------------------------------
def _shipped(ctx: Context) -> dict:
    from sinkcheck.sweep import gu_tables as G

    return ctx.shared("gu.shipped", lambda ctx: G.shipped()[1])


def _grid(ctx: Context) -> dict:
    """The whole grid re-run (full profile), as the shipped runs' structure."""
    from sinkcheck.runtime.tasks import plain
    from sinkcheck.sweep import gu_tables as G

    def compute(ctx: Context) -> dict:
        seeds, rows = G.load()
        res = G.run(rows, seeds, workers=0, device=ctx.device, progress=ctx.progress)
        return plain(G.runs_json(rows, seeds, res))

    return ctx.shared("gu.grid", compute)


def _rerun(ctx: Context, row_id: str) -> tuple[dict, list[str]]:
    """One row re-run (first grid seed, a prefix of ``gu_check_steps``, torch on one thread as in the
    grid), and its differences from the shipped curve (shared per report: the default row serves two
    checks)."""
    from sinkcheck.sweep import gu_tables as G

    def compute(ctx: Context) -> tuple[dict, list[str]]:
        seeds, rows = G.load()
        shipped_run = _shipped(ctx)["runs"][row_id][str(seeds[0])]
        short = G.with_steps(tuple(r for r in rows if r.id == row_id), profiles.get(ctx.profile).gu_check_steps)
        res = G.run(short, seeds[:1], workers=0, device=ctx.device)[(row_id, seeds[0])]
        where = {"row": row_id, "seed": seeds[0], "step": res["curve"][-1]["step"]}
        return where, G.same_prefix(res, shipped_run)

    return ctx.shared(f"gu.rerun.{row_id}", compute)


def _decide(ctx: Context, decide, rerun_row: str, rows: tuple[str, ...]) -> Certificate:
    """The certificate of one claim: ``decide`` on the shipped grid checked by one re-run (quick), or
    on the re-run grid (full); the rows' per-seed numbers as evidence."""
    size = profiles.get(ctx.profile)
    if size.gu_grid_rerun:
        runs, source = _grid(ctx)["runs"], "the whole grid re-run by this report (sinkcheck gu-tables's grid)"
        shipped = _shipped(ctx)["runs"]
        differs = [r for r in rows if any(runs[r][s][k] != shipped[r][s][k] for s in runs[r] for k in ("sink", "loss"))]
        rerun = {"rows_differing_from_shipped": differs}
    else:
        runs, source = _shipped(ctx)["runs"], ("the shipped grid (sinkcheck/data/gu_tables_runs.json, written by "
                                               "`sinkcheck gu-tables`; the full profile re-runs it entirely)")
        where, diffs = _rerun(ctx, rerun_row)
        rerun = {**where, "differences": diffs}
    verdict, parts = decide(runs)
    if not size.gu_grid_rerun and rerun["differences"]:
        verdict = "inconclusive"  # the shipped numbers are not what this code computes: they decide nothing
    evidence = {"parts": parts, "rerun": rerun,
                "rows": {r: {"sink1": _per_seed(runs, r), "sink_star": _per_seed(runs, r, "sink_bias"),
                             "loss": _per_seed(runs, r, "loss")} for r in rows}}
    return Certificate(
        verdict=verdict,
        counterexample=None if verdict == "reproduced" else {"parts": parts, "rerun": rerun},
        parameters={"decided_from": source, "task": "bb, T=32, V=32, 3 triggers",
                    "model": "softmax GPT, 2 layers x 2 heads x 64, attention only", "seeds": sorted(runs[rows[0]], key=int),
                    "rerun_check": (f"row {rerun_row}, first grid seed, {size.gu_check_steps} steps, equal to the "
                                    "shipped curve at that step exactly")
                    if not size.gu_grid_rerun else "none (the grid itself is re-run)",
                    "eps": GU_EPS},
        evidence=evidence,
    )


@check("gu_training.key_bias")
def key_bias(ctx: Context) -> Certificate:
    """Section 3.1: the first token's key and value norms are small, its key's cosine with the queries large."""
    cert = _decide(ctx, decide_key_bias, DEFAULT_ROW, (DEFAULT_ROW,))
    runs = (_grid(ctx) if profiles.get(ctx.profile).gu_grid_rerun else _shipped(ctx))["runs"][DEFAULT_ROW]
    cert.evidence["geometry_per_seed"] = {s: runs[s]["key_bias"] for s in runs}
    cert.evidence["alpha0_per_seed"] = {s: runs[s]["alpha0"] for s in runs}
    cert.evidence["minilm"] = _minilm(ctx)
    return cert


def _minilm(ctx: Context) -> dict:
    """The same geometry in the shipped encoder (every head; evidence beside the record, outside the
    paper's autoregressive scope), or why it was not measured."""
    from sinkcheck.experiments.pretrained import missing_extra

    if (reason := missing_extra()):
        return {"skipped": reason}
    from sinkcheck.experiments import pretrained_keybias as KB

    n = profiles.get(ctx.profile).pretrained_sentences
    return ctx.shared("gu.minilm_geometry", lambda ctx: {
        **KB.summary(KB.first_token_geometry(n, device=ctx.device)),
        "scope": "an encoder ([CLS], bidirectional attention): outside the paper's autoregressive setting, not decided"})


@check("gu_training.positional_encoding")
def positional_encoding(ctx: Context) -> Certificate:
    """Table 3: every positional encoding (NoPE, sinusoidal, learned, relative, ALiBi, RoPE) forms a sink."""
    return _decide(ctx, decide_positional, "table3.alibi", PE_ROWS)


@check("gu_training.post_norm")
def post_norm(ctx: Context) -> Certificate:
    """Section 7.2: a post-norm model forms a sink."""
    return _decide(ctx, decide_post_norm, "table3.post_norm", ("table3.post_norm", DEFAULT_ROW))


@check("gu_training.attention_biases")
def attention_biases(ctx: Context) -> Certificate:
    """Table 4: key slots take the sink from the first token; value biases do not."""
    cert = _decide(ctx, decide_biases, "table4.sink_token", (DEFAULT_ROW, *KEY_SLOT_ROWS, "table4.v"))
    runs = (_grid(ctx) if profiles.get(ctx.profile).gu_grid_rerun else _shipped(ctx))["runs"]["table4.sink_token"]
    cert.evidence["sink_token_row"] = {  # where the sink goes besides the sink token (no threshold for the raw means)
        k: _per_seed({"r": runs}, "r", k) for k in ("sink_first_content", "bias_mass", "bos_raw")}
    return cert


@check("gu_training.value_bias_norm")
def value_bias_norm(ctx: Context) -> Certificate:
    """Table 5: a fixed slot value of growing norm moves the sink back to the first token."""
    rows = tuple(dict.fromkeys(VALUE_NORMS["e1"] + VALUE_NORMS["ones"]))
    return _decide(ctx, decide_value_norm, "table5.e1_20", rows)


@check("gu_training.emergence")
def emergence(ctx: Context) -> Certificate:
    """Section 4: the sink appears only after some optimisation steps."""
    cert = _decide(ctx, decide_emergence, DEFAULT_ROW, (DEFAULT_ROW,))
    runs = (_grid(ctx) if profiles.get(ctx.profile).gu_grid_rerun else _shipped(ctx))["runs"][DEFAULT_ROW]
    cert.evidence["emergence_step_per_seed"] = {s: emergence_steps(runs[s]["curve"]) for s in runs}
    cert.evidence["curve_sink1_per_seed"] = {s: [(p["step"], p["sink"]) for p in runs[s]["curve"]] for s in runs}
    return cert


@check("gu_training.learning_rate")
def learning_rate(ctx: Context) -> Certificate:
    """Section 4 and Table 9: smaller learning rates give weaker sinks, also with the steps compensated."""
    return _decide(ctx, decide_learning_rate, "sec4.lr_1e-2", LR_ROWS + (LR_LONG_ROW,))


@check("gu_training.weight_decay")
def weight_decay(ctx: Context) -> Certificate:
    """Section 4 (Table 2): moderate weight decay strengthens the sink, a large one removes it."""
    return _decide(ctx, decide_weight_decay, "sec4.wd_5", WD_ROWS)
