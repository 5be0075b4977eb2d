"""Samples as a reader returns them, and the label encoding every reader shares."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class RawData:
    """Samples as read from a source, before any fitted preprocessing.

    Attributes:
        x: features: an array, or a DataFrame for CSV sources.
        y: targets: class indices for classification, floats for regression.
        task: ``classification`` or ``regression``.
        kind: ``image``, ``audio``, ``text``, ``sequence``, ``tabular`` or ``array``;
            decides the preprocessing in :func:`prepare`.
        name: a short name of the source, for reports.
        classes: class names in index order (classification).
        scale: a fixed divisor for image pixel values (no fitting needed).
        skipped: unreadable files left out (``data.skip_bad_files``).
        options: reader settings that preprocessing needs (sample rate, tokenizer mode).
    """

    x: Any
    y: np.ndarray
    task: str
    kind: str
    name: str
    classes: list[str] = field(default_factory=list)
    scale: float | None = None
    skipped: int = 0
    options: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A short hash that tells whether two loads gave the same samples: shapes, labels
        and every feature value (a changed cell or pixel changes it)."""
        h = hashlib.sha1()
        h.update(str((len(self.y), _shape(self.x))).encode())
        h.update(np.ascontiguousarray(self.y).tobytes())
        h.update(_feature_bytes(self.x))
        return h.hexdigest()[:16]


def _feature_bytes(x: Any) -> bytes:
    if isinstance(x, pd.DataFrame):
        return pd.util.hash_pandas_object(x, index=False).to_numpy().tobytes()
    arr = np.asarray(x)
    if arr.dtype.kind in "OUS":  # texts, file paths
        return "\x00".join(map(str, arr.reshape(-1))).encode("utf-8", "replace")
    return np.ascontiguousarray(arr).tobytes()


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in (x.shape if hasattr(x, "shape") else (len(x),)))


def encode_labels(values: pd.Series | np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Class indices in sorted order of the labels, and the label names.

    Numeric labels sort by value and whole floats are named as integers (``1.0`` -> ``1``).
    """
    arr = np.asarray(values)
    if arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0):
        arr = arr.astype("int64")
    uniques, codes = np.unique(arr.astype(str), return_inverse=True)
    numbers = [_number(u) for u in uniques]
    if all(n is not None for n in numbers):
        order = sorted(range(len(uniques)), key=lambda i: numbers[i])  # type: ignore[arg-type,return-value]
        remap = np.empty(len(order), dtype="int64")
        remap[order] = np.arange(len(order))
        return remap[codes].astype("int32"), [str(uniques[i]) for i in order]
    return codes.astype("int32"), [str(u) for u in uniques]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
