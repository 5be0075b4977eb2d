"""``automl serve-storage``: a storage served over gRPC, so nodes need no database access."""

from __future__ import annotations

import sys

import typer

from automl.cli.app import StorageOpt, command, err, out
from automl.errors import StorageError


@command
def serve_storage(
    storage: str | None = StorageOpt,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (127.0.0.1: this machine only)."
    ),
    port: int = typer.Option(
        13000, "--port", min=0, max=65535, help="Port to listen on (0: a free one, printed)."
    ),
    threads: int = typer.Option(16, "--threads", min=1, help="Requests served at once."),
) -> None:
    """Serve a storage over gRPC: workers then use --storage grpc://HOST:PORT.

    Workers and readers need no database driver, password or shared file system. The port
    has no password and no encryption: whoever reaches it can read and write every study
    behind it. Keep the default 127.0.0.1 and tunnel (ssh -L), or listen on a private network.
    """
    from automl.store import proxy
    from automl.store.storage import mask, open_storage, storage_url

    url = storage_url(storage)
    if url.lower().startswith(f"{proxy.SCHEME}://"):
        raise StorageError(
            f"serve-storage: --storage {mask(url)} is a proxy itself; give the database or "
            "journal file it should serve"
        )
    opened = open_storage(url)

    def ready(bound: int) -> None:
        shown = proxy.bracketed(host)
        out.print(f"serving {mask(url)} at grpc://{shown}:{bound} (Ctrl-C stops)", soft_wrap=True)
        if not proxy.loopback(host):
            err.print(
                f"[yellow]warning:[/yellow] anyone who reaches {shown}:{bound} can read and write "
                "every study in this storage (no password, no encryption)",
                soft_wrap=True,
            )
        sys.stdout.flush()

    proxy.serve(opened, host, port, threads=threads, on_ready=ready)
    raise typer.Exit(0)


@command
def dashboard(
    study: str = typer.Argument(..., help="The study's name (see: automl studies)."),
    storage: str | None = StorageOpt,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (127.0.0.1: this machine only)."
    ),
    port: int = typer.Option(
        8080, "--port", min=0, max=65535, help="Port to listen on (0: a free one, printed)."
    ),
) -> None:
    """Show a study in optuna-dashboard: trials, history, importances, live as it runs.

    Needs the dashboard extra (optuna-dashboard). The page can rename and delete studies
    and write notes: whoever reaches the port can change the storage. Keep the default
    127.0.0.1 and tunnel (ssh -L) to look from elsewhere.
    """
    from automl.store import dashboard as board

    board.serve(study, storage, host, port, on_ready=_announce)
    raise typer.Exit(0)


def _announce(url: str, exposed: bool) -> None:
    out.print(f"optuna-dashboard at {url} (Ctrl-C stops)", soft_wrap=True)
    if exposed:
        err.print(
            "[yellow]warning:[/yellow] anyone who reaches this address can change and delete "
            "the studies in this storage",
            soft_wrap=True,
        )
    sys.stdout.flush()
