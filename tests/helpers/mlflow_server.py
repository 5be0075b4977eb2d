"""A real ``mlflow server`` for tracking tests, and a TCP relay that can cut it off.

``mlflow_server`` starts the server on a free 127.0.0.1 port with a SQLite backend store
and a local artifact folder, and yields its URL; ``Relay`` forwards a port to it until
:meth:`Relay.stop`, which looks to every client like the server going away mid-sweep.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import missing
from tests.helpers.services import free_port

START_S = 180.0  # a cold start creates the SQLite tables: ~30 s on a busy 2-core machine


@contextlib.contextmanager
def mlflow_server(home: Path) -> Iterator[str]:
    """``mlflow server`` on 127.0.0.1 with ``home/mlflow.db`` and ``home/artifacts``."""
    exe = Path(sys.executable).parent / "mlflow"
    if not exe.exists() and not shutil.which("mlflow"):
        missing("the mlflow package (with its server) is not installed: pip install mlflow")
    port = free_port()
    cmd = [str(exe) if exe.exists() else "mlflow", "server", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", "1"]
    cmd += ["--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}"]
    cmd += ["--artifacts-destination", str(home / "artifacts")]
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, home / "server.log")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    end = time.monotonic() + START_S
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=2) as r:
            if r.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"mlflow server did not start in {START_S:.0f} s")


class Relay:
    """Forwards 127.0.0.1:``port`` to ``target`` (host, port) until :meth:`stop`."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.open: list[socket.socket] = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=10)
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        """The server is gone: no new connection, every open one cut."""
        self.stopped = True
        self.listener.close()
        for s in self.open:
            with contextlib.suppress(OSError):
                s.close()
