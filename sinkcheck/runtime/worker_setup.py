"""Run by every local Dask worker process as it starts (the LocalCluster's ``preload``): Ctrl-C is
the client's to handle (it cancels the tasks and stops the cluster), so a worker ignores SIGINT,
also one that its nanny restarted after the sweep began (the first ones already start with it
ignored, :func:`sinkcheck.runtime.engine.session`). A worker's standard output goes to the null
device: the client's stdout is the user's (a summary, JSON), and a solver library may print there
from C (SCS prints "Failure:interrupted" when Ctrl-C reaches it through its own handler). Dask's
own log in a worker is silenced below CRITICAL: a task's error reaches the user as a failed row (its
type and message), and a worker whose scheduler stops first (Ctrl-C) would otherwise print a
heartbeat traceback on the user's terminal."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading


def dask_setup(worker) -> None:
    """Dask's preload hook: ignore SIGINT, silence file descriptor 1 and Dask's log below CRITICAL in
    this worker process."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    sys.stdout.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
