"""Connecting to the Ray cluster of ``--ray``: one line when it cannot be reached, and
Ray's own output kept quiet unless ``--debug``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import warnings
from typing import Any

from automl.errors import ClusterError, install_hint

log = logging.getLogger("automl")
CONNECT_S = 10.0  # to reach the cluster's port before Ray is asked (it retries for minutes)
CLIENT_PORT = 10001  # Ray Client's port when a ray:// address names none
# A busy head may not start a client's own server within Ray's 30 s; asked again, it may.
CLIENT_TRIES = 3
CLIENT_FAILED = "Initialization failure from server"


def connect(address: str) -> tuple[Any, bool]:
    """Ray, connected to ``address``; True when this call connected (and must disconnect).

    Raises:
        ClusterError: Ray is not installed, or the cluster cannot be reached (one line).
    """
    try:
        import ray
    except ImportError:
        raise ClusterError(
            f"--ray needs Ray here and on every node; run: {install_hint('ray')}"
        ) from None
    if ray.is_initialized():  # ours (made before the study), or the caller's: left open
        return ray, _connected[0]
    check_reachable(address)
    debug = log.isEnabledFor(logging.DEBUG)
    try:
        _init(ray, address, debug)
    except Exception as exc:  # noqa: BLE001 - Ray's own errors, of many types: one line
        if "Could not find any running Ray instance" in str(exc):
            raise ClusterError(
                f"--ray {address}: no Ray cluster found (RAY_ADDRESS is not set and no `ray "
                "start` ran on this machine); give its address: HOST:PORT or ray://HOST:10001"
            ) from None
        raise ClusterError(f"--ray {address}: cannot connect: {line(exc)}") from None
    if not debug:
        _quiet(ray, True)
    _connected[0] = True
    return ray, True


def _init(ray: Any, address: str, debug: bool) -> None:
    """``ray.init``, asked again when Ray Client's head could not start our server in time."""
    extra: dict[str, Any] = {"include_dashboard": False} if address == "local" else {}
    for attempt in range(1, CLIENT_TRIES + 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ray.init(
                    address=address,
                    logging_level=logging.INFO if debug else logging.ERROR,
                    log_to_driver=debug,
                    **extra,
                )
            return
        except ConnectionAbortedError as exc:  # Ray Client: the head's server, not us
            if attempt == CLIENT_TRIES or not str(exc).startswith(CLIENT_FAILED):
                raise
            log.debug("ray: %s (try %d of %d)", line(exc), attempt, CLIENT_TRIES)
            with contextlib.suppress(Exception):
                ray.shutdown()


_connected = [False]  # whether this module opened the process's connection to Ray


def check_reachable(address: str) -> None:
    """Refuse at once an address whose port does not answer: Ray would retry for minutes."""
    if address in ("auto", "local"):
        return
    scheme, _, rest = address.rpartition("://")
    host, colon, port = rest.rpartition(":")
    if not colon and scheme == "ray":
        host, port = rest, str(CLIENT_PORT)
    if not host or not port.isdigit():
        raise ClusterError(f"--ray: expected auto, HOST:PORT or ray://HOST:PORT; got {address!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_S).close()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ClusterError(
            f"--ray {address}: cannot reach the Ray cluster ({why}); is its head running "
            "(`ray start --head`) and its port open to this machine?"
        ) from None


def disconnect(ray: Any) -> None:
    with contextlib.suppress(Exception):
        ray.shutdown()
    _connected[0] = False
    _quiet(ray, False)


_PRINT = "print_to_stdstream"
_saved: dict[str, Any] = {}


def _quiet(ray: Any, on: bool) -> None:
    """Keep the cluster's error messages (a worker died, ...) off the user's stdout.

    Ray's driver prints them from a thread of its own with no switch to stop it; each is
    logged at debug level instead (``--debug`` shows them). Private Ray API, held here.
    """
    module = ray._private.worker
    if on and _PRINT not in _saved:
        _saved[_PRINT] = getattr(module, _PRINT)

        def to_log(data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            log.debug("ray: %s", " ".join(str(x) for x in data.get("lines") or []))

        setattr(module, _PRINT, to_log)
    elif not on and _PRINT in _saved:
        setattr(module, _PRINT, _saved.pop(_PRINT))


def line(exc: BaseException) -> str:
    """The first line of an error's text, or its type's name; for a Ray Client server's
    failure (a traceback after one line of its own), that line and the traceback's last."""
    lines = [text for text in str(exc).strip().splitlines() if text.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].startswith(CLIENT_FAILED) and len(lines) > 1:
        return f"{lines[0]} {lines[-1].strip()}"[:300]
    return lines[0][:300]
