"""The user's own splits: test and validation sources, or a split column.

``data.test_source`` / ``data.validation_source`` are read by the reader of ``data.source``
with its settings (an audio source's sample rate too); their samples follow the main
source's, and their labels take the main source's class indices: a label the train data
never saw stops with one line. ``data.split_column`` marks each row ``train``,
``validation`` or ``test``. A split neither gives is drawn from the train rows, at
``data.validation`` / ``data.test`` of them. The result is a fixed split (option
``given_split``) that the study stores like a drawn one, so preprocessing (scalers,
category codes, the tokenizer, recommender id maps' popularity) is fitted on its train
rows only.

Recommenders: a user or item of the test rows without a train interaction still gets an
embedding index (the id maps cover every row) but an untrained embedding, so its pairs
score about as a constant guess would; a warning counts them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl.data import interactions
from automl.data.split import LABELS, SPLITS, fractions, hold_out
from automl.errors import DataError

if TYPE_CHECKING:
    from automl.data.raw import RawData

log = logging.getLogger("automl")
GIVEN = "given_split"  # RawData option: fixed split indices that replace a drawn split
Reader = Callable[[Any, str], "RawData"]


def wanted(data: Any) -> bool:
    """Whether the data section gives splits of its own."""
    fields = ("test_source", "validation_source", "split_column")
    return any(getattr(data, f, None) for f in fields)


def apply(raw: RawData, data: Any, read: Reader, kind: str) -> RawData:
    """``raw`` with the given split in its options (and the other sources' samples).

    Args:
        read: reads a DataSpec with the given task, as ``data.source`` was read.
        kind: the reader ``data.source`` was read with.
    """
    if data.split_column:
        return _by_column(raw, data)
    return _by_sources(raw, data, read, kind)


def _by_column(raw: RawData, data: Any) -> RawData:
    labels = raw.options.get(LABELS)
    where = f"{data.source}: data.split_column {data.split_column!r}"
    if labels is None:
        raise DataError(
            f"{where}: this source has no columns to split by; give data.test_source (and "
            "data.validation_source) instead"
        )
    parts = {k: np.flatnonzero(labels == k) for k in SPLITS}
    if not len(parts["train"]):
        raise DataError(f"{where}: no row is marked train")
    for key in ("validation", "test"):
        _check_labels(raw, parts["train"], parts[key], f"{where}: a {key} row")
    split = _fill(raw, data, parts)
    _cold_start(raw, split, [k for k in ("validation", "test") if len(parts[k])])
    options = {k: v for k, v in raw.options.items() if k != LABELS}
    return replace(raw, options={**options, GIVEN: split})


def _by_sources(raw: RawData, data: Any, read: Reader, kind: str) -> RawData:
    parts = {"train": np.arange(len(raw.y))}
    pieces, offset = [raw], len(raw.y)
    for key in ("validation", "test"):
        source = getattr(data, f"{key}_source")
        if not source:
            continue
        other = _aligned(read(_like(data, raw, source, kind), raw.task), raw, source, data)
        pieces.append(other)
        parts[key] = np.arange(offset, offset + len(other.y))
        offset += len(other.y)
    x = (
        pd.concat([p.x for p in pieces], ignore_index=True)
        if isinstance(raw.x, pd.DataFrame)
        else np.concatenate([np.asarray(p.x) for p in pieces])
    )
    y = np.concatenate([p.y for p in pieces]).astype(raw.y.dtype)
    merged = replace(raw, x=x, y=y, skipped=sum(p.skipped for p in pieces), options={})
    split = _fill(merged, data, parts)
    for key in parts.keys() - {"train"}:
        source = getattr(data, f"{key}_source")
        _check_labels(merged, split["train"], parts[key], f"{source}: a row")
    merged.options = {**raw.options, GIVEN: split}
    _cold_start(merged, split, list(parts.keys() - {"train"}))
    return merged


def _like(data: Any, raw: RawData, source: str, kind: str) -> Any:
    """The data section for another source: read by the same reader, with the same settings."""
    update: dict[str, Any] = {"source": source, "kind": kind}
    update.update(test_source=None, validation_source=None, split_column=None)
    if raw.kind == "audio":  # the rate the main source chose, never the other's own
        update["sample_rate"] = int(raw.options["sample_rate"])
    if raw.kind == "interactions":
        update["implicit"] = bool(raw.options.get("implicit"))
    return data.model_copy(update=update)


def _aligned(other: RawData, raw: RawData, source: str, data: Any) -> RawData:
    """``other`` with the main source's columns and class indices."""
    if isinstance(raw.x, pd.DataFrame):
        missing = [str(c) for c in raw.x.columns if c not in other.x.columns]
        if missing:
            raise DataError(
                f"{source}: no column {missing[0]!r}, which {data.source} has; a test or "
                "validation source needs the same columns"
            )
        other = replace(other, x=other.x[list(raw.x.columns)])
    else:
        shape, want = np.asarray(other.x).shape[1:], np.asarray(raw.x).shape[1:]
        if shape != want:
            raise DataError(
                f"{source}: samples of shape {tuple(shape)}; {data.source} has {tuple(want)}"
            )
    if raw.task != other.task:
        raise DataError(f"{source}: {other.task} targets; {data.source} has {raw.task} targets")
    if raw.task != "classification" or raw.kind == "interactions":
        return other
    index = {c: i for i, c in enumerate(raw.classes)}
    for label in other.classes:
        if label not in index:
            raise DataError(
                f"{source}: label {label!r} is not a label of the train data "
                f"({data.source}); known labels: {_listed(raw.classes)}"
            )
    codes = np.asarray([index[c] for c in other.classes], dtype=raw.y.dtype)
    return replace(other, y=codes[other.y], classes=list(raw.classes))


def _check_labels(raw: RawData, train: np.ndarray, held: np.ndarray, where: str) -> None:
    """Every class of the ``held`` rows has train rows."""
    if raw.task != "classification" or raw.kind == "interactions" or not len(held):
        return
    unseen = np.setdiff1d(raw.y[held], raw.y[train])
    if len(unseen):
        known = [raw.classes[i] for i in np.unique(raw.y[train])]
        raise DataError(
            f"{where} has label {raw.classes[int(unseen[0])]!r}, which no train row has; "
            f"train labels: {_listed(known)}"
        )


def _listed(labels: list[str], most: int = 20) -> str:
    shown = ", ".join(map(str, labels[:most]))
    return shown + (f", ... ({len(labels)} in all)" if len(labels) > most else "")


def _fill(raw: RawData, data: Any, parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The three splits: a part that is not given is drawn from the train rows."""
    val_share, test_share = fractions(data)
    train = parts["train"]
    split = dict(parts)
    if not len(parts.get("test", ())):
        rest, held = _draw(raw, train, data, test_share, data.split_seed)
        train, split["test"] = train[rest], train[held]
        if not len(parts.get("validation", ())):
            val_share = val_share / (1.0 - test_share)  # of all train-marked rows, as drawn
    if not len(parts.get("validation", ())):
        rest, held = _draw(raw, train, data, val_share, data.split_seed + 1)
        train, split["validation"] = train[rest], train[held]
    split["train"] = train
    for key in SPLITS:
        if not len(split[key]):
            n = len(parts["train"])
            raise DataError(f"{data.source}: too few train rows ({n}) to draw a {key} split")
    return {k: np.sort(split[k]) for k in SPLITS}


def _draw(
    raw: RawData, rows: np.ndarray, data: Any, share: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``rows`` of the rest and of a part held out, as a drawn split holds it."""
    x = raw.x.iloc[rows] if isinstance(raw.x, pd.DataFrame) else None
    if raw.kind == "interactions":
        return interactions.hold_out(replace(raw, x=x, y=raw.y[rows]), share, seed)
    stratify = bool(data.stratify) and raw.task == "classification"
    return hold_out(raw.y[rows], share, seed, stratify)


def _cold_start(raw: RawData, split: dict[str, np.ndarray], given: list[str]) -> None:
    """Warn of held-out interactions whose user or item has no train interaction."""
    if raw.kind != "interactions":
        return
    train = raw.x.iloc[split["train"]]
    for key in given:
        rows = raw.x.iloc[split[key]]
        cold = ~rows["user"].isin(train["user"]) | ~rows["item"].isin(train["item"])
        if cold.any():
            log.warning(
                "%d of %d %s interactions have a user or item without train interactions; "
                "their scores come from untrained embeddings (cold start)",
                int(cold.sum()),
                len(rows),
                key,
            )
