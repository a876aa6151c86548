"""Running tasks: in-process and serially, or on ``dask.distributed``.

:func:`execute` runs one task where it lands (a worker, or this process) and returns its outcome;
any exception of the task (a SolverError, a solver library's own error, MemoryError) becomes a
"failed" :class:`~sinkcheck.runtime.outcome.Outcome` carrying it as a typed record (its type,
message and data), never a lost task or an aborted sweep; so does a
task that Dask cannot finish (its worker died). :func:`session` gives no client
(``workers=0``: serial, in-process), a client of an existing scheduler (``scheduler``, or the
``DASK_SCHEDULER_ADDRESS`` environment variable), or a client of an embedded ``LocalCluster`` of
``workers`` processes (one thread each). :func:`run` submits the tasks and hands each outcome to a
callback as it finishes, in this process (so only the client writes results), under a progress bar.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import signal
import socket
import threading
import time
from typing import Any, Callable, Iterator

from tqdm import tqdm

from sinkcheck import __version__
from sinkcheck.errors import InvalidInputError
from sinkcheck.runtime.outcome import Outcome, TaskError
from sinkcheck.runtime.tasks import Task

ENV_SCHEDULER = "DASK_SCHEDULER_ADDRESS"
ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
"""A Dask scheduler address as sinkcheck accepts it (tcp or tls, a host, and a port)."""


def scheduler_address(scheduler: str | None) -> str | None:
    """The scheduler to use: ``scheduler`` (``--scheduler``), else ``DASK_SCHEDULER_ADDRESS``, else
    None; checked to be ``tcp://HOST:PORT`` (or tls://) before anything starts."""
    name, value = ("--scheduler", scheduler) if scheduler is not None else (ENV_SCHEDULER, os.environ.get(ENV_SCHEDULER))
    if value is None or (name == ENV_SCHEDULER and not value.strip()):
        return None
    match = ADDRESS.match(value.strip())
    if not match or not 0 < int(match.group(3)) < 65536:
        raise InvalidInputError(f"{name}: must be a Dask scheduler address like tcp://HOST:PORT (got {value!r})")
    return value.strip()


def check_loopback() -> None:
    """Fail fast when local workers cannot listen on 127.0.0.1 (instead of a LocalCluster that hangs)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            with socket.create_connection(s.getsockname(), timeout=2):
                pass
    except OSError as exc:
        raise InvalidInputError(f"--workers: cannot start local Dask workers: 127.0.0.1 is not reachable "
                                f"({exc.strerror or exc}); use --workers 0 or --scheduler") from None


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "in-process"


Work = Callable[[str, dict, int, str], Any]
"""What a task does, ``work(kind, params, seed, device) -> result`` (a module-level function, so that
Dask can send it to a worker by name)."""


def execute(work: Work, kind: str, params: dict, seed: int, device: str = "cpu") -> Outcome:
    """Run one task; its outcome: "ok" with the result, or "failed" with the typed error, plus the
    package version, the wall time and the worker."""
    start = time.perf_counter()
    try:
        result, error = work(kind, params, seed, device), None
    except Exception as exc:  # noqa: BLE001 -- every failure of a task is a row, not a lost sweep
        result, error = None, TaskError.of(exc)
    return Outcome("ok" if error is None else "failed", result, error, __version__, time.perf_counter() - start,
                   _worker_name())


def failed(exc: BaseException) -> Outcome:
    """The outcome of a task that never returned one (its worker died, or Dask gave up on it)."""
    return Outcome("failed", None, TaskError.of(exc), __version__, 0.0, "unknown")


def parse_resources(text: str | None) -> dict[str, float]:
    """``"GPU=1"`` or ``"GPU=1,MEM=4e9"`` -> {"GPU": 1.0, ...} (Dask worker resources)."""
    out: dict[str, float] = {}
    for item in filter(None, (text or "").split(",")):
        name, _, amount = item.partition("=")
        try:
            value = float(amount)
        except ValueError:
            value = -1.0
        if not name.strip() or not math.isfinite(value) or value <= 0:
            raise InvalidInputError(f"--resources: must be NAME=AMOUNT[,NAME=AMOUNT] with AMOUNT > 0 (got {text!r})")
        out[name.strip()] = value
    return out


@contextlib.contextmanager
def session(workers: int | None = None, scheduler: str | None = None,
            resources: dict[str, float] | None = None) -> Iterator[object | None]:
    """A Dask client (closed on exit, with its cluster), or None for the serial in-process engine.

    ``scheduler`` (or DASK_SCHEDULER_ADDRESS) wins over ``workers``; ``workers`` None means one
    process per core; a LocalCluster's workers declare ``resources``."""
    scheduler = scheduler_address(scheduler)
    if scheduler is None and workers == 0:
        yield None
        return
    import logging

    import dask
    from distributed import Client, LocalCluster

    if scheduler is None:
        check_loopback()

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InvalidInputError(f"--scheduler: cannot reach a Dask scheduler at {scheduler} ({exc})") from None
        with client:
            yield client
        return
    n = workers if workers is not None else (os.cpu_count() or 1)
    with _sigint_ignored(), dask.config.set({ENVIRON: worker_environ()}):  # Ctrl-C: the client's, see above
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, resources=resources or None, silence_logs=logging.ERROR,
                               preload=["sinkcheck.runtime.worker_setup"])
    with cluster, Client(cluster) as client:
        yield client


