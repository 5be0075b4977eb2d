"""Data: load a source, split it once per study, fit preprocessing on the train split only.

``load_source(spec.data)`` reads raw samples; ``make_split`` draws the train / validation /
test indices that the study stores; ``prepare`` applies them and fits preprocessing on the
train part, so every trial and every worker sees the same arrays.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.data import audio, builtin, files, images, npz, sequence, tabular, text
from automl.data.split import make_split
from automl.errors import DataError, unknown_name
from automl.models import InputSpec

__all__ = ["RawData", "Splits", "infer_kind", "load_source", "make_split", "prepare", "sample_kind"]


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
        """A short hash that tells whether two loads gave the same samples."""
        h = hashlib.sha1()
        h.update(str((len(self.y), _shape(self.x))).encode())
        h.update(np.ascontiguousarray(self.y).tobytes())
        return h.hexdigest()[:16]


@dataclass
class Splits:
    """Train, validation and test arrays, preprocessed, plus what a model needs to know.

    ``tokenizer`` (text data only) holds the vocabulary and settings fitted on the train
    split; save it as JSON and pass it to :func:`automl.data.text.encode` to turn new
    texts into the ids a model takes.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    input_spec: InputSpec
    classes: list[str]
    name: str
    tokenizer: dict[str, Any] | None = None
    transform: Callable[[Any], np.ndarray] | None = None

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in (x.shape if hasattr(x, "shape") else (len(x),)))


def infer_kind(source: str, data: Any = None) -> str:
    """The reader for a source: a built-in name, a folder, or a file suffix.

    A CSV is read as text when ``data.text_column`` is set, as sequence windows when
    ``data.window`` is set, as an audio manifest when a column lists ``.wav`` files, and
    as a table otherwise.
    """
    if source in builtin.DATASETS:
        return "builtin"
    path = Path(source)
    if path.is_dir():
        return files.folder_kind(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        if not path.exists():
            raise DataError(f"{source}: data file not found")
        if data is not None and data.text_column:
            return "text"
        if data is not None and data.window:
            return "sequence"
        return "audio" if audio.is_manifest(source, data) else "csv"
    if suffix == ".npz":
        return "npz"
    if not path.exists():
        if path.suffix:
            raise DataError(f"{source}: data file not found")
        raise DataError(
            "data.source: "
            + unknown_name("built-in dataset or file", source, list(builtin.DATASETS))
        )
    raise DataError(
        f"{source}: unknown data format {suffix!r}; valid: .csv, .tsv, .npz, or a folder "
        "with one subfolder per class"
    )


def sample_kind(data: Any, x: Any) -> str:
    """What one sample is: ``image``, ``audio``, ``text``, ``sequence`` or ``tabular``."""
    kind = data.kind or infer_kind(data.source, data)
    fixed = {"images": "image", "audio": "audio", "text": "text", "sequence": "sequence"}
    if kind in fixed:
        return fixed[kind]
    if kind == "csv":
        return "tabular"
    rank = len(getattr(x, "shape", ())) - 1
    return {3: "image", 2: "sequence"}.get(rank, "tabular")


def load_source(data: Any, task: str | None = None) -> RawData:
    """Read the samples a :class:`~automl.spec.DataSpec` points at."""
    kind = data.kind or infer_kind(data.source, data)
    if kind == "builtin":
        if data.target:
            raise DataError(
                f"data.target: {data.source!r} is a built-in dataset with its own target; "
                "a target column applies to CSV sources"
            )
        raw = builtin.load(data.source)
    elif kind == "csv":
        raw = tabular.load_csv(data.source, data.target, task, tabular.read_options(data))
    elif kind == "npz":
        raw = npz.load(data.source, task)
    elif kind == "images":
        raw = images.load(data, task)
    elif kind == "audio":
        raw = audio.load(data, task)
    elif kind == "text":
        raw = text.load(data, task)
    elif kind == "sequence":
        raw = sequence.load(data, task)
    else:  # pragma: no cover - pydantic restricts kind
        from automl.spec import DATA_KINDS

        raise DataError(unknown_name("data.kind", kind, list(DATA_KINDS)))
    if task and raw.task != task and kind == "builtin":
        raise DataError(f"task: {data.source!r} is a {raw.task} dataset; got task {task!r}")
    if task and raw.task != task:
        raw = tabular.retarget(raw, task)
    return raw


def prepare(raw: RawData, split: dict[str, np.ndarray]) -> Splits:
    """Apply stored split indices; fit preprocessing on the train split only."""
    tr, va, te = split["train"], split["validation"], split["test"]
    transform, tokenizer, extra = _fit_inputs(raw, tr)
    x_train, x_val, x_test = (transform(_rows(raw.x, i)) for i in (tr, va, te))
    y = raw.y
    shape = tuple(int(s) for s in x_train.shape[1:])
    if raw.task == "regression":
        y = y.astype("float32")
        spec = InputSpec(
            shape=shape,
            task="regression",
            target_mean=float(y[tr].mean()),
            target_std=float(y[tr].std() or 1.0),
            **extra,
        )
    else:
        y = y.astype("int32")
        spec = InputSpec(shape=shape, task="classification", n_classes=len(raw.classes), **extra)
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
        tokenizer=tokenizer,
        transform=transform,
    )


def _rows(x: Any, index: np.ndarray) -> Any:
    return x.iloc[index] if isinstance(x, pd.DataFrame) else x[index]


def _fit_inputs(
    raw: RawData, tr: np.ndarray
) -> tuple[Callable[[Any], np.ndarray], dict[str, Any] | None, dict[str, Any]]:
    """The preprocessing of raw samples, fitted on the train split: (transform, tokenizer,
    extra InputSpec fields)."""
    if raw.kind == "tabular":
        return tabular.fit(raw.x, tr), None, {}
    if raw.kind == "text":
        tokenizer = text.fit(raw.x[tr], raw.options)
        encode = functools.partial(text.encode, tokenizer=tokenizer)
        return encode, tokenizer, {"vocab_size": len(tokenizer["vocabulary"])}
    if raw.kind == "audio":
        # Waveforms stay in [-1, 1]: the model's spectrogram front end expects them so.
        extra = {"sample_rate": int(raw.options.get("sample_rate", 0))}
        return functools.partial(np.asarray, dtype="float32"), None, extra
    x = np.asarray(raw.x, dtype="float32")
    if raw.kind == "sequence":
        return sequence.standardizer(x, tr), None, {}
    if raw.scale is not None:
        scale = np.float32(raw.scale)
        return lambda new: np.asarray(new, dtype="float32") / scale, None, {}
    mean = x[tr].mean(axis=0)
    std = x[tr].std(axis=0)
    std[std == 0] = 1.0
    return lambda new: (np.asarray(new, dtype="float32") - mean) / std, None, {}


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
