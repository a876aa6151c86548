"""The rules that decide the published claims about attention operations (sinkcheck.claims.variants)
from the operation grid's bigram-backcopy runs: each direction reproduced, its opposite
not_reproduced, a mix or an unsolved run inconclusive, and a planted flip of a rule is caught."""

from __future__ import annotations

import pytest

from sinkcheck.claims import CLAIMS
from sinkcheck.report.checks import variants as C


def run(op, heads, seed, **kw):
    base = {"attention": op, "task": "dormant", "heads": heads, "seed": seed, "loss": 1.0, "solved": True,
            "sink": 0.0, "sink_raw": 0.0, "sink_slot": None, "sink_init": 0.0, "off_first": 0.0, "off_slot": None,
            "off_mass": 1.0, "gate_off": None, "steps": 10}
    return {**base, **kw}


def grid(op, values, softmax=(0.5, 0.5, 0.5), key="sink", **kw):
    """Softmax with ``softmax`` in ``key`` per seed, ``op`` with ``values``, for both head counts."""
    out = []
    for h in C.HEADS:
        out += [run("softmax", h, s, **{key: v}) for s, v in zip(C.SEEDS, softmax)]
        out += [run(op, h, s, **{key: v}, **kw) for s, v in zip(C.SEEDS, values)]
    return out


def test_a_normalising_row_has_a_sink_only_when_every_seed_of_both_head_counts_has_one():
    assert C.decide_has_sink(grid("sigmoid_sum", (0.1, 0.2, 0.3)), "sigmoid_sum")[0] == "reproduced"
    assert C.decide_has_sink(grid("sigmoid_sum", (0.0, 0.0, 0.0)), "sigmoid_sum")[0] == "not_reproduced"
    assert C.decide_has_sink(grid("sigmoid_sum", (0.0, 0.2, 0.3)), "sigmoid_sum")[0] == "inconclusive"


def test_a_sink_already_there_at_initialisation_or_from_an_unsolved_run_decides_nothing():
    verdict, parts = C.decide_has_sink(grid("sigmoid_sum", (0.1, 0.2, 0.3), sink_init=0.4), "sigmoid_sum")
    assert verdict == "inconclusive" and parts["1 heads: sink_init = 0 (formed in training)"] == "inconclusive"
    unsolved = grid("linear_elu1", (0.5, 1.0, 0.9))
    unsolved[4]["solved"] = False  # one head, seed 1: as linear_elu1's shipped run
    verdict, parts = C.decide_has_sink(unsolved, "linear_elu1")
    assert verdict == "inconclusive" and parts["1 heads: Sink_1 > 0"] == C.UNSOLVED
    assert parts["2 heads: Sink_1 > 0"] == "reproduced"


def test_no_runs_at_all_decide_every_rule_inconclusive_never_reproduced():
    for decide in (lambda r: C.decide_has_sink(r, "softmax"), lambda r: C.decide_no_sink(r, "sigmoid"),
                   C.decide_softpick, C.decide_gated, lambda r: C.decide_slot(r, "key_bias", "sink_slot", "sink"),
                   lambda r: C.decide_slot(r, "sink_logit", "off_slot", "off_mass")):
        verdict, parts = decide([])
        assert verdict == "inconclusive" and all(str(p).startswith("not decided (runs missing") for p in parts.values())


def test_a_missing_seed_is_never_paired_with_another_seed_of_softmax():
    """Softmax seed 0 missing: sorted-order pairing would compare op seed 0 (0.9) with softmax seed 1
    (1.0) and op seed 1 with softmax seed 2, and read "below softmax" in every pair."""
    runs = grid("sigmoid", (0.9, 0.0, 0.0), softmax=(0.5, 1.0, 1.0))
    assert C.decide_no_sink(runs, "sigmoid")[0] == "inconclusive"  # seed 0 is above softmax's
    dropped = [r for r in runs if not (r["attention"] == "softmax" and r["seed"] == 0)]
    verdict, parts = C.decide_no_sink(dropped, "sigmoid")
    assert verdict == "inconclusive" and "softmax lacks seeds" in parts["1 heads: Sink_1 below softmax"]
    extra = runs + [run("sigmoid", 1, 3, sink=0.0)]  # a seed the grid does not have: not the expected set
    assert C.decide_no_sink(extra, "sigmoid")[1]["1 heads: Sink_1 below softmax"].startswith("not decided")


