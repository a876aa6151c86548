"""Every registered attention operation trains on the trigger and dormant tasks (issue #38, part 4):
the models read the registry, the legacy kinds keep their floats, the sweep's ``variant`` kind and
:func:`sinkcheck.sweep.variants.run_grid` measure where the "off" mass goes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from sinkcheck import variants
from sinkcheck.errors import InvalidInputError
from sinkcheck.experiments import trigger_train as TT
from sinkcheck.experiments import variants_train as VT
from sinkcheck.models.gpt import GPT, GPTConfig
from sinkcheck.runtime.tasks import canonical
from sinkcheck.sweep import kinds as K
from sinkcheck.sweep import variants as SV

BUILTIN = tuple(n for n, op in variants.OPERATIONS.items() if op.builtin)
LEGACY = Path(__file__).parent / "support" / "legacy_training.json"
"""Loss curves (hex floats) of the legacy kinds, written by the code of main at 4125c42, before the
models read the registry (the script is in the test below: the same calls)."""


@pytest.mark.parametrize("heads", [1, 2])
@pytest.mark.parametrize("task", VT.TASKS)
@pytest.mark.parametrize("name", BUILTIN)
def test_every_operation_trains_a_few_steps_to_a_finite_loss_and_reports_every_key(name, task, heads):
    r = VT.run(task, name, heads, seed=0, steps=3)
    assert set(VT.RESULT_KEYS) <= set(r)
    assert math.isfinite(r["loss"]) and math.isfinite(r["solved_score"])
    assert (r["task"], r["attention"], r["heads"], r["seed"], r["steps"], r["device"]) == (task, name, heads, 0, 3, "cpu")
    extra = variants.get(name).extra
    assert (r["off_slot"] is None) == (extra not in ("logit", "key", "token") and name != "softmax1")
    assert (r["sink_slot"] is None) == (r["off_slot"] is None)
    assert (r["gate_off"] is None) == (extra not in ("gate_head", "gate_elem"))
    assert isinstance(r["solved"], bool)
    if variants.get(name).normalises:  # rows over the real keys and the slot (a dropped column) sum to 1
        total = r["off_mass"] + (r["off_slot"] or 0.0)
        assert total == pytest.approx(1.0, abs=1e-5)
        assert r["off_first"] + r["off_content"] == pytest.approx(r["off_mass"], abs=1e-9)
    json.dumps(r)


EXTRA_PARAMS = {"logit": ("s", "sink_logit"), "key": ("k_s", "k_bias"), "token": ("z_s", "sink"),
                "gate_head": ("W_g", "gate.weight"), "gate_elem": ("W_g", "gate.weight")}


@pytest.mark.parametrize("name", [n for n in BUILTIN if variants.get(n).extra != "none"])
def test_the_extra_parameters_of_an_operation_get_finite_nonzero_gradients_in_both_models(name):
    trig, gpt = EXTRA_PARAMS[variants.get(name).extra]
    cfg = TT.TriggerRunConfig(attention=name, heads=2)
    model = TT.TriggerModel(cfg, 16, torch.Generator().manual_seed(0))
    Z = torch.randn(4, 9, 16, generator=torch.Generator().manual_seed(1))
    (model(Z)[0] ** 2).sum().backward()
    g = getattr(model, trig).grad
    assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0
    net = GPT(GPTConfig(attention=name, block_size=8, n_embd=16, n_head=2, n_layer=1))
    net(torch.randint(0, 32, (3, 8), generator=torch.Generator().manual_seed(2)),
        targets=torch.randint(0, 32, (3, 8), generator=torch.Generator().manual_seed(3)))["loss"].backward()
    grads = [p.grad for n, p in net.named_parameters() if n.endswith(gpt)]
    assert grads and all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)


def _legacy_curves() -> dict:
    """The calls whose curves main wrote into :data:`LEGACY`."""
    from sinkcheck.experiments.dormant_train import TaskConfig, TrainConfig, train_run

    out = {}
    for kind, rn in (("softmax", "length"), ("relu", "length"), ("relu", "none"), ("sigmoid", "length")):
        for H in (1, 2):
            _, curve = TT.train(TT.TriggerRunConfig(kind=kind, heads=H, steps=5, relu_normalise=rn, seed=1))
            out[f"trigger/{kind}/{rn}/{H}"] = [x.hex() for x in curve]
    for kind, slot, rn in (("softmax", "none", "length"), ("relu", "none", "length"), ("relu", "none", "none"),
                           ("sigmoid", "none", "length"), ("softmax", "k", "length"), ("softmax", "kv", "length"),
                           ("softmax", "v", "length"), ("softmax", "sink_token", "length"), ("sigmoid", "k", "length")):
        r = train_run(TaskConfig(T=12), GPTConfig(kind=kind, slot=slot, relu_normalise=rn, n_embd=32, mlp=False),
                      TrainConfig(steps=5, n_eval=8), seed=2, eval_every=1)
        out[f"dormant/{kind}/{slot}/{rn}"] = [p["loss"].hex() for p in r.curve] + [float(r.sink).hex(),
                                                                                    float(r.bos_raw).hex()]
    return out


def test_the_legacy_kinds_train_to_the_same_floats_as_before_the_models_read_the_registry():
    assert _legacy_curves() == json.loads(LEGACY.read_text())


def test_a_legacy_kind_and_its_registry_operation_are_the_same_model_bytes():
    for kind, rn, name in (("softmax", "length", "softmax"), ("relu", "length", "relu_length"), ("relu", "none", "relu"),
                           ("sigmoid", "length", "sigmoid")):
        _, a = TT.train(TT.TriggerRunConfig(kind=kind, relu_normalise=rn, steps=4, heads=2))
        _, b = TT.train(TT.TriggerRunConfig(attention=name, steps=4, heads=2))
        assert a == b, (kind, rn, name)


def test_the_same_seed_gives_the_same_result_bytes_and_another_seed_does_not():
    for task, name in (("trigger", "gated_elem"), ("dormant", "key_bias"), ("trigger", "sink_token")):
        a, b = VT.run(task, name, 2, seed=5, steps=3), VT.run(task, name, 2, seed=5, steps=3)
        assert canonical(a) == canonical(b)
        assert canonical(VT.run(task, name, 2, seed=6, steps=3)) != canonical(a)


def _square_relu(S, mask=None):
    A = torch.relu(S) ** 2
    return A.masked_fill(~mask, 0.0) if mask is not None else A


def test_a_user_registered_operation_trains_on_both_tasks_and_is_refused_once_unregistered():
    variants.register("user_square_relu", _square_relu, normalises=False)
    try:
        runs = SV.run_grid(ops=["user_square_relu"], heads=(1,), seeds=(0,), steps=3, progress=False)
        assert [(r["attention"], r["task"]) for r in runs] == [("user_square_relu", "trigger"),
                                                                ("user_square_relu", "dormant")]
        assert all(math.isfinite(r["loss"]) for r in runs)
    finally:
        variants.unregister("user_square_relu")
    with pytest.raises(InvalidInputError, match="^ops: must be one of .*got 'user_square_relu'"):
        SV.points(ops=["user_square_relu"])


def test_the_variant_kind_checks_its_operation_against_the_registry_and_fills_the_tasks_steps():
    kind = K.get("variant")
    assert "variant" in K.KIND_NAMES and kind.trains
    with pytest.raises(InvalidInputError, match=r"^parameters\.attention: must be one of .*\(got 'softmax2'\)$"):
        kind.check("attention", "softmax2")
    with pytest.raises(InvalidInputError, match=r"^grid\.heads: must divide the dormant model's width 64 \(got 3\)$"):
        kind.check_point({"task": "dormant", "attention": "softmax", "heads": 3, "steps": 0}, "grid")
    r = K.run_task("variant", {"task": "trigger", "attention": "relu", "heads": 1, "steps": 2}, 0)
    assert r["steps"] == 2
    assert [t.params["steps"] for t in SV.points(ops=["softmax"], heads=(1,), seeds=(0,))] == [400, 600]


@pytest.mark.parametrize("kw, message", [
    ({"ops": ["nope"]}, "^ops: must be one of"), ({"tasks": ["copy"]}, "^tasks: must be one of"),
    ({"heads": [0]}, r"^heads: must be an integer >= 1 \(got 0\)$"),
    ({"heads": [3], "tasks": ["dormant"]}, r"^heads: must divide"), ({"heads": [10**6]}, "^heads, batch, T: "),
    ({"seeds": []}, r"^seeds: must list at least one value \(got none\)$"), ({"steps": 0}, "^steps: "),
    ({"workers": 0}, r"^workers: must be an integer >= 1 \(got 0\)$")])
def test_a_bad_grid_is_refused_in_one_line_naming_its_parameter_before_anything_trains(kw, message, monkeypatch):
    monkeypatch.setattr(K, "run_task", lambda *a: pytest.fail("trained"))
    with pytest.raises(InvalidInputError, match=message) as err:
        SV.run_grid(**kw, progress=False)
    assert "\n" not in str(err.value)


def test_the_default_grid_is_every_builtin_operation_on_both_tasks_with_one_and_two_heads_and_three_seeds():
    todo = SV.points()
    assert len(todo) == len(BUILTIN) * 2 * 2 * 3 == 180
    assert [t.params["attention"] for t in todo[::12]] == list(BUILTIN)
    assert {(t.params["task"], t.params["steps"]) for t in todo} == {("trigger", 400), ("dormant", 600)}


def test_a_stored_grid_resumes_from_its_database_without_training_again(tmp_path, monkeypatch):
    store = tmp_path / "grid"
    first = SV.run_grid(ops=["softmax1"], heads=(1,), seeds=(0, 1), steps=2, tasks=("trigger",), progress=False,
                        store=store)
    monkeypatch.setattr(K, "run_task", lambda *a: pytest.fail("trained again"))
    again = SV.run_grid(ops=["softmax1"], heads=(1,), seeds=(1, 0), steps=2, tasks=("trigger",), progress=False,
                        store=store)
    assert again == first[::-1]


def test_summarise_pools_the_seeds_per_operation_task_and_heads_with_mean_min_max_and_solved_fraction():
    runs = [{"attention": "a", "task": "trigger", "heads": 1, "steps": 5, "solved": s, "loss": x, "off_first": x,
             "off_slot": None, "off_mass": 1.0, "sink": 0.5, "off_content": 0.0, "sink_raw": 0.0, "sink_slot": None,
             "gate_off": None, "gate_on": None, "solved_score": x} for s, x in ((True, 1.0), (False, 3.0), (True, 2.0))]
    (row,) = SV.summarise(runs)
    assert (row["seeds"], row["mean_loss"], row["min_loss"], row["max_loss"]) == (3, 2.0, 1.0, 3.0)
    assert row["solved"] == pytest.approx(2 / 3)
    assert row["mean_off_slot"] is None and row["max_off_slot"] is None


@pytest.mark.slow
def test_two_dask_workers_give_the_serial_results_also_for_a_users_operation_defined_in_a_function():
    def halved_softmax(S, mask=None):  # a local function: it reaches the workers by value
        return 0.5 * torch.softmax(S.masked_fill(~mask, float("-inf")), dim=-1)

    variants.register("user_halved_softmax", halved_softmax, normalises=False)
    try:
        kw = dict(ops=["sink_logit", "user_halved_softmax"], heads=(1, 2), seeds=(0,), steps=3, progress=False)
        assert SV.run_grid(workers=2, **kw) == SV.run_grid(workers=1, **kw)
    finally:
        variants.unregister("user_halved_softmax")


@pytest.mark.parametrize("make, message", [
    (lambda: GPTConfig(attention="relu", kind="sigmoid"), r"^kind: must stay 'softmax'"),
    (lambda: GPTConfig(attention="key_bias", slot="k"), r"^slot: must be 'none' with attention 'key_bias'"),
    (lambda: GPTConfig(attention="gated_head", slot="sink_token"), r"^slot: must be 'none' with attention"),
    (lambda: GPTConfig(attention="linear_elu1", pos="alibi"), r"^pos: a kernel score"),
    (lambda: GPTConfig(attention="softmax2"), r"^attention: must be one of"),
    (lambda: TT.TriggerRunConfig(attention="relu", kind="relu").validated(), r"^kind: must stay 'softmax'"),
    (lambda: TT.TriggerRunConfig(attention="softmax2").validated(), r"^attention: must be one of")])
def test_an_operation_with_a_legacy_kind_or_a_clashing_slot_is_refused_in_one_line(make, message):
    with pytest.raises(InvalidInputError, match=message):
        make()


def test_the_sink_token_operation_is_the_gpt_sink_token_slot_and_a_legacy_kind_keeps_its_operation():
    assert GPTConfig(attention="sink_token").slot == "sink_token"
    assert GPTConfig(kind="relu", relu_normalise="none").operation.name == "relu"
    assert GPTConfig(kind="relu").operation.name == "relu_length"
    assert TT.operation(TT.TriggerRunConfig(kind="sigmoid")).name == "sigmoid"


def test_the_shipped_runs_are_the_default_grid_in_order_with_every_key_and_the_csv_is_their_summary():
    from importlib import resources

    from sinkcheck.core.tables import render

    runs = SV.shipped()
    assert [(r["attention"], r["task"], r["heads"], r["seed"], r["steps"]) for r in runs] == \
        [(t.params["attention"], t.params["task"], t.params["heads"], t.seed, t.params["steps"]) for t in SV.points()]
    assert all(set(VT.RESULT_KEYS) <= set(r) for r in runs)
    shipped_csv = resources.files("sinkcheck").joinpath("data", SV.SUMMARY).read_text()
    assert shipped_csv == render(SV.table(runs), "csv")


@pytest.mark.parametrize("attention", ["relu", "softmax1", pytest.param("sink_logit", marks=pytest.mark.slow)])
def test_a_rerun_of_a_shipped_trigger_run_gives_its_numbers_exactly(attention):
    (run,) = [r for r in SV.shipped() if (r["attention"], r["task"], r["heads"], r["seed"]) == (attention, "trigger", 2, 1)]
    assert SV.differences(VT.run("trigger", attention, 2, seed=1), run) == []
    assert SV.differences({**run, "loss": run["loss"] * (1 + 1e-15)}, run) != []  # one changed bit is seen


@pytest.mark.slow
def test_a_rerun_of_a_shipped_dormant_run_gives_its_numbers_exactly():
    (run,) = [r for r in SV.shipped() if (r["attention"], r["task"], r["heads"], r["seed"]) == ("key_bias", "dormant", 2, 0)]
    assert SV.differences(VT.run("dormant", "key_bias", 2, seed=0), run) == []


def test_softmax1_and_only_the_operations_with_a_logit_or_key_have_a_dropped_column_read_as_their_slot():
    assert [n for n, op in variants.OPERATIONS.items() if op.dropped] == ["softmax1", "sink_logit", "key_bias"]
    x = torch.randint(0, 32, (4, 12), generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    out = GPT(GPTConfig(attention="softmax1", block_size=12, n_embd=32, n_head=2, n_layer=1))(x, return_attn=True)
    assert out["attn_bias"] is not None  # softmax1's fixed 0 logit: 1 - the row sum over the real keys
    torch.testing.assert_close(out["attn_bias"] + out["attn"].sum(-1), torch.ones_like(out["attn_bias"]))
    user = variants.register("user_logit_test", variants.get("sink_logit").torch_weights, normalises=True, extra="logit")
    try:
        assert user.dropped  # a logit or key extra is a dropped column whatever the caller says
    finally:
        variants.unregister("user_logit_test")


def test_a_dropped_columns_weight_is_never_negative_where_the_real_weights_round_above_one():
    net = GPT(GPTConfig(attention="sink_logit", block_size=32, n_embd=32, n_head=2, n_layer=1))
    model = TT.TriggerModel(TT.TriggerRunConfig(attention="sink_logit", heads=2), 16, torch.Generator().manual_seed(0))
    with torch.no_grad():
        net.blocks[0].attn.sink_logit.fill_(-30.0)  # the column's weight e^-30: below float32's rounding of 1
        model.s.fill_(-30.0)
        out = net(torch.randint(0, 32, (64, 32), generator=torch.Generator().manual_seed(0)), return_attn=True)
        parts = model.parts(torch.randn(64, 9, 16, generator=torch.Generator().manual_seed(1)))
    assert float((1.0 - out["attn"].sum(-1)).min()) < 0  # the naive 1 - row sum goes below 0 here
    assert float(out["attn_bias"].min()) >= 0 and float(parts["slot"].min()) >= 0
