"""Report checks of the published claims about attention operations (:mod:`sinkcheck.claims.variants`)
on the operation grid's bigram-backcopy (dormant) runs (docs/variants.md).

The rules follow :mod:`sinkcheck.report.checks.gu_training`: a part compares a sign or an order seed
by seed (never a magnitude: the setting is a toy), "reproduced" when every seed shows the paper's
direction, "not_reproduced" (in our setting) when every seed shows the opposite, "inconclusive"
otherwise; conditions of one statement join by ``combine``, the two head counts by ``pool``.  Every
rule needs, per head count, exactly the seeds :data:`SEEDS` for the operation and for softmax where
it compares with it (paired by seed value; anything else decides nothing) and every one of those
runs solved (an unsolved run cannot show what the operation does with the task: its parts read
"not decided (unsolved)").  The trigger task decides nothing: there Sink_1 is 1.0 in every run of
every Table 6 operation and of softmax, raw or proxy (docs/variants.md).  The quick profile decides from the
shipped runs and re-runs :data:`RERUNS` exactly (their numbers must equal the shipped ones, else
"inconclusive"); the full profile re-runs the grid and decides from its own runs.
"""

from __future__ import annotations

from sinkcheck import profiles
from sinkcheck.report.checks.gu_training import combine, pool, sign_verdict, zero_verdict
from sinkcheck.report.registry import Certificate, Context, check

TASK = "dormant"
"""The task every verdict reads: bigram-backcopy, where Gu et al.'s metric reads a switch-off sink."""

HEADS = (1, 2)
"""The head counts of the grid, pooled by every verdict."""

SEEDS = (0, 1, 2)
"""The seeds every rule needs, per head count, for each operation it reads (the default grid's)."""

BASELINE = "softmax"
"""The operation every order compares against."""

RERUNS = (("softmax", "trigger", 1, 0), ("softmax", "dormant", 1, 0))
"""The runs the quick profile re-runs and compares with the shipped ones, (operation, task, heads,
seed): a trigger-task run (about a second) and a bigram-backcopy run (about ten seconds)."""

UNSOLVED = "not decided (unsolved)"
"""A part's value when a run it reads did not solve the task."""


def seed_values(runs: list[dict], op: str, heads: int, key: str) -> dict[int, object]:
    """``key`` of the dormant runs of ``op`` with ``heads`` heads by seed (a seed run twice: the last)."""
    return {r["seed"]: r.get(key) for r in runs if r["attention"] == op and r["task"] == TASK and r["heads"] == heads}


def per_seed(runs: list[dict], op: str, heads: int, key: str) -> list:
    """``key`` of the dormant runs of ``op`` with ``heads`` heads, in seed order (evidence)."""
    got = seed_values(runs, op, heads, key)
    return [got[s] for s in sorted(got)]


def _complete(runs: list[dict], op: str, heads: int) -> bool:
    """Whether ``op`` has exactly one dormant run per seed of :data:`SEEDS` with ``heads`` heads."""
    seeds = [r["seed"] for r in runs if r["attention"] == op and r["task"] == TASK and r["heads"] == heads]
    return sorted(seeds) == sorted(SEEDS)


def decide(runs: list[dict], ops: tuple[str, ...], conditions: dict) -> tuple[str, dict]:
    """Per head count: every op of ``ops`` complete (:func:`_complete`) and solved, then each
    condition ``label -> rule(v)`` a verdict, ``v(op, key)`` the values in :data:`SEEDS` order
    (paired by seed); the conditions combined, the head counts pooled."""
    parts, per_head = {}, []
    for h in HEADS:
        missing = [op for op in ops if not _complete(runs, op, h)]
        if missing:
            for label in conditions:
                parts[f"{h} heads: {label}"] = f"not decided (runs missing: {', '.join(missing)} lacks seeds {SEEDS})"
            per_head.append("inconclusive")
            continue

        def v(op, key, h=h):
            got = seed_values(runs, op, h, key)
            return [got[s] for s in SEEDS]

        solved = all(all(v(op, "solved")) for op in ops)
        parts[f"{h} heads: every run solved"] = solved
        verdicts = [rule(v) if solved else UNSOLVED for rule in conditions.values()]
        parts.update({f"{h} heads: {label}": x for label, x in zip(conditions, verdicts)})
        per_head.append(combine(verdicts) if solved else "inconclusive")
    return pool(per_head), parts


def below(op: str, key: str = "sink"):
    """The rule "``key`` of ``op`` below softmax's, seed by seed"."""
    return lambda v: sign_verdict([b - x for b, x in zip(v(BASELINE, key), v(op, key))])


def above(op: str, high: str, low: str):
    """The rule "``high`` above ``low`` in ``op``'s runs, seed by seed"."""
    return lambda v: sign_verdict([a - b for a, b in zip(v(op, high), v(op, low))])


def _formed_in_training(op: str):
    """No sink at initialisation (Sink_1 = 0 at step 0) in every seed, so the sink formed in training;
    a sink already there makes the statement undecided, not contradicted."""
    return lambda v: "reproduced" if all(x == 0 for x in v(op, "sink_init")) else "inconclusive"


def decide_has_sink(runs: list[dict], op: str) -> tuple[str, dict]:
    """Gu et al.'s rows with a sink: Sink_1^0.3 > 0 and Sink_1 = 0 at initialisation, in every seed."""
    return decide(runs, (op,), {"Sink_1 > 0": lambda v: sign_verdict(v(op, "sink")),
                                "sink_init = 0 (formed in training)": _formed_in_training(op)})


