"""One train / validation / test split per study, drawn once and stored with it."""

from __future__ import annotations

import io
from typing import Any

import numpy as np


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
