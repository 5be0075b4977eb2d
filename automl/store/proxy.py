"""A storage served over gRPC: nodes reach the study through the conductor, not the database.

``automl serve-storage --storage URL`` runs Optuna's gRPC storage proxy in front of any
storage automl opens (a journal file, SQLite, PostgreSQL, MySQL, Redis); workers, readers
and other conductors then use ``grpc://HOST:PORT`` as their storage URL and need no
database driver, credentials or shared file system. The proxy has no authentication and
no encryption: whoever reaches its port can read and write every study behind it, so it
binds 127.0.0.1 unless told otherwise (see the threat model in the docs).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import threading
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import optuna

from automl.errors import StorageError, install_hint
from automl.store.redact import mask

SCHEME = "grpc"
DEFAULT_PORT = 13000  # Optuna's default
CONNECT_TIMEOUT_S = 10.0
THREADS = 16  # requests served at once; a request holds a thread for milliseconds


def address(url: str) -> tuple[str, int]:
    """The host and port of ``grpc://HOST:PORT``; a one-line error for any other form."""
    form = "grpc://HOST:PORT, e.g. grpc://127.0.0.1:13000"
    try:
        parsed = urllib.parse.urlsplit(url)
        port = parsed.port
    except ValueError:
        port = None
        parsed = None
    if (
        parsed is None
        or parsed.scheme.lower() != SCHEME
        or not parsed.hostname
        or port is None
        or parsed.username is not None
        or parsed.path not in ("", "/")
        or parsed.query
        or parsed.fragment
    ):
        raise StorageError(f"--storage: {mask(url)!r} is not a gRPC storage URL; write {form}")
    return parsed.hostname, port


def _grpc() -> Any:
    # gRPC's C core logs to the terminal (a taken port, a lost connection): automl says
    # what matters in one line instead. Read when grpc is first imported.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        import grpc
        from google import protobuf  # noqa: F401 - Optuna's messages need it
    except ImportError:
        raise StorageError(
            f"a grpc:// storage needs grpcio and protobuf: {install_hint('grpc')}"
        ) from None
    return grpc


def connect(url: str, timeout: float = CONNECT_TIMEOUT_S) -> optuna.storages.BaseStorage:
    """A client of the proxy at ``url``, once the proxy answers (else a one-line error)."""
    host, port = address(url)
    _grpc()
    client = optuna.storages.GrpcStorageProxy(host=host, port=port)
    try:
        client.wait_server_ready(timeout=timeout)
    except ConnectionError:
        client.close()
        raise StorageError(
            f"cannot open storage {url}: no storage proxy answers at {host}:{port} within "
            f"{timeout:g} s (start one there with: automl serve-storage --port {port})"
        ) from None
    return client


def loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def start(
    storage: optuna.storages.BaseStorage, host: str, port: int, threads: int = THREADS
) -> tuple[Any, int]:
    """Start serving ``storage`` on ``host:port`` (0: any free port): the server, its port."""
    grpc = _grpc()
    from optuna.storages._grpc import servicer
    from optuna.storages._grpc.auto_generated import api_pb2_grpc

    if isinstance(storage, optuna.storages.RDBStorage):
        # Optuna's cache in front of a database: what its own proxy docs recommend.
        storage = optuna.storages._CachedStorage(storage)
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="automl-proxy")
    # No SO_REUSEPORT: a second server on a taken port must fail, not share its clients.
    server = grpc.server(pool, options=[("grpc.so_reuseport", 0)])
    api_pb2_grpc.add_StorageServiceServicer_to_server(
        servicer.OptunaStorageProxyService(storage), server
    )
    try:
        bound = server.add_insecure_port(f"{bracketed(host)}:{port}")
    except RuntimeError:
        bound = 0
    if not bound:
        pool.shutdown(wait=False)
        raise StorageError(
            f"cannot serve the storage on {host}:{port}: the address is taken or not this machine's"
        )
    server.start()
    return server, bound


def bracketed(host: str) -> str:
    """A host as a URL or address takes it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def serve(
    storage: optuna.storages.BaseStorage,
    host: str,
    port: int,
    *,
    threads: int = THREADS,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM; ``on_ready`` gets the port once clients can connect."""
    server, bound = start(storage, host, port, threads)
    stopped = threading.Event()

    def stop(*_: object) -> None:
        stopped.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if on_ready is not None:
            on_ready(bound)
        while not stopped.wait(0.5):
            pass
    finally:
        server.stop(grace=5).wait(10)
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)