def decide_no_sink(runs: list[dict], op: str) -> tuple[str, dict]:
    """Gu et al.'s rows with next to no sink: proxy Sink_1 below softmax's in every seed."""
    return decide(runs, (op, BASELINE), {"Sink_1 below softmax": below(op)})


def decide_softpick(runs: list[dict], op: str = "softpick") -> tuple[str, dict]:
    """Zuhri et al.: Sink_1^0.3 of softpick's raw weights is 0 in every seed."""
    return decide(runs, (op,), {"Sink_1 = 0": lambda v: zero_verdict(v(op, "sink_raw"))})


def decide_gated(runs: list[dict], op: str = "gated_elem") -> tuple[str, dict]:
    """Qiu et al.: the off positions' mass on the first token below softmax's in every seed."""
    return decide(runs, (op, BASELINE), {"off_first below softmax": below(op, "off_first")})


def decide_slot(runs: list[dict], op: str, slot_key: str, other_key: str) -> tuple[str, dict]:
    """A slot takes the sink: ``slot_key`` above ``other_key`` and Sink_1 below softmax's, in every
    seed.  The sink logit reads the off positions' masses (off_slot against off_mass, all the real
    keys together: the dropped column takes most of the mass); the key bias Gu et al.'s Sink* of
    the slot against Sink_1 (sink_slot, sink)."""
    return decide(runs, (op, BASELINE), {f"{slot_key} > {other_key}": above(op, slot_key, other_key),
                                         "Sink_1 below softmax": below(op)})


# ---- the runs each check decides from ----------------------------------------------------------
def _shipped(ctx: Context) -> list[dict]:
    from sinkcheck.sweep import variants as SV

    return ctx.shared("variants.shipped", lambda ctx: SV.shipped())


def _grid(ctx: Context) -> list[dict]:
    from sinkcheck.sweep import variants as SV

    return ctx.shared("variants.grid", lambda ctx: SV.run_grid(device=ctx.device, progress=ctx.progress))


def _rerun(ctx: Context) -> dict:
    """:data:`RERUNS` trained again (shared per report) and their differences from the shipped runs
    (:func:`sinkcheck.sweep.variants.differences`: every number, exactly)."""
    from sinkcheck.sweep import variants as SV

    def one(ctx: Context, point: tuple) -> dict:
        op, task, heads, seed = point
        shipped = next(r for r in _shipped(ctx) if (r["attention"], r["task"], r["heads"], r["seed"]) == point)
        new = SV.run_grid(ops=[op], tasks=(task,), heads=(heads,), seeds=(seed,), steps=shipped["steps"],
                          device=ctx.device, progress=False)[0]
        return {"run": dict(zip(("attention", "task", "heads", "seed"), point)), "steps": shipped["steps"],
                "differences": SV.differences(new, shipped)}

    def compute(ctx: Context) -> dict:
        runs = [one(ctx, p) for p in RERUNS]
        return {"runs": runs, "differences": [f"{r['run']}: {d}" for r in runs for d in r["differences"]]}

    return ctx.shared("variants.rerun", compute)


def _decide(ctx: Context, rule, ops: tuple[str, ...], keys: tuple[str, ...]) -> Certificate:
    size = profiles.get(ctx.profile)
    if size.variants_grid_rerun:
        runs, source = _grid(ctx), "the whole grid re-run by this report (sinkcheck variants's default grid)"
        rerun = {"check": "none (the grid itself is re-run)"}
    else:
        runs, source = _shipped(ctx), ("the shipped runs (sinkcheck/data/variants_runs.json, written by `sinkcheck "
                                       "variants`; the full profile re-runs the grid)")
        rerun = _rerun(ctx)
    verdict, parts = rule(runs)
    if not size.variants_grid_rerun and rerun["differences"]:
        verdict = "inconclusive"  # the shipped numbers are not what this code computes: they decide nothing
    evidence = {"parts": parts, "rerun": rerun,
                "runs": {f"{op}, {h} heads": {k: per_seed(runs, op, h, k) for k in keys} for op in ops for h in HEADS}}
    return Certificate(verdict=verdict, counterexample=None if verdict == "reproduced" else {"parts": parts},
                       parameters={"decided_from": source, "task": f"{TASK} (bigram-backcopy)", "heads": list(HEADS),
                                   "seeds": list(SEEDS), "baseline": BASELINE},
                       evidence=evidence)


def _table6(op: str, has_sink: bool):
    def fn(ctx: Context) -> Certificate:
        if has_sink:
            return _decide(ctx, lambda runs: decide_has_sink(runs, op), (op,), ("sink", "sink_init", "loss", "solved"))
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
                   ("sink", "sink_slot", "loss", "solved"))


@check("variants.sink_logit")
def sink_logit(ctx: Context) -> Certificate:
    """gpt-oss's sink logit, as measured: at the off positions the dropped column takes most of the
    mass (more than all real keys together), and Sink_1 is below softmax's."""
    return _decide(ctx, lambda runs: decide_slot(runs, "sink_logit", "off_slot", "off_mass"),
                   (BASELINE, "sink_logit"), ("off_slot", "off_mass", "off_first", "off_content", "sink", "loss",
                                              "solved"))


@check("variants.softpick")
def softpick(ctx: Context) -> Certificate:
    """Zuhri et al.: softpick has no sink."""
    return _decide(ctx, decide_softpick, ("softpick",), ("sink_raw", "sink", "off_mass", "loss", "solved"))


@check("variants.gated")
def gated(ctx: Context) -> Certificate:
    """Qiu et al.: a sigmoid output gate cuts the attention on the first token."""
    return _decide(ctx, decide_gated, (BASELINE, "gated_elem", "gated_head"), ("off_first", "gate_off", "gate_on", "sink", "loss", "solved"))
