"""Self-contained HTML reports: collect (pure) -> figures (Plotly) -> one HTML file."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automl.store.records import StudyRecord

DEFAULT_DIR = Path("reports")


def default_path(study_names: Sequence[str]) -> Path:
    """``reports/<study>.html`` (or ``reports/<a>_vs_<b>.html`` for a comparison)."""
    import re

    stem = "_vs_".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", n) for n in study_names) or "report"
    return DEFAULT_DIR / f"{stem[:150]}.html"


def write_report(studies: Sequence[StudyRecord], path: str | Path | None = None) -> Path:
    """Write one HTML file about one study, or comparing several; returns its path.

    Args:
        studies: the studies' records (:func:`automl.store.records.read_study`); two or more
            add a comparison section.
        path: the file to write (parent folders are created); an existing folder gets
            the default file name inside; None: :func:`default_path`.

    Raises:
        AutoMLError: when no sweep is given.
    """
    from automl.errors import AutoMLError
    from automl.reports.collect import collect
    from automl.reports.html import render

    studies = list(studies)
    if not studies:
        raise AutoMLError("a report needs at least one study")
    names = [s.name for s in studies]
    out = default_path(names) if path is None else Path(path).expanduser()
    if out.is_dir():
        out = out / default_path(names).name
    page = render(collect(studies))
    out.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per writer: two processes writing the same report never mix.
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)  # a reader never sees half a page
    return out
