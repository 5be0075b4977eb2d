"""A trial's output into its log: the worker's stdout and stderr while the trial runs.

File descriptors 1 and 2 point at a pipe for the trial, so that a ``print()`` in a build
function, a framework's warning and a native library's own lines all land in the trial's
log (:mod:`automl.store.logs`), whoever writes them. A thread copies the pipe to the log,
passwords and the signing key scrubbed on the way: the raw output is never stored.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import IO

from automl import _env
from automl.store import logs

log = logging.getLogger("automl")
CHUNK = 65536
JOIN_S = 5.0  # a child process that kept the pipe open must not hold the worker
_active = threading.Event()
_warned: list[str] = []


@contextlib.contextmanager
def trial_output(url: str, study: str, number: int) -> Iterator[None]:
    """Send this process's stdout and stderr to trial ``number``'s log inside."""
    try:
        sink = logs.open_sink(url, study, number)
    except OSError as exc:
        if not _warned:  # once a worker: the sweep goes on without logs
            _warned.append(str(exc))
            log.warning("trial logs are not kept: %s", exc)
        yield
        return
    _flush()
    saved = os.dup(1), os.dup(2)
    read_end, write_end = os.pipe()
    pump = threading.Thread(
        target=_pump, args=(read_end, sink), name="automl-trial-log", daemon=True
    )
    pump.start()
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)
    streams = sys.stdout, sys.stderr
    # Python's own streams, line by line, onto the descriptors (also where sys.stdout was
    # not descriptor 1): prints and errors stay in the order they were written.
    sys.stdout, sys.stderr = _text(1), _text(2)
    _env.capturing(True)
    _active.set()
    try:
        yield
    finally:
        _flush()
        _active.clear()
        _env.capturing(False)
        sys.stdout, sys.stderr = streams
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        pump.join(timeout=JOIN_S)  # the pipe's last writer is gone: the pump ends


def note_failure() -> None:
    """Put the traceback of the exception being handled into the trial's log, if one is
    being kept (the stored failure keeps one line of it)."""
    if _active.is_set():
        traceback.print_exc()
        sys.stderr.flush()


def _pump(read_end: int, sink: logs.Sink) -> None:
    """Copy the pipe to the log line by line, scrubbed, until every writer closed it."""
    pending = b""
    writable = True
    try:
        while chunk := os.read(read_end, CHUNK):
            pending += chunk
            done, newline, pending = pending.rpartition(b"\n")
            out = done + newline
            if len(pending) > CHUNK:  # a long line without an end: write it as it is
                out, pending = out + pending, b""
            if out and writable:
                writable = _write(sink.fd, out)
        if pending and writable:
            _write(sink.fd, pending)
    finally:
        os.close(read_end)
        try:
            sink.close()
        except Exception as exc:  # noqa: BLE001 - a log that cannot be sent costs no trial
            log.debug("trial log not sent: %s", exc)


def _write(fd: int, data: bytes) -> bool:
    """Write scrubbed; False once the log cannot take more (the pipe is still drained)."""
    view = memoryview(logs.scrub(data.decode("utf-8", errors="replace")).encode("utf-8"))
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        return False
    return True


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):  # what C code printed through stdio's buffers
        import ctypes

        ctypes.CDLL(None).fflush(None)


def _text(fd: int) -> IO[str]:
    """A line-buffered text stream on descriptor ``fd`` that leaves it open when closed."""
    return open(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
