"""``sinkcheck variants``: the table lists every operation with every column, ``--only`` narrows it,
a user's operation gets the same row, and the output goes only where sinkcheck may write.

The training grid is replaced by a fake whose numbers are written here (the grid itself is tested in
tests/test_variants_sweep.py); one test trains a tiny real grid end to end."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from sinkcheck.cli import main
from sinkcheck.cli import variants as V
from sinkcheck.sweep import variants as SV
from sinkcheck.variants import OPERATIONS

BUILTIN = [n for n, op in OPERATIONS.items() if op.builtin]


def fake_run(op, task, heads, seed, steps=None, device="cpu"):
    """One run's record, its numbers a function of the seed (so mean and spread are known here)."""
    slot = op in ("sink_logit", "key_bias", "sink_token")
    return {"task": task, "attention": op, "heads": heads, "seed": seed, "steps": steps or 10, "device": device,
            "loss": 1.0 + seed, "solved": seed != 2, "solved_score": 0.9, "off_first": 0.1 * seed,
            "off_slot": 0.5 if slot else None, "off_content": 0.2, "off_mass": 0.3 + 0.1 * seed + (0.5 if slot else 0),
            "gate_off": None, "gate_on": None, "sink": 0.25 * seed, "sink_raw": 0.25 * seed,
            "sink_slot": 0.75 if slot else None}


@pytest.fixture
def grid(monkeypatch):
    """The fake grid in place of :func:`sinkcheck.sweep.variants.run_grid`, recording its calls."""
    calls = []

    def run_grid(ops=None, tasks=("trigger", "dormant"), heads=(1, 2), seeds=(0, 1, 2), steps=None, workers=1,
                 device="cpu", progress=True, store=None):
        calls.append({"ops": list(ops), "tasks": tasks, "heads": heads, "seeds": seeds, "steps": steps,
                      "workers": workers})
        return [fake_run(o, t, h, s, steps, device) for o in ops for t in tasks for h in heads for s in seeds]

    monkeypatch.setattr(SV, "run_grid", run_grid)
    return calls


def invoke(tmp_path, *args):
    res = CliRunner().invoke(main, ["variants", "--no-progress", "--out", str(tmp_path / "out"), *args])
    assert res.exit_code == 0, res.output
    return res


def test_json_lists_every_operation_and_head_count_with_every_column_in_one_document(tmp_path, grid):
    res = invoke(tmp_path, "--format", "json")
    doc = json.loads(res.stdout)  # one document, nothing else on stdout
    assert [(r["operation"], r["heads"]) for r in doc["rows"]] == [(n, h) for n in BUILTIN for h in (1, 2)]
    want = {"operation", "heads", "summary", "normalises", "exact zero possible (theory)",
            "trigger without sink (theory)", V.PROBE_COLUMN}
    for t in ("trigger", "dormant"):
        for q in ("off_first", "off_slot", "off nowhere", "Sink_1^0.3 (proxy)", "Sink_1 raw", "slot Sink*", "loss"):
            want |= {f"{t} {q}", f"{t} {q} spread (max-min)"}
        want |= {f"{t} solved (fraction of seeds)", f"{t} steps"}
    assert set(doc["columns"]) == want and all(set(r) == want for r in doc["rows"])
    softmax = doc["rows"][0]
    # seeds 0, 1, 2: loss 1, 2, 3 -> mean 2, spread 2; two of three solved; Sink 0, .25, .5 -> .25
    assert softmax["dormant loss"] == 2.0 and softmax["dormant loss spread (max-min)"] == 2.0
    assert softmax["trigger solved (fraction of seeds)"] == 0.667  # 2/3 to 3 significant digits
    assert softmax["dormant Sink_1^0.3 (proxy)"] == 0.25 and softmax["dormant steps"] == 10
    assert softmax["dormant off_slot"] is None and softmax["normalises"] is True
    # off_first 0, .1, .2 and content .2: nowhere .8, .7, .6 -> mean .7, spread .2
    assert softmax["trigger off nowhere"] == 0.7 and softmax["trigger off nowhere spread (max-min)"] == 0.2
    key_bias = next(r for r in doc["rows"] if r["operation"] == "key_bias")
    assert key_bias["trigger off_slot"] == 0.5 and key_bias["trigger off_slot spread (max-min)"] == 0.0
    assert key_bias["trigger slot Sink*"] == 0.75 and key_bias["trigger off nowhere"] == 0.2
    assert doc["title"].startswith("Does my attention need a sink?") and doc["legend"] == list(V.LEGEND)
    assert json.loads((tmp_path / "out" / "variants_table.json").read_text()) == doc
    assert (tmp_path / "out" / "figures" / "variants_off_mass.png").stat().st_size > 1000


