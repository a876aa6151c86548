"""The rules that decide the published claims about attention operations (sinkcheck.claims.variants)
from the operation grid's bigram-backcopy runs: each direction reproduced, its opposite
not_reproduced, a mix or an unsolved run inconclusive, and a planted flip of a rule is caught."""

from __future__ import annotations

import pytest

from sinkcheck.claims import CLAIMS
from sinkcheck.report.checks import variants as C


def run(op, heads, seed, **kw):
    base = {"attention": op, "task": "dormant", "heads": heads, "seed": seed, "loss": 1.0, "solved": True,
            "sink": 0.0, "sink_raw": 0.0, "sink_slot": None, "off_first": 0.0, "off_slot": None, "off_mass": 1.0,
            "gate_off": None, "steps": 10}
    return {**base, **kw}


def grid(op, values, softmax=(0.5, 0.5, 0.5), key="sink", **kw):
    """Softmax with ``softmax`` in ``key`` per seed, ``op`` with ``values``, for both head counts."""
    out = []
    for h in C.HEADS:
        out += [run("softmax", h, s, **{key: v}) for s, v in enumerate(softmax)]
        out += [run(op, h, s, **{key: v}, **kw) for s, v in enumerate(values)]
    return out


def test_a_normalising_row_has_a_sink_only_when_every_seed_of_both_head_counts_has_one():
    assert C.decide_has_sink(grid("sigmoid_sum", (0.1, 0.2, 0.3)), "sigmoid_sum")[0] == "reproduced"
    assert C.decide_has_sink(grid("sigmoid_sum", (0.0, 0.0, 0.0)), "sigmoid_sum")[0] == "not_reproduced"
    assert C.decide_has_sink(grid("sigmoid_sum", (0.0, 0.2, 0.3)), "sigmoid_sum")[0] == "inconclusive"


def test_a_row_without_a_sink_needs_every_seed_below_softmax_and_every_run_solved():
    assert C.decide_no_sink(grid("sigmoid", (0.0, 0.1, 0.0)), "sigmoid")[0] == "reproduced"
    assert C.decide_no_sink(grid("sigmoid", (0.5, 0.6, 0.9)), "sigmoid")[0] == "not_reproduced"  # equal counts against
    assert C.decide_no_sink(grid("sigmoid", (0.0, 0.6, 0.0)), "sigmoid")[0] == "inconclusive"
    unsolved = grid("sigmoid", (0.0, 0.0, 0.0))
    unsolved[-1]["solved"] = False  # one run of two heads did not learn the task
    verdict, parts = C.decide_no_sink(unsolved, "sigmoid")
    assert verdict == "inconclusive" and parts["2 heads: every run solved"] is False


def test_softpick_has_no_sink_only_when_its_raw_sink_is_zero_in_every_solved_seed():
    assert C.decide_softpick(grid("softpick", (0.0, 0.0, 0.0), key="sink_raw"))[0] == "reproduced"
    assert C.decide_softpick(grid("softpick", (0.2, 0.1, 0.4), key="sink_raw"))[0] == "not_reproduced"
    assert C.decide_softpick(grid("softpick", (0.0, 0.1, 0.0), key="sink_raw"))[0] == "inconclusive"
    assert C.decide_softpick(grid("softpick", (0.0, 0.0, 0.0), key="sink_raw", solved=False))[0] == "inconclusive"


def test_a_gate_reproduces_only_with_less_first_token_mass_than_softmax_in_every_seed():
    assert C.decide_gated(grid("gated_elem", (0.1, 0.2, 0.0), key="off_first"))[0] == "reproduced"
    assert C.decide_gated(grid("gated_elem", (0.6, 0.7, 0.5), key="off_first"))[0] == "not_reproduced"
    assert C.decide_gated(grid("gated_elem", (0.1, 0.7, 0.0), key="off_first"))[0] == "inconclusive"


@pytest.mark.parametrize("op, slot, first", [("sink_logit", "off_slot", "off_first"), ("key_bias", "sink_slot", "sink")])
def test_a_slot_takes_the_sink_only_above_the_first_token_and_below_softmax(op, slot, first):
    takes = grid(op, (0.0, 0.1, 0.0), **{slot: 0.8})
    assert C.decide_slot(takes, op, slot, first)[0] == "reproduced"
    stays = grid(op, (0.9, 0.9, 0.9), **{slot: 0.05})  # the first token keeps the sink, above softmax's
    assert C.decide_slot(stays, op, slot, first)[0] == "not_reproduced"
    if first == "sink":  # the slot above Sink_1 but Sink_1 not below softmax: one condition against
        assert C.decide_slot(grid(op, (0.6, 0.6, 0.6), **{slot: 0.8}), op, slot, first)[0] == "not_reproduced"


def test_a_planted_flipped_comparison_is_caught(monkeypatch):
    """The no-sink rule with the order flipped (above softmax counted as the paper's direction)."""
    runs = grid("sigmoid", (0.0, 0.1, 0.0))
    assert C.decide_no_sink(runs, "sigmoid")[0] == "reproduced"
    monkeypatch.setattr(C, "_below_baseline", lambda runs, op, h, key="sink": C.sign_verdict(
        [v - b for b, v in zip(C.per_seed(runs, "softmax", h, key), C.per_seed(runs, op, h, key))]))
    assert C.decide_no_sink(runs, "sigmoid")[0] == "not_reproduced"


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
    assert cert.evidence["rerun"]["differences"] == [] and cert.evidence["rerun"]["run"]["task"] == "trigger"
    assert cert.verdict == CLAIMS["gu.table6.softmax"].expected_verdict
    monkeypatch.setattr(SV, "differences", lambda new, shipped: ["loss: re-run 1.0, shipped 2.0"])  # planted
    for name in ("variants.table6_softmax", "variants.key_bias", "variants.sink_logit", "variants.table6_linear_elu1"):
        assert checks[name](Context(out_dir=tmp_path, progress=False)).verdict == "inconclusive"
