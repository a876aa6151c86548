"""Gu et al.'s Section 3.1, Section 4 and Tables 3-5 on bigram-backcopy: the dormant kind's new
parameters, the shipped grid and its measurement, the verdict rules and their determinism."""

from __future__ import annotations

import copy
import csv
import io
import json
from importlib import resources

import numpy as np
import pytest
from click.testing import CliRunner

from sinkcheck.errors import InvalidInputError
from sinkcheck.experiments.dormant_train import key_bias_geometry
from sinkcheck.report.checks import gu_training as C
from sinkcheck.report.registry import Context
from sinkcheck.runtime.tasks import plain
from sinkcheck.sweep import gu_tables as G
from sinkcheck.sweep import kinds as K
from sinkcheck.sweep import spec as S


@pytest.mark.parametrize(("params", "message"), [
    ({"pos": "xyz"}, "parameters.pos: must be one of learned, sinusoidal, nope, relative, alibi, rope"),
    ({"norm": "middle"}, "parameters.norm: must be one of pre, post"),
    ({"slot": "q"}, "parameters.slot: must be one of none, sink_token, kv, k, v"),
    ({"slot": "k", "slot_value_dir": "e2"}, "parameters.slot_value_dir: must be one of e1, ones"),
    ({"slot": "k", "slot_value_norm": -1.0}, "parameters.slot_value_norm: must be finite and >= 0"),
    ({"slot_value_norm": 5.0}, "parameters.slot_value_norm: must be >= 0, and nonzero only with slot='k'"),
    ({"eval_every": -1}, "parameters.eval_every: must be an integer >= 0"),
    ({"key_bias": True, "slot": "kv"}, "parameters.key_bias: true means slot 'k'"),
])
def test_each_new_dormant_parameter_refuses_a_bad_value_in_one_line_naming_it(params, message):
    with pytest.raises(InvalidInputError) as err:
        S.parse({"kind": "dormant", "parameters": params})
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_an_old_key_bias_spec_still_means_a_learned_key_slot_with_a_zero_value():
    p = {**K.DORMANT_DEFAULTS, "key_bias": True}
    assert K._dormant_configs(p)[1].slot == "k" and K._dormant_configs(p)[1].slot_value_norm == 0.0
    assert K._dormant_configs({**p, "slot": "k"})[1].slot == "k"


def test_evaluating_every_few_steps_leaves_the_training_the_same_bytes():
    base = {**K.DORMANT_DEFAULTS, "steps": 12, "n_embd": 16}
    plain = K.run_dormant(base, 3)
    curved = K.run_dormant({**base, "eval_every": 5}, 3)
    assert (plain["sink"], plain["loss"]) == (curved["sink"], curved["loss"])
    assert [p["step"] for p in curved["curve"]] == [0, 5, 10, 12] and curved["curve"][-1]["loss"] == plain["loss"]


def test_key_bias_geometry_reads_norm_ratios_and_cosines_of_a_planted_first_token():
    L, B, H, T, hs = 1, 2, 1, 4, 3
    qkv = np.zeros((L, 3, B, H, T, hs))
    qkv[:, 0, ..., 0] = 1.0  # every query along e1
    qkv[:, 1, ..., 0, 0] = 0.5  # the first key: along e1, norm 0.5
    qkv[:, 1, ..., 1:, 1] = 2.0  # the other keys: along e2, norm 2
    qkv[:, 2, ..., 0, 2] = 1.0  # values: the first of norm 1, the others of norm 4
    qkv[:, 2, ..., 1:, 2] = 4.0
    out = key_bias_geometry(qkv)
    assert np.allclose(out["k1_ratio"], 0.25) and np.allclose(out["v1_ratio"], 0.25)
    assert np.allclose(out["cos_first"], 1.0) and np.allclose(out["cos_other"], 0.0)


