"""Checks of the theory per attention operation (docs/variants_theory.md;
:mod:`sinkcheck.theory.variants`, :mod:`sinkcheck.construct.variant_heads`): every built-in
operation's off-switch statement and trigger verdict, each with a planted error that the check must
catch (else its verdict is "undecided")."""

from __future__ import annotations

from sinkcheck import profiles
from sinkcheck.construct import variant_heads as vh
from sinkcheck.core.tables import Table
from sinkcheck.planted import plant
from sinkcheck.report.registry import Certificate, Context, check
from sinkcheck.theory import variants as V

PLANTED_OFF = ((V.column_rate, "constant", 0, "softmax1"), (V.sigmoid_rate, "drop_term", 0, "sigmoid"),
               (V.sigmoid_bias_rate, "constant", 0, "sigmoid_bias"), (V.gate_rate, "drop_term", 0, "gated_head"),
               (V.proof_steps, "drop_term", 0, "softmax"), (V.proof_steps, "compare", 4, "relu"),
               (V.proof_steps, "drop_term", 32, "elu1"))
"""Planted errors of the off-switch check: (function, operator, site, the operation whose check runs)."""

PLANTED_TRIGGER = ((V.leak_bounds, "drop_term", 16, "sink_logit"), (V.exact_weights, "constant", 21, "softpick"),
                   (vh.head, "constant", 5, "sigmoid"), (V.proof_steps, "drop_term", 0, "sigmoid_sum"))
"""Planted errors of the trigger check: a leak bound, softpick's zero BOS score, sigmoid's knob, the
normalisation step of the necessity argument."""


def _rows(ctx: Context) -> int:
    return max(20, profiles.get(ctx.profile).gu_appc_instances // 4)


@check("variants_theory.off_switch")
def off_switch(ctx: Context) -> Certificate:
    """Never / only in a limit / exactly off, with the rate, for every built-in operation."""
    rows = _rows(ctx)
    ev = {name: V.check_statement(name, seed=ctx.seed, rows=rows) for name in V.OFF_SWITCH}
    switch = V.check_switch_theorem()
    holds = all(e["holds"] for e in ev.values()) and all(switch.values())
    caught = []
    for fn, op, i, name in PLANTED_OFF:
        with plant(fn, op, i) as change:
            caught.append([f"{fn.__name__}: {change}", name, not V.check_statement(name, ctx.seed, 20)["holds"]])
    table = [[n, V.OFF_SWITCH[n], V.STATEMENTS[n].rate, e["holds"], e.get("bound_excess", ""),
              e.get("tightness_gap", ""), e.get("max_mass", "")] for n, e in ev.items()]
    return Certificate(
        verdict=("holds" if holds else "fails") if all(c[2] for c in caught) else "undecided",
        parameters={"seed": ctx.seed, "rows_per_key_count": rows, "key_counts": "1..8", "delta": "[0, 30]"},
        evidence={"off_switch": dict(V.OFF_SWITCH), "failing": [n for n, e in ev.items() if not e["holds"]],
                  "switch_theorem": switch, "planted_caught": sum(c[2] for c in caught), "planted": len(caught)},
        tables={"off_switch": Table(["operation", "off", "rate", "holds", "bound excess", "tightness gap",
                                     "max mass at x <= 0"], table, title="Off without a sink token, per operation"),
                "planted": Table(["planted error", "checked on", "caught"], caught, title="Planted errors")})


@check("variants_theory.trigger")
def trigger(ctx: Context) -> Certificate:
    """The trigger task without a sink: constructions (exact, limit) and the necessity ("no")."""
    runs = {name: vh.check_trigger(name, seed=ctx.seed) for name in vh.EXACT + vh.LIMIT}
    need = {n: V.necessity_applies(n) for n, v in V.TRIGGER_WITHOUT_SINK.items() if v == "no"}
    steps = {**V.leak_bounds(), **V.exact_weights()}
    agree = all(V.TRIGGER_WITHOUT_SINK[n] == ("exact" if n in vh.EXACT else "limit") for n in runs)
    holds = agree and all(r["holds"] for r in runs.values()) and all(all(v.values()) for v in need.values()) \
        and all(steps.values()) and set(runs) | set(need) == set(V.TRIGGER_WITHOUT_SINK)
    caught = []
    for fn, op, i, name in PLANTED_TRIGGER:
        with plant(fn, op, i) as change:
            if name in need:
                ok = all(V.necessity_applies(name).values())
            else:
                ok = vh.check_trigger(name, seed=ctx.seed)["holds"] and all(V.leak_bounds().values()) \
                    and all(V.exact_weights().values())
            caught.append([f"{fn.__name__}: {change}", name, not ok])
    table = [[n, V.TRIGGER_WITHOUT_SINK[n], r["rows"][-1]["L"], r["rows"][-1]["sup_error"], r["rows"][-1]["bound"],
              r["rows"][-1]["max_bos"]] for n, r in runs.items()]
    table += [[n, "no", "", "", "", ""] for n in need]
    return Certificate(
        verdict=("holds_with_hypothesis" if holds else "fails") if all(c[2] for c in caught) else "undecided",
        parameters={"seed": ctx.seed, "T": 6, "p": 2, "R": 1.0, "knobs": list(vh.KNOBS)},
        evidence={"trigger_without_sink": dict(V.TRIGGER_WITHOUT_SINK), "steps": steps,
                  "failing": [n for n, r in runs.items() if not r["holds"]],
                  "planted_caught": sum(c[2] for c in caught), "planted": len(caught)},
        tables={"trigger": Table(["operation", "without a sink", "L (last knob)", "sup error", "bound",
                                  "max BOS attention"], table, title="The trigger task without a sink, per operation"),
                "planted": Table(["planted error", "checked on", "caught"], caught, title="Planted errors")})