def test_seeds_are_paired_by_value_whatever_order_the_runs_come_in():
    runs = grid("sigmoid", (0.4, 0.0, 0.9), softmax=(0.5, 0.1, 1.0))
    assert C.decide_no_sink(runs[::-1], "sigmoid")[0] == "reproduced"


def test_a_row_without_a_sink_needs_every_seed_below_softmax_and_every_run_solved():
    assert C.decide_no_sink(grid("sigmoid", (0.0, 0.1, 0.0)), "sigmoid")[0] == "reproduced"
    assert C.decide_no_sink(grid("sigmoid", (0.5, 0.6, 0.9)), "sigmoid")[0] == "not_reproduced"  # equal counts against
    assert C.decide_no_sink(grid("sigmoid", (0.0, 0.6, 0.0)), "sigmoid")[0] == "inconclusive"
    unsolved = grid("sigmoid", (0.0, 0.0, 0.0))
    unsolved[-1]["solved"] = False  # one run of two heads did not learn the task
    verdict, parts = C.decide_no_sink(unsolved, "sigmoid")
    assert verdict == "inconclusive" and parts["2 heads: every run solved"] is False
    assert parts["2 heads: Sink_1 below softmax"] == C.UNSOLVED


def test_softpick_has_no_sink_only_when_its_raw_sink_is_zero_in_every_solved_seed():
    assert C.decide_softpick(grid("softpick", (0.0, 0.0, 0.0), key="sink_raw"))[0] == "reproduced"
    assert C.decide_softpick(grid("softpick", (0.2, 0.1, 0.4), key="sink_raw"))[0] == "not_reproduced"
    assert C.decide_softpick(grid("softpick", (0.0, 0.1, 0.0), key="sink_raw"))[0] == "inconclusive"
    assert C.decide_softpick(grid("softpick", (0.0, 0.0, 0.0), key="sink_raw", solved=False))[0] == "inconclusive"


def test_a_gate_reproduces_only_with_less_first_token_mass_than_softmax_in_every_solved_seed():
    assert C.decide_gated(grid("gated_elem", (0.1, 0.2, 0.0), key="off_first"))[0] == "reproduced"
    assert C.decide_gated(grid("gated_elem", (0.6, 0.7, 0.5), key="off_first"))[0] == "not_reproduced"
    assert C.decide_gated(grid("gated_elem", (0.1, 0.7, 0.0), key="off_first"))[0] == "inconclusive"
    assert C.decide_gated(grid("gated_elem", (0.1, 0.2, 0.0), key="off_first", solved=False))[0] == "inconclusive"


@pytest.mark.parametrize("op, slot, other", [("sink_logit", "off_slot", "off_mass"), ("key_bias", "sink_slot", "sink")])
def test_a_slot_takes_the_sink_only_above_the_first_token_and_below_softmax(op, slot, other):
    takes = grid(op, (0.0, 0.1, 0.0), **{slot: 0.8, "off_mass": 0.2})
    assert C.decide_slot(takes, op, slot, other)[0] == "reproduced"
    stays = grid(op, (0.9, 0.9, 0.9), **{slot: 0.05})  # the first token keeps the sink, above softmax's
    assert C.decide_slot(stays, op, slot, other)[0] == "not_reproduced"
    if other == "sink":  # the slot above Sink_1 but Sink_1 not below softmax: one condition against
        assert C.decide_slot(grid(op, (0.6, 0.6, 0.6), **{slot: 0.8}), op, slot, other)[0] == "not_reproduced"