# ---- the grid and the shipped measurement -----------------------------------------------------
def test_the_grid_covers_every_row_of_tables_3_to_5_and_the_section_4_sweeps():
    seeds, rows = G.load()
    by = {r.id: r.params for r in rows}
    assert len(seeds) >= 3
    assert {by[r]["pos"] for r in C.PE_ROWS} == {"learned", "sinusoidal", "nope", "relative", "alibi", "rope"}
    assert all(by[r]["norm"] == "pre" for r in C.PE_ROWS) and by["table3.post_norm"]["norm"] == "post"
    assert {by[r]["slot"] for r in (*C.KEY_SLOT_ROWS, "table4.v")} == {"sink_token", "kv", "k", "v"}
    assert {(by[r]["slot_value_dir"], by[r]["slot_value_norm"]) for d in C.VALUE_NORMS for r in C.VALUE_NORMS[d][1:]} == {
        (d, m) for d in ("e1", "ones") for m in (1.0, 5.0, 20.0)}
    assert by["table5.zero"]["slot"] == "k" and by["table5.zero"]["slot_value_norm"] == 0.0
    assert [by[r]["lr"] for r in C.LR_ROWS] == [1e-3, 3e-3, 1e-2] and {by[r]["steps"] for r in C.LR_ROWS} == {600}
    long = by[C.LR_LONG_ROW]  # Table 9's compensation: the default's lr x steps at a third of its lr
    assert long["lr"] * long["steps"] == pytest.approx(by[C.LR_ROWS[1]]["lr"] * by[C.LR_ROWS[1]]["steps"])
    assert long["lr"] == 1e-3 and long["steps"] == 1800
    assert [by[r]["weight_decay"] for r in C.WD_ROWS] == [0.0, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0]
    assert all(p["attention"] == "softmax" and p["task"] == "bb" and p["eval_every"] > 0 for p in by.values())


def test_a_grid_row_with_a_bad_parameter_is_refused_naming_the_row():
    with pytest.raises(InvalidInputError, match=r"^rows\[0\]\.params\.pos: must be one of"):
        G.load("seeds: [0]\nrows:\n  - {id: a, table: T, label: a, params: {pos: bad}}\n")


def test_the_shipped_summary_has_every_grid_row_with_three_seeds_and_agrees_with_the_shipped_runs():
    seeds, rows = G.load()
    summary, runs = G.shipped()
    assert list(summary) == [r.id for r in rows]
    assert all(int(summary[r.id]["seeds"]) == 3 for r in rows) and runs["seeds"] == list(seeds)
    assert all(sorted(runs["runs"][r.id]) == [str(s) for s in seeds] for r in rows)
    assert runs["params"] == {r.id: r.params for r in rows}
    rebuilt = G.summary(rows, seeds, {(r.id, s): runs["runs"][r.id][str(s)] for r in rows for s in seeds})
    text = resources.files("sinkcheck").joinpath("data", G.SUMMARY).read_text()
    assert [list(map(str, row)) for row in csv.reader(io.StringIO(text))][1:] == [
        ["" if v is None else str(v) for v in row] for row in rebuilt.rows]


def test_a_short_rerun_of_a_shipped_row_gives_the_shipped_curve_point_exactly():
    seeds, rows = G.load()
    row = G.with_steps(tuple(r for r in rows if r.id == "table4.kv"), 25)
    res = G.run(row, seeds[:1])[("table4.kv", seeds[0])]
    shipped = G.shipped()[1]["runs"]["table4.kv"][str(seeds[0])]
    assert G.same_prefix(res, shipped) == []
    moved = copy.deepcopy(res)
    moved["curve"][-1]["loss"] = np.nextafter(moved["curve"][-1]["loss"], 10.0)
    assert G.same_prefix(moved, shipped) == [f"loss at step 25: re-run {moved['curve'][-1]['loss']!r}, "
                                             f"shipped {res['curve'][-1]['loss']!r}"]


@pytest.mark.slow
def test_a_full_rerun_of_one_shipped_row_and_seed_gives_the_shipped_run_byte_for_byte():
    seeds, rows = G.load()
    row = tuple(r for r in rows if r.id == "table5.e1_20")
    res = G.runs_json(row, seeds[:1], G.run(row, seeds[:1]))
    assert json.dumps(plain(res["runs"]["table5.e1_20"]), sort_keys=True) == json.dumps(
        {str(seeds[0]): G.shipped()[1]["runs"]["table5.e1_20"][str(seeds[0])]}, sort_keys=True)


# ---- the verdict rules on planted numbers -----------------------------------------------------
def _runs(values: dict[str, list[tuple[float, float | None]]]) -> dict:
    return {r: {str(s): {"sink": v[0], "sink_bias": v[1], "loss": 1.0} for s, v in enumerate(vs)} for r, vs in values.items()}


