"""The command line: help, version, one-line errors, and a deterministic report."""

import json

import pytest
from click.testing import CliRunner

from sinkcheck import __version__
from sinkcheck.cli import main


def test_version_is_printed():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_help_lists_the_report_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "report" in result.output


def test_report_writes_certificates_and_is_byte_identical_for_the_same_seed(tmp_path):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = CliRunner().invoke(main, ["report", "--out", str(out), "--only", "cost.identity", "--no-progress"])
        assert result.exit_code == 0, result.output
        outs.append(out)
    cert_a = (outs[0] / "certificates" / "cost.identity.json").read_bytes()
    assert cert_a == (outs[1] / "certificates" / "cost.identity.json").read_bytes()
    assert json.loads(cert_a)["verdict"] == "holds"
    assert (outs[0] / "summary.md").read_bytes() == (outs[1] / "summary.md").read_bytes()


def test_unknown_check_is_a_one_line_error_with_exit_code_2(tmp_path):
    result = CliRunner().invoke(main, ["report", "--out", str(tmp_path / "r"), "--only", "no.such.check"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: --only: unknown check or claim")
    assert not (tmp_path / "r").exists()


def test_unwritable_output_parent_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["report", "--out", str(tmp_path / "missing" / "r"), "--no-progress"])
    assert result.exit_code == 2 and "--out" in result.output


def test_a_claim_with_one_failing_check_is_reported_as_failing_and_claims_keep_ledger_order():
    from sinkcheck.report.registry import Certificate
    from sinkcheck.report.runner import claim_table

    certs = [Certificate("mine.2", "mine.U", "s", "holds_with_hypothesis", added_hypothesis="H"),
             Certificate("smoothing.symbolic", verdict="holds"),
             Certificate("smoothing.monte_carlo", verdict="fails", counterexample={"x": 1}),
             Certificate("cost.identity", verdict="holds")]
    rows = claim_table(certs).rows
    columns = claim_table(certs).columns
    verdict, note, key = (columns.index(c) for c in ("verdict", "added hypothesis / settings", "counterexample"))
    assert [r[0] for r in rows] == ["sukenik.sec5.smoothing_derivatives", "sukenik.sec7.cost_identity", "mine.U"]
    assert [r[verdict] for r in rows] == ["fails", "holds as checked", "holds with an added hypothesis"]
    assert rows[0][key] == "x = 1" and rows[2][note] == "H"
    assert [r[1] for r in rows] == ["theorem"] * 3 and [r[2] for r in rows] == ["paper", "reconstructed", "yours"]


def test_the_summary_puts_theorems_first_and_gives_an_empirical_claim_both_settings():
    from sinkcheck.claims import CLAIMS
    from sinkcheck.report.registry import Certificate
    from sinkcheck.report.runner import claim_table

    certs = [Certificate("empirical.dormant_softmax", verdict="reproduced"), Certificate("cost.identity", verdict="holds")]
    table = claim_table(certs)
    rows = table.rows
    assert [r[0] for r in rows] == ["sukenik.sec7.cost_identity", "gu.sink_emergence.softmax"]
    claim = CLAIMS["gu.sink_emergence.softmax"]
    note = rows[1][table.columns.index("added hypothesis / settings")]
    assert claim.setting in note and claim.paper_setting in note and rows[1][1] == "empirical"


def test_a_builtin_check_takes_its_statement_and_hypothesis_from_the_ledger():
    from sinkcheck.claims import CLAIMS
    from sinkcheck.report.registry import Certificate

    c = Certificate("trigger.necessity", verdict="holds_with_hypothesis")
    claim = CLAIMS["ranmilo.necessity.single_head"]
    assert (c.claim, c.statement, c.added_hypothesis) == (claim.id, claim.checked_statement, claim.hypothesis)


def test_the_summary_names_every_claim_once_and_never_defers_the_hypothesis(tmp_path):
    args = ["report", "--out", str(tmp_path / "r"), "--only", "sukenik.sec5.monotonicity", "--only",
            "cost.identity", "--no-progress"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    md = (tmp_path / "r" / "summary.md").read_text()
    page = (tmp_path / "r" / "summary.html").read_text()
    assert "see its section" not in md and "off the boundary: read as 'strictly monotone'" in md
    assert md.count("## `sukenik.sec5.monotonicity`") == 1 and md.count("## `sukenik.sec7.cost_identity`") == 1
    assert 'id="sukenik.sec5.monotonicity"' in page and 'class="badge holds_with_hypothesis"' in page
    assert 'href="certificates/smoothing.monotonicity.json"' in page
    assert json.loads((tmp_path / "r" / "certificates" / "cost.identity.json").read_text())["claim"] == \
        "sukenik.sec7.cost_identity"
    assert "2 theorem claims" in result.output


def test_strict_exits_1_only_when_a_check_fails(tmp_path, monkeypatch):
    from sinkcheck.report import registry
    from sinkcheck.report.registry import Certificate

    monkeypatch.setitem(registry.CHECKS, "planted.failure",
                        lambda ctx: Certificate("planted.failure", "planted", "a planted false claim", "fails",
                                                counterexample={"x": 0}))
    args = ["report", "--out", str(tmp_path / "r"), "--only", "planted.failure", "--no-progress"]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert CliRunner().invoke(main, args + ["--strict", "--force"]).exit_code == 1
    # an empirical claim not reproduced counts as failing too; undecided and inconclusive do not
    for verdict, code in (("not_reproduced", 1), ("inconclusive", 0), ("undecided", 0)):
        monkeypatch.setitem(registry.CHECKS, "planted.failure",
                            lambda ctx, v=verdict: Certificate("planted.failure", "planted", "a planted claim", v))
        assert CliRunner().invoke(main, args + ["--strict", "--force"]).exit_code == code, verdict


def test_cuda_without_a_gpu_is_a_one_line_error_with_exit_code_2(tmp_path):
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    result = CliRunner().invoke(main, ["report", "--device", "cuda", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and result.output.startswith("error: device:")
    assert not (tmp_path / "r").exists()


def test_help_lists_every_command_with_its_summary_and_imports_no_command():
    import subprocess
    import sys

    from sinkcheck.cli import COMMANDS, SUMMARIES

    code = ("import sys; from sinkcheck.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('cvxpy', 'torch', 'sympy', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]") and all(name in out for name in COMMANDS)
    assert set(SUMMARIES) == set(COMMANDS)


@pytest.mark.parametrize("name", ["bounds", "claims", "pretrained", "report", "results", "smoothing", "sweep", "table", "train",
                                  "trigger",
                                  "gu-tables", "variants"])
def test_each_summary_of_the_help_says_what_the_command_does(name):
    from sinkcheck.cli import SUMMARIES, main

    cmd = main.get_command(None, name)
    words = {w.strip(".,:;()").lower() for w in SUMMARIES[name].split()} - {"the", "a", "of", "and", "in", "on", "its", "for", "with", "every", "one"}
    own = (cmd.help or "").lower() + " " + " ".join(p.name for p in cmd.params) + " " + " ".join(getattr(cmd, "commands", {}))
    assert sum(w in own for w in words) >= len(words) / 3, (name, words, own[:200])


@pytest.mark.parametrize("module", ["claims", "smoothing", "trigger", "empirical"])
def test_a_command_that_solves_no_program_does_not_import_cvxpy(module):
    import subprocess
    import sys

    code = f"import sys; import sinkcheck.cli.{module}; print('cvxpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
