"""A Ray cluster of two nodes (or one) on this machine, on loopback addresses only, for tests and
benchmarks.

Each node is a ``ray start`` with its own session: a head on 127.0.0.2 and a second node on
127.0.0.3, each declaring one CPU and one GPU (Ray hands out GPU ids with no GPU present;
trials then train on the CPU). Ray turns ``127.0.0.1`` into the machine's outside address,
so the nodes take other loopback addresses, which it keeps. Stopping ends every process of
those sessions, by id (never ``ray stop``, which would end other clusters too).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HEAD_IP, NODE_IP = "127.0.0.2", "127.0.0.3"
START_S = 120


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LocalCluster:
    """``ray start`` a head and one more node; ``stop()`` ends all that they started."""

    def __init__(
        self, gpus: int = 1, cpus: int = 1, env: dict[str, str] | None = None, nodes: int = 2
    ) -> None:
        self.gpus, self.cpus, self.nodes = gpus, cpus, nodes
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **(env or {})}
        self.temp_dir = Path(tempfile.mkdtemp(prefix="automl-ray-"))
        self.port = free_port(HEAD_IP)
        self.client_port = free_port(HEAD_IP)
        self.sessions: list[int] = []

    @property
    def address(self) -> str:
        return f"{HEAD_IP}:{self.port}"

    def start(self) -> str:
        """Start both nodes and wait until the cluster holds them; returns its address."""
        common = ["--num-gpus", str(self.gpus), "--num-cpus", str(self.cpus)]
        common += ["--object-store-memory", str(80 * 2**20), "--disable-usage-stats"]
        head = ["--head", "--node-ip-address", HEAD_IP, "--port", str(self.port)]
        head += ["--include-dashboard", "false", "--temp-dir", str(self.temp_dir)]
        head += ["--ray-client-server-port", str(self.client_port)]
        try:
            self._ray_start(head + common)
            if self.nodes > 1:
                node = ["--address", self.address, "--node-ip-address", NODE_IP, *common]
                self._ray_start(node)
            self._wait_for_nodes(self.nodes)
        except BaseException:
            self.stop()
            raise
        return self.address

    def _ray_start(self, args: list[str]) -> None:
        exe = str(Path(sys.executable).parent / "ray")
        proc = subprocess.Popen(
            [exe, "start", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its daemons keep this session: stop() finds them by it
        )
        self.sessions.append(proc.pid)
        out, _ = proc.communicate(timeout=START_S)
        if proc.returncode != 0:
            raise RuntimeError(f"ray start {' '.join(args)} failed:\n{out[-3000:]}")

    def _wait_for_nodes(self, n: int) -> None:
        exe = str(Path(sys.executable).parent / "ray")
        end = time.monotonic() + START_S
        while time.monotonic() < end:
            out = subprocess.run(
                [exe, "status", "--address", self.address],
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if out.count(" node_") >= n:
                return
            time.sleep(1)
        raise RuntimeError(f"the Ray cluster at {self.address} did not reach {n} nodes")

    def client_server_log(self) -> str:
        """The end of the head's Ray Client server logs, to tell why a ray:// connect failed."""
        parts = []
        for path in sorted(self.temp_dir.glob("session_*/logs/ray_client_server*")):
            with contextlib.suppress(OSError):
                parts.append(f"\n--- {path.name}:\n{path.read_text(errors='replace')[-2000:]}")
        return "".join(parts)

    def processes(self) -> list[psutil.Process]:
        """Every process alive in the sessions of this cluster's ``ray start`` runs."""
        found = []
        for proc in psutil.process_iter():
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                if os.getsid(proc.pid) in self.sessions:
                    found.append(proc)
        return found

    def stop(self) -> None:
        """End the cluster's processes (SIGTERM, then SIGKILL after 3 s) and its files."""
        procs = self.processes()
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs(procs, timeout=3)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(alive, timeout=10)
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
