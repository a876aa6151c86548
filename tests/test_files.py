"""The one output writer (sinkcheck.core.files.staged): all or nothing."""

import pytest

from sinkcheck.core.files import staged
from sinkcheck.errors import InvalidInputError


def test_a_completed_run_replaces_the_target_directory_even_when_its_name_has_a_dot(tmp_path):
    out = tmp_path / "report.v2"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with staged(out) as (root,):
        (root / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"] and len(list(tmp_path.iterdir())) == 1


def test_a_failed_run_leaves_the_target_and_no_staged_file_behind(tmp_path):
    out = tmp_path / "table.csv"
    out.write_text("old")
    with pytest.raises(RuntimeError):
        with staged(out, directory=False) as (path,):
            path.write_text("half")
            raise RuntimeError("interrupted")
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_a_missing_parent_is_an_input_error_naming_the_option(tmp_path):
    with pytest.raises(InvalidInputError, match=r"^--plot: parent directory .* does not exist$"):
        with staged(tmp_path / "no" / "x.png", directory=False, option="--plot"):
            pass


def test_a_missing_parent_is_refused_before_any_work_by_every_command_that_writes_a_directory(tmp_path):
    from click.testing import CliRunner

    from sinkcheck.cli import main

    bad = str(tmp_path / "no" / "out")
    for args in (["trigger", "--steps", "1", "--seeds", "1"], ["train", "lm", "--steps", "1"],
                 ["train", "sinkdiag", "--steps", "1"], ["train", "dormant", "--steps", "1", "--seeds", "0"]):
        result = CliRunner().invoke(main, args + ["--out", bad, "--no-progress"])
        assert result.exit_code == 2 and "--out: parent directory does not exist" in result.output, (args, result.output)
