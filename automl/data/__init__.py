"""Data: load a source, split it once per study, fit preprocessing on the train split only.

``load_source(spec.data)`` reads raw samples; ``make_split`` draws the train / validation /
test indices that the study stores; ``prepare`` applies them and fits preprocessing on the
train part, so every trial and every worker sees the same arrays.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.data import builtin, npz, tabular
from automl.data.split import make_split
from automl.errors import DataError, unknown_name
from automl.models import InputSpec

__all__ = ["RawData", "Splits", "load_source", "make_split", "prepare"]


@dataclass
class RawData:
    """Samples as read from a source, before any fitted preprocessing.

    Attributes:
        x: features: an array, or a DataFrame for CSV sources.
        y: targets: class indices for classification, floats for regression.
        task: ``classification`` or ``regression``.
        kind: ``image``, ``tabular`` or ``array``; decides the preprocessing.
        name: a short name of the source, for reports.
        classes: class names in index order (classification).
        scale: a fixed divisor for image pixel values (no fitting needed).
    """

    x: Any
    y: np.ndarray
    task: str
    kind: str
    name: str
    classes: list[str] = field(default_factory=list)
    scale: float | None = None

    def fingerprint(self) -> str:
        """A short hash that tells whether two loads gave the same samples."""
        h = hashlib.sha1()
        h.update(str((len(self.y), _shape(self.x))).encode())
        h.update(np.ascontiguousarray(self.y).tobytes())
        return h.hexdigest()[:16]


@dataclass
class Splits:
    """Train, validation and test arrays, preprocessed, plus what a model needs to know."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    input_spec: InputSpec
    classes: list[str]
    name: str

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in (x.shape if hasattr(x, "shape") else (len(x),)))


def infer_kind(source: str) -> str:
    """The source kind from a built-in name or a file suffix."""
    if source in builtin.DATASETS:
        return "builtin"
    suffix = Path(source).suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix == ".npz":
        return "npz"
    path = Path(source)
    if not path.exists():
        if path.suffix:
            raise DataError(f"{source}: data file not found")
        raise DataError(
            "data.source: "
            + unknown_name("built-in dataset or file", source, list(builtin.DATASETS))
        )
    raise DataError(f"{source}: unknown data format {suffix!r}; valid: .csv, .tsv, .npz")


def load_source(data: Any, task: str | None = None) -> RawData:
    """Read the samples a :class:`~automl.spec.DataSpec` points at."""
    kind = data.kind or infer_kind(data.source)
    if kind == "builtin":
        raw = builtin.load(data.source)
    elif kind == "csv":
        raw = tabular.load_csv(data.source, data.target, task)
    elif kind == "npz":
        raw = npz.load(data.source, task)
    else:  # pragma: no cover - pydantic restricts kind
        raise DataError(unknown_name("data.kind", kind, ["builtin", "csv", "npz"]))
    if task and raw.task != task and kind == "builtin":
        raise DataError(f"task: {data.source!r} is a {raw.task} dataset; got task {task!r}")
    if task and raw.task != task:
        raw = tabular.retarget(raw, task)
    return raw


def prepare(raw: RawData, split: dict[str, np.ndarray]) -> Splits:
    """Apply stored split indices; fit preprocessing on the train split only."""
    tr, va, te = split["train"], split["validation"], split["test"]
    if raw.kind == "tabular":
        x_train, x_val, x_test = tabular.fit_transform(raw.x, tr, va, te)
    elif raw.scale is not None:
        x = np.asarray(raw.x, dtype="float32") / np.float32(raw.scale)
        x_train, x_val, x_test = x[tr], x[va], x[te]
    else:
        x = np.asarray(raw.x, dtype="float32")
        mean = x[tr].mean(axis=0)
        std = x[tr].std(axis=0)
        std[std == 0] = 1.0
        x = (x - mean) / std
        x_train, x_val, x_test = x[tr], x[va], x[te]
    y = raw.y
    if raw.task == "regression":
        y = y.astype("float32")
        spec = InputSpec(
            shape=tuple(x_train.shape[1:]),
            task="regression",
            target_mean=float(y[tr].mean()),
            target_std=float(y[tr].std() or 1.0),
        )
    else:
        y = y.astype("int32")
        spec = InputSpec(
            shape=tuple(x_train.shape[1:]), task="classification", n_classes=len(raw.classes)
        )
    return Splits(
        x_train,
        y[tr],
        x_val,
        y[va],
        x_test,
        y[te],
        input_spec=spec,
        classes=list(raw.classes),
        name=raw.name,
    )


def encode_labels(values: pd.Series | np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Class indices in sorted order of the labels, and the label names."""
    uniques, codes = np.unique(np.asarray(values).astype(str), return_inverse=True)
    if all(_is_int(u) for u in uniques):
        order = sorted(range(len(uniques)), key=lambda i: int(uniques[i]))
        remap = np.empty(len(order), dtype="int64")
        remap[order] = np.arange(len(order))
        return remap[codes].astype("int32"), [str(uniques[i]) for i in order]
    return codes.astype("int32"), [str(u) for u in uniques]


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True
