"""Where output may go (sinkcheck.core.files): nothing a user owns is ever deleted or changed, and
every output is all or nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinkcheck.core import files, marker, transaction
from sinkcheck.core.files import OutputDir, OutputFile, staged_files
from sinkcheck.core.marker import MARKER
from sinkcheck.errors import InvalidInputError


def write(root: Path, tree: dict[str, bytes]) -> None:
    for name, data in tree.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def produce(out: OutputDir, tree: dict[str, bytes], scope=None) -> None:
    with out.staged(scope) as stage:
        write(stage, tree)


# ---- directories: new, empty, or sinkcheck's own -----------------------------------------------------


def test_a_new_directory_receives_the_output_and_a_marker_naming_the_command_and_each_file(tmp_path):
    produce(OutputDir(tmp_path / "r", "report"), {"a.md": b"A", "t/b.csv": b"B"})
    marker = json.loads((tmp_path / "r" / MARKER).read_text())
    assert marker["tool"] == "sinkcheck" and marker["command"] == "report"
    assert sorted(marker["files"]) == ["a.md", "t/b.csv"]
    assert snapshot(tmp_path / "r") == {"a.md": b"A", "t/b.csv": b"B", MARKER: (tmp_path / "r" / MARKER).read_bytes()}


def test_a_non_empty_directory_that_sinkcheck_did_not_write_is_refused_and_left_as_it_is(tmp_path):
    write(tmp_path / "p", {"thesis.tex": b"x"})
    with pytest.raises(InvalidInputError, match=r"^--out: is a non-empty directory that sinkcheck did not write"):
        OutputDir(tmp_path / "p", "report")
    assert snapshot(tmp_path / "p") == {"thesis.tex": b"x"}


def test_an_empty_directory_is_accepted_and_kept(tmp_path):
    (tmp_path / "e").mkdir()
    produce(OutputDir(tmp_path / "e", "report"), {"a.md": b"A"})
    assert (tmp_path / "e" / "a.md").read_bytes() == b"A"


def test_a_rerun_replaces_only_its_own_files_removes_its_stale_ones_and_keeps_the_users(tmp_path):
    out = tmp_path / "r"
    produce(OutputDir(out, "report"), {"a.md": b"A1", "old.md": b"O", "figs/x.png": b"X"})
    write(out, {"notes.txt": b"mine", "figs/mine.pdf": b"P"})
    produce(OutputDir(out, "report"), {"a.md": b"A2", "figs/y.png": b"Y"})
    got = snapshot(out)
    del got[MARKER]
    assert got == {"a.md": b"A2", "figs/y.png": b"Y", "notes.txt": b"mine", "figs/mine.pdf": b"P"}
    assert sorted(json.loads((out / MARKER).read_text())["files"]) == ["a.md", "figs/y.png"]


def test_a_file_of_sinkcheck_changed_since_is_refused_unless_force_and_then_replaced(tmp_path):
    out = tmp_path / "r"
    produce(OutputDir(out, "report"), {"a.md": b"A1"})
    (out / "a.md").write_bytes(b"edited by hand")
    with pytest.raises(InvalidInputError, match=r"^--out: a\.md was changed since sinkcheck wrote it; .* --force"):
        OutputDir(out, "report")
    produce(OutputDir(out, "report", force=True), {"a.md": b"A2"})
    assert (out / "a.md").read_bytes() == b"A2"


def test_a_users_file_where_a_new_output_goes_is_refused_even_with_force_and_nothing_moves(tmp_path):
    out = tmp_path / "r"
    produce(OutputDir(out, "report"), {"a.md": b"A1"})
    write(out, {"b.md": b"mine"})
    with pytest.raises(InvalidInputError, match=r"^--out: b\.md exists and was not written by sinkcheck"):
        produce(OutputDir(out, "report", force=True), {"a.md": b"A2", "b.md": b"theirs"})
    got = snapshot(out)
    assert got["a.md"] == b"A1" and got["b.md"] == b"mine"
    assert not [p for p in os.listdir(out) if p.startswith(marker.STAGE_PREFIX)]


def test_a_directory_or_link_in_place_of_a_file_of_sinkcheck_is_refused_even_with_force(tmp_path):
    out = tmp_path / "r"
    produce(OutputDir(out, "report"), {"a.md": b"A1", "b.md": b"B1"})
    (out / "a.md").unlink()
    write(out, {"a.md/kept.txt": b"mine"})
    (out / "b.md").unlink()
    (out / "b.md").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InvalidInputError, match=r"^--out: a\.md is no longer the file sinkcheck wrote there"):
        OutputDir(out, "report", force=True)
    assert (out / "a.md" / "kept.txt").read_bytes() == b"mine"


def test_the_output_of_another_command_is_refused(tmp_path):
    produce(OutputDir(tmp_path / "r", "report"), {"a.md": b"A"})
    with pytest.raises(InvalidInputError, match=r"holds the output of `sinkcheck report`, not of `sinkcheck train lm`"):
        OutputDir(tmp_path / "r", "train lm")


@pytest.mark.parametrize("listed", ["../outside.txt", "/etc/passwd", "a/../../x", "", ".sinkcheck-output"])
def test_a_marker_listing_a_path_outside_its_directory_is_refused_and_nothing_outside_is_touched(tmp_path, listed):
    out, outside = tmp_path / "r", tmp_path / "outside.txt"
    out.mkdir()
    outside.write_bytes(b"keep")
    (out / MARKER).write_text(json.dumps({"tool": "sinkcheck", "command": "report", "version": "0",
                                          "files": {listed: "0" * 64}}))
    with pytest.raises(InvalidInputError, match=r"^--out: its marker .* cannot be read"):
        OutputDir(out, "report", force=True)
    assert outside.read_bytes() == b"keep"


@pytest.mark.parametrize("text", ["not json", "[]", '{"tool": "other"}', '{"tool": "sinkcheck", "files": []}'])
def test_a_damaged_or_foreign_marker_is_refused(tmp_path, text):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / MARKER).write_text(text)
    with pytest.raises(InvalidInputError, match=r"^--out: its marker"):
        OutputDir(tmp_path / "r", "report")


def test_dot_dotdot_home_root_and_any_ancestor_of_the_working_directory_are_refused(tmp_path, monkeypatch):
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    for path, rule in ((".", "the working directory"), ("..", "the working directory"), (tmp_path / "a", "the working directory"),
                       (tmp_path / "home", "the home directory"), ("/", "a filesystem root")):
        with pytest.raises(InvalidInputError, match=rf"^--out: must not be {rule}"):
            OutputDir(path, "report")


def test_a_file_a_missing_parent_and_an_unwritable_parent_are_refused_before_any_work(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InvalidInputError, match=r"^--out: must be a directory, not a file"):
        OutputDir(tmp_path / "f", "report")
    with pytest.raises(InvalidInputError, match=r"^--out: must be in an existing directory"):
        OutputDir(tmp_path / "no" / "x", "report")
    with pytest.raises(InvalidInputError, match=r"^--out: must be in an existing directory"):
        OutputDir(tmp_path / "f" / "x", "report")


def test_a_failed_or_interrupted_run_leaves_no_output_and_no_staging_directory(tmp_path):
    out = tmp_path / "r"
    produce(OutputDir(out, "report"), {"a.md": b"A1"})
    before = snapshot(out)
    for exc in (RuntimeError("failed"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            with OutputDir(out, "report").staged() as stage:
                write(stage, {"a.md": b"half", "b.md": b"half"})
                raise exc
    with pytest.raises(RuntimeError):
        with OutputDir(tmp_path / "new", "report").staged() as stage:
            raise RuntimeError
    assert snapshot(out) == before and not (tmp_path / "new").exists()
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(marker.STAGE_PREFIX)]


def test_a_commit_that_fails_half_way_is_undone(tmp_path, monkeypatch):
    out = tmp_path / "r"
    produce(OutputDir(out, "report"), {"a.md": b"A1", "b.md": b"B1", "stale.md": b"S"})
    before = snapshot(out)
    real, calls = os.replace, []

    def failing(src, dst):  # the third move into place fails
        if Path(dst).parent == out and not Path(src).name.startswith(marker.STAGE_PREFIX):
            calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(files.os, "replace", failing)
    with pytest.raises(OSError):
        produce(OutputDir(out, "report"), {"a.md": b"A2", "b.md": b"B2", "c.md": b"C2"})
    monkeypatch.undo()
    assert snapshot(out) == before


def test_one_writer_at_a_time_holds_the_lock(tmp_path):
    out = OutputDir(tmp_path / "s", "sweep")
    out.create()
    for name in (None, marker.SWEEP_LOCK):
        with out.lock(name):
            other = __import__("subprocess").run(
                [__import__("sys").executable, "-c",
                 "from sinkcheck.core.files import OutputDir\n"
                 f"with OutputDir({str(out.path)!r}, 'sweep').lock({name!r}): pass"], capture_output=True, text=True)
            assert "is being written by another sinkcheck process" in other.stderr
            with out.lock(name):  # re-entrant within the process
                pass


def test_write_new_refuses_a_file_it_did_not_write_and_accepts_its_own_bytes_again(tmp_path):
    out = OutputDir(tmp_path / "s", "sweep")
    out.create()
    out.write_new("c/k.npz", b"data")
    out.write_new("c/k.npz", b"data")
    (out.path / "c" / "mine.npz").write_bytes(b"user")
    with pytest.raises(InvalidInputError, match=r"c/mine\.npz exists and was not written by this command"):
        out.write_new("c/mine.npz", b"data")
    assert (out.path / "c" / "mine.npz").read_bytes() == b"user"


# ---- files -------------------------------------------------------------------------------------------


def test_an_existing_output_file_is_refused_unless_force(tmp_path):
    f = tmp_path / "t.md"
    f.write_text("mine")
    with pytest.raises(InvalidInputError, match=r"^--out: exists; pass --force to replace it"):
        OutputFile(f, "--out")
    with staged_files(OutputFile(f, "--out", force=True)) as (stage,):
        stage.write_text("new")
    assert f.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["t.md"]


def test_an_output_file_with_a_wrong_suffix_or_in_a_missing_folder_is_refused_before_any_work(tmp_path):
    with pytest.raises(InvalidInputError, match=r"^--plot: must end in one of \.png"):
        OutputFile(tmp_path / "x.xyz", "--plot", suffixes=(".png",))
    with pytest.raises(InvalidInputError, match=r"^--plot: must be in an existing directory"):
        OutputFile(tmp_path / "no" / "x.png", "--plot", suffixes=(".png",))
    with pytest.raises(InvalidInputError, match=r"^--out: must be a file, not a directory"):
        OutputFile(tmp_path, "--out", force=True)


def test_a_failed_run_leaves_the_target_file_and_no_staged_file_behind(tmp_path):
    out = tmp_path / "table.csv"
    out.write_text("old")
    with pytest.raises(RuntimeError):
        with staged_files(OutputFile(out, "--out", force=True)) as (path,):
            path.write_text("half")
            raise RuntimeError("interrupted")
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["table.csv"]


# ---- property: random user files in an output directory ---------------------------------------------

names = st.lists(st.sampled_from(["a.md", "summary.md", "tables", "figures", "notes", "x.png", "t.csv"]),
                 min_size=1, max_size=3).map("/".join)
trees = st.dictionaries(names, st.binary(max_size=20), max_size=6).filter(
    lambda t: not any(a != b and b.startswith(a + "/") for a in t for b in t))  # no file is also a folder


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(user=trees, first=trees, second=trees, force=st.booleans(), written_before=st.booleans())
def test_no_run_ever_deletes_or_changes_a_file_the_user_put_in_an_output_directory(tmp_path_factory, user, first,
                                                                                  second, force, written_before):
    out = tmp_path_factory.mktemp("prop") / "out"
    if written_before:
        try:
            produce(OutputDir(out, "report"), first)
        except InvalidInputError:
            return
    out.mkdir(exist_ok=True)
    ours = set(json.loads((out / MARKER).read_text())["files"]) if written_before else set()
    free = {k: v for k, v in user.items() if k not in ours and not any(k.startswith(o + "/") or o.startswith(k + "/")
                                                                    for o in ours)}
    try:
        write(out, free)
    except OSError:
        return
    mine = snapshot(out)
    mine = {k: v for k, v in mine.items() if k in free}
    try:
        produce(OutputDir(out, "report", force=force), second)
    except InvalidInputError:
        pass
    after = snapshot(out)
    assert {k: after.get(k) for k in mine} == mine


def test_the_cleanup_helper_refuses_any_path_that_is_not_a_staging_path_and_leaves_it_as_it_is(tmp_path):
    user_dir, user_file = tmp_path / "results", tmp_path / "notes.txt"
    user_dir.mkdir()
    (user_dir / "a.csv").write_text("1")
    user_file.write_text("mine")
    for path in (user_dir, user_file):
        with pytest.raises(RuntimeError, match="not a staging path"):
            transaction.remove_own(path)
    assert (user_dir / "a.csv").read_text() == "1" and user_file.read_text() == "mine"
    stage = tmp_path / (marker.STAGE_PREFIX + "x")
    stage.mkdir()
    transaction.remove_own(stage)
    assert not stage.exists()
