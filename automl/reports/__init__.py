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
    """Write one HTML file about one sweep, or comparing several; returns its path.

    Args:
        sweeps: the sweeps; two or more add a comparison section.
        path: the file to write (parent folders are created); an existing folder gets
            the default file name inside; None: :func:`default_path`.

    Raises:
        AutoMLError: when no sweep is given.
    """
    from automl.errors import AutoMLError
    from automl.reports.collect import collect
    from automl.reports.html import render

    sweeps = list(sweeps)
    if not sweeps:
        raise AutoMLError("a report needs at least one study")
    names = [s.study_name for s in sweeps]
    out = default_path(names) if path is None else Path(path).expanduser()
    if out.is_dir():
        out = out / default_path(names).name
    page = render(collect(sweeps))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)  # a reader never sees half a page
    return out
