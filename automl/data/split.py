"""One train / validation / test split per study, drawn once and stored with it."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from automl.errors import DataError

SPLITS = ("train", "validation", "test")  # the values a split column may hold
LABELS = "split_labels"  # RawData option: each sample's split, from data.split_column

VALIDATION, TEST = 0.15, 0.15  # the shares drawn when data.validation / data.test are left out


def fractions(data: Any) -> tuple[float, float]:
    """The validation and test shares of a DataSpec, defaults filled in."""
    return (
        getattr(data, "validation", None) or VALIDATION,
        getattr(data, "test", None) or TEST,
    )


def pop_split_column(frame: pd.DataFrame, data: Any, path: str) -> pd.Series | None:
    """Take ``data.split_column`` out of a table read from ``path`` (None when not set).

    Raises:
        DataError: naming the file and column, for a missing column or a value other than
            train, validation or test.
    """
    column = getattr(data, "split_column", None)
    if not column:
        return None
    if column not in frame.columns:
        raise DataError(
            f"{path}: data.split_column: no column {column!r}; "
            f"columns: {', '.join(map(str, frame.columns))}"
        )
    return check_split_labels(frame.pop(column), path, column)


def check_split_labels(values: pd.Series, path: str, column: str) -> pd.Series:
    """``values`` as strings when each is exactly train, validation or test."""
    text = values.map(lambda v: v if isinstance(v, str) else repr(v))
    bad = ~text.isin(SPLITS).to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"{path}: data.split_column {column!r} row {row + 1}: {text.iloc[row]!r} is not a "
            f"split; allowed: {', '.join(SPLITS)}"
        )
    return text


def labels_of(split: pd.Series | None, index: Any) -> dict[str, Any]:
    """RawData options holding the split labels of the rows kept (``index``), if any."""
    if split is None:
        return {}
    return {LABELS: np.asarray(split.loc[index], dtype=str)}


def make_split(
    y: np.ndarray, validation: float, test: float, seed: int, stratify: bool
) -> dict[str, np.ndarray]:
    """Indices of the three parts; stratified by class when asked and possible."""
    idx = np.arange(len(y))
    strat = y if stratify else None
    rest, te = _split(idx, test, seed, strat)
    val_share = validation / (1.0 - test)
    tr, va = _split(rest, val_share, seed + 1, strat[rest] if strat is not None else None)
    return {"train": np.sort(tr), "validation": np.sort(va), "test": np.sort(te)}


def hold_out(
    y: np.ndarray, share: float, seed: int, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the rest and of ``share`` of the samples held out (stratified when asked)."""
    rest, held = _split(np.arange(len(y)), share, seed, y if stratify else None)
    return np.sort(rest), np.sort(held)


def _split(
    idx: np.ndarray, size: float, seed: int, strat: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    # Imported here: scikit-learn takes about 2 s to import, and reading commands
    # (report, studies, best, watch) never split data.
    from sklearn.model_selection import train_test_split

    try:
        a, b = train_test_split(idx, test_size=size, random_state=seed, stratify=strat)
    except ValueError:
        # A class with a single sample cannot be stratified: fall back to a plain split.
        a, b = train_test_split(idx, test_size=size, random_state=seed)
    return np.asarray(a), np.asarray(b)


def to_bytes(split: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(
        buf, train=split["train"], validation=split["validation"], test=split["test"]
    )
    return buf.getvalue()


def from_bytes(data: bytes) -> dict[str, Any]:
    with np.load(io.BytesIO(data)) as z:
        return {k: z[k] for k in ("train", "validation", "test")}