ENVIRON = "distributed.nanny.pre-spawn-environ"
"""Dask's configuration key for the environment its worker processes start with."""


def worker_environ() -> dict:
    """Dask's worker environment without its ``MALLOC_TRIM_THRESHOLD_`` (65536): with it, glibc
    returns freed memory to the system so often that torch's many small allocations make a training
    task about 1.8 times slower in a worker than in-process (benchmarks/bench_variants.py); glibc's
    own adaptive threshold is kept instead."""
    import dask

    return {k: v for k, v in dask.config.get(ENVIRON, {}).items() if k != "MALLOC_TRIM_THRESHOLD_"}


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while child processes start (in the main thread; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(tasks: list[Task], work: Work, on_outcome: Callable[[Task, Outcome], None], client=None,
        resources: dict[str, float] | None = None, progress: bool = False, desc: str = "sweep",
        trains: Callable[[Task], bool] = lambda task: False) -> dict[str, int]:
    """Run ``work`` on each of ``tasks`` (in order when serial, as they finish on Dask) and call
    ``on_outcome(task, outcome)`` for each in this process. The tasks that ``trains`` ask for
    ``resources`` (e.g. {"GPU": 1}) and then run on "cuda". Returns {"done": ..., "failed": ...}."""
    counts = {"done": 0, "failed": 0}
    bar = tqdm(total=len(tasks), desc=desc, unit="task", disable=not progress, dynamic_ncols=True)

    def finished(task: Task, outcome: Outcome) -> None:
        on_outcome(task, outcome)
        counts["done"] += 1
        counts["failed"] += not outcome.ok
        bar.set_postfix(failed=counts["failed"], remaining=len(tasks) - counts["done"], refresh=False)
        bar.update(1)

    def device(task: Task) -> str:
        return "cuda" if resources and "GPU" in resources and trains(task) else "cpu"

    try:
        if client is None:
            for t in tasks:
                finished(t, execute(work, t.kind, t.params, t.seed, device(t)))
            return counts
        from distributed import as_completed

        by_key = {}
        for t in tasks:
            asks = resources if (resources and trains(t)) else None
            fut = client.submit(execute, work, t.kind, t.params, t.seed, device(t), key=f"sinkcheck-{t.key}",
                                resources=asks, pure=False)
            by_key[fut.key] = (t, fut)
        try:
            for fut in as_completed([f for _, f in by_key.values()]):
                task, _ = by_key.pop(fut.key)
                try:
                    outcome = fut.result()
                except Exception as exc:  # noqa: BLE001 -- the worker died, or Dask gave up on the task
                    outcome = failed(exc)
                finished(task, outcome)
                fut.release()
        finally:
            if by_key:  # interrupted: let the scheduler forget what this client will not collect
                client.cancel([f for _, f in by_key.values()])
        return counts
    finally:
        bar.close()
