"""``sinkcheck sweep`` and ``sinkcheck results`` in-process (``--workers 0``): SPEC rules, task
seeds and keys, the results database, resume, failures as rows, counterexample files, views.
The Dask runs (a real scheduler and workers) are in tests/test_sweep_distributed.py."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

import pytest
from click.testing import CliRunner

from sinkcheck.cli import main
from sinkcheck.errors import InvalidInputError
from sinkcheck.evaluate.sinkdiag_result import Evaluation, Inequality, PatternResult, Verdict
from sinkcheck.sweep import kinds as K
from sinkcheck.sweep import spec as S

SMALL = {"kind": "sinkdiag", "seed": 3, "parameters": {"d": 9, "C": [1, 2], "r_eta": 2, "lam": [0.2, 20.0]}}


def run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def write_spec(path, spec: dict):
    path.write_text(json.dumps(spec))
    return path


def sweep(tmp_path, spec: dict, out="out", *extra):
    f = write_spec(tmp_path / f"{out}.json", spec)
    res = run(["sweep", str(f), "--out", str(tmp_path / out), "--workers", "0", "--no-progress", *extra])
    assert res.exit_code == 0, res.output
    return res


def test_a_task_seed_depends_on_its_parameters_not_on_its_place_in_the_sweep():
    forward = S.parse(SMALL)
    backward = S.parse({**SMALL, "parameters": {**SMALL["parameters"], "C": [2, 1], "lam": [20.0, 0.2]}})
    assert [t.key for t in forward.tasks] != [t.key for t in backward.tasks]
    assert {t.key: t.seed for t in forward.tasks} == {t.key: t.seed for t in backward.tasks}
    assert len({t.seed for t in forward.tasks}) == len(forward.tasks) == 4


def test_another_sweep_seed_gives_other_task_seeds_and_keys():
    a, b = S.parse(SMALL), S.parse({**SMALL, "seed": 4})
    assert not {t.seed for t in a.tasks} & {t.seed for t in b.tasks}
    assert not {t.key for t in a.tasks} & {t.key for t in b.tasks}


def test_a_default_spelled_out_or_an_int_for_a_float_gives_the_same_task():
    spelled = {**SMALL, "parameters": {**SMALL["parameters"], "kappa": 1, "fallback": True}}
    assert [t.key for t in S.parse(spelled).tasks] == [t.key for t in S.parse(SMALL).tasks]


def test_seeds_cross_every_point_with_its_replicates():
    tasks = S.parse({**SMALL, "seeds": 3}).tasks
    assert len(tasks) == 12 and sorted(t.params["replicate"] for t in tasks) == [0] * 4 + [1] * 4 + [2] * 4


def test_random_draws_the_same_points_for_the_same_seed_within_the_ranges():
    spec = {"kind": "sinkdiag", "random": 20, "parameters": {
        "lam": {"range": [0.1, 10.0], "log": True}, "d": {"range": [9, 16]}, "C": [1, 2]}}
    a, b = S.parse(spec).tasks, S.parse(spec).tasks
    other = S.parse({**spec, "seed": 1}).tasks
    assert [t.key for t in a] == [t.key for t in b] != [t.key for t in other]
    assert all(0.1 <= t.params["lam"] <= 10.0 and 9 <= t.params["d"] <= 16 and t.params["C"] in (1, 2) for t in a)
    assert len({t.params["lam"] for t in a}) == 20


@pytest.mark.parametrize("change, fragment", [
    ({"kind": "sinkdag"}, "kind: must be one of dormant, sinkdiag, trigger, variant (got 'sinkdag')"),
    ({"parameters": {"colour": [1]}}, "parameters.colour: unknown parameter of kind sinkdiag"),
    ({"parameters": {"lam": []}}, "parameters.lam: must be a value or a non-empty list"),
    ({"parameters": {"d": [9, -4]}}, "parameters.d: must be an integer >= 3 (got -4)"),
    ({"parameters": {"lam": ["big"]}}, "parameters.lam: must be a number (got 'big')"),
    ({"parameters": {"lam": {"range": [0.1, 1]}}}, "parameters.lam: a range needs random: N"),
    ({"random": 5, "parameters": {"lam": {"range": [2.0, 1.0]}}}, "parameters.lam.range: must have lo <= hi"),
    ({"seeds": 0}, "seeds: must be an integer >= 1 (got 0)"),
    ({"colour": 1}, "colour: unknown key of a SPEC"),
])
def test_a_bad_spec_is_a_one_line_error_naming_the_key_and_the_rule_and_writes_nothing(tmp_path, change, fragment):
    f = write_spec(tmp_path / "bad.json", {**SMALL, **change})
    res = run(["sweep", str(f), "--out", str(tmp_path / "out"), "--workers", "0"])
    assert res.exit_code == 2 and res.output.startswith("error: ") and fragment in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_a_yaml_spec_gives_the_same_tasks_as_its_json(tmp_path):
    (tmp_path / "s.yaml").write_text("kind: sinkdiag\nseed: 3\nparameters:\n  d: 9\n  C: [1, 2]\n"
                                     "  r_eta: 2\n  lam: [0.2, 20.0]\n")
    assert [t.key for t in S.read(tmp_path / "s.yaml").tasks] == [t.key for t in S.parse(SMALL).tasks]


def test_an_unparsable_spec_is_an_input_error_naming_the_file(tmp_path):
    (tmp_path / "s.yaml").write_text("kind: [sinkdiag\n")
    with pytest.raises(InvalidInputError, match="SPEC: cannot parse s.yaml"):
        S.read(tmp_path / "s.yaml")


def test_a_rerun_computes_only_the_missing_rows_and_ends_with_the_bytes_of_one_run(tmp_path):
    part = {**SMALL, "parameters": {**SMALL["parameters"], "lam": [0.2]}}
    first = sweep(tmp_path, part, "resumed")
    assert first.output.startswith("2 tasks: 0 already in")
    second = sweep(tmp_path, SMALL, "resumed", "--extend")  # SMALL has the part's tasks and two more
    assert second.output.startswith("4 tasks: 2 already in") and " 2 run now (0 failed)" in second.output
    third = sweep(tmp_path, SMALL, "resumed")
    assert " 0 run now" in third.output
    sweep(tmp_path, SMALL, "fresh")
    assert (tmp_path / "resumed" / "rows.jsonl").read_bytes() == (tmp_path / "fresh" / "rows.jsonl").read_bytes()


def test_a_spec_point_that_can_never_run_is_a_spec_error_before_anything_is_written(tmp_path):
    spec = {**SMALL, "parameters": {**SMALL["parameters"], "d": 6}}  # C = 2 needs d >= 7
    f = write_spec(tmp_path / "s.json", spec)
    res = run(["sweep", str(f), "--out", str(tmp_path / "out"), "--workers", "0"])
    assert res.exit_code == 2 and res.output == "error: parameters.d: must be >= 2C + 1 + r_eta = 7 (got 6)\n"
    assert not (tmp_path / "out").exists()


def test_a_task_that_raises_anything_is_a_failed_row_with_its_type_and_message_and_is_listed(tmp_path, monkeypatch):
    real = K.SINKDIAG.run

    def poisoned(params, seed, device="cpu"):  # a solver library's own error on one point
        if params["lam"] == 20.0:
            raise ZeroDivisionError("float division by zero")
        return real(params, seed, device)

    monkeypatch.setattr(K, "get", lambda name: dataclasses.replace(K.SINKDIAG, run=poisoned))
    res = sweep(tmp_path, SMALL, "out", "--table")
    assert "4 run now (2 failed)" in res.output
    rows = [json.loads(line) for line in (tmp_path / "out" / "rows.jsonl").read_text().splitlines()]
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(rows) == 4 and len(failed) == 2 and all(r["params"]["lam"] == 20.0 and r["result"] is None for r in failed)
    assert all(r["error"] == "ZeroDivisionError: float division by zero" for r in failed)
    listed = json.loads((tmp_path / "out" / "tables" / "failures.json").read_text())["rows"]
    assert sorted(r["key"] for r in listed) == sorted(r["key"] for r in failed)


def test_the_database_holds_every_number_exactly_with_wall_time_and_worker_outside_the_export(tmp_path):
    from sinkcheck.sweep.kinds import run_sinkdiag

    sweep(tmp_path, SMALL)
    con = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    rows = con.execute("SELECT params, seed, result, wall_time, worker FROM tasks").fetchall()
    assert len(rows) == 4 and all(r[3] > 0 and r[4] == "in-process" for r in rows)
    params, seed, result = json.loads(rows[0][0]), rows[0][1], json.loads(rows[0][2])
    direct = Evaluation.from_json(run_sinkdiag(params, seed))
    stored = Evaluation.from_json(result)
    assert stored.sink.opt == direct.sink.opt and stored.diag.lower == direct.diag.lower and stored == direct
    export = (tmp_path / "out" / "rows.jsonl").read_text()
    assert "wall_time" not in export and "in-process" not in export
    assert [json.loads(line)["key"] for line in export.splitlines()] == sorted(json.loads(line)["key"] for line in export.splitlines())


def test_a_counterexample_file_reloads_in_bounds_with_the_same_violation(tmp_path):
    sweep(tmp_path, SMALL)
    rows = [json.loads(line) for line in (tmp_path / "out" / "rows.jsonl").read_text().splitlines()]
    row = next(r for r in rows if r["counterexample"] and r["params"]["lam"] == 0.2)  # U_sink fails at lam = 0.2
    stored = Evaluation.from_json(row["result"])
    assert stored.sink.verdict(Inequality.OPT_UPPER).verdict == "violated"
    again = Evaluation.from_json(json.loads(run(["bounds", "--instance", str(tmp_path / "out" / row["counterexample"]),
                                                 "--format", "json", "--no-progress"]).stdout))
    assert again.sink.verdict(Inequality.OPT_UPPER).verdict == "violated"
    assert again.sink.opt == pytest.approx(stored.sink.opt, rel=1e-9)
    kept = sorted(p.name for p in (tmp_path / "out" / "counterexamples").iterdir())
    assert kept == sorted(f"{r['key']}.npz" for r in rows if r["counterexample"])


def test_views_count_violations_by_hypothesis_and_find_the_lambda_threshold(tmp_path):
    sweep(tmp_path, SMALL, "out", "--table")
    tables = tmp_path / "out" / "tables"
    assert {p.suffix for p in tables.iterdir()} == {".md", ".csv", ".tex", ".json"}
    viol = {(r["pattern"], r["inequality"]): r for r in json.loads((tables / "violations.json").read_text())["rows"]}
    u_sink = viol[("sink", Inequality.OPT_UPPER)]
    assert u_sink["violated outside hypothesis"] == 2 and u_sink["violated inside hypothesis"] == 0  # lam = 0.2 < 1
    thr = [r for r in json.loads((tables / "lambda_threshold.json").read_text())["rows"] if r["bound"] == "U_sink"]
    assert [(r["largest lambda violated"], r["holds from lambda"]) for r in thr] == [(0.2, 20.0), (0.2, 20.0)]
    assert (tmp_path / "out" / "figures" / "lambda_threshold.png").read_bytes()[:4] == b"\x89PNG"


def evaluation(verdicts: dict | None = None, instance: dict | None = None) -> Evaluation:
    """A made-up evaluation whose patterns both have ``verdicts`` (every inequality "holds" by default)."""
    verdicts = {i: Verdict("holds", 1.0) for i in Inequality} | (verdicts or {})
    x = PatternResult(lower=1.0, opt=2.0, opt_lower=2.0, opt_upper=2.0, construction=3.0, upper=4.0, value_cost=0.0,
                      lower_proved=1.0, status="optimal", solver="SCS", construction_min_margin=0.0,
                      construction_valid=True, verdicts=verdicts, error=None)
    return Evaluation(instance or {}, True, x, x, 1.0, "undecided", hypotheses={})


def test_the_violations_table_names_a_counterexample_file_only_for_an_inequality_it_violates():
    from sinkcheck.sweep.views import violation_table

    def row(key, slacks, file):  # slack < 0: violated
        verdicts = {i: Verdict("violated" if slack < 0 else "holds", slack) for i, slack in slacks.items()}
        return {"key": key, "counterexample": file, "result": evaluation(verdicts).to_json()}
    # task a is the worst for both inequalities, but violates only opt<=upper
    rows = [row("a", {Inequality.OPT_UPPER: -2.0, Inequality.LOWER_OPT: 0.1}, "counterexamples/a.npz"), row("b", {}, None)]
    got = {(r[0], r[1]): r for r in violation_table(rows).rows}
    assert got[("sink", Inequality.OPT_UPPER)][-2:] == ["a", "counterexamples/a.npz"]
    assert got[("sink", Inequality.LOWER_OPT)][-2:] == ["a", None]


def test_results_rewrites_the_same_tables_from_the_database(tmp_path):
    sweep(tmp_path, SMALL, "out", "--table")
    before = (tmp_path / "out" / "tables" / "violations.csv").read_bytes()
    res = run(["results", str(tmp_path / "out")])
    assert res.exit_code == 0 and (tmp_path / "out" / "tables" / "violations.csv").read_bytes() == before


def test_results_of_a_directory_without_a_database_is_a_one_line_error(tmp_path):
    res = run(["results", str(tmp_path)])
    assert res.exit_code == 2 and res.output.startswith("error: DIR: holds no sweep database")


def test_bad_resources_are_a_one_line_error_and_write_nothing(tmp_path):
    f = write_spec(tmp_path / "s.json", SMALL)
    res = run(["sweep", str(f), "--out", str(tmp_path / "out"), "--workers", "0", "--resources", "GPU"])
    assert res.exit_code == 2 and res.output.startswith("error: --resources: must be NAME=AMOUNT")
    assert not (tmp_path / "out").exists()


@pytest.mark.torch
def test_a_trigger_sweep_trains_each_run_and_tabulates_the_means(tmp_path):
    spec = {"kind": "trigger", "seeds": 2, "parameters": {"attention": ["softmax", "relu"], "steps": 3, "T": 4,
                                                           "batch": 8}}
    sweep(tmp_path, spec, "out", "--table")
    rows = [json.loads(line) for line in (tmp_path / "out" / "rows.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r["status"] == "ok" and r["result"]["device"] == "cpu" for r in rows)
    means = json.loads((tmp_path / "out" / "tables" / "trigger_means.json").read_text())["rows"]
    assert [(m["attention"], m["runs"]) for m in means] == [("relu", 2), ("softmax", 2)]
    sweep(tmp_path, spec, "again")
    assert (tmp_path / "out" / "rows.jsonl").read_bytes() == (tmp_path / "again" / "rows.jsonl").read_bytes()


@pytest.mark.torch
def test_a_dormant_sweep_trains_one_run_per_task(tmp_path):
    spec = {"kind": "dormant", "parameters": {"steps": 2, "n_embd": 16, "n_layer": 1, "weight_decay": [0.0, 1.0]}}
    sweep(tmp_path, spec, "out", "--table")
    rows = [json.loads(line) for line in (tmp_path / "out" / "rows.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["status"] == "ok" and 0 <= r["result"]["sink"] <= 1 for r in rows)


def test_a_bad_training_parameter_names_the_parameter_and_the_rule():
    with pytest.raises(InvalidInputError, match=r"parameters.heads: must be an integer >= 1 \(got 0\)"):
        S.parse({"kind": "trigger", "parameters": {"heads": [1, 0]}})


def test_a_sinkdiag_tasks_hypothesis_flags_follow_the_exact_ranges_of_the_lower_bounds(monkeypatch):
    # C = 17, lam = 1000 with the fallback, neither H1 nor H2: L_diag's QK part is proved for every C,
    # L_sink's only for C <= 15 (docs/sink_vs_diagonal.md, the exact ranges)
    import sinkcheck.evaluate.sinkdiag_eval as ev

    monkeypatch.setattr(ev, "evaluate", lambda inst, fallback: evaluation(instance={"Delta_diag": 1.0}))
    monkeypatch.setattr(K, "sinkdiag_instance", lambda params, seed: None)
    params = dict(d=64, C=17, n=2, r_eta=2, lam=1000.0, kappa=1.0, centred=False, equal_norms=False, fallback=True)
    sink, diag = ("sink", Inequality.LOWER_OPT), ("diag", Inequality.LOWER_OPT)
    flags = Evaluation.from_json(K.run_sinkdiag(params, 0)).hypotheses
    assert flags[sink] is False and flags[diag] is True
    flags = Evaluation.from_json(K.run_sinkdiag({**params, "C": 15}, 0)).hypotheses
    assert flags[sink] is True
    flags = Evaluation.from_json(K.run_sinkdiag({**params, "fallback": False}, 0)).hypotheses
    assert flags[sink] is False and flags[diag] is False


def wide_bracket(kind, params, seed, device):
    """A work function whose one task ends like a solve with a wide certified bracket."""
    from sinkcheck.errors import WideBracketError

    raise WideBracketError("bracket [0.5, 2.0] too wide", lower=0.5, upper=2.0)


def test_a_failed_task_reraises_its_own_error_type_with_its_bracket_serially_and_from_the_database(tmp_path):
    from sinkcheck.errors import WideBracketError
    from sinkcheck.runtime import engine
    from sinkcheck.runtime.db import ResultsDB
    from sinkcheck.runtime.outcome import TaskError
    from sinkcheck.runtime.tasks import Task

    task = Task("sinkdiag", {"lam": 1.0}, 0)
    got = []
    engine.run([task], wide_bracket, lambda t, o: got.append(o))
    with pytest.raises(WideBracketError, match="too wide") as err:
        got[0].value()
    assert (err.value.lower, err.value.upper) == (0.5, 2.0)
    with ResultsDB(tmp_path, create=True) as db:
        db.write(task, got[0])
        row = db.rows()[0]
    assert row["error"] == "WideBracketError: bracket [0.5, 2.0] too wide"
    again = TaskError.from_json(row["error_record"]).exception()
    assert type(again) is WideBracketError and (again.lower, again.upper) == (0.5, 2.0)


def test_an_ill_conditioned_task_keeps_its_certified_lower_bound_and_other_errors_name_their_type():
    from sinkcheck.errors import IllConditionedError, SolverError
    from sinkcheck.runtime.outcome import TaskError

    record = TaskError.of(IllConditionedError("t* = 1e-12 too small", lower=float("inf")))
    again = TaskError.from_json(json.loads(json.dumps(record.to_json()))).exception()
    assert type(again) is IllConditionedError and again.lower == float("inf") and str(again) == "t* = 1e-12 too small"
    again = TaskError.of(MemoryError("no room")).exception()
    assert type(again) is SolverError and str(again) == "MemoryError: no room"
