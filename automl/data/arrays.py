"""Arrays or a DataFrame given from Python, stored once with the study as an artifact.

``automl.tune(build, data=(x, y))`` and ``automl.Tuner.search(x, y, ...)`` write the
samples into the study's artifact store (:func:`to_bytes`); this reader loads them back,
so workers need only the study name and storage URL. Arrays reach the model unchanged (the
user's own code made them); a DataFrame with a target column is a table like a CSV.
A stored ``split`` (e.g. ``validation_data=`` given to ``search``) replaces the drawn one.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl.errors import DataError

if TYPE_CHECKING:
    from automl.data.raw import RawData

SPLIT_KEYS = ("train", "validation", "test")


def to_bytes(x: Any, y: Any, split: dict[str, np.ndarray] | None = None) -> bytes:
    """An ``.npz`` of ``x``, ``y`` and optionally fixed split indices (no pickles)."""
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise DataError(f"data: x has {len(x)} samples but y has {len(y)}")
    if x.dtype.kind == "O" or y.dtype.kind == "O":
        raise DataError("data: x and y must be numeric or string arrays, not Python objects")
    parts = {"x": x, "y": y}
    for key, index in (split or {}).items():
        parts[f"split_{key}"] = np.asarray(index, dtype="int64")
    buf = io.BytesIO()
    np.savez(buf, **parts)
    return buf.getvalue()


def frame_bytes(frame: pd.DataFrame) -> bytes:
    """A DataFrame as CSV bytes, read back by the table reader."""
    return frame.to_csv(index=False).encode("utf-8")


def load(data: Any, task: str | None, artifacts: Any) -> RawData:
    """Read the stored samples (``data.source`` is the artifact id)."""
    if artifacts is None:
        raise DataError(f"data.kind arrays: {data.source!r} is only readable through its study")
    try:
        with artifacts.open_reader(data.source) as f:
            blob = f.read()
    except Exception:  # noqa: BLE001 - any store error means the same thing here
        raise DataError(
            f"data: the arrays {data.source!r} are not in the study's artifact folder; on "
            "another machine, point AUTOML_ARTIFACTS at the folder the study was created with"
        ) from None
    if data.source.endswith(".csv"):
        return _table(blob, data, task)
    return _arrays(blob, task)


def _arrays(blob: bytes, task: str | None) -> RawData:
    from automl.data.raw import RawData, encode_labels
    from automl.data.tabular import infer_task

    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        x, y = z["x"], z["y"]
        split = {k: z[f"split_{k}"] for k in SPLIT_KEYS if f"split_{k}" in z.files}
    options = {"given_split": split} if split else {}
    if y.ndim > 1 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(
            f"data: y must hold one label or value per sample; got shape {y.shape} "
            "(one-hot labels: pass y.argmax(axis=1))"
        )
    task = task or infer_task(y)
    if task == "regression":
        return RawData(x, y.astype("float32"), task, "arrays", "arrays", options=options)
    codes, classes = encode_labels(y)
    return RawData(x, codes, task, "arrays", "arrays", classes=classes, options=options)


def _table(blob: bytes, data: Any, task: str | None) -> RawData:
    from dataclasses import replace

    from automl.data.tabular import load_csv

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.csv"
        path.write_bytes(blob)
        raw = load_csv(str(path), data.target, task, data)
    return replace(raw, name="DataFrame")
