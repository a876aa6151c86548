"""Claims of the mutation harness's report (tools.mutation): the score table counts each
status per module, and a report restricted with ``only`` shows just the selected functions."""

import json

import pytest

from sinkcheck.errors import InvalidInputError
from tools import mutation


def _results(root, codes):
    meta = root / "mutants" / "sinkcheck" / "theory" / "x.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}))


@pytest.fixture
def run_of_two_functions(tmp_path):
    _results(tmp_path, {"sinkcheck.theory.x.x_f__mutmut_1": 1, "sinkcheck.theory.x.x_f__mutmut_2": 1,
                        "sinkcheck.theory.x.x_f__mutmut_3": None, "sinkcheck.theory.x.x_g__mutmut_1": None})
    eq = tmp_path / "eq.toml"
    eq.write_text('[[equivalent]]\nfunction = "sinkcheck.theory.x.g"\nchange = "a -> b"\nreason = "r"\n')
    return tmp_path, eq


def _row(text, module):
    return next(line for line in text.splitlines() if line.startswith(f"| {module} "))


def test_the_score_table_counts_killed_and_not_checked_mutants_of_a_module(run_of_two_functions):
    root, eq = run_of_two_functions
    text, needs = mutation.write_report(root, root / "page.md", eq)
    cells = [c.strip() for c in _row(text, "sinkcheck.theory.x").split("|")[1:-1]]
    assert cells[1:4] == ["4", "2", "0"] and cells[7] == "2" and float(cells[8]) == 1.0
    assert needs == 0 and (root / "page.md").read_text() == text


def test_scores_are_printed_with_three_decimals_even_when_perfect(run_of_two_functions):
    root, eq = run_of_two_functions
    text, _ = mutation.write_report(root, root / "page.md", eq)
    cells = [c.strip() for c in _row(text, "sinkcheck.theory.x").split("|")[1:-1]]
    assert cells[8:10] == ["1.000", "1.000"]


def test_a_report_restricted_to_one_function_counts_only_its_mutants(run_of_two_functions):
    root, eq = run_of_two_functions
    text, _ = mutation.write_report(root, root / "page.md", eq, only=("sinkcheck.theory.x.f",))
    cells = [c.strip() for c in _row(text, "sinkcheck.theory.x").split("|")[1:-1]]
    assert cells[1:4] == ["3", "2", "0"] and cells[7] == "1"


def test_a_restricted_report_does_not_call_the_entries_of_other_functions_stale(run_of_two_functions):
    root, eq = run_of_two_functions
    unrestricted, _ = mutation.write_report(root, root / "page.md", eq)
    restricted, _ = mutation.write_report(root, root / "page.md", eq, only=("*.f",))
    assert "stale" in unrestricted and "stale" not in restricted


def test_a_restriction_that_matches_no_function_is_an_error_naming_the_patterns(run_of_two_functions):
    root, eq = run_of_two_functions
    with pytest.raises(InvalidInputError, match=r"^mutants: no mutmut results found for \*\.h"):
        mutation.write_report(root, root / "page.md", eq, only=("*.h",))


def test_a_report_of_working_copies_run_side_by_side_takes_each_verdict_from_the_copy_that_ran_it(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _results(a, {"sinkcheck.theory.x.x_f__mutmut_1": 1, "sinkcheck.theory.x.x_g__mutmut_1": None})
    _results(b, {"sinkcheck.theory.x.x_f__mutmut_1": None, "sinkcheck.theory.x.x_g__mutmut_1": 1})
    text, _ = mutation.write_report((a, b), tmp_path / "page.md", tmp_path / "none.toml")
    cells = [c.strip() for c in _row(text, "sinkcheck.theory.x").split("|")[1:-1]]
    assert cells[1:3] == ["2", "2"] and cells[7] == "0"
    alone, _ = mutation.write_report(b, tmp_path / "page.md", tmp_path / "none.toml")
    assert [c.strip() for c in _row(alone, "sinkcheck.theory.x").split("|")[1:-1]][1:3] == ["2", "1"]


def test_the_report_command_merges_the_working_copies_given_with_root(tmp_path, monkeypatch):
    from click.testing import CliRunner

    a, b = tmp_path / "a", tmp_path / "b"
    _results(a, {"sinkcheck.theory.x.x_f__mutmut_1": 1, "sinkcheck.theory.x.x_g__mutmut_1": None})
    _results(b, {"sinkcheck.theory.x.x_f__mutmut_1": None, "sinkcheck.theory.x.x_g__mutmut_1": 3})
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(mutation.cli, ["report", "--root", "a", "--root", "b", "--out", "page.md"])
    assert res.exit_code == 0, res.output
    cells = [c.strip() for c in _row((tmp_path / "page.md").read_text(), "sinkcheck.theory.x").split("|")[1:-1]]
    assert cells[1:3] == ["2", "2"]
