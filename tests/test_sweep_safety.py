"""A sweep directory survives what users and machines do to it: a task that raises, a rerun after
failures, a changed SPEC, an upgrade, two sweeps at once, a damaged or foreign database, and
SPECs too large to run (docs/sweeps.md, "Sweep directories, reruns and clusters")."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sinkcheck.cli import main
from sinkcheck.core.marker import MARKER
from sinkcheck.errors import InvalidInputError, SolverError
from sinkcheck.runtime import engine
from sinkcheck.sweep import kinds as K
from sinkcheck.sweep import spec as S
from sinkcheck.sweep.resume import run_sweep

SPEC = {"kind": "sinkdiag", "seed": 3, "seeds": 2, "parameters": {"d": 9, "C": 1, "r_eta": 2, "lam": [0.5, 2.0, 4.0]}}
"""6 tasks of a few tens of ms each."""


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_spec(path: Path, spec: dict) -> Path:
    path.write_text(json.dumps(spec))
    return path


def sweep(tmp_path: Path, spec: dict = SPEC, out: str = "out", *extra):
    return invoke("sweep", write_spec(tmp_path / f"{out}.json", spec), "--out", tmp_path / out, "--workers", "0",
                  "--no-progress", *extra)


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]


def poison(monkeypatch, lam: float = 2.0, exc=RuntimeError("ScsWork allocation error")) -> None:
    """Make every task at ``lam`` raise ``exc`` (a solver library's own error) where it runs."""
    real = K.SINKDIAG.run

    def run(params, seed, device="cpu"):
        if params["lam"] == lam:
            raise exc
        return real(params, seed, device)

    monkeypatch.setattr(K, "get", lambda name: dataclasses.replace(K.SINKDIAG, run=run))


def one_line(res, fragment: str, code: int = 2) -> bool:
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    return res.exit_code == code and len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


# ---- failures are rows, and are retried -------------------------------------------------------------


def test_a_poison_task_is_a_failed_row_and_every_other_row_is_done(tmp_path, monkeypatch):
    poison(monkeypatch)
    res = sweep(tmp_path)
    assert res.exit_code == 0 and "6 run now (2 failed)" in res.output
    got = rows(tmp_path / "out")
    assert sorted(r["status"] for r in got) == ["failed"] * 2 + ["ok"] * 4
    assert {r["error"] for r in got if r["status"] == "failed"} == {"RuntimeError: ScsWork allocation error"}


def test_strict_exits_1_when_a_task_failed(tmp_path, monkeypatch):
    poison(monkeypatch)
    assert sweep(tmp_path, SPEC, "out", "--strict").exit_code == 1


def test_a_poison_task_on_dask_workers_is_a_failed_row_and_the_sweep_finishes(tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    poison(monkeypatch)  # thread workers share this process, so they see the poisoned kind
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        counts = run_sweep(S.parse(SPEC), tmp_path / "out", client=client)
    assert counts == {"tasks": 6, "skipped": 0, "retried": 0, "done": 6, "failed": 2}
    assert sum(r["status"] == "failed" for r in rows(tmp_path / "out")) == 2


def test_a_task_whose_worker_died_is_a_failed_row():
    class Died(Exception):
        pass

    outcome = engine.failed(Died("worker tcp://127.0.0.1:1 died 3 times"))
    assert outcome.status == "failed" and outcome.error.text == "Died: worker tcp://127.0.0.1:1 died 3 times"
    again = outcome.error.exception()  # not a sinkcheck error: a SolverError naming its type
    assert type(again) is SolverError and str(again) == "Died: worker tcp://127.0.0.1:1 died 3 times"


def test_a_rerun_retries_only_the_failed_rows_and_the_export_holds_one_row_per_task(tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        poison(m)
        sweep(tmp_path)
    first = {r["key"]: r for r in rows(tmp_path / "out")}
    res = sweep(tmp_path)
    assert res.exit_code == 0
    assert "6 tasks: 4 already in" in res.output and "2 run now (0 failed; 2 of them retried" in res.output
    again = rows(tmp_path / "out")
    assert len(again) == len({r["key"] for r in again}) == 6 and all(r["status"] == "ok" for r in again)
    assert all(first[r["key"]] == r for r in again if first[r["key"]]["status"] == "ok")
    sweep(tmp_path, SPEC, "fresh")
    assert (tmp_path / "out" / "rows.jsonl").read_bytes() == (tmp_path / "fresh" / "rows.jsonl").read_bytes()


# ---- one SPEC, one version, one writer per directory --------------------------------------------------


def test_another_spec_into_the_same_directory_is_refused_unless_extend(tmp_path):
    sweep(tmp_path)
    db = (tmp_path / "out" / "results.sqlite").read_bytes()
    other = {**SPEC, "parameters": {**SPEC["parameters"], "lam": [0.5, 8.0]}}
    res = sweep(tmp_path, other, "out")
    assert one_line(res, "holds a sweep of another SPEC") and "--extend" in res.output
    assert (tmp_path / "out" / "results.sqlite").read_bytes() == db
    res = sweep(tmp_path, other, "out", "--extend")
    assert res.exit_code == 0 and "2 run now" in res.output and len(rows(tmp_path / "out")) == 8


def test_a_spec_of_another_kind_is_refused_even_with_extend(tmp_path):
    sweep(tmp_path)
    res = sweep(tmp_path, {"kind": "trigger", "parameters": {"steps": 1}}, "out", "--extend")
    assert one_line(res, "holds sinkdiag tasks, not trigger ones")


def test_a_database_of_another_sinkcheck_version_is_refused_naming_both_versions(tmp_path):
    sweep(tmp_path)
    con = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    con.execute("UPDATE sinkcheck SET value = '0.0.1' WHERE name = 'version'")
    con.commit()
    con.close()
    res = sweep(tmp_path)
    assert one_line(res, "holds rows computed by sinkcheck 0.0.1") and "rows of two versions are not mixed" in res.output


def test_a_task_key_does_not_depend_on_the_package_version(monkeypatch):
    from sinkcheck.runtime import tasks

    keys = [t.key for t in S.parse(SPEC).tasks]
    monkeypatch.setattr(tasks, "__version__", "9.9.9", raising=False)
    assert [t.key for t in S.parse(SPEC).tasks] == keys


def test_two_concurrent_sweeps_into_one_directory_compute_each_task_once_and_results_may_read_meanwhile(tmp_path):
    spec = write_spec(tmp_path / "s.json", {**SPEC, "seeds": 150})  # 450 tasks: long enough to overlap
    cmd = [str(Path(sys.executable).parent / "sinkcheck"), "sweep", str(spec), "--out", str(tmp_path / "out"),
           "--workers", "0", "--no-progress"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 120
        while not (tmp_path / "out" / "results.sqlite").exists() and time.monotonic() < end:
            time.sleep(0.05)
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        views = subprocess.run([cmd[0], "results", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
        running = first.poll() is None
    finally:
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode == 2 and "is being written by another sinkcheck process" in second.stderr
    assert views.returncode == 0, views.stderr  # the views may be written while a sweep runs
    assert running, "the first sweep ended before the others started: make its SPEC longer"
    con = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    assert con.execute("SELECT count(*), count(DISTINCT key) FROM tasks").fetchone() == (450, 450)


# ---- damaged and foreign databases --------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncate", "random", "schema", "json"])
def test_a_damaged_database_is_a_one_line_error_naming_the_file(tmp_path, damage):
    sweep(tmp_path)
    db = tmp_path / "out" / "results.sqlite"
    if damage == "truncate":
        db.write_bytes(db.read_bytes()[:300])
    elif damage == "random":
        db.write_bytes(os.urandom(8192))
    else:
        con = sqlite3.connect(db)
        con.execute("DROP TABLE sinkcheck" if damage == "schema" else "UPDATE tasks SET result = '{not json'")
        con.commit()
        con.close()
    for res in (sweep(tmp_path), invoke("results", tmp_path / "out")):
        assert one_line(res, "results.sqlite"), res.output


def test_another_programs_database_is_refused_and_never_written(tmp_path):
    out = tmp_path / "out"
    sweep(tmp_path)
    db = out / "results.sqlite"
    for f in out.glob("results.sqlite*"):
        f.unlink()
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE tasks (x INTEGER)")
    con.commit()
    con.close()
    before = db.read_bytes()
    res = invoke("results", out)
    assert one_line(res, "was not made by sinkcheck")
    assert db.read_bytes() == before and not Path(f"{db}-wal").exists()
    assert one_line(sweep(tmp_path), "was not made by sinkcheck") and db.read_bytes() == before


def test_results_of_a_directory_another_program_wrote_is_refused(tmp_path):
    (tmp_path / "theirs").mkdir()
    sqlite3.connect(tmp_path / "theirs" / "results.sqlite").close()
    assert one_line(invoke("results", tmp_path / "theirs"), "DIR: is a non-empty directory that sinkcheck did not write")


def test_a_read_only_sweep_directory_is_a_one_line_error(tmp_path, monkeypatch):
    from sinkcheck.core import files

    sweep(tmp_path)
    out = str(tmp_path / "out")
    real = files.writable
    monkeypatch.setattr(files, "writable", lambda p: False if str(p) == out else real(p))
    assert one_line(sweep(tmp_path), "--out: must be a writable directory")


# ---- SPECs too large to run, and bad addresses --------------------------------------------------------


@pytest.mark.parametrize("change, fragment", [
    ({"seeds": 1_000_000_000}, "the SPEC has 3000000000 tasks, more than the limit of 100000"),
    ({"random": 1_000_000_000}, "the SPEC has 2000000000 tasks"),
    ({"parameters": {"d": 9, "C": 1, "r_eta": 2, "lam": [0.5 + i / 1e4 for i in range(400)],
                     "kappa": [1.0 + i / 1e4 for i in range(400)]}}, "the SPEC has 320000 tasks"),
    ({"parameters": {"d": 10**29, "C": 1, "r_eta": 2}}, "parameters.d, C, n, r_eta: the instance d = 10"),
    ({"parameters": {"d": 9, "C": 1, "r_eta": 2, "lam": 1e300}}, "parameters.lam: must lie in [1e-06, 1000000.0]"),
])
def test_a_spec_that_can_never_run_is_refused_fast_and_writes_nothing(tmp_path, change, fragment):
    started = time.monotonic()
    res = sweep(tmp_path, {**SPEC, **change})
    assert one_line(res, fragment) and time.monotonic() - started < 10
    assert not (tmp_path / "out").exists()


def test_max_tasks_raises_the_limit(tmp_path):
    assert one_line(sweep(tmp_path, SPEC, "out", "--max-tasks", "5"), "the SPEC has 6 tasks, more than the limit of 5")
    assert sweep(tmp_path, SPEC, "out", "--max-tasks", "6").exit_code == 0


def test_a_dormant_spec_too_wide_to_train_is_refused():
    with pytest.raises(InvalidInputError, match=r"^parameters\.n_embd, n_layer, n_head, batch_size: one training run"):
        S.parse({"kind": "dormant", "parameters": {"n_embd": 1_000_000_000, "n_head": 1}})


@pytest.mark.parametrize("text, fragment", [
    ("kind: sinkdiag\nkind: trigger\n", "kind: appears twice"),
    ('{"kind": "sinkdiag", "kind": "trigger"}', "kind: appears twice"),
    ("kind: sinkdiag\nparameters:\n  d: 9\n  d: 10\n", "d: appears twice"),
    ("[" * 100_000, "SPEC: cannot parse"),
])
def test_a_spec_with_a_repeated_key_or_absurd_nesting_is_a_one_line_error(tmp_path, text, fragment):
    f = tmp_path / ("s.json" if text.startswith(("{", "[")) else "s.yaml")
    f.write_text(text)
    res = invoke("sweep", f, "--out", tmp_path / "out", "--workers", "0")
    assert one_line(res, fragment), res.output


@pytest.mark.parametrize("address", ["not a url", "http://127.0.0.1:8786", "tcp://127.0.0.1:99999", "tcp://host"])
def test_a_scheduler_address_that_is_not_tcp_host_port_is_refused_before_anything(tmp_path, address, monkeypatch):
    res = sweep(tmp_path, SPEC, "out", "--scheduler", address)
    assert one_line(res, "--scheduler: must be a Dask scheduler address like tcp://HOST:PORT")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    res = sweep(tmp_path, SPEC, "out")
    assert one_line(res, "DASK_SCHEDULER_ADDRESS: must be a Dask scheduler address")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", ["GPU=nan", "GPU=inf", "GPU=-1", "GPU", "=1"])
def test_resources_must_be_finite_positive_amounts(text):
    with pytest.raises(InvalidInputError, match=r"^--resources: must be NAME=AMOUNT"):
        engine.parse_resources(text)


def test_local_workers_without_a_loopback_interface_fail_fast(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise OSError(99, "Cannot assign requested address")

    monkeypatch.setattr(socket.socket, "bind", refuse)
    with pytest.raises(InvalidInputError, match=r"^--workers: cannot start local Dask workers: 127\.0\.0\.1"):
        engine.check_loopback()


def test_a_copied_marker_does_not_make_a_foreign_database_sinkchecks(tmp_path):
    sweep(tmp_path)
    (tmp_path / "theirs").mkdir()
    shutil.copy(tmp_path / "out" / MARKER, tmp_path / "theirs" / MARKER)
    (tmp_path / "theirs" / "results.sqlite").write_bytes(b"SQLite format 3\0" + bytes(100))
    assert one_line(invoke("results", tmp_path / "theirs"), "results.sqlite")


def test_random_points_that_break_a_joint_rule_are_drawn_again_and_the_draws_stay_seeded():
    spec = {"kind": "sinkdiag", "random": 40, "parameters": {"C": {"range": [1, 6]}, "d": {"range": [9, 14]},
                                                              "r_eta": 2, "lam": {"range": [0.5, 2.0]}}}
    tasks = S.parse(spec).tasks
    assert len(tasks) == 40 and all(t.params["d"] >= 2 * t.params["C"] + 3 for t in tasks)
    assert len({t.params["C"] for t in tasks}) > 1 and [t.key for t in S.parse(spec).tasks] == [t.key for t in tasks]


@pytest.mark.parametrize("parameters, fragment", [
    ({"C": {"range": [5, 6]}, "d": {"range": [9, 10]}, "r_eta": 2}, "every one of 1000 random draws broke it"),
    ({"d": {"range": [9, 10**30]}}, "parameters.d.range: an integer range must end below 2^63"),
])
def test_a_random_spec_that_can_never_draw_a_runnable_point_is_a_one_line_error(tmp_path, parameters, fragment):
    res = sweep(tmp_path, {"kind": "sinkdiag", "random": 3, "parameters": parameters})
    assert one_line(res, fragment) and not (tmp_path / "out").exists()


def test_a_worker_process_ignores_ctrl_c_and_keeps_stdout_and_dasks_error_log_off_the_users_terminal():
    # what the preload does in each local Dask worker (a heartbeat traceback after Ctrl-C was seen on stderr)
    import subprocess
    import sys

    code = ("import logging, signal, sys\n"
            "from sinkcheck.runtime.worker_setup import dask_setup\n"
            "dask_setup(None)\n"
            "print('to stdout')\n"
            "logging.getLogger('distributed.worker').error('heartbeat failed')\n"
            "sys.stderr.write(str(signal.getsignal(signal.SIGINT) is signal.SIG_IGN))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "True", r.stderr
