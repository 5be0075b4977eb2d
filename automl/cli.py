"""The ``automl`` command: thin Typer commands over the API.

The commands live in :mod:`automl.cli_run` (tune, worker, watch) and :mod:`automl.cli_read`
(spaces, studies, best, export, recommend, devices, report); the app, common options and
the mapping of errors to exit codes in :mod:`automl.cli_app`.
"""

from __future__ import annotations

import sys

# Importing registers the commands, in this order in `automl --help`.
# isort: off
from automl import cli_run  # noqa: F401
from automl import cli_read  # noqa: F401

# isort: on
from automl.cli_app import app, err

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/yellow]")
        sys.exit(130)
