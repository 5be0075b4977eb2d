"""Shared helpers for the research experiments: one trial, trained the way automl trains
it (same builder, compile, data split), but recording validation AND test metrics every
epoch with no early stopping, so any stopping / epoch-choice policy can be replayed offline.

Test metrics are recorded for analysis only; nothing here chooses on them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from automl._env import load_keras, quiet  # noqa: E402

quiet()
load_keras()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from automl import training  # noqa: E402
from automl.data import load_source, make_split, prepare  # noqa: E402
from automl.models import build_model  # noqa: E402
from automl.spec import load_spec  # noqa: E402  (see below: resolved lazily if absent)

DEFAULT_HP: dict[str, Any] = {
    "n_layers": 2,
    "filters": [32, 64],
    "kernel_size": 3,
    "activation": "relu",
    "pooling": "max",
    "batch_norm": False,
    "dropout": 0.0,
    "dense_units": 64,
    "learning_rate": 1e-3,
    "optimizer": "adam",
    "batch_size": 32,
    "momentum": 0.9,
    "weight_decay": 0.0,
    "augmentation": {},
}


def splits_for(space: str, **data_overrides: Any) -> Any:
    """The exact arrays automl would give a study of ``space`` (same split seed)."""
    spec = load_spec(space)
    if data_overrides:
        spec = spec.model_copy(update={"data": spec.data.model_copy(update=data_overrides)})
    raw = load_source(spec.data, spec.task)
    strat = spec.data.stratify and raw.task == "classification"
    split = make_split(raw.y, spec.data.validation, spec.data.test, spec.data.split_seed, strat)
    return prepare(raw, split)


class _Recorder(keras.callbacks.Callback):
    """Per-epoch metrics; with ``keep_probs`` also the val/test probabilities at three
    epoch choices: the one EarlyStopping(val_accuracy, patience 5, restore) ends with
    ("es5"), the lowest val_loss ("min_loss") and the last epoch ("last")."""

    def __init__(self, data: Any, keep_probs: bool = False) -> None:
        super().__init__()
        self.data = data
        self.rows: list[dict[str, float]] = []
        self.t0 = time.perf_counter()
        self.keep_probs = keep_probs
        self.probs: dict[str, dict[str, list[list[float]]]] = {}
        self._es_best, self._es_wait, self._es_done = -1.0, 0, False
        self._min_loss = np.inf

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = {k: float(v) for k, v in (logs or {}).items()}
        out = training.predict(self.model, self.data.x_test)
        p = np.clip(out[np.arange(len(out)), self.data.y_test], 1e-7, 1.0)
        logs["test_accuracy"] = float((out.argmax(1) == self.data.y_test).mean())
        logs["test_loss"] = float(-np.log(p).mean())
        logs["time_s"] = time.perf_counter() - self.t0
        self.rows.append(logs)
        if self.keep_probs:
            self._keep(logs, out)
        if not np.isfinite(logs.get("loss", 0.0)):
            self.model.stop_training = True


def _r(a: np.ndarray) -> list[list[float]]:
    return np.round(np.asarray(a, dtype="float64"), 4).tolist()


def _keep_impl(self: Any, logs: dict[str, float], test_out: np.ndarray) -> None:
    val_out = None

    def both() -> dict[str, list[list[float]]]:
        nonlocal val_out
        if val_out is None:
            val_out = training.predict(self.model, self.data.x_val)
        return {"val": _r(val_out), "test": _r(test_out)}

    va = logs.get("val_accuracy", 0.0)
    if not self._es_done:
        if va > self._es_best:
            self._es_best, self._es_wait = va, 0
            self.probs["es5"] = both()
        else:
            self._es_wait += 1
            self._es_done = self._es_wait >= 5
    vl = logs.get("val_loss", np.inf)
    if vl < self._min_loss:
        self._min_loss = vl
        self.probs["min_loss"] = both()
    self.probs["last"] = both()


_Recorder._keep = _keep_impl  # type: ignore[attr-defined]


def run(
    data: Any,
    hp: dict[str, Any],
    seed: int,
    epochs: int = 30,
    family: str = "cnn",
    patience_stop: int | None = None,
    test_probs: bool = False,
    keep_probs: bool = False,
) -> dict[str, Any]:
    """Train one configuration for ``epochs`` epochs; per-epoch train/val/test metrics.

    ``patience_stop``: stop after that many epochs without a val_accuracy gain (to save
    time; replayed policies then only see those epochs). ``test_probs``: also return the
    final-epoch test probabilities (for ensembles).
    """
    full = {**DEFAULT_HP, **hp}
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build_model(family, full, data.input_spec)
    training.compile_model(model, data.input_spec, full)
    rec = _Recorder(data, keep_probs)
    cbs: list[Any] = [rec]
    if patience_stop:
        cbs.append(
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy", mode="max", patience=patience_stop
            )
        )
    model.fit(
        data.x_train,
        data.y_train,
        validation_data=(data.x_val, data.y_val),
        batch_size=int(full["batch_size"]),
        validation_batch_size=training.EVAL_BATCH,
        epochs=epochs,
        callbacks=cbs,
        verbose=0,
    )
    hist = {k: [r[k] for r in rec.rows] for k in rec.rows[0]}
    res = {
        "hp": {k: v for k, v in full.items()},
        "seed": seed,
        "history": hist,
        "params": int(model.count_params()),
    }
    if keep_probs:
        res["probs"] = rec.probs
    if test_probs:
        res["test_probs"] = training.predict(model, data.x_test).tolist()
    return res


def es_pick(hist: dict[str, list[float]], patience: int, metric: str = "val_accuracy") -> int:
    """The epoch (0-based) automl's EarlyStopping(restore_best_weights) ends with."""
    vals = hist[metric]
    sign = 1 if "acc" in metric else -1
    best, best_i, wait = -np.inf, 0, 0
    for i, v in enumerate(vals):
        if sign * v > best:
            best, best_i, wait = sign * v, i, 0
        else:
            wait += 1
            if wait >= patience:
                return best_i
    return best_i


def es_stop(hist: dict[str, list[float]], patience: int, metric: str = "val_accuracy") -> int:
    """Epochs run (1-based count) before EarlyStopping stops."""
    vals = hist[metric]
    sign = 1 if "acc" in metric else -1
    best, wait = -np.inf, 0
    for i, v in enumerate(vals):
        if sign * v > best:
            best, wait = sign * v, 0
        else:
            wait += 1
            if wait >= patience:
                return i + 1
    return len(vals)


def append_jsonl(path: str | Path, row: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