def _table5(first_20: float, star_20: float) -> dict:
    base = {r: [(0.0, 0.7)] * 3 for r in ("table5.zero", "table5.e1_1", "table5.e1_5", "table5.ones_1", "table5.ones_5")}
    return _runs({**base, "table5.e1_20": [(first_20, star_20)] * 3, "table5.ones_20": [(first_20, star_20)] * 3})


def test_the_value_norm_rule_reproduces_the_paper_direction_and_rejects_its_flip():
    assert C.decide_value_norm(_table5(0.3, 0.1))[0] == "reproduced"
    flipped = _table5(0.0, 0.9)  # Sink* grows and Sink_1 does not rise: the opposite in every seed
    assert C.decide_value_norm(flipped)[0] == "not_reproduced"


def test_seeds_that_disagree_leave_the_learning_rate_rule_inconclusive_and_a_flip_not_reproduced():
    lr = {"sec4.lr_1e-3": [(0.2, None)] * 3, "sec4.lr_3e-3": [(0.3, None)] * 3, C.LR_LONG_ROW: [(0.25, None)] * 3}
    assert C.decide_learning_rate(_runs({**lr, "sec4.lr_1e-2": [(0.5, None)] * 3}))[0] == "reproduced"
    flipped = {**lr, "sec4.lr_1e-2": [(0.1, None)] * 3, C.LR_LONG_ROW: [(0.4, None)] * 3}
    assert C.decide_learning_rate(_runs(flipped))[0] == "not_reproduced"
    mixed = _runs({**lr, "sec4.lr_1e-2": [(0.5, None), (0.1, None), (0.5, None)]})
    assert C.decide_learning_rate(mixed)[0] == "inconclusive"


def test_a_longer_run_at_the_small_learning_rate_that_catches_up_leaves_the_learning_rate_record_inconclusive():
    caught_up = {"sec4.lr_1e-3": [(0.2, None)] * 3, "sec4.lr_3e-3": [(0.3, None)] * 3,
                 "sec4.lr_1e-2": [(0.5, None)] * 3, C.LR_LONG_ROW: [(0.35, None)] * 3}
    verdict, parts = C.decide_learning_rate(_runs(caught_up))
    assert verdict == "inconclusive" and parts["compensated steps: 1e-3 x 3 steps < default"] == "not_reproduced"


def test_separate_sub_claims_pool_to_inconclusive_when_mixed_and_conditions_of_one_claim_do_not():
    assert C.pool(["reproduced", "not_reproduced"]) == "inconclusive"
    assert C.pool(["not_reproduced"] * 2) == "not_reproduced" and C.pool(["reproduced"] * 3) == "reproduced"
    assert C.pool(["reproduced", "inconclusive"]) == "inconclusive"
    assert C.combine(["reproduced", "not_reproduced"]) == "not_reproduced"


def test_no_seed_no_condition_and_no_part_decide_nothing_rather_than_reproduce():
    """all() over nothing is True: an empty list must not read as every seed agreeing."""
    assert C.sign_verdict([]) == "inconclusive" and C.zero_verdict([]) == "inconclusive"
    assert C.combine([]) == "inconclusive" and C.pool([]) == "inconclusive"
    assert C.sign_verdict([0.1]) == "reproduced" and C.zero_verdict([0.0]) == "reproduced"


def test_one_key_slot_that_leaves_the_sink_on_the_first_token_makes_table_4_inconclusive_and_all_not_reproduced():
    ok = {"table3.learned": [(0.6, None)] * 3, "table4.v": [(0.6, None)] * 3,
          **{r: [(0.0, 0.8)] * 3 for r in C.KEY_SLOT_ROWS}}
    assert C.decide_biases(_runs(ok))[0] == "reproduced"
    verdict, parts = C.decide_biases(_runs({**ok, "table4.kv": [(0.6, 0.1)] * 3}))
    assert verdict == "inconclusive" and parts["table4.kv: Sink* > Sink_1"] == "not_reproduced"
    against = {**ok, "table4.v": [(0.0, None)] * 3, **{r: [(0.7, 0.1)] * 3 for r in C.KEY_SLOT_ROWS}}
    assert C.decide_biases(_runs(against))[0] == "not_reproduced"


