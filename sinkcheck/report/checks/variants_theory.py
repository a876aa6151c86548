"""Checks of the theory per attention operation (docs/variants_theory.md;
:mod:`sinkcheck.theory.variants`, :mod:`sinkcheck.construct.variant_heads`): every built-in
operation's off-switch statement and trigger verdict, each with a planted error that the check must
catch (else its verdict is "undecided")."""

from __future__ import annotations

import contextlib
import math

from sinkcheck import profiles
from sinkcheck.construct import variant_heads as vh
from sinkcheck.core.tables import Table
from sinkcheck.planted import plant
from sinkcheck.report.registry import Certificate, Context, check
from sinkcheck.theory import variants as V
from sinkcheck.theory import variants_trigger as V2


def elu1_rate_without_n(n: int, delta: float) -> float:
    """A planted error: elu + 1's rate n e^{-Delta} with its factor n dropped."""
    return math.exp(-delta)


PLANTED_OFF = ((V.column_rate, "constant", 0, "softmax1"), (V.sigmoid_rate, "drop_term", 0, "sigmoid"),
               (V.sigmoid_bias_rate, "constant", 0, "sigmoid_bias"), (V.gate_rate, "drop_term", 0, "gated_head"),
               (V.RATES, "elu1", elu1_rate_without_n, "elu1"), (V.OFF_SWITCH, "softmax", "exact", "softmax"),
               (V.OFF_SWITCH, "relu", "never", "relu"), (V.OFF_SWITCH, "sink_token", "limit", "sink_token"))
"""Planted errors in the off-switch statements: (function, operator, site, the operation whose check
runs) for a rate's constant or dropped term; (table, operation, wrong entry, operation) for a wrong
class or a rate with a dropped factor."""

PLANTED_TRIGGER = ((vh.error_bound, "constant", 1, "sigmoid"), (vh.error_bound, "constant", 3, "elu1"),
                   (V2.exact_weights, "constant", 21, "softpick"), (vh.head, "constant", 5, "sigmoid"),
                   (V.TRIGGER_WITHOUT_SINK, "softmax", "limit", "softmax"))
"""Planted errors in the trigger statements: sigmoid's and elu + 1's bound constants (4 -> 5, 2 -> 3),
softpick's zero BOS score, sigmoid's knob, and softmax's class "no" made "limit"."""


@contextlib.contextmanager
def planted(entry: tuple):
    """Within the block, one planted error of :data:`PLANTED_OFF` or :data:`PLANTED_TRIGGER`; yields
    its "old -> new" text."""
    if callable(entry[0]):
        with plant(*entry[:3]) as change:
            yield change
        return
    table, key, value = entry[:3]
    old = table[key]
    table[key] = value
    try:
        yield f"{key}: {getattr(old, '__name__', old)} -> {getattr(value, '__name__', value)}"
    finally:
        table[key] = old


def _label(entry: tuple, change: str) -> str:
    return f"{entry[0].__name__}: {change}" if callable(entry[0]) else change


def trigger_holds(name: str, seed: int = 0) -> bool:
    """Whether ``name``'s trigger verdict holds: "no": a sink head of it meets the necessity bound
    (:func:`~sinkcheck.construct.variant_heads.check_necessity`) and the abstract argument applies;
    "exact"/"limit": its construction of that kind holds with the exact steps."""
    verdict = V.TRIGGER_WITHOUT_SINK[name]
    if verdict == "no":
        return name in vh.NEED_SINK and vh.check_necessity(name, seed=seed)["holds"] \
            and all(V2.necessity_applies(name).values())
    steps = V2.exact_weights() if verdict == "exact" else V2.leak_bounds()
    return name in (vh.EXACT if verdict == "exact" else vh.LIMIT) and vh.check_trigger(name, seed=seed)["holds"] \
        and all(steps.values())


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
    for entry in PLANTED_OFF:
        with planted(entry) as change:
            caught.append([_label(entry, change), entry[3], not V.check_statement(entry[3], ctx.seed, 20)["holds"]])
    table = [[n, V.OFF_SWITCH[n], V.STATEMENTS[n].rate, e["holds"], e.get("bound_excess", ""),
              e.get("tightness_gap", ""), e.get("max_mass", "")] for n, e in ev.items()]
    return Certificate(
        verdict=("holds_with_hypothesis" if holds else "fails") if all(c[2] for c in caught) else "undecided",
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
    sinks = {name: vh.check_necessity(name, seed=ctx.seed) for name in vh.NEED_SINK}
    need = {n: V2.necessity_applies(n) for n, v in V.TRIGGER_WITHOUT_SINK.items() if v == "no"}
    steps = {**V2.leak_bounds(), **V2.exact_weights()}
    kinds = {n: ("exact" if n in vh.EXACT else "limit" if n in vh.LIMIT else "no") for n in V.TRIGGER_WITHOUT_SINK}
    holds = kinds == V.TRIGGER_WITHOUT_SINK and set(need) == set(vh.NEED_SINK) and all(steps.values()) \
        and all(r["holds"] for r in {**runs, **sinks}.values()) and all(all(v.values()) for v in need.values())
    caught = []
    for entry in PLANTED_TRIGGER:
        with planted(entry) as change:
            caught.append([_label(entry, change), entry[3], not trigger_holds(entry[3], ctx.seed)])
    table = [[n, V.TRIGGER_WITHOUT_SINK[n], r["rows"][-1]["L"], r["rows"][-1]["sup_error"], r["rows"][-1]["bound"],
              r["rows"][-1]["max_bos"]] for n, r in runs.items()]
    sink_table = [[n, r["rows"][-1]["L"], r["rows"][-1]["eps"], r["rows"][-1]["content_mass"], r["rows"][-1]["f_eps"],
                   r["holds"]] for n, r in sinks.items()]
    return Certificate(
        verdict=("holds_with_hypothesis" if holds else "fails") if all(c[2] for c in caught) else "undecided",
        parameters={"seed": ctx.seed, "T": 6, "p": 2, "R": 1.0, "knobs": list(vh.KNOBS)},
        evidence={"trigger_without_sink": dict(V.TRIGGER_WITHOUT_SINK), "steps": steps,
                  "failing": [n for n, r in {**runs, **sinks}.items() if not r["holds"]],
                  "planted_caught": sum(c[2] for c in caught), "planted": len(caught)},
        tables={"trigger": Table(["operation", "without a sink", "L (last knob)", "sup error", "bound",
                                  "max BOS attention"], table, title="The trigger task without a sink, per operation"),
                "necessity": Table(["operation", "L", "sup error eps", "max content mass", "f(eps)", "holds"], sink_table,
                                   title="The operations that need a sink: a sink head's weights against f(eps)"),
                "planted": Table(["planted error", "checked on", "caught"], caught, title="Planted errors")})
