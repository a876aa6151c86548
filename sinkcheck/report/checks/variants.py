"""Report checks of the published claims about attention operations (:mod:`sinkcheck.claims.variants`)
on the operation grid's bigram-backcopy (dormant) runs (docs/variants.md).

The rules follow :mod:`sinkcheck.report.checks.gu_training`: a part compares a sign or an order seed
by seed (never a magnitude: the setting is a toy), "reproduced" when every seed shows the paper's
direction, "not_reproduced" (in our setting) when every seed shows the opposite, "inconclusive"
otherwise; conditions of one statement join by ``combine``, the two head counts by ``pool``. A
claim that an operation has no sink also needs every run to have solved the task (an unsolved run
cannot show whether the operation needs one). The quick profile decides from the shipped runs
and re-runs one of them exactly (:data:`RERUN`, a trigger-task run: its numbers must equal the
shipped ones, else "inconclusive"; it does not recompute the bigram-backcopy numbers the verdicts
read); the full profile re-runs the whole grid and decides from its own runs.
"""

from __future__ import annotations

from sinkcheck import profiles
from sinkcheck.report.checks.gu_training import combine, pool, sign_verdict, zero_verdict
from sinkcheck.report.registry import Certificate, Context, check

TASK = "dormant"
"""The task every verdict reads: bigram-backcopy, where Gu et al.'s metric reads a switch-off sink."""

HEADS = (1, 2)
"""The head counts of the grid, pooled by every verdict."""

BASELINE = "softmax"
"""The operation every order compares against."""

RERUN = ("softmax", "trigger", 1, 0)
"""The run the quick profile re-runs and compares with the shipped one, (operation, task, heads,
seed): a trigger-task run (about a second; a bigram-backcopy run takes ten or more)."""


def per_seed(runs: list[dict], op: str, heads: int, key: str) -> list:
    """``key`` of the dormant runs of ``op`` with ``heads`` heads, in seed order."""
    rs = sorted((r for r in runs if r["attention"] == op and r["task"] == TASK and r["heads"] == heads),
                key=lambda r: r["seed"])
    return [r[key] for r in rs]


def _below_baseline(runs, op, heads, key="sink") -> str:
    """Whether ``key`` of ``op`` is below softmax's, seed by seed (the sign of the differences)."""
    return sign_verdict([b - v for b, v in zip(per_seed(runs, BASELINE, heads, key), per_seed(runs, op, heads, key))])


def _solved(runs, op, heads) -> bool:
    return all(per_seed(runs, op, heads, "solved"))


def decide_has_sink(runs: list[dict], op: str) -> tuple[str, dict]:
    """Gu et al.'s rows with a sink: Sink_1^0.3 > 0 in every seed (per head count; pooled)."""
    parts = {f"{h} heads: Sink_1 > 0": sign_verdict(per_seed(runs, op, h, "sink")) for h in HEADS}
    return pool(list(parts.values())), parts


def decide_no_sink(runs: list[dict], op: str) -> tuple[str, dict]:
    """Gu et al.'s rows with next to no sink: proxy Sink_1 below softmax's in every seed, every run
    having solved the task (else inconclusive), per head count; pooled."""
    parts = {}
    for h in HEADS:
        below = _below_baseline(runs, op, h)
        parts[f"{h} heads: Sink_1 below softmax"] = below
        parts[f"{h} heads: every run solved"] = _solved(runs, op, h)
    per_head = [parts[f"{h} heads: Sink_1 below softmax"] if parts[f"{h} heads: every run solved"] else "inconclusive"
                for h in HEADS]
    return pool(per_head), parts


def decide_softpick(runs: list[dict], op: str = "softpick") -> tuple[str, dict]:
    """Zuhri et al.: Sink_1^0.3 of softpick's raw weights is 0 in every seed, every run having solved
    the task (else inconclusive), per head count; pooled."""
    parts = {}
    for h in HEADS:
        parts[f"{h} heads: Sink_1 = 0"] = zero_verdict(per_seed(runs, op, h, "sink_raw"))
        parts[f"{h} heads: every run solved"] = _solved(runs, op, h)
    per_head = [parts[f"{h} heads: Sink_1 = 0"] if parts[f"{h} heads: every run solved"] else "inconclusive"
                for h in HEADS]
    return pool(per_head), parts


def decide_gated(runs: list[dict], op: str = "gated_elem") -> tuple[str, dict]:
    """Qiu et al.: the off positions' mass on the first token below softmax's in every seed (per head
    count; pooled)."""
    parts = {f"{h} heads: off_first below softmax": _below_baseline(runs, op, h, "off_first") for h in HEADS}
    return pool(list(parts.values())), parts


def decide_slot(runs: list[dict], op: str, slot_key: str, first_key: str) -> tuple[str, dict]:
    """A slot takes the sink: ``slot_key`` above ``first_key`` and Sink_1 below softmax's, in every seed
    (both, per head count; pooled). The sink logit reads the off positions' masses (off_slot,
    off_first); the key bias Gu et al.'s Sink* of the slot against Sink_1 (sink_slot, sink)."""
    parts, per_head = {}, []
    for h in HEADS:
        takes = sign_verdict([s - f for s, f in zip(per_seed(runs, op, h, slot_key), per_seed(runs, op, h, first_key))])
        parts[f"{h} heads: {slot_key} > {first_key}"] = takes
        parts[f"{h} heads: Sink_1 below softmax"] = _below_baseline(runs, op, h)
        per_head.append(combine([takes, parts[f"{h} heads: Sink_1 below softmax"]]))
    return pool(per_head), parts


