"""Hostile inputs for every public function and CLI command: each gets a specific InvalidInputError naming
the parameter (the CLI: one line ``error: ...``, exit code 2) and leaves no partial output (docs/testing.md)."""

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sinkcheck.cli import main
from sinkcheck.construct import factors
from sinkcheck.construct import smoothing_model as sm
from sinkcheck.construct import trigger_counterexamples as ce
from sinkcheck.core import attention as att
from sinkcheck.core import attention_torch as att_t
from sinkcheck.core import metrics
from sinkcheck.errors import InvalidInputError
from sinkcheck.theory import smoothing as th
from tools import mutation
from sinkcheck.evaluate import smoothing_cases
from sinkcheck.evaluate import smoothing_heads
from sinkcheck.core.tables import Table, render

NAN, INF = float("nan"), float("inf")


def _model():
    return sm.make_model(np.eye(2), np.eye(2), 1.0, 2 * np.eye(2), 3)


# (call, parameter named in the message, rule fragment): the hostile-input table of docs/testing.md
CASES = [
    # construct/factors.py
    (lambda: factors.nuclear_norm(np.zeros((0, 3))), "W", "must not be empty"),
    (lambda: factors.nuclear_norm([[1.0, NAN]]), "W", "finite"),
    (lambda: factors.nuclear_norm("abc"), "W", "real array"),
    (lambda: factors.qk_cost(np.ones((2, 2)), np.full((2, 2), INF)), "W_K", "finite"),
    (lambda: factors.balanced_factors(np.ones((2, 2)), rtol=NAN), "rtol", "finite"),
    (lambda: factors.balanced_factors(np.ones((2, 2)), rtol=-1e-3), "rtol", ">= 0"),
    # theory/smoothing.py
    (lambda: th.monotonicity(NAN, 1.0), "p_value", "finite"),
    (lambda: th.monotonicity(0.0, INF), "q_value", "finite"),
    (lambda: th.monotonicity(0.0, -1.0), "q_value", ">= 0"),
    (lambda: th.paper_condition(NAN, 1.0), "p_value", "finite"),
    (lambda: th.monotonicity("abc", 1.0), "p_value", "finite real number"),
    (lambda: sm.sample_model(np.random.default_rng(0), 2, 3, rank=-1), "rank", ">= 0"),
    (lambda: th.paper_condition(0.0, NAN), "q_value", "finite"),
    (lambda: th.brute_force_moments(1, 2), "k_value", ">= 2"),
    (lambda: th.brute_force_moments(3, 0), "d", ">= 1"),
    (lambda: th.check_trace_identities(0), "d", ">= 1"),
    # construct/smoothing_model.py
    (lambda: sm.make_model(np.eye(2), np.eye(3), 1.0, 2 * np.eye(2), 3), "W", "shape"),
    (lambda: sm.make_model(np.eye(2), np.eye(2), NAN, 2 * np.eye(2), 3), "beta", "finite"),
    (lambda: sm.make_model(np.eye(2), np.eye(2), 1.0, 2 * np.eye(2), 0), "k", ">= 2"),
    (lambda: sm.make_model(np.zeros((0, 0)), np.eye(2), 1.0, 2 * np.eye(2), 3), "B", "empty"),
    (lambda: sm.make_model(-np.eye(2), np.eye(2), 1.0, 2 * np.eye(2), 3), "B", "semidefinite"),
    (lambda: sm.sample_model(np.random.default_rng(0), 0, 3), "d", ">= 1"),
    (lambda: sm.sample_model(np.random.default_rng(0), 2, 1), "k", ">= 2"),
    (lambda: sm.sample_model(np.random.default_rng(0), 2, 3, rank=3), "rank", "[0, 2]"),
    (lambda: sm.sample_model(np.random.default_rng(0), 2, 3, mean_scale=NAN), "mean_scale", "finite"),
    (lambda: sm.sample_model(np.random.default_rng(0), 2, 3, W_scale=-1.0), "W_scale", ">= 0"),
    (lambda: sm.closed_form(_model(), NAN), "lam", "[0.0, 1.0]"),
    (lambda: sm.exact_moments_path(_model(), []), "lams", "empty"),
    (lambda: sm.monte_carlo_D(_model(), 0.5, n=10, seed=-1), "seed", ">= 0"),
    (lambda: sm.monte_carlo_D(_model(), 0.5, n=10, seed=0, z=INF), "z", "finite"),
    (lambda: sm.sample_tokens(_model(), np.random.default_rng(0), 0), "n", ">= 1"),
    # construct/trigger_counterexamples.py
    (lambda: ce.value_offset_head(1.0, 0.0), "b", "> 0"),
    (lambda: ce.value_offset_head(1.0, 1.0, T=1), "T", ">= 2"),
    (lambda: ce.value_offset_trigger_output(1.0, 0.0, 1.0), "K", "> 0"),
    (lambda: ce.value_offset_trigger_output(1.0, 1.0, -1.0), "b", "> 0"),
    (lambda: ce.value_offset_trigger_output([NAN], 1.0, 1.0), "u", "finite"),
    (lambda: ce.value_offset_trigger_error(1.0, 1.0, 0.0), "R", "> 0"),
    (lambda: ce.value_offset_trigger_error(1.0, 1.0, 1.0, n=2), "n", ">= 3"),
    (lambda: ce.trigger_sink_head(2, 3, [1.0, 2.0], 1.0), "L", "0-d array"),
    (lambda: ce.trigger_sink_head(2, 3, 1.0, [1.0, 2.0]), "a", "0-d array"),
    (lambda: ce.trigger_sink_head(2, 3, 1.0, NAN), "a", "finite"),
    (lambda: ce.two_head_cancellation(2, 3, [1.0, 2.0]), "M", "0-d array"),
    (lambda: ce.two_head_error_bound(1, 1.0, 1.0), "T", ">= 2"),
    (lambda: ce.two_head_error_bound(2, -1.0, 1.0), "R", "> 0"),
    (lambda: ce.two_head_error_bound(2, 1.0, INF), "M", "finite"),
    (lambda: ce.two_head_error_bound(2, 1.0, [1.0, 2.0]), "M", "0-d array"),
    # core
    (lambda: att.scores(np.ones((3, 2)), np.ones((3, 2)), np.eye(2), scale=NAN), "scale", "finite"),
    (lambda: att.scores(np.ones((3, 2)), np.ones((3, 3)), np.eye(2)), "W", "shape"),
    (lambda: att.causal_mask(0), "T", ">= 1"),
    (lambda: att.softmax_attention(np.ones((2, 2)), mask=np.zeros((2, 2))), "mask", "at least one key"),
    (lambda: att.attention(np.ones((2, 2)), kind="tanh"), "kind", "one of"),
    (lambda: att.head_output(np.ones((2, 3)), np.ones((2, 2)), np.eye(2)), "A", "keys"),
    (lambda: metrics.sink_rate(np.ones((1, 1, 1, 2, 2)) / 2, k=5), "k", "position"),
    (lambda: metrics.sink_rate(np.ones((1, 1, 1, 2, 2)) / 2, eps=NAN), "eps", "[0.0, 1.0]"),
    (lambda: metrics.sink_rates(np.ones((1, 1, 2, 2)) / 2), "maps", "(samples, layers, heads, T, T)"),
    (lambda: metrics.sink_rates([np.ones((1, 1, 2, 2)) / 2, np.ones((1, 2, 2, 2)) / 2]), "maps[1]", "layers and heads"),
    (lambda: metrics.sink_rates(-np.ones((1, 1, 1, 2, 2))), "maps[0]", ">= 0"),
    (lambda: metrics.sink_rates(np.full((1, 1, 1, 2, 2), NAN)), "maps[0]", "finite"),
    (lambda: metrics.sink_rates([]), "maps", "at least one sample"),
    (lambda: metrics.importance(np.ones((2, 3))), "A", "(..., T, T)"),
    (lambda: metrics.importance(np.ones((2, 2)), variant="literal"), "variant", "one of"),
    (lambda: metrics.proxy_scores(-np.ones((2, 2))), "A", ">= 0"),
    (lambda: att_t.attention(__import__("torch").ones(2, 2), kind="tanh"), "kind", "one of"),
    # verify
    (lambda: smoothing_heads.avg_cos_sim(np.zeros((3, 2))), "Y", "non-zero"),
    (lambda: smoothing_heads.analyse_head(np.ones((3, 2)), np.ones((3, 2)), np.eye(3) / 1, np.eye(3)), "W_OV", "shape"),
    (lambda: smoothing_cases.sample_models(2, seed=-1), "seed", ">= 0"),
    (lambda: smoothing_cases.case_table(0, seed=0), "n", ">= 1"),
    (lambda: render(Table(["a"], [[1]], ""), "xml"), "format", "one of"),
]


