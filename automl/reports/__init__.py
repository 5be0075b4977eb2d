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
    """``reports/<study>.html`` (or ``reports/<a>_vs_<b>-<hash>.html`` for a comparison).

    A name that had to change to be a safe file name (``a/b``, ``a b``, ``éé``) gets a
    short hash of the real name(s) too, so that no two studies share a report file.
    """
    import hashlib
    import json
    import re

    safe = [re.sub(r"[^A-Za-z0-9_.-]+", "_", n).lstrip(".") or "_" for n in study_names]
    stem = "_vs_".join(safe) or "report"
    if len(safe) != 1 or safe[0] != study_names[0] or len(stem) > 150:
        digest = hashlib.sha256(json.dumps(list(study_names)).encode("utf-8")).hexdigest()
        stem = f"{stem[:150]}-{digest[:8]}"
    return DEFAULT_DIR / f"{stem}.html"


def write_report(
    studies: Sequence[StudyRecord], path: str | Path | None = None, *, overwrite: bool = True
) -> Path:
    """Write one HTML file about one study, or comparing several; returns its path.

    Args:
        studies: the studies' records (:func:`automl.store.records.read_study`); two or more
            add a comparison section.
        path: the file to write (parent folders are created); an existing folder gets
            the default file name inside; None: :func:`default_path`.
        overwrite: replace an existing file (a symbolic link is replaced, never followed).

    Raises:
        AutoMLError: when no sweep is given, or the file exists and ``overwrite`` is false.
    """
    from automl.errors import AutoMLError
    from automl.reports.collect import collect
    from automl.reports.html import render

    studies = list(studies)
    if not studies:
        raise AutoMLError("a report needs at least one study")
    names = [s.name for s in studies]
    out = default_path(names) if path is None else Path(path).expanduser()
    if out.is_dir() and not out.is_symlink():
        out = out / default_path(names).name
    if not overwrite and os.path.lexists(out):
        raise AutoMLError(f"{out} exists; not replaced (--force replaces it)")
    page = render(collect(studies))
    out.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per writer: two processes writing the same report never mix.
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)  # a reader never sees half a page
    return out
