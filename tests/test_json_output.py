"""Every ``--format json`` of every command prints exactly one JSON document on stdout (status
lines go to stderr), so ``json.loads`` reads it."""

from __future__ import annotations

import json

import click
import numpy as np
import pytest
from click.testing import CliRunner

from sinkcheck.cli import main
from sinkcheck.core import attention as att


def maps(tmp_path):
    np.save(tmp_path / "m.npy", att.softmax_attention(np.zeros((2, 1, 2, 4, 4)), att.causal_mask(4)))
    return str(tmp_path / "m.npy")


def grid(tmp_path):
    (tmp_path / "g.json").write_text('[{"d": 9, "C": 1, "r_eta": 2, "lam": 1.0}]')
    return str(tmp_path / "g.json")


# command -> its arguments (with --format json); each command that prints a table has one entry
COMMANDS = {
    "bounds": lambda tmp: ["bounds", "--d", "9", "--C", "1", "--no-progress"],
    "claims": lambda tmp: ["claims"],
    "metric": lambda tmp: ["metric", maps(tmp), "--out", str(tmp / "out")],
    "smoothing": lambda tmp: ["smoothing", "--n", "2", "--n-seq", "4", "--plot", str(tmp / "p.png")],
    "table": lambda tmp: ["table", "--grid", grid(tmp), "--no-progress"],
    "variants": lambda tmp: ["variants", "--only", "relu", "--tasks", "trigger", "--heads", "1", "--seeds", "0",
                             "--steps", "2", "--no-progress", "--out", str(tmp / "out")],
}


def test_every_command_with_a_json_format_has_a_case_here():
    ctx = click.Context(main)
    with_json = {name for name in main.list_commands(ctx) if not isinstance(main.get_command(ctx, name), click.Group)
                 for p in main.get_command(ctx, name).params
                 if p.name in ("fmt", "formats") and "json" in getattr(p.type, "choices", ())
                 and not p.multiple}  # trigger's --format (multiple) names the files it writes
    assert with_json == set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_format_json_prints_exactly_one_json_document(tmp_path, command):
    res = CliRunner().invoke(main, COMMANDS[command](tmp_path) + ["--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert isinstance(doc, (dict, list)) and doc


def test_metric_json_holds_both_tables_with_their_titles(tmp_path):
    res = CliRunner().invoke(main, ["metric", maps(tmp_path), "--format", "json"])
    doc = json.loads(res.stdout)
    assert sorted(doc) == ["sink_per_layer", "sink_per_position"]
    assert all(doc[k]["title"] and doc[k]["rows"] for k in doc)
