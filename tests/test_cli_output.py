"""Every command that writes: its output goes into a new directory or one sinkcheck wrote before,
anything else is refused up front with one line, and no command ever deletes or changes a file
the user owns (docs/commands.md, "Output directories")."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinkcheck.cli import main
from sinkcheck.core import attention as att
from sinkcheck.core.marker import MARKER, STAGE_PREFIX
from tests.support.profiles import examples

BIN = Path(sys.executable).parent / "sinkcheck"
COST = ["report", "--only", "sukenik.sec7.cost_identity", "--no-progress"]


def cli(*args, cwd=None):
    """A real subprocess of the command line (the defects were in the CLI)."""
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


def one_line_error(res, fragment: str) -> bool:
    lines = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.strip()]
    return res.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def no_leftovers(root: Path) -> bool:
    return not [p for p in root.rglob("*") if p.name.startswith(STAGE_PREFIX) or ".partial-" in p.name]


def maps_file(path: Path) -> Path:
    S = 3 * np.random.default_rng(0).standard_normal((2, 1, 2, 5, 5))
    np.save(path, att.softmax_attention(S, att.causal_mask(5)))
    return path


def spec_file(path: Path) -> Path:
    path.write_text(json.dumps({"kind": "sinkdiag", "parameters": {"d": 9, "C": 1, "r_eta": 2, "lam": [0.2, 2.0]}}))
    return path


# ---- the reproductions of the data-loss report ----------------------------------------------------


def test_report_into_a_directory_holding_a_thesis_is_refused_and_the_thesis_is_kept(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "thesis.tex").write_text("x")
    res = cli(*COST, "--out", tmp_path / "p")
    assert one_line_error(res, "--out: is a non-empty directory that sinkcheck did not write")
    assert tree(tmp_path) == {"p/thesis.tex": b"x"}


def test_report_into_the_parent_or_the_working_directory_is_refused_and_nothing_is_touched(tmp_path):
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    (work / "kept.txt").write_text("k")
    for out in ("..", ".", tmp_path / "a", "../.."):
        res = cli(*COST, "--out", out, cwd=work)
        assert one_line_error(res, "must not be the working directory or one of its ancestors"), (out, res.stderr)
    assert tree(tmp_path) == {"a/b/c/kept.txt": b"k"}


def test_report_into_home_or_root_is_refused(tmp_path):
    for out, rule in ((Path.home(), "home directory"), ("/", "filesystem root")):
        assert one_line_error(cli(*COST, "--out", out, cwd=tmp_path), rule)


def test_a_sweep_with_tables_into_a_folder_of_the_users_figures_is_refused_and_the_figure_is_kept(tmp_path):
    (tmp_path / "proj" / "figures").mkdir(parents=True)
    (tmp_path / "proj" / "figures" / "fig1.pdf").write_text("f")
    res = cli("sweep", spec_file(tmp_path / "s.json"), "--out", tmp_path / "proj", "--table", "--workers", "0")
    assert one_line_error(res, "--out: is a non-empty directory that sinkcheck did not write")
    assert tree(tmp_path / "proj") == {"figures/fig1.pdf": b"f"}


def test_results_keeps_the_users_files_in_tables_and_figures(tmp_path):
    out = tmp_path / "out"
    assert cli("sweep", spec_file(tmp_path / "s.json"), "--out", out, "--table", "--workers", "0",
               "--no-progress").returncode == 0
    (out / "tables" / "mine.tex").write_text("t")
    (out / "figures" / "mine.pdf").write_text("f")
    res = cli("results", out)
    assert res.returncode == 0, res.stderr
    assert (out / "tables" / "mine.tex").read_text() == "t" and (out / "figures" / "mine.pdf").read_text() == "f"
    assert (out / "tables" / "summary.md").exists() and no_leftovers(tmp_path)


@pytest.mark.parametrize("args, option", [
    (["report", "--only", "sukenik.sec7.cost_identity"], "--out"),
    (["train", "lm", "--steps", "1"], "--out"),
    (["train", "sinkdiag", "--steps", "1"], "--out"),
    (["train", "dormant", "--steps", "1", "--seeds", "0"], "--out"),
    (["trigger", "--steps", "1", "--seeds", "1"], "--out"),
    (["pretrained", "--limit", "1"], "--out"),
])
def test_an_output_directory_that_is_a_file_or_lies_in_a_missing_folder_is_refused_before_any_work(tmp_path, args,
                                                                                                      option):
    (tmp_path / "file").write_text("x")
    for out, rule in ((tmp_path / "file", "must be a directory, not a file"),
                      (tmp_path / "no" / "such" / "x", "must be in an existing directory")):
        started = time.monotonic()
        res = CliRunner().invoke(main, [*args, "--no-progress", option, str(out)])
        assert res.exit_code == 2 and res.output.startswith(f"error: {option}: {rule}"), res.output
        assert time.monotonic() - started < 20  # refused up front, not after the run
    assert tree(tmp_path) == {"file": b"x"} and no_leftovers(tmp_path)


@pytest.mark.parametrize("option", ["--out", "--plot"])
def test_table_files_into_a_missing_folder_are_refused_before_the_grid_is_solved(tmp_path, option):
    started = time.monotonic()
    res = cli("table", "--no-progress", option, tmp_path / "no" / "x.png")
    assert one_line_error(res, f"{option}: must be in an existing directory") and time.monotonic() - started < 20
    assert list(tmp_path.iterdir()) == []


def test_an_existing_output_file_is_replaced_only_with_force(tmp_path):
    mine = tmp_path / "table.md"
    mine.write_text("mine")
    res = cli("smoothing", "--n", "2", "--n-seq", "4", "--out", mine)
    assert one_line_error(res, "--out: exists; pass --force to replace it") and mine.read_text() == "mine"
    res = cli("smoothing", "--n", "2", "--n-seq", "4", "--out", mine, "--force")
    assert res.returncode == 0 and mine.read_text() != "mine" and no_leftovers(tmp_path)


def test_save_instance_over_an_existing_file_is_refused_unless_force(tmp_path):
    f = tmp_path / "i.npz"
    f.write_bytes(b"mine")
    res = cli("bounds", "--save-instance", f, "--no-progress")
    assert one_line_error(res, "--save-instance: exists; pass --force") and f.read_bytes() == b"mine"
    assert cli("bounds", "--save-instance", f, "--no-progress", "--force").returncode == 0
    assert f.read_bytes()[:2] == b"PK"


def test_a_rerun_into_its_own_output_replaces_its_files_and_keeps_a_note_the_user_added(tmp_path):
    out = tmp_path / "r"
    assert cli(*COST, "--out", out).returncode == 0
    (out / "notes.txt").write_text("mine")
    first = tree(out)
    assert cli(*COST, "--out", out).returncode == 0
    assert tree(out) == first  # same seed, same bytes; the note untouched
    (out / "summary.md").write_text("edited")
    assert one_line_error(cli(*COST, "--out", out), "summary.md was changed since sinkcheck wrote it")
    assert cli(*COST, "--out", out, "--force").returncode == 0 and (out / "notes.txt").read_text() == "mine"


# ---- property: random user files, every command that writes a directory --------------------------

WRITERS = {
    "report": lambda tmp, out: COST + ["--out", out],
    "metric": lambda tmp, out: ["metric", maps_file(tmp / "m.npy"), "--out", out, "--format", "csv"],
    "sweep": lambda tmp, out: ["sweep", spec_file(tmp / "s.json"), "--out", out, "--workers", "0", "--no-progress",
                               "--table"],
}
"""Fast commands that write a directory, one per way of writing (a staged whole output, a sweep
that writes as it goes and then its views)."""

names = st.lists(st.sampled_from(["summary.md", "tables", "figures", "certificates", "rows.jsonl", "results.sqlite",
                                  "counterexamples", "x.png", "mine.tex"]), min_size=1, max_size=3).map("/".join)
user_trees = st.dictionaries(names, st.binary(max_size=8), max_size=5).filter(
    lambda t: not any(a != b and b.startswith(a + "/") for a in t for b in t))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None,
          max_examples=examples(15, thorough=120))
@given(command=st.sampled_from(sorted(WRITERS)), user=user_trees, before=st.booleans(), force=st.booleans())
def test_no_command_ever_deletes_or_changes_a_file_the_user_put_in_its_output_directory(tmp_path_factory, command,
                                                                                       user, before, force):
    tmp = tmp_path_factory.mktemp("cmd")
    out = tmp / "out"
    args = [str(a) for a in WRITERS[command](tmp, out)]
    if before:  # the directory holds this command's earlier output
        assert CliRunner().invoke(main, args).exit_code == 0
    out.mkdir(exist_ok=True)
    ours = set(json.loads((out / MARKER).read_text())["files"]) if (out / MARKER).exists() else set()
    present = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    mine = {k: v for k, v in user.items()
            if k not in present and not any(k.startswith(p + "/") and (out / p).is_file() for p in present)}
    for name, data in mine.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    res = CliRunner().invoke(main, args + (["--force"] if force else []))
    assert res.exit_code in (0, 2), res.output
    assert {k: (out / k).read_bytes() if (out / k).is_file() else None for k in mine} == mine
    assert not ours & set(mine) and no_leftovers(tmp)
