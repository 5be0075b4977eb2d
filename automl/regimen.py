"""Training regimen: learning-rate schedules, label smoothing, class weights, no_progress.

:func:`callbacks` gives the Keras callbacks that :func:`automl.training.fit` adds for a
trial's hyperparameters; :func:`loss` the classification loss. Each is off at its default,
so a space that tunes none of them trains as before.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from automl.errors import TrialFailed
from automl.models import InputSpec
from automl.ranking import Objective

PLATEAU_PATIENCE = 2  # epochs without improvement before ``plateau`` halves the rate
PLATEAU_FACTOR = 0.5
MIN_LR_FRACTION = 1e-3  # no schedule goes below this fraction of the base rate
COSINE_FLOOR = 0.01  # cosine ends at 1 % of the base rate, not 0 (the last epoch still learns)
NO_PROGRESS_MARGIN = 0.01  # classification: accuracy within this of a constant guess
NO_PROGRESS_LOSS = 0.98  # regression: standardized val_loss; a constant guess scores 1
LR_KEY = "lr"  # per-epoch learning rate in a trial's history (refit replays it)
PLAIN = "plain_ce"  # the unsmoothed cross-entropy metric that replaces val_loss


def lr_at(epoch: int, base: float, schedule: str, warmup: int, max_epochs: int) -> float:
    """The scheduled rate of ``epoch`` (0-based) before any plateau reduction."""
    if warmup and epoch < warmup:
        return base * (epoch + 1) / (warmup + 1)
    if schedule == "cosine":
        t = (epoch - warmup) / max(max_epochs - warmup - 1, 1)
        return base * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + math.cos(math.pi * t)))
    return base


class LearningRate(keras.callbacks.Callback):
    """Sets the learning rate each epoch: warmup, then constant, cosine or plateau.

    ``replay`` gives the rates per epoch to use instead (a refit repeats its trial's).
    The rate used is logged under ``lr`` so that the trial's history keeps it.
    """

    def __init__(
        self,
        hp: dict[str, Any],
        max_epochs: int,
        objective: Objective | None = None,
        replay: list[float] | None = None,
    ) -> None:
        super().__init__()
        self.base = float(hp["learning_rate"])
        self.schedule = str(hp.get("lr_schedule", "constant"))
        self.warmup = int(hp.get("warmup_epochs", 0))
        self.max_epochs = max_epochs
        self.objective = objective
        self.replay = replay
        self.factor = 1.0
        self.best: float | None = None
        self.wait = 0
        self.rate = self.base

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.replay is not None:
            self.rate = self.replay[min(epoch, len(self.replay) - 1)]
        else:
            planned = lr_at(epoch, self.base, self.schedule, self.warmup, self.max_epochs)
            self.rate = max(planned * self.factor, self.base * MIN_LR_FRACTION)
        self.model.optimizer.learning_rate = self.rate

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs[LR_KEY] = self.rate
        if self.schedule != "plateau" or self.objective is None or epoch < self.warmup:
            return
        value = (logs or {}).get(self.objective.metric)
        if value is None:
            return
        if self.best is None or self.objective.better(float(value), self.best):
            self.best, self.wait = float(value), 0
            return
        self.wait += 1
        if self.wait >= PLATEAU_PATIENCE:
            self.factor *= PLATEAU_FACTOR
            self.wait = 0


@keras.saving.register_keras_serializable(package="automl")
class SmoothedSparseCE(keras.losses.Loss):
    """Cross-entropy of integer labels against smoothed one-hot targets.

    Keras 3's sparse cross-entropy has no ``label_smoothing``; this one-hots the labels
    inside the loss, so the data keep integer labels.
    """

    def __init__(
        self, n_classes: int, smoothing: float, name: str = "smoothed_sparse_ce", **kw: Any
    ) -> None:
        super().__init__(name=name, **kw)
        self.n_classes = int(n_classes)
        self.smoothing = float(smoothing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        target = keras.ops.one_hot(labels, self.n_classes)
        return keras.losses.categorical_crossentropy(target, y_pred, label_smoothing=self.smoothing)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_classes": self.n_classes, "smoothing": self.smoothing}


def smoothing(hp: dict[str, Any], spec: InputSpec) -> float:
    """The label smoothing a classification trial uses (0 for regression)."""
    return float(hp.get("label_smoothing", 0.0)) if spec.task == "classification" else 0.0


def classification_loss(hp: dict[str, Any], spec: InputSpec) -> tuple[Any, list[Any]]:
    """The loss and extra metrics: with smoothing, the plain cross-entropy as a metric."""
    eps = smoothing(hp, spec)
    if eps <= 0:
        return "sparse_categorical_crossentropy", []
    plain = keras.metrics.SparseCategoricalCrossentropy(name=PLAIN)
    return SmoothedSparseCE(spec.n_classes, eps), [plain]


class PlainValLoss(keras.callbacks.Callback):
    """Puts the unsmoothed cross-entropy in ``val_loss``, so trials compare on one scale.

    Runs first: the callbacks after it (history, early stopping, pruning) see the same
    logs dict.
    """

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None:
            return
        if f"val_{PLAIN}" in logs:
            logs["val_loss"] = logs.pop(f"val_{PLAIN}")
        logs.pop(PLAIN, None)


def class_weights(hp: dict[str, Any], spec: InputSpec, y: np.ndarray) -> dict[int, float] | None:
    """``balanced``: weight n / (classes * count) per class, as scikit-learn does."""
    if spec.task != "classification" or hp.get("class_weight", "none") != "balanced":
        return None
    counts = np.bincount(np.asarray(y, dtype="int64").reshape(-1), minlength=spec.n_classes)
    total, k = float(counts.sum()), max(spec.n_classes, 1)
    return {i: (total / (k * c) if c else 0.0) for i, c in enumerate(counts)}


class NoProgress(keras.callbacks.Callback):
    """Fails a trial that stays at chance for each of its first ``epochs`` epochs.

    Classification: validation accuracy no better than a constant guess of the most
    common class (or 1 / classes) plus 0.01. Regression: standardized ``val_loss`` not
    below 0.98, where predicting the mean scores 1.
    """

    def __init__(self, spec: InputSpec, y_val: np.ndarray, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs
        if spec.task == "classification":
            y = np.asarray(y_val, dtype="int64").reshape(-1)
            share = float(np.bincount(y).max() / len(y)) if len(y) else 0.0
            self.key = "val_accuracy"
            self.limit = max(1.0 / max(spec.n_classes, 1), share) + NO_PROGRESS_MARGIN
        else:
            self.key, self.limit = "val_loss", NO_PROGRESS_LOSS
        self.moved = False

    def _at_chance(self, value: float) -> bool:
        return value <= self.limit if self.key == "val_accuracy" else value >= self.limit

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = (logs or {}).get(self.key)
        if epoch >= self.epochs or value is None:
            return
        self.moved = self.moved or not self._at_chance(float(value))
        if not self.moved and epoch + 1 == self.epochs:
            word = "above" if self.key == "val_loss" else "at or below"
            raise TrialFailed(
                "no_progress",
                f"{self.key} stayed {word} {self.limit:.4g} (chance) for the first "
                f"{self.epochs} epochs",
            )


def callbacks(
    hp: dict[str, Any],
    data: Any,
    *,
    max_epochs: int,
    objective: Objective | None,
    no_progress_epochs: int = 0,
) -> tuple[list[keras.callbacks.Callback], list[keras.callbacks.Callback]]:
    """Callbacks to run before and after the trainer's own (history, early stopping).

    ``before`` rewrite the epoch's logs (learning rate, plain val_loss); ``after`` read
    the recorded epoch (no_progress).
    """
    before: list[keras.callbacks.Callback] = [LearningRate(hp, max_epochs, objective)]
    if smoothing(hp, data.input_spec) > 0:
        before.insert(0, PlainValLoss())
    after: list[keras.callbacks.Callback] = []
    # Recommenders have their own chance level (popularity); the rule is for plain tasks.
    if no_progress_epochs > 0 and objective is not None and data.interactions is None:
        after.append(NoProgress(data.input_spec, data.y_val, no_progress_epochs))
    return before, after
