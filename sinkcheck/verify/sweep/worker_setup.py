"""Run by every local Dask worker process as it starts (the LocalCluster's ``preload``): Ctrl-C is
the client's to handle (it cancels the tasks and stops the cluster), so a worker ignores SIGINT,
also one that its nanny restarted after the sweep began (the first ones already start with it
ignored, :func:`sinkcheck.verify.sweep.engine.session`)."""

from __future__ import annotations

import signal
import threading


def dask_setup(worker) -> None:
    """Dask's preload hook: ignore SIGINT in this worker process."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
