"""The Typer app shared by the command modules: the app, common options, error handling.

The library raises :class:`~automl.errors.AutoMLError`; only the CLI turns errors into
one-line messages and exit codes (a traceback only with ``--debug``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from automl.cli.tables import printable
from automl.errors import AutoMLError

app = typer.Typer(
    name="automl",
    help="Tune Keras models from YAML search spaces (Optuna inside).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: rich panels label every flag <bool>, as if it took a value.
    rich_markup_mode=None,
)


class _Console(Console):
    """A console that never passes a control character of a string on to the terminal."""

    def render_str(self, text: str, *args: Any, **kwargs: Any) -> Any:
        return super().render_str(printable(text), *args, **kwargs)


out = _Console(highlight=False)
err = _Console(stderr=True, highlight=False, soft_wrap=True)
STATE = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])

StorageOpt = typer.Option(
    None,
    "--storage",
    envvar="AUTOML_STORAGE",
    show_envvar=True,
    help="Optuna storage URL (default: ./automl_studies/journal.log).",
)
JsonOpt = typer.Option(False, "--json", help="Print one JSON document on stdout, nothing else.")
SetOpt = typer.Option(
    [],
    "--set",
    metavar="KEY=VALUE",
    help="Replace a spec field: KEY=VALUE, dotted KEY, YAML VALUE (repeatable).",
)


def _json(doc: Any) -> None:
    from automl.cli.output import dumps

    typer.echo(dumps(doc))


def command(fn: F) -> F:
    """Register a command whose AutoMLErrors become one line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except AutoMLError as exc:
            if STATE["debug"]:
                raise
            err.print(f"[red]error:[/red] {_escape(_scrub(str(exc)))}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/yellow]")
            raise typer.Exit(130) from None
        except Exception as exc:
            if STATE["debug"]:
                raise
            if _disk_full(exc):
                filename = getattr(exc, "filename", None)
                where = f" {filename}" if filename else ""
                err.print(
                    f"[red]error:[/red] cannot write{_escape(where)}: the disk is full or a "
                    "file-size limit is reached; free space, then --resume"
                )
                raise typer.Exit(1) from None
            text = _scrub(str(exc)).strip().splitlines()[0] if str(exc).strip() else ""
            err.print(
                f"[red]error:[/red] {type(exc).__name__}: {_escape(text)} "
                "(run with --debug for the traceback)"
            )
            raise typer.Exit(1) from None

    app.command()(wrapper)
    return wrapper  # type: ignore[return-value]


def _disk_full(exc: BaseException) -> bool:
    from automl.errors import disk_full

    return disk_full(exc)


def _scrub(text: str) -> str:
    """A message leaves the process with every known password masked."""
    from automl.store.redact import mask

    return mask(text)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _version(value: bool) -> None:
    if value:
        from automl._version import __version__

        typer.echo(f"automl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and framework logs."),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    STATE["debug"] = debug
    if debug:
        from automl import _env

        _env.show_framework_logs()
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        logging.getLogger("automl").setLevel(logging.DEBUG)
