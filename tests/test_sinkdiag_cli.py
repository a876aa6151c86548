"""``sinkcheck bounds`` and ``sinkcheck table`` (Section 7 cost bounds): output keys, files, errors."""

from __future__ import annotations

import json

from click.testing import CliRunner

from sinkcheck.cli import main

SMALL = ["--d", "10", "--C", "2", "--r-eta", "2", "--lam", "1.0", "--seed", "0"]


def run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_bounds_json_has_the_documented_keys_and_verdicts():
    out = json.loads(run(["bounds", *SMALL, "--format", "json"]).stdout)
    keys = {"lower", "opt", "construction", "upper", "value_cost", "verdicts"}
    assert keys <= set(out["sink"]) and keys <= set(out["diag"]) and out["sink"]["verdicts"]["lower<=opt"]["verdict"] == "holds"


def test_bounds_output_is_deterministic_in_the_seed():
    assert run(["bounds", *SMALL, "--format", "csv"]).stdout == run(["bounds", *SMALL, "--format", "csv"]).stdout


def test_saved_instance_gives_the_same_bounds_when_reloaded(tmp_path):
    f = tmp_path / "i.npz"
    first = run(["bounds", *SMALL, "--save-instance", str(f), "--format", "json"]).stdout
    assert run(["bounds", "--instance", str(f), "--format", "json"]).stdout == first


def test_corrupted_instance_file_is_a_one_line_error(tmp_path):
    f = tmp_path / "bad.npz"
    f.write_bytes(b"not a zip file")
    res = run(["bounds", "--instance", str(f)])
    assert res.exit_code == 2 and res.output.startswith("error: instance")


def test_bad_parameter_is_a_one_line_error():
    res = run(["bounds", "--d", "10", "--kappa", "-1"])
    assert res.exit_code == 2 and "kappa" in res.output


def test_table_over_a_grid_file_writes_table_and_plot(tmp_path):
    grid = tmp_path / "g.json"
    grid.write_text(json.dumps([{"d": d, "C": 1, "r_eta": 1, "lam": 1.0} for d in (8, 32)]))
    out, png = tmp_path / "t.csv", tmp_path / "p.png"
    res = run(["table", "--grid", str(grid), "--format", "csv", "--out", str(out), "--plot", str(png), "--no-progress"])
    assert res.exit_code == 0 and len(out.read_text().splitlines()) == 3 and png.read_bytes()[:4] == b"\x89PNG"


def test_grid_with_unknown_key_is_refused(tmp_path):
    grid = tmp_path / "g.json"
    grid.write_text(json.dumps([{"d": 8, "C": 1, "r_eta": 1, "lam": 1.0, "colour": "red"}]))
    res = run(["table", "--grid", str(grid)])
    assert res.exit_code == 2 and "unknown keys" in res.output
