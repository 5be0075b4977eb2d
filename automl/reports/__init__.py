"""Self-contained HTML reports: collect (pure) -> figures (Plotly) -> one HTML file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automl.api import Sweep

DEFAULT_DIR = Path("reports")


def default_path(study_names: Sequence[str]) -> Path:
    """``reports/<study>.html`` (or ``reports/<a>_vs_<b>.html`` for a comparison)."""
    import re

    stem = "_vs_".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", n) for n in study_names) or "report"
    return DEFAULT_DIR / f"{stem[:150]}.html"


def write_report(sweeps: Sequence[Sweep], path: str | Path | None = None) -> Path:
    """Write one HTML file about one sweep, or comparing several; returns its path."""
    raise NotImplementedError("reports are being built")
