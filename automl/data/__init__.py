"""Data: load a source, split it once per study, fit preprocessing on the train split only.

``load_source(spec.data)`` reads raw samples; ``make_split`` draws the train / validation /
test indices that the study stores; ``prepare`` applies them and fits preprocessing on the
train part, so every trial and every worker sees the same arrays.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.data import (
    arrays,
    audio,
    builtin,
    files,
    given,
    images,
    interactions,
    npz,
    sequence,
    tabular,
    text,
)
from automl.data.raw import RawData, encode_labels
from automl.data.split import fractions, make_split
from automl.errors import DataError, unknown_name
from automl.models import InputSpec
from automl.registry import Registry

__all__ = ["RawData", "Splits", "encode_labels", "infer_kind", "load_source", "make_split"]
__all__ += ["prepare", "sample_kind", "split_raw"]


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
    interactions: interactions.Interactions | None = None  # recommenders: ids, candidates

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}


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
    if suffix in (".csv", ".tsv", ".txt", ".dat") or (
        path.is_file() and not suffix and tabular.looks_like_csv(source)
    ):
        if not path.exists():
            raise DataError(f"{source}: data file not found")
        if suffix == ".dat" or interactions.looks_like(source, data):
            return "interactions"
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
        f"{source}: unknown data format {suffix or '(no extension)'!r}; valid: .csv, .tsv, "
        ".npz, or a folder with one subfolder per class; or set data.kind (e.g. --set "
        "data.kind=csv)"
    )


def sample_kind(data: Any, x: Any) -> str:
    """What one sample is: ``image``, ``audio``, ``text``, ``sequence`` or ``tabular``."""
    kind = data.kind or infer_kind(data.source, data)
    fixed = {"images": "image", "audio": "audio", "text": "text", "sequence": "sequence"}
    fixed["interactions"] = "interactions"
    if kind in fixed:
        return fixed[kind]
    if kind == "csv":
        return "tabular"
    rank = len(getattr(x, "shape", ())) - 1
    return {3: "image", 2: "sequence"}.get(rank, "tabular")


def _builtin(data: Any, task: str | None) -> RawData:
    if data.target:
        raise DataError(
            f"data.target: {data.source!r} is a built-in dataset with its own target; "
            "a target column applies to CSV sources"
        )
    raw = builtin.load(data.source)
    if task and raw.task != task:
        raise DataError(f"task: {data.source!r} is a {raw.task} dataset; got task {task!r}")
    return raw


# The readers by data.kind: the keys are the kinds the spec validates.
READERS: Registry[Callable[[Any, str | None], RawData]] = Registry(
    "data kind",
    {
        "builtin": _builtin,
        "csv": lambda d, task: tabular.load_csv(d.source, d.target, task, d),
        "npz": lambda d, task: npz.load(d.source, task, d.split_column),
        "images": images.load,
        "audio": audio.load,
        "text": text.load,
        "sequence": sequence.load,
        "interactions": interactions.load,
        "arrays": lambda d, task: arrays.load(d, task, None),  # needs the study's artifacts
    },
)


def load_source(data: Any, task: str | None = None, artifacts: Any = None) -> RawData:
    """Read the samples a :class:`~automl.search.spec.DataSpec` points at.

    ``artifacts``: the study's artifact store, where ``kind: arrays`` samples are kept.
    """
    raw, kind = _read(data, task, artifacts)
    if given.wanted(data):  # the user's own splits: other sources, or a split column
        raw = given.apply(raw, data, lambda d, t: _read(d, t, artifacts)[0], kind)
    return raw


def _read(data: Any, task: str | None, artifacts: Any) -> tuple[RawData, str]:
    """The samples of ``data.source`` and the reader's name."""
    try:
        kind = data.kind or infer_kind(data.source, data)
        reader = functools.partial(arrays.load, artifacts=artifacts) if kind == "arrays" else None
        raw = (reader or READERS[kind])(data, task)
    except DataError as exc:  # every data error names the file
        if str(data.source) in str(exc):
            raise
        raise DataError(f"{data.source}: {exc}") from None
    except (OSError, UnicodeError, csv.Error, pd.errors.ParserError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{data.source}: cannot read: {reason}") from None
    if task and raw.task != task:
        raw = tabular.retarget(raw, task)
    return raw, kind


def split_raw(raw: RawData, data: Any) -> dict[str, np.ndarray]:
    """The study's split: stratified for classes, per user in time for interactions."""
    validation, test = fractions(data)
    if raw.kind == "interactions":
        return interactions.split(raw, validation, test, data.split_seed)
    stratify = data.stratify and raw.task == "classification"
    return make_split(raw.y, validation, test, data.split_seed, stratify)


def prepare(raw: RawData, split: dict[str, np.ndarray]) -> Splits:
    """Apply stored split indices; fit preprocessing on the train split only."""
    if raw.kind == "interactions":
        return _prepare_interactions(raw, split)
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
    if raw.kind == "tabular" and raw.options.get(tabular.CODES):
        transform, levels = tabular.fit_codes(raw.x, tr)
        return transform, None, {"categories": tuple(levels)}
    if raw.kind == "tabular":
        return tabular.fit(raw.x, tr), None, {}
    if raw.kind == "text":
        tokenizer = text.fit(raw.x[tr], raw.options)
        encode = functools.partial(text.encode, tokenizer=tokenizer)
        return encode, tokenizer, {"vocab_size": len(tokenizer["vocabulary"])}
    if raw.kind == "arrays":  # the user's own arrays reach the user's model unchanged
        return np.asarray, None, {}
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


def _prepare_interactions(raw: RawData, split: dict[str, np.ndarray]) -> Splits:
    """[user_idx, item_idx] pairs; ratings (explicit) or 1s (implicit) as targets."""
    arrays, info = interactions.prepare(raw, split)
    y = {k: raw.y[idx] for k, idx in split.items()}
    extra: dict[str, Any] = {"n_users": len(info.users), "n_items": len(info.items)}
    if info.implicit:
        spec = InputSpec(shape=(2,), task="classification", n_classes=2, **extra)
    else:
        train = y["train"].astype("float64")
        mean, std = float(train.mean()), float(train.std() or 1.0)
        spec = InputSpec(shape=(2,), task="regression", target_mean=mean, target_std=std, **extra)
    return Splits(
        arrays["train"],
        y["train"],
        arrays["validation"],
        y["validation"],
        arrays["test"],
        y["test"],
        input_spec=spec,
        classes=list(raw.classes),
        name=raw.name,
        interactions=info,
    )
