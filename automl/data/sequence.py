"""Sequences: a CSV time series cut into windows, and per-feature standardization.

A time-series CSV has one row per time step, in time order, and one column per feature.
Each sample is ``data.window`` consecutive rows of the numeric columns; its target is the
target column ``data.horizon`` rows after the window's last row (``horizon: 0``: the last
row's own target, which is then left out of the features). Windows start every
``data.stride`` rows. Missing values are carried forward (then backward). An ``.npz`` with
a 3-D ``x`` (samples, steps, features) is read as sequences directly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl.errors import DataError

if TYPE_CHECKING:
    from automl.data.raw import RawData


def load(data: Any, task: str | None) -> RawData:
    """Read sequences: windows of a time-series CSV, or a 3-D ``x`` of an ``.npz``."""
    from dataclasses import replace

    if str(data.source).lower().endswith(".npz"):
        from automl.data import npz

        raw = npz.load(data.source, task, getattr(data, "split_column", None))
        if np.asarray(raw.x).ndim != 3:
            raise DataError(
                f"{data.source}: sequences need a 3-D x (samples, steps, features); "
                f"got shape {tuple(np.asarray(raw.x).shape)}"
            )
        return replace(raw, kind="sequence", scale=None)
    return _windows(data, task)


def _windows(data: Any, task: str | None) -> RawData:
    from automl.data.raw import RawData
    from automl.data.split import labels_of, pop_split_column
    from automl.data.tabular import _default_target, infer_task, read_csv, targets

    if not data.window:
        raise DataError(f"{data.source}: data.window: a time-series CSV needs a window length")
    frame = read_csv(data.source, data)
    split = pop_split_column(frame, data, data.source)
    target = data.target or _default_target(frame)
    if target not in frame.columns:
        raise DataError(
            f"{data.source}: data.target: no column {target!r}; "
            f"columns: {', '.join(map(str, frame.columns))}"
        )
    y_all = frame[target].to_numpy()
    task = task or infer_task(y_all[~pd.isna(y_all)])
    features = frame.drop(columns=[target]) if data.horizon == 0 else frame
    features = features.select_dtypes(include=["number", "bool"]).astype("float32")
    if features.shape[1] == 0:
        raise DataError(f"{data.source}: no numeric feature columns to make sequences from")
    values = features.ffill().bfill().fillna(0.0).to_numpy(dtype="float32")
    window, horizon, stride = int(data.window), int(data.horizon), int(data.stride)
    last = len(frame) - max(horizon, 0)
    starts = np.arange(0, max(last - window + 1, 0), stride)
    if len(starts) < 3:
        raise DataError(
            f"{data.source}: {len(frame)} rows give {len(starts)} windows of data.window="
            f"{window} with data.horizon={horizon}; need at least 3"
        )
    x = np.stack([values[s : s + window] for s in starts])
    ends = starts + window - 1 + horizon
    y_raw = y_all[ends]
    keep = ~pd.isna(y_raw)
    x, y_raw = x[keep], y_raw[keep]
    name = Path(data.source).name
    y, classes = targets(y_raw, task, data.source, target)
    # A window belongs to the split of the row its target comes from.
    extra = labels_of(split, frame.index[ends[keep]])
    return RawData(x, y, task, "sequence", name, classes=classes, options=extra)


def standardizer(x: np.ndarray, tr: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Per-feature standardization with the mean and spread of the train samples' steps."""
    flat = x[tr].reshape(-1, x.shape[-1])
    mean = flat.mean(axis=0)
    std = flat.std(axis=0)
    std[std == 0] = 1.0
    return lambda new: ((np.asarray(new, dtype="float32") - mean) / std).astype("float32")
