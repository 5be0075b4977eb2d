"""What the benchmark scripts share: a temporary journal storage, the backend's name, a
spec frame on scikit-learn's digits, and fixed-width result tables.

The scripts run as ``python benchmarks/NAME.py``, so this folder is on ``sys.path`` and
``from _common import ...`` finds this module. It imports no deep-learning framework.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def temp_storage() -> Iterator[tuple[Path, str]]:
    """A fresh temporary folder and the URL of a journal storage in it (``journal.log``);
    both are removed on exit."""
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp), str(Path(tmp) / "journal.log")


def backend() -> str:
    """The Keras backend a run uses, as ``KERAS_BACKEND`` names it (TensorFlow if unset)."""
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def digits_spec(
    name: str,
    family: str,
    search: dict[str, Any],
    training: dict[str, Any],
    data: dict[str, Any] | None = None,
    **rest: Any,
) -> dict[str, Any]:
    """A spec dict on scikit-learn's digits with random sampling (seed 0) and no pruning:
    the fixed frame of the timing benchmarks. ``data`` adds to ``{"source": "digits"}``;
    ``rest`` adds top-level keys (``keep``, ``enqueue``)."""
    return {
        "name": name,
        "data": {"source": "digits", **(data or {})},
        "model": {"family": family},
        "search": search,
        "training": training,
        "sampler": {"name": "random", "seed": 0},
        "pruner": {"name": "none"},
        **rest,
    }


# [[fill]align][sign][width][.precision][type]: a title keeps the align and width only.
_SPEC = re.compile(r"(?P<align>[<>^=]?)[+\- ]?(?P<width>\d*)(?:\.\d+)?[a-z%]?")


class Table:
    """A fixed-width text table. Each column is a title and a format spec (``">8.4f"``,
    ``"<14"``): a value is formatted with the whole spec, ``None`` as ``-``, and the title
    with the spec's alignment and width. Columns are joined with ``sep``.

    ``Table(("run", ">4"), ("seconds", ">10.1f")).row(1, 40.03)`` is ``"   1      40.0"``.
    """

    def __init__(self, *columns: tuple[str, str], sep: str = "") -> None:
        self.columns = columns
        self.sep = sep

    @staticmethod
    def _frame(spec: str) -> str:
        m = _SPEC.fullmatch(spec)
        if m is None:
            raise ValueError(f"unsupported column format {spec!r}")
        return m["align"] + m["width"]

    def header(self) -> str:
        """The titles, aligned as their columns."""
        return self.sep.join(f"{t:{self._frame(s)}}" for t, s in self.columns)

    def row(self, *values: Any) -> str:
        """One row; fewer values than columns fill the first columns only."""
        return self.sep.join(
            f"{'-':{self._frame(s)}}" if v is None else f"{v:{s}}"
            for v, (_, s) in zip(values, self.columns, strict=False)
        )