# ---- the runs each check decides from ----------------------------------------------------------
def _shipped(ctx: Context) -> list[dict]:
    from sinkcheck.sweep import variants as SV

    return ctx.shared("variants.shipped", lambda ctx: SV.shipped())


def _grid(ctx: Context) -> list[dict]:
    from sinkcheck.sweep import variants as SV

    return ctx.shared("variants.grid", lambda ctx: SV.run_grid(device=ctx.device, progress=ctx.progress))


def _rerun(ctx: Context) -> dict:
    """:data:`RERUN` trained again (shared per report) and its differences from the shipped run
    (:func:`sinkcheck.sweep.variants.differences`: every number, exactly)."""
    from sinkcheck.sweep import variants as SV

    def compute(ctx: Context) -> dict:
        op, task, heads, seed = RERUN
        shipped = next(r for r in _shipped(ctx) if (r["attention"], r["task"], r["heads"], r["seed"]) == RERUN)
        new = SV.run_grid(ops=[op], tasks=(task,), heads=(heads,), seeds=(seed,), steps=shipped["steps"],
                          device=ctx.device, progress=False)[0]
        return {"run": dict(zip(("attention", "task", "heads", "seed"), RERUN)), "steps": shipped["steps"],
                "differences": SV.differences(new, shipped)}

    return ctx.shared("variants.rerun", compute)


def _decide(ctx: Context, decide, ops: tuple[str, ...], keys: tuple[str, ...]) -> Certificate:
    size = profiles.get(ctx.profile)
    if size.variants_grid_rerun:
        runs, source = _grid(ctx), "the whole grid re-run by this report (sinkcheck variants's default grid)"
        rerun = {"check": "none (the grid itself is re-run)"}
    else:
        runs, source = _shipped(ctx), ("the shipped runs (sinkcheck/data/variants_runs.json, written by `sinkcheck "
                                       "variants`; the full profile re-runs the grid)")
        rerun = _rerun(ctx)
    verdict, parts = decide(runs)
    if not size.variants_grid_rerun and rerun["differences"]:
        verdict = "inconclusive"  # the shipped numbers are not what this code computes: they decide nothing
    evidence = {"parts": parts, "rerun": rerun,
                "runs": {f"{op}, {h} heads": {k: per_seed(runs, op, h, k) for k in keys} for op in ops for h in HEADS}}
    return Certificate(verdict=verdict, counterexample=None if verdict == "reproduced" else {"parts": parts},
                       parameters={"decided_from": source, "task": f"{TASK} (bigram-backcopy)", "heads": list(HEADS),
                                   "seeds": sorted({r["seed"] for r in runs}), "baseline": BASELINE},
                       evidence=evidence)


def _table6(op: str, has_sink: bool):
    def fn(ctx: Context) -> Certificate:
        if has_sink:
            return _decide(ctx, lambda runs: decide_has_sink(runs, op), (op,), ("sink", "loss", "solved"))
        return _decide(ctx, lambda runs: decide_no_sink(runs, op), (BASELINE, op), ("sink", "loss", "solved"))

    fn.__doc__ = f"Gu et al.'s Table 6: {op} {'forms a sink' if has_sink else 'forms next to none'}."
    fn.__name__ = f"table6_{op}"
    return check(f"variants.table6_{op}")(fn)


TABLE6 = {"softmax": True, "sigmoid": False, "sigmoid_sum": True, "elu1": False, "linear_elu1": True}
"""Gu et al.'s Table 6 rows we run: operation -> whether the paper reports a sink."""

for _op, _sink in TABLE6.items():
    _table6(_op, _sink)


@check("variants.table6_other_kernels")
def other_kernels(ctx: Context) -> Certificate:
    """Gu et al.'s Table 6 identity and MLP kernels: no such operation in the registry."""
    return Certificate(verdict="out_of_scope", parameters={"reason": "no identity or MLP-kernel operation in "
                                                                     "sinkcheck.variants.OPERATIONS"},
                       evidence={"nearest": "relu (gu.sink_emergence.relu)"})


@check("variants.key_bias")
def key_bias(ctx: Context) -> Certificate:
    """Gu et al.'s Table 4 K bias: the slot takes the sink from the first token."""
    return _decide(ctx, lambda runs: decide_slot(runs, "key_bias", "sink_slot", "sink"), (BASELINE, "key_bias"),
                   ("sink", "sink_slot", "loss"))


@check("variants.sink_logit")
def sink_logit(ctx: Context) -> Certificate:
    """gpt-oss: a learned sink logit lets a head attend to no token (the dropped column takes the mass)."""
    return _decide(ctx, lambda runs: decide_slot(runs, "sink_logit", "off_slot", "off_first"),
                   (BASELINE, "sink_logit"), ("off_slot", "off_first", "sink", "loss"))


@check("variants.softpick")
def softpick(ctx: Context) -> Certificate:
    """Zuhri et al.: softpick has no sink."""
    return _decide(ctx, decide_softpick, ("softpick",), ("sink_raw", "sink", "off_mass", "loss", "solved"))


@check("variants.gated")
def gated(ctx: Context) -> Certificate:
    """Qiu et al.: a sigmoid output gate cuts the attention on the first token."""
    return _decide(ctx, decide_gated, (BASELINE, "gated_elem", "gated_head"), ("off_first", "gate_off", "sink", "loss"))
