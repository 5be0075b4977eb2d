"""The ``automl`` command: thin Typer commands over the API.

The commands live in :mod:`automl.cli.run` (tune, worker, watch), :mod:`automl.cli.read`
(spaces, studies, best, export, recommend, devices, report) and :mod:`automl.cli.serve`
(serve-storage, dashboard); the app, common options and the mapping of errors to exit codes in
:mod:`automl.cli.app`.
"""

from __future__ import annotations

import sys

# Importing registers the commands, in this order in `automl --help`.
# isort: off
from automl.cli import run as cli_run  # noqa: F401
from automl.cli import read as cli_read  # noqa: F401
from automl.cli import serve as cli_serve  # noqa: F401

# isort: on
from automl.cli.app import app, err

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/yellow]")
        sys.exit(130)