def test_the_sink_tokens_importance_counts_its_own_query_as_gu_et_al_alpha_0_does_and_a_key_slots_does_not():
    from sinkcheck.experiments.dormant_train import _slot_importance

    Abp = np.full((1, 1, 1, 3), 0.2)  # three real queries, 0.2 each on the slot
    assert _slot_importance(Abp, None)[0, 0, 0] == pytest.approx(0.2)  # a K slot: no query of its own
    assert _slot_importance(Abp, np.ones((1, 1, 1)))[0, 0, 0] == pytest.approx((1 + 0.6) / 4)  # above 0.3
    assert _slot_importance(Abp, np.zeros((1, 1, 1)))[0, 0, 0] == pytest.approx(0.6 / 4)  # a head fully off


def test_the_sink_token_slot_weight_equals_gu_et_al_importance_of_position_0_in_the_full_causal_map():
    import torch

    from sinkcheck.core.metrics import importance
    from sinkcheck.experiments.dormant_train import _slot_importance
    from sinkcheck.models.gpt import GPT, GPTConfig

    model = GPT(GPTConfig(slot="sink_token", vocab_size=11, block_size=6, n_embd=16), seed=2)
    with torch.no_grad():
        model.sink.normal_()  # a non-trivial sink vector
        idx = torch.randint(0, 11, (3, 6), generator=torch.Generator().manual_seed(0))
        out = model(idx, return_attn=True)
        h = torch.cat([model.sink.expand(3, -1, -1), model.wte(idx)], dim=1) + model.wpe(torch.arange(7))
        full = []  # every block's map over the 7 positions, the sink token's own row included
        for block in model.blocks:
            h, A, _ = block(h)
            full.append(A)
    full = torch.stack(full).double().numpy()  # (L, B, H, 7, 7)
    Abp = np.transpose(out["attn_bias"].double().numpy(), (0, 2, 1, 3))  # (L, H, B, 6)
    own = np.transpose(out["attn_sink_self"].double().numpy(), (0, 2, 1))
    assert np.allclose(_slot_importance(Abp, own), np.transpose(importance(full)[..., 0], (0, 2, 1)), atol=1e-6)
    assert not np.allclose(_slot_importance(Abp, None), np.transpose(importance(full)[..., 0], (0, 2, 1)), atol=1e-3)


def test_a_sink_already_at_initialisation_is_not_an_emergence():
    def run(curve):
        return {"table3.learned": {str(s): {"curve": [{"step": st, "sink": v} for st, v in curve]} for s in range(3)}}
    assert C.decide_emergence(run([(0, 0.0), (25, 0.0), (50, 0.4), (75, 0.5)]))[0] == "reproduced"
    assert C.decide_emergence(run([(0, 0.3), (25, 0.4), (50, 0.5)]))[0] == "not_reproduced"
    assert C.emergence_steps([{"step": 0, "sink": 0}, {"step": 25, "sink": 0.1}, {"step": 50, "sink": 0},
                              {"step": 75, "sink": 0.2}]) == 75


def test_a_rerun_that_differs_from_the_shipped_grid_makes_the_verdict_inconclusive():
    ctx = Context(profile="quick")
    ctx.samples["gu.rerun.table4.kv"] = ({"row": "table4.kv", "seed": 0, "step": 150}, ["loss at step 150: differs"])
    shipped_verdict = C.decide_biases(G.shipped()[1]["runs"])[0]
    cert = C._decide(ctx, C.decide_biases, "table4.kv", ("table4.kv",))
    assert cert.verdict == "inconclusive" and cert.counterexample["rerun"]["differences"] == ["loss at step 150: differs"]
    ctx.samples["gu.rerun.table4.kv"] = ({"row": "table4.kv", "seed": 0, "step": 150}, [])
    assert C._decide(ctx, C.decide_biases, "table4.kv", ("table4.kv",)).verdict == shipped_verdict


def test_the_quick_table_4_check_reruns_the_sink_token_row_that_its_verdict_turns_on_and_reports_its_split():
    ctx = Context(profile="quick")
    ctx.samples["gu.rerun.table4.sink_token"] = ({"row": "table4.sink_token", "seed": 0, "step": 150}, [])
    cert = C.attention_biases(ctx)
    assert cert.evidence["rerun"]["row"] == "table4.sink_token" and "gu.rerun.table4.kv" not in ctx.samples
    split = cert.evidence["sink_token_row"]
    assert set(split) == {"sink_first_content", "bias_mass", "bos_raw"} and all(len(v) == 3 for v in split.values())