@pytest.mark.parametrize("call, param, rule", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_each_hostile_argument_raises_an_error_naming_the_parameter_and_the_rule(call, param, rule):
    with pytest.raises(InvalidInputError, match=rf"^{re.escape(param)}:") as info:
        call()
    assert rule in str(info.value)


# ---- hypothesis: non-finite entries at random positions ------------------------------------------------

@st.composite
def poisoned(draw, shape_strategy):
    """A finite array with one NaN, +inf or -inf at a random position."""
    shape = draw(shape_strategy)
    a = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    idx = tuple(draw(st.integers(0, s - 1)) for s in shape)
    a[idx] = draw(st.sampled_from([NAN, INF, -INF]))
    return a


square = st.integers(1, 4).map(lambda d: (d, d))


@given(poisoned(square))
def test_a_non_finite_entry_anywhere_in_W_is_rejected_by_every_factor_function(W):
    for fn in (factors.nuclear_norm, factors.balanced_factors):
        with pytest.raises(InvalidInputError, match=r"^W: must be finite"):
            fn(W)


@given(poisoned(st.just((2, 2))), st.sampled_from(["B", "W", "Sigma_x"]))
def test_a_non_finite_entry_anywhere_in_a_model_matrix_is_rejected_naming_it(M, name):
    args = dict(B=np.eye(2), W=np.eye(2), beta=1.0, Sigma_x=2 * np.eye(2), k=3) | {name: M}
    with pytest.raises(InvalidInputError, match=rf"^{name}: must be finite"):
        sm.make_model(**args)


@given(poisoned(st.tuples(st.integers(2, 4), st.just(2))), st.sampled_from(["X", "Z"]))
def test_a_non_finite_token_entry_is_rejected_by_the_head_analysis(M, name):
    args = dict(X=np.ones_like(M), Z=np.ones_like(M)) | {name: M}
    A = np.full((M.shape[0], M.shape[0]), 1.0 / M.shape[0])
    with pytest.raises(InvalidInputError, match=rf"^{name}: must be finite"):
        smoothing_heads.analyse_head(args["X"], args["Z"], A, np.eye(2))


@given(poisoned(st.tuples(st.integers(1, 3), st.integers(1, 3))))
def test_a_non_finite_score_is_rejected_by_every_attention_kind(S):
    for kind in att.KINDS:
        with pytest.raises(InvalidInputError, match=r"^S: must be finite"):
            att.attention(S, kind)


# ---- the command line ------------------------------------------------------------------------------------


def _cli(*args):
    return CliRunner().invoke(main, list(args))


def _one_line_error(result, fragment):
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    return result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


@pytest.mark.parametrize("args, fragment", [
    (["smoothing", "--n", "-3"], "n: must be an integer >= 1"),
    (["smoothing", "--n-seq", "0"], "n_seq: must be an integer >= 2"),
    (["smoothing", "--n", "2", "--seed", "-1"], "seed: must be an integer >= 0"),
    (["report", "--only", "cost.identity", "--seed", "-1", "--no-progress"], "--seed: must be an integer >= 0"),
])
def test_bad_cli_numbers_give_one_line_errors_and_exit_2(args, fragment, tmp_path):
    if args[0] == "report":
        args = args + ["--out", str(tmp_path / "r")]
    result = _cli(*args)
    assert _one_line_error(result, fragment), result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--out", "--plot"])
def test_smoothing_output_under_a_regular_file_is_an_error_and_writes_nothing(option, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    other = "--plot" if option == "--out" else "--out"
    result = _cli("smoothing", "--n", "2", "--n-seq", "4", option, str(blocker / "x"), other, str(tmp_path / "ok.png"))
    assert _one_line_error(result, option), result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_report_output_under_a_regular_file_is_an_error_and_writes_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _cli("report", "--only", "cost.identity", "--no-progress", "--out", str(blocker / "r"))
    assert _one_line_error(result, "--out"), result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_report_output_in_proc_is_an_error():
    result = _cli("report", "--only", "cost.identity", "--no-progress", "--out", "/proc/nonexistent/x")
    assert _one_line_error(result, "--out"), result.output


# ---- files the mutation harness reads ----------------------------------------------------------------------


def test_a_truncated_mutmut_results_file_is_an_error_naming_the_file(tmp_path):
    meta = tmp_path / "mutants" / "sinkcheck" / "theory" / "x.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": {"sinkcheck.theory.x.x_f__mutmut_1": 1}})[:20])
    with pytest.raises(InvalidInputError, match=r"^mutants: cannot read mutmut results .*x\.py\.meta"):
        mutation.read_results(tmp_path)


@pytest.mark.parametrize("text, fragment", [("[[equivalent]]\nfunction = ", "not valid TOML"),
                                            ('[[equivalent]]\nfunction = "a.b"\n', "lacks change, reason")])
def test_a_corrupted_equivalence_file_is_an_error_naming_the_problem(tmp_path, text, fragment):
    path = tmp_path / "eq.toml"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=rf"^equivalent: .*{fragment}"):
        mutation.load_equivalent(path)
