"""optuna-dashboard on one study of a storage (``automl dashboard``)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from automl.errors import AutoMLError, install_hint
from automl.store import proxy
from automl.store.storage import load_study, open_storage, storage_url, study_id

log = logging.getLogger("automl")


class _Quiet(WSGIRequestHandler):
    """No line per request on stderr (``--debug`` logs them)."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("dashboard: " + format, *args)


def serve(
    name: str,
    storage: str | None,
    host: str,
    port: int,
    on_ready: Callable[[str, bool], None],
) -> None:
    """Serve optuna-dashboard for the storage until Ctrl-C; ``on_ready(url, exposed)`` gets
    the study's page once the port is bound (``exposed``: reachable beyond this machine)."""
    try:
        import optuna_dashboard
    except ImportError:
        raise AutoMLError(
            f"automl dashboard needs optuna-dashboard: {install_hint('dashboard')}"
        ) from None
    url = storage_url(storage)
    opened = open_storage(url)
    study = load_study(name, opened, url)  # one line when there is no such study
    app = optuna_dashboard.wsgi(opened)
    server: WSGIServer = make_server(host, port, app, handler_class=_Quiet)
    stops = (signal.SIGINT, signal.SIGTERM)
    main = threading.current_thread() is threading.main_thread()
    # Ctrl-C and SIGTERM stop it even where SIGINT came in ignored (a parent that ignores
    # it, nohup, a batch shell): Python then leaves it ignored.
    # The handler asks the server to stop rather than raising KeyboardInterrupt, which a
    # request in flight would catch (wsgiref prints it and serves on).
    previous = {s: signal.signal(s, _stopper(server)) for s in stops} if main else {}
    try:
        bound = server.server_address[1]
        page = f"http://{proxy.bracketed(host)}:{bound}/dashboard/studies/{study_id(study)}"
        on_ready(page, not proxy.loopback(host))
        server.serve_forever()
    finally:
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stopper(server: WSGIServer) -> Callable[[int, Any], None]:
    """A signal handler that ends ``server.serve_forever()`` after the request in hand."""

    def stop(signum: int, frame: Any) -> None:
        # shutdown() waits for serve_forever's loop, which runs in this (the main) thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    return stop