def test_the_theory_columns_come_from_the_theory_and_the_probe_from_the_weights(tmp_path, grid):
    from sinkcheck.theory import variants as TV

    doc = json.loads(invoke(tmp_path, "--format", "json").stdout)
    by = {r["operation"]: r for r in doc["rows"]}
    for name in BUILTIN:
        assert by[name]["exact zero possible (theory)"] == TV.OFF_SWITCH.get(name, "not stated")
        assert by[name]["trigger without sink (theory)"] == TV.TRIGGER_WITHOUT_SINK.get(name, "not stated")
    # at scores -30: softmax rows sum to 1, ReLU and softpick are 0.0, sigmoid and softmax1 keep e^-30-ish weights
    assert by["softmax"][V.PROBE_COLUMN] == "normalised" and by["linear_elu1"][V.PROBE_COLUMN] == "normalised"
    assert by["relu"][V.PROBE_COLUMN] == "exact zero" and by["softpick"][V.PROBE_COLUMN] == "exact zero"
    assert by["sigmoid"][V.PROBE_COLUMN] == "positive" and by["softmax1"][V.PROBE_COLUMN] == "positive"


def test_only_narrows_the_grid_and_the_table_to_the_named_operations(tmp_path, grid):
    doc = json.loads(invoke(tmp_path, "--only", "softpick", "--only", "softmax", "--heads", "2", "--tasks", "dormant",
                            "--seeds", "0,1", "--steps", "7", "--workers", "2", "--format", "json").stdout)
    assert [(r["operation"], r["heads"]) for r in doc["rows"]] == [("softpick", 2), ("softmax", 2)]
    assert "trigger loss" not in doc["columns"] and "dormant loss" in doc["columns"]
    assert grid == [{"ops": ["softpick", "softmax"], "tasks": ("dormant",), "heads": (2,), "seeds": (0, 1),
                     "steps": 7, "workers": 2}]


USER_OP = '''
import torch

def soft_threshold(S, mask):
    """max(x - 1, 0), an operation of the user's."""
    return torch.relu(S - 1.0).masked_fill(~mask, 0.0)

class Halved(torch.nn.Module):
    def forward(self, S, mask):
        return 0.5 * torch.softmax(S.masked_fill(~mask, float("-inf")), dim=-1)
'''


@pytest.mark.parametrize("attr, normalises, probe", [("soft_threshold", "--no-normalises", "exact zero"),
                                                     ("Halved", "--no-normalises", "positive")])
def test_a_user_operation_from_a_file_gets_the_same_row_with_theory_not_stated(tmp_path, grid, attr, normalises,
                                                                             probe):
    (tmp_path / "mine.py").write_text(USER_OP)
    doc = json.loads(invoke(tmp_path, "--only", "softmax", "--operation", f"{tmp_path / 'mine.py'}:{attr}",
                            normalises, "--format", "json").stdout)
    row = [r for r in doc["rows"] if r["operation"] == attr]
    assert [r["heads"] for r in row] == [1, 2] and set(row[0]) == set(doc["columns"])
    assert row[0]["exact zero possible (theory)"] == "not stated" == row[0]["trigger without sink (theory)"]
    assert row[0][V.PROBE_COLUMN] == probe and row[0]["normalises"] is False
    assert row[0]["dormant loss"] == 2.0 and grid[0]["ops"] == ["softmax", attr]
    assert attr not in OPERATIONS  # registered for the run only