# ---- the command ------------------------------------------------------------------------------
def test_gu_tables_refuses_an_unknown_row_in_one_line_and_writes_nothing(tmp_path):
    from sinkcheck.cli import main

    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["gu-tables", "--rows", "table9.x", "--out", str(out), "--no-progress"])
    assert res.exit_code == 2 and res.output.strip().count("\n") == 0 and "--rows: unknown row id 'table9.x'" in res.output
    assert not out.exists()


def test_gu_tables_trains_the_chosen_rows_and_writes_the_summary_runs_and_figure(tmp_path):
    from sinkcheck.cli import main

    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["gu-tables", "--rows", "table4.kv,table4.v", "--steps", "3", "--seeds", "0",
                                   "--out", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO((out / G.SUMMARY).read_text())))
    assert [r["row"] for r in rows] == ["table4.kv", "table4.v"] and rows[0]["steps"] == "3"
    assert rows[1]["mean_sink_star"] == "" and (out / "figures" / "gu_tables.png").read_bytes()[:4] == b"\x89PNG"


def test_the_weight_decay_rule_needs_the_rise_at_0_5_and_no_sink_at_5_in_every_seed_and_one_failing_is_inconclusive():
    base = {"sec4.wd_0.1": [(0.5, None)] * 3, "sec4.wd_5": [(0.0, None)] * 3}
    assert C.decide_weight_decay(_runs({**base, "sec4.wd_0.5": [(0.6, None)] * 3}))[0] == "reproduced"
    assert C.decide_weight_decay(_runs({**base, "sec4.wd_0.5": [(0.4, None)] * 3}))[0] == "inconclusive"
    kept = {**base, "sec4.wd_0.5": [(0.6, None)] * 3, "sec4.wd_5": [(0.1, None)] * 3}  # the largest decay keeps a sink
    verdict, parts = C.decide_weight_decay(_runs(kept))
    assert verdict == "inconclusive" and parts["5 removes the sink"] == "not_reproduced"  # mixed sub-claims
    both = {**kept, "sec4.wd_0.5": [(0.4, None)] * 3}
    assert C.decide_weight_decay(_runs(both))[0] == "not_reproduced"


@pytest.mark.parametrize("profile", ["cpu", pytest.param("full", marks=pytest.mark.slow)])
def test_the_larger_lm_profiles_run_their_cpu_path_for_one_step_on_a_tiny_corpus(profile):
    from sinkcheck.experiments import lm_train

    res = lm_train.run(profile, seed=0, steps=1, device="cpu", progress=False, byte_budget=20_000)
    p = lm_train.PROFILES[profile]
    assert [e["step"] for e in res.evals] == [0, 1] and len(res.evals[-1]["sink_per_layer"]) == p["n_layer"]
    assert res.tokens_seen == p["batch"] * (p["T"] - 1) and np.isfinite(res.evals[-1]["loss"])


@pytest.mark.pretrained
def test_the_encoder_geometry_reads_keys_and_values_as_the_models_own_projections_do():
    from sinkcheck.experiments import pretrained as PT
    from sinkcheck.experiments import pretrained_keybias as KB

    if PT.missing_extra() is not None:
        pytest.skip(PT.missing_extra())
    import torch

    g = KB.first_token_geometry(2)
    tok, model = PT.load_model()
    runs = PT.run_sentences(tok, model, PT.load_sentences(2))
    sa = model.encoder.layer[1].attention.self  # the layer's own key and value projections
    H = model.config.num_attention_heads
    hs = model.config.hidden_size // H
    ratios = []
    for r in runs:
        with torch.no_grad():
            k = sa.key(torch.as_tensor(r.hidden[1], dtype=torch.float32)).double().numpy()[:, :hs]  # head 0
        n = np.linalg.norm(k, axis=1)
        ratios.append(n[0] / n[1:].mean())
    assert g["k1_ratio"][1, 0] == pytest.approx(np.mean(ratios), rel=1e-5) and not g["causal"]


def test_a_failing_run_stops_the_grid_with_its_own_exception(monkeypatch):
    seeds, rows = G.load()

    def refuse(kind, params, seed, device):
        raise InvalidInputError("n_embd: planted failure of one run")

    monkeypatch.setattr(K, "run_task", refuse)
    with pytest.raises(InvalidInputError, match="planted failure"):
        G.run(rows[:1], seeds[:1])
