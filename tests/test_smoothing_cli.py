"""``sinkcheck smoothing`` and the smoothing report checks."""

import json

import pytest
from click.testing import CliRunner

from sinkcheck.cli import main
from sinkcheck.report.checks import smoothing as checks_smoothing
from sinkcheck.report.registry import Context


def run(*args):
    return CliRunner().invoke(main, ["smoothing", *args])


def test_smoothing_prints_the_statement_and_a_table_of_cases():
    result = run("--n", "3", "--n-seq", "20")
    assert result.exit_code == 0, result.output
    assert "D_k'(0) = -2 (1 - 1/k) (p + q)" in result.output and "| paper_condition" in result.output


def test_same_seed_gives_the_same_json_bytes(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        assert run("--n", "3", "--n-seq", "20", "--format", "json", "--out", str(path)).exit_code == 0
    assert a.read_bytes() == b.read_bytes() and len(json.loads(a.read_text())["rows"]) == 3


def test_plot_option_writes_a_png(tmp_path):
    png = tmp_path / "scatter.png"
    assert run("--n", "4", "--n-seq", "20", "--plot", str(png)).exit_code == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args, message", [(["--n", "0"], "error: n:"), (["--n-seq", "1"], "error: n_seq:")])
def test_bad_arguments_give_one_line_errors_and_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.output


@pytest.mark.parametrize("name", ["symbolic", "exact_vs_closed", "monte_carlo"])
def test_report_checks_hold_in_the_quick_profile(name, tmp_path):
    cert = getattr(checks_smoothing, name)(Context(seed=0, out_dir=tmp_path, progress=False))
    assert cert.verdict == "holds", cert.evidence


def test_monotonicity_check_names_the_boundary_hypothesis(tmp_path):
    cert = checks_smoothing.monotonicity(Context(seed=0, out_dir=tmp_path, progress=False))
    assert cert.verdict == "holds_with_hypothesis" and "beta tr(BW) = 0 < tr(B W^T W)" in cert.added_hypothesis
    assert cert.evidence["boundary_example"]["beta_trBW"] == 0.0


def test_cosine_direction_check_holds_on_hundreds_of_cases_and_writes_its_figure(tmp_path):
    cert = checks_smoothing.cosine_direction(Context(seed=0, out_dir=tmp_path, progress=False))
    ev = cert.evidence
    assert cert.verdict == "holds" and ev["smooths_cases"] + ev["sharpens_cases"] >= 100
    assert (tmp_path / "figures" / cert.figures[0]).exists()


def test_finding_the_true_average_cosine_can_fall_while_the_ratio_2_rises_under_the_smoothing_condition():
    """The theorem is about approximation (2); the true average cosine similarity need not follow it."""
    from sinkcheck.construct import smoothing_model as sm
    from sinkcheck.evaluate import smoothing_cases as sc

    model = sc.true_cosine_counterexample()
    dR = sm.closed_form(model, 1.0)["R"] - sm.closed_form(model, 0.0)["R"]
    dcos, se = sc.true_cosine_change(model, 100000, seed=0)
    assert model.p > 0 and dR > 0
    assert dcos < -10 * se
