"""``sinkcheck sweep`` on a real Dask cluster: a ``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1 (random ports), started per test and stopped in a ``finally``. The export,
tables and counterexample files must be the bytes of a serial run, also when a worker is killed
mid-sweep or the client is interrupted (SIGINT) and the sweep rerun."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent
SPEC = {"kind": "sinkdiag", "seed": 7, "seeds": 6,
        "parameters": {"d": 11, "C": [1, 2, 3], "r_eta": 2, "lam": [0.2, 1.0, 20.0], "fallback": [True, False]}}
"""108 tasks of about 0.07 s each (6.6 s serially): long enough to interrupt mid-sweep on a loaded
machine (with 36 tasks, two concurrent test runs saw the client finish before the SIGINT landed),
short enough for CI."""
TOTAL = 108


def env() -> dict:
    e = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    return {**e, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "30s", "PYTHONWARNINGS": "ignore"}


def wait_for(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def dask_cluster(tmp_path: Path, workers: int = 2):
    """A scheduler and ``workers`` single-threaded workers without nannies (a killed worker stays
    dead) on 127.0.0.1; yields (address, worker processes); every process is stopped on exit."""
    info = tmp_path / "scheduler.json"
    procs = []
    cluster_env = {**env(), "PYTHONPATH": str(REPO)}  # the scheduler and workers unpickle the tests' work functions
    try:
        procs.append(subprocess.Popen([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                       "--no-dashboard", "--scheduler-file", str(info)], env=cluster_env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: info.exists() and info.stat().st_size > 0, 60, "the scheduler")
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(workers):
            procs.append(subprocess.Popen([BIN / "dask", "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                           "--no-nanny", "--no-dashboard", "--name", f"w{i}"], env=cluster_env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        code = (f"from distributed import Client\nwith Client({address!r}, timeout='30s') as c:\n"
                f"    c.wait_for_workers({workers}, timeout=60)\n")
        subprocess.run([sys.executable, "-c", code], env=env(), check=True, timeout=120, capture_output=True)
        yield address, procs[1:]
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def sweep_cmd(spec: Path, out: Path, *extra) -> list:
    return [BIN / "sinkcheck", "sweep", str(spec), "--out", str(out), "--no-progress", "--table", *extra]


@contextlib.contextmanager
def interrupted_sweep(spec: Path, out: Path, address: str):
    """The sweep's client process, once 3 rows are in the database and it is still running; it is
    killed on exit if it still runs."""
    # SIGINT at its default disposition in the client: a shell that runs the tests in the background
    # starts them with SIGINT ignored, and Python then installs no KeyboardInterrupt handler
    client = subprocess.Popen(sweep_cmd(spec, out, "--scheduler", address), env=env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait_for(lambda: finished_rows(out) >= 3 or client.poll() is not None, 120, "the first rows")
        assert client.poll() is None and finished_rows(out) < TOTAL  # mid-sweep
        yield client
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()


def outputs(out: Path) -> dict[str, bytes]:
    """The byte-compared files: export, tables, counterexamples (not the database itself)."""
    files = [out / "rows.jsonl", *sorted((out / "tables").iterdir()), *sorted((out / "counterexamples").iterdir())]
    return {str(f.relative_to(out)): f.read_bytes() for f in files}


def finished_rows(out: Path) -> int:
    db = out / "results.sqlite"
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
        try:
            return con.execute("SELECT count(*) FROM tasks").fetchone()[0]
        except sqlite3.OperationalError:  # the table is not created yet
            return 0


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """The SPEC file and the outputs of its serial, in-process run."""
    root = tmp_path_factory.mktemp("serial")
    spec = root / "spec.json"
    spec.write_text(json.dumps(SPEC))
    subprocess.run(sweep_cmd(spec, root / "out", "--workers", "0"), env=env(), check=True, timeout=300)
    got = outputs(root / "out")
    assert json.loads(got["tables/summary.json"])["rows"] == [{"kind": "sinkdiag", "tasks": TOTAL, "ok": TOTAL,
                                                                "failed": 0}]
    assert any(name.startswith("counterexamples/") for name in got)
    return spec, got


def test_a_sweep_on_an_external_scheduler_writes_the_bytes_of_the_serial_run(serial, tmp_path):
    spec, expected = serial
    with dask_cluster(tmp_path) as (address, _):
        res = subprocess.run(sweep_cmd(spec, tmp_path / "out", "--scheduler", address), env=env(),
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        workers = {w for (w,) in sqlite3.connect(tmp_path / "out" / "results.sqlite").execute(
            "SELECT DISTINCT worker FROM tasks")}
    assert outputs(tmp_path / "out") == expected
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)


def test_killing_a_worker_mid_sweep_still_finishes_every_row_with_the_same_bytes(serial, tmp_path):
    spec, expected = serial
    out = tmp_path / "out"
    with dask_cluster(tmp_path) as (address, workers):
        with interrupted_sweep(spec, out, address) as client:
            workers[0].send_signal(signal.SIGKILL)
            stdout, stderr = client.communicate(timeout=300)
        assert client.returncode == 0, stderr[-3000:]
    assert stdout.startswith(f"{TOTAL} tasks: 0 already in") and f"{TOTAL} run now (0 failed)" in stdout
    assert outputs(out) == expected


def test_an_interrupted_client_keeps_its_finished_rows_and_the_rerun_computes_only_the_rest(serial, tmp_path):
    spec, expected = serial
    out = tmp_path / "out"
    with dask_cluster(tmp_path) as (address, _):
        with interrupted_sweep(spec, out, address) as client:
            end = time.monotonic() + 60
            while client.poll() is None and time.monotonic() < end:  # Ctrl-C, again until it stops
                client.send_signal(signal.SIGINT)
                time.sleep(0.1)
            client.communicate(timeout=120)
        assert client.returncode != 0
        con = sqlite3.connect(out / "results.sqlite")
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        kept = con.execute("SELECT count(*), sum(status = 'ok' AND result IS NOT NULL) FROM tasks").fetchone()
        con.close()
        assert 3 <= kept[0] < TOTAL and kept[1] == kept[0]
        res = subprocess.run(sweep_cmd(spec, out, "--scheduler", address), env=env(), capture_output=True,
                             text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.startswith(f"{TOTAL} tasks: {kept[0]} already in")
    assert f"{TOTAL - kept[0]} run now (0 failed)" in res.stdout
    assert outputs(out) == expected


def test_a_local_cluster_of_two_workers_writes_the_bytes_of_the_serial_run(serial, tmp_path):
    spec, expected = serial
    res = subprocess.run(sweep_cmd(spec, tmp_path / "out", "--workers", "2"), env=env(), capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert outputs(tmp_path / "out") == expected


def test_ctrl_c_to_the_whole_process_group_prints_one_line_and_no_worker_traceback(serial, tmp_path):
    spec, _ = serial
    out = tmp_path / "out"
    sweep = subprocess.Popen(sweep_cmd(spec, out, "--workers", "2"), env=env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True,  # a terminal's group
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # even if we ignore it
    try:
        wait_for(lambda: finished_rows(out) >= 3 or sweep.poll() is not None, 120, "the first rows")
        assert sweep.poll() is None, "the sweep ended before Ctrl-C"
        os.killpg(sweep.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the client and its workers
        stdout, stderr = sweep.communicate(timeout=120)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
            sweep.wait()
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert sweep.returncode == 130 and len(lines) == 1 and lines[0].startswith("error: interrupted"), stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert stdout == "", stdout[-3000:]


def test_local_workers_ignore_ctrl_c_also_after_their_nanny_restarted_them():
    from sinkcheck.runtime import engine

    ignored = lambda: signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # noqa: E731
    with engine.session(workers=1) as client:
        assert list(client.run(ignored).values()) == [True]
        client.restart()  # new worker processes, spawned while the client handles Ctrl-C itself
        assert list(client.run(ignored).values()) == [True]
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # the client's own handler is back


def test_local_workers_keep_glibcs_own_trim_threshold_so_torch_trains_as_fast_as_in_process():
    """Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536, which made a training task about
    1.8 times slower in a worker than in-process; the engine's workers start without it, and with
    Dask's other variables (one BLAS thread) as before."""
    from sinkcheck.runtime import engine

    environ = lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS"))  # noqa: E731
    with engine.session(workers=1) as client:
        assert list(client.run(environ).values()) == [(None, "1")]


def test_a_failed_task_on_a_dask_worker_reraises_its_own_error_type_with_its_bracket(tmp_path):
    from sinkcheck.errors import WideBracketError
    from sinkcheck.runtime import engine
    from sinkcheck.runtime.tasks import Task
    from tests.test_sweep import wide_bracket

    got = []
    with dask_cluster(tmp_path, workers=1) as (address, _), engine.session(scheduler=address) as client:
        engine.run([Task("sinkdiag", {"lam": 1.0}, 0)], wide_bracket, lambda t, o: got.append(o), client)
    assert got[0].worker.startswith("tcp://127.0.0.1:")  # it ran on the worker
    with pytest.raises(WideBracketError, match="too wide") as err:
        got[0].value()
    assert (err.value.lower, err.value.upper) == (0.5, 2.0)