def test_a_dropped_column_that_takes_less_than_the_real_keys_in_some_seeds_leaves_the_sink_logit_inconclusive():
    """The shipped 2-head sink-logit runs: the dropped column takes 0.589, 0.268, 0.225 of the off
    positions' mass against 0.411, 0.732, 0.775 on the real keys; 1 head: 0.6 against 0.4."""
    runs = grid("sink_logit", (0.0, 0.0, 0.0), off_slot=0.6, off_mass=0.4)
    for r, (s, m) in zip([r for r in runs if r["attention"] == "sink_logit" and r["heads"] == 2],
                         [(0.589, 0.411), (0.268, 0.732), (0.225, 0.775)]):
        r.update(off_slot=s, off_mass=m)
    verdict, parts = C.decide_slot(runs, "sink_logit", "off_slot", "off_mass")
    assert verdict == "inconclusive"
    assert parts["1 heads: off_slot > off_mass"] == "reproduced" and parts["2 heads: off_slot > off_mass"] == "inconclusive"


def test_a_planted_flipped_comparison_is_caught(monkeypatch):
    """The no-sink rule with the order flipped (above softmax counted as the paper's direction)."""
    runs = grid("sigmoid", (0.0, 0.1, 0.0))
    assert C.decide_no_sink(runs, "sigmoid")[0] == "reproduced"
    monkeypatch.setattr(C, "below", lambda op, key="sink": lambda v: C.sign_verdict(
        [x - b for b, x in zip(v(C.BASELINE, key), v(op, key))]))
    assert C.decide_no_sink(runs, "sigmoid")[0] == "not_reproduced"


def test_the_rules_seeds_are_the_default_grids():
    from sinkcheck.sweep.variants import DEFAULT_GRID

    assert C.SEEDS == DEFAULT_GRID["seeds"] and C.HEADS == DEFAULT_GRID["heads"]


def test_every_record_names_the_operation_its_check_reads_and_the_papers_number():
    assert "18.18 %" in CLAIMS["gu.table6.softmax"].paper_statement
    assert "0.44 %" in CLAIMS["gu.table6.sigmoid"].paper_statement
    assert "30.24 %" in CLAIMS["gu.table6.sigmoid_sum"].paper_statement
    assert "0.80 %" in CLAIMS["gu.table6.elu1"].paper_statement
    assert "53.65 %" in CLAIMS["gu.table6.linear_elu1"].paper_statement
    assert "73.34 %" in CLAIMS["gu.table4.key_bias_operation"].paper_statement
    assert "46.7 %" in CLAIMS["qiu.gate.first_token_attention"].paper_statement
    assert "0 %" in CLAIMS["zuhri.softpick.no_sink"].paper_statement
    for op in C.TABLE6:
        assert f"`{op}`" in CLAIMS[f"gu.table6.{op}"].checked_statement
        assert CLAIMS[f"gu.table6.{op}"].checks == (f"variants.table6_{op}",)
    assert CLAIMS["gu.table6.other_kernels"].expected_verdict == "out_of_scope"


@pytest.mark.torch
def test_the_quick_profile_re_runs_one_shipped_run_exactly_and_a_difference_makes_every_verdict_inconclusive(
        monkeypatch, tmp_path):
    from sinkcheck.report.registry import Context, load_checks
    from sinkcheck.sweep import variants as SV

    checks = load_checks()
    ctx = Context(out_dir=tmp_path, progress=False)
    cert = checks["variants.table6_softmax"](ctx)
    assert cert.evidence["rerun"]["differences"] == []
    assert [r["run"]["task"] for r in cert.evidence["rerun"]["runs"]] == ["trigger", "dormant"]
    assert cert.verdict == CLAIMS["gu.table6.softmax"].expected_verdict
    monkeypatch.setattr(SV, "differences", lambda new, shipped: ["loss: re-run 1.0, shipped 2.0"])  # planted
    for name in ("variants.table6_softmax", "variants.key_bias", "variants.sink_logit", "variants.table6_linear_elu1"):
        assert checks[name](Context(out_dir=tmp_path, progress=False)).verdict == "inconclusive"
