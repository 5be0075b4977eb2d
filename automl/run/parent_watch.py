"""A worker process ends with its conductor: no worker trains on for a sweep nobody runs.

The conductor passes its pid in ``AUTOML_PARENT_PID``. On Linux the worker asks the
kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``, through the C library
that is loaded, glibc or musl), then checks that the parent is still the conductor, since
it may have died before the request. Elsewhere, or when the request fails, a watchdog
thread polls the parent pid. This replaces a ``preexec_fn``, which Python documents as
able to deadlock a child forked while other threads (the progress bar) run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

ENV = "AUTOML_PARENT_PID"
POLL_S = 1.0
PR_SET_PDEATHSIG = 1


def watch(parent_pid: int | None = None) -> str:
    """Arrange to get SIGTERM once the conductor is gone; exits at once if it already is.

    Returns how it watches: ``kernel``, ``thread`` or ``none`` (no conductor named).
    """
    if parent_pid is None:
        value = os.environ.get(ENV, "")
        parent_pid = int(value) if value.isdigit() else None
    if parent_pid is None:
        return "none"
    how = "kernel" if _deathsig() else "thread"
    if os.getppid() != parent_pid:  # died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)
        return how
    if how == "thread":
        threading.Thread(
            target=_poll, args=(parent_pid,), daemon=True, name="automl-parent"
        ).start()
    return how


def _deathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)) == 0
    return False


def _poll(parent_pid: int) -> None:
    stop = threading.Event()
    while not stop.wait(POLL_S):
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)
            return