def test_a_user_operation_from_an_importable_module_is_found_by_module_and_name(tmp_path, grid, monkeypatch):
    (tmp_path / "my_ops.py").write_text(USER_OP)
    monkeypatch.syspath_prepend(str(tmp_path))
    doc = json.loads(invoke(tmp_path, "--only", "relu", "--operation", "my_ops:soft_threshold", "--normalises",
                            "--format", "json").stdout)
    assert [r["operation"] for r in doc["rows"]] == ["relu", "relu", "soft_threshold", "soft_threshold"]
    assert doc["rows"][2]["normalises"] is True


def _body(text, comment):
    """The lines after the title and legend comment lines."""
    lines = text.splitlines()
    assert lines[0].startswith(f"{comment} Does my attention need a sink?")
    assert [x[len(comment) + 1:] for x in lines[1:1 + len(V.LEGEND)]] == list(V.LEGEND)
    return "\n".join(lines[1 + len(V.LEGEND):])


@pytest.mark.parametrize("fmt, check", [
    ("markdown", lambda text: text.startswith("Does my attention need a sink?")
     and all(f"\n\n{line}\n\n" in text for line in V.LEGEND) and "\n| operation " in text and "| softmax " in text),
    ("csv", lambda text: next(csv.reader(io.StringIO(_body(text, "#"))))[:2] == ["operation", "heads"]
     and sum(1 for _ in csv.reader(io.StringIO(_body(text, "#")))) == 1 + 2 * len(BUILTIN)),
    ("latex", lambda text: _body(text, "%").startswith("\\begin{tabular}") and "\\toprule" in text
     and "softpick" in text),
])
def test_each_format_prints_the_table_with_its_title_and_legend_and_every_format_is_written(tmp_path, grid, fmt, check):
    res = invoke(tmp_path, "--format", fmt)
    assert check(res.stdout)
    for suffix in ("md", "csv", "tex", "json"):
        assert (tmp_path / "out" / f"variants_table.{suffix}").stat().st_size > 100
    assert res.stdout == (tmp_path / "out" / f"variants_table.{ {'markdown': 'md', 'csv': 'csv', 'latex': 'tex'}[fmt]}").read_text()


def test_a_directory_the_user_owns_is_refused_before_anything_is_trained(tmp_path, grid):
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter.tex").write_text("mine")
    res = CliRunner().invoke(main, ["variants", "--no-progress", "--out", str(tmp_path / "thesis")])
    assert res.exit_code == 2 and "--out: is a non-empty directory" in res.output and grid == []
    assert [p.name for p in (tmp_path / "thesis").iterdir()] == ["chapter.tex"]


def test_a_second_run_replaces_only_its_own_files(tmp_path, grid):
    invoke(tmp_path, "--only", "softmax")
    (tmp_path / "out" / "notes.txt").write_text("mine")
    invoke(tmp_path, "--only", "relu")
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    assert "| relu " in (tmp_path / "out" / "variants_table.md").read_text()


def test_normalises_without_an_operation_is_refused_in_one_line(tmp_path, grid):
    res = CliRunner().invoke(main, ["variants", "--normalises", "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and res.output.strip() == (
        "error: --normalises: applies to --operation only (got it without --operation)") and grid == []


@pytest.mark.torch
@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])  # a Dask cluster: ~30 s
def test_a_user_operation_from_a_file_trains_for_real_in_process_and_on_dask_workers(tmp_path, workers):
    (tmp_path / "mine.py").write_text(USER_OP)
    res = CliRunner().invoke(main, ["variants", "--no-progress", "--out", str(tmp_path / "out"), "--only", "relu",
                                    "--tasks", "trigger", "--heads", "1", "--seeds", "0", "--steps", "3",
                                    "--workers", str(workers), "--operation", f"{tmp_path / 'mine.py'}:soft_threshold",
                                    "--no-normalises", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [r["operation"] for r in doc["rows"]] == ["relu", "soft_threshold"]
    runs = json.loads((tmp_path / "out" / "variants_runs.json").read_text())["runs"]
    assert [(r["attention"], r["steps"]) for r in runs] == [("relu", 3), ("soft_threshold", 3)]
    assert all(r["loss"] > 0 for r in runs) and doc["rows"][1]["trigger loss"] == float(f"{runs[1]['loss']:.3g}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.py", "out"]  # no __pycache__ beside the user's file
