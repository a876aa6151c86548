"""The command line: help, version, one-line errors, and a deterministic report."""

import json

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
    assert result.output.strip().startswith("error: --only: unknown check")
    assert not (tmp_path / "r").exists()


def test_unwritable_output_parent_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["report", "--out", str(tmp_path / "missing" / "r"), "--no-progress"])
    assert result.exit_code == 2 and "--out" in result.output


def test_a_theorem_with_one_failing_check_is_reported_as_failing():
    from sinkcheck.verify.registry import Certificate
    from sinkcheck.verify.report import theorem_table

    certs = [Certificate("a.1", "T", "s", "holds"),
             Certificate("a.2", "T", "s", "fails", counterexample={"x": 1}),
             Certificate("b.1", "U", "s", "holds_with_hypothesis", added_hypothesis="H")]
    rows = theorem_table(certs).rows
    assert rows == [["T", "fails", "a.1, a.2"], ["U", "holds with an added hypothesis", "b.1"]]


def test_strict_exits_1_only_when_a_check_fails(tmp_path, monkeypatch):
    from sinkcheck.verify import registry
    from sinkcheck.verify.registry import Certificate

    monkeypatch.setitem(registry.CHECKS, "planted.failure",
                        lambda ctx: Certificate("planted.failure", "P", "a planted false claim", "fails",
                                                counterexample={"x": 0}))
    args = ["report", "--out", str(tmp_path / "r"), "--only", "planted.failure", "--no-progress"]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert CliRunner().invoke(main, args + ["--strict"]).exit_code == 1


def test_cuda_without_a_gpu_is_a_one_line_error_with_exit_code_2(tmp_path):
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    result = CliRunner().invoke(main, ["report", "--device", "cuda", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and result.output.startswith("error: device:")
    assert not (tmp_path / "r").exists()
