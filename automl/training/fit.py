"""Compile, fit with per-epoch reporting, measure, evaluate. No samplers here."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import keras
import numpy as np
from optuna.trial import TrialState

from automl.errors import Pruned, TrialFailed
from automl.models import InputSpec
from automl.models.optimizers import make_optimizer
from automl.ranking import Objective, best_epoch
from automl.store import records
from automl.training import callbacks

if TYPE_CHECKING:
    from automl.data import Splits

EVAL_BATCH = 256  # samples per batch for validation passes and test predictions


class Reporter(Protocol):
    """What the trainer needs of a trial: Optuna's Trial satisfies it."""

    def report(self, value: float, step: int) -> None: ...
    def should_prune(self) -> bool: ...


def compile_model(model: keras.Model, spec: InputSpec, hp: dict[str, Any]) -> None:
    if spec.task == "classification":
        loss, extra = callbacks.classification_loss(hp, spec)
        model.compile(optimizer=make_optimizer(hp), loss=loss, metrics=["accuracy", *extra])
    else:
        # The model predicts in target units; weighting the MSE by 1/variance makes the
        # gradients those of standardized targets, so learning rates mean the same for any
        # target scale. val_mae and val_rmse stay in target units.
        model.compile(
            optimizer=make_optimizer(hp),
            loss="mse",
            loss_weights=1.0 / max(spec.target_std**2, 1e-12),
            metrics=[
                keras.metrics.MeanAbsoluteError(name="mae"),
                keras.metrics.RootMeanSquaredError(name="rmse"),
            ],
        )


def divergence_limit(spec: InputSpec) -> float:
    """A training loss above this means the trial diverged (reason ``nan``).

    Keras clips probabilities, so an absurd learning rate often gives a finite loss, not
    NaN: on some backends it saturates near -log(1e-7) = 16.1 times the error rate. A
    degenerate classifier errs on at least half the samples, so its loss is above 7; a
    learning one stays near or below log(classes), the loss of a constant guess. For
    regression the loss is MSE in units of the target variance, where 1 is a constant guess.
    """
    if spec.task == "classification":
        return min(5.0 * math.log(max(spec.n_classes, 2)), 7.0)
    return 100.0


WEIGHT_LIMIT = 1e3  # a trainable weight this large means the optimizer blew up
LOSS_GROWTH = 100.0  # a loss this many times the first epoch's means divergence


def weight_limit(spec: InputSpec) -> float:
    """``WEIGHT_LIMIT``, scaled up by the target's size (an output bias may need it)."""
    if spec.task == "regression":
        return WEIGHT_LIMIT * max(1.0, abs(spec.target_mean) + spec.target_std)
    return WEIGHT_LIMIT


def exploded(model: keras.Model, limit: float = WEIGHT_LIMIT) -> str:
    """Why the model's trainable weights show divergence, or "" when they do not.

    Keras clips predicted probabilities, so a saturated classifier can keep a finite,
    modest loss (and even a good accuracy) while its weights are huge or not finite.
    """
    for weight in model.trainable_weights:
        values = keras.ops.convert_to_numpy(weight.value)
        if not np.all(np.isfinite(values)):
            return f"weight {weight.path} is not finite"
        top = float(np.max(np.abs(values))) if values.size else 0.0
        if top > limit:
            return f"weight {weight.path} reached {top:.3g} (limit {limit:.3g})"
    return ""


class EpochReporter(keras.callbacks.Callback):
    """Keeps the per-epoch history, fails on NaN or divergence, reports to the pruner.

    Every trial, of a family or of the user's code, fits with one of these first in its
    callbacks, so history, pruning and the epoch that ``automl watch`` shows are the same.

    Args:
        require_metric: fail the trial at once when the logs lack the objective (the user's
            model may be compiled without it).
        spare_learners: see :meth:`spared` (the user's models, run unchanged).
    """

    def __init__(
        self,
        metric: str,
        reporter: Reporter | None,
        limit: float,
        weights: float = WEIGHT_LIMIT,
        *,
        require_metric: bool = False,
        spare_learners: bool = False,
    ) -> None:
        super().__init__()
        self.metric = metric
        self.reporter = reporter
        self.limit = limit
        self.weights = weights
        self.require_metric = require_metric
        self.spare_learners = spare_learners
        self.history: dict[str, list[float]] = {}
        self.val_seconds: list[float] = []
        self._val_start = 0.0

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._val_start = time.perf_counter()

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        self.val_seconds.append(time.perf_counter() - self._val_start)

    def _check_growth(self, epoch: int, loss: float) -> None:
        first = self.history.get("loss", [loss])[0]
        if epoch and loss > LOSS_GROWTH * max(first, 0.1):
            raise TrialFailed("nan", f"loss grew to {loss:.4g} from {first:.4g} at epoch 1")
        why = exploded(self.model, self.weights)
        if why:
            raise TrialFailed("nan", f"training diverged at epoch {epoch + 1}: {why}")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.require_metric and self.metric not in (logs or {}):
            raise TrialFailed(
                "error",
                f"objective {self.metric!r} is not in the model's logs "
                f"({', '.join(sorted(logs or {}))}); compile the model with that metric",
            )
        logs = {k: float(v) for k, v in (logs or {}).items()}
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        epoch_end = getattr(self.reporter, "epoch_end", None)  # a worker's EpochRecorder
        if epoch_end is not None:
            epoch_end(epoch, logs)  # tracking sees the epoch that fails or prunes a trial too
        loss = logs.get("loss", 0.0)
        if not math.isfinite(loss) or not math.isfinite(logs.get(self.metric, 0.0)):
            raise TrialFailed("nan", f"loss became {loss} at epoch {epoch + 1}")
        if loss > self.limit:
            raise TrialFailed(
                "nan", f"loss diverged to {loss:.4g} at epoch {epoch + 1} (limit {self.limit:.4g})"
            )
        self._check_growth(epoch, loss)
        if self.reporter is not None and self.metric in logs:
            self.reporter.report(logs[self.metric], epoch)
            if self.reporter.should_prune() and not self.spared(epoch):
                raise Pruned(epoch + 1)

    def spared(self, epoch: int) -> bool:
        """Whether a trial the pruner would stop goes on all the same.

        With ``spare_learners``, a trial whose training side learns at least as well as the
        median completed trial's at this epoch is not pruned for its validation side alone.
        The user's model runs unchanged: with Keras' BatchNormalization momentum 0.99, say,
        validation sits near chance for 5-8 epochs while training accuracy is already
        0.95, and such trials were the best ones on digits (docs/design/findings.md §7). A
        trial that is not learning is still pruned. automl's own families set momentum 0.9
        and are never spared.
        """
        train_key = self.metric.removeprefix("val_")
        mine = self.history.get(train_key)
        study = getattr(self.reporter, "study", None)
        if not self.spare_learners or train_key == self.metric or not mine or study is None:
            return False
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        theirs = records.history_at(done, train_key, epoch)
        if not theirs:
            return False
        side = Objective.of(train_key)
        best = min(mine, key=side.sort_key)
        return not side.better(float(np.median(theirs)), best)


class BestWeights(keras.callbacks.EarlyStopping):
    """Early stopping on the objective that ends with the weights of :func:`best_epoch`.

    Keras' ``restore_best_weights`` keeps the first epoch to reach the best value; among
    epochs tied on the objective this keeps the one with the lowest validation loss, so the
    kept weights, the trial's stored metrics and its rank all follow the one tie rule.
    Patience counts as in Keras: a tie does not reset it.
    """

    def __init__(self, objective: Objective, patience: int) -> None:
        super().__init__(
            monitor=objective.metric,
            mode=objective.mode,
            patience=patience,
            restore_best_weights=True,
        )
        self.objective = objective
        self.best_weights: Any = None  # set by Keras in on_train_begin too
        self.best_epoch = 0
        self._history: dict[str, list[float]] = {}

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        self._history = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        logs = logs or {}
        for key in (self.monitor, "val_loss"):
            self._history.setdefault(key, []).append(float(logs.get(key, math.nan)))
        if self.best_weights is None or self.best_epoch == epoch:
            return
        if best_epoch(self._history, self.objective) == epoch:  # a tie, at a lower loss
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch


@dataclass
class FitResult:
    """What training gave: per-epoch history, the best epoch and its validation metrics.

    ``latency_ms`` is inference time per sample, read off the fastest validation pass at
    ``EVAL_BATCH`` samples a batch, so it costs no extra inference and compares trials
    whatever their training batch size.
    """

    history: dict[str, list[float]]
    best_epoch: int
    val_metrics: dict[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0

    @property
    def epochs(self) -> int:
        return len(next(iter(self.history.values()), []))


def fit(
    model: keras.Model,
    data: Splits,
    hp: dict[str, Any],
    *,
    max_epochs: int,
    patience: int | None,
    objective: Objective,
    reporter: Reporter | None = None,
    no_progress_epochs: int = 0,
) -> FitResult:
    """Train with early stopping on ``metric``; the model ends with its best epoch's weights.

    Raises:
        TrialFailed: reason ``nan``: the loss is not finite or diverges; its subclass
            TrialStopped, reason ``no_progress``: no better than a constant guess.
        Pruned: when the reporter says the trial should stop.
    """
    spec = data.input_spec
    tracker = EpochReporter(objective.metric, reporter, divergence_limit(spec), weight_limit(spec))
    limits = {"max_epochs": max_epochs, "no_progress_epochs": no_progress_epochs}
    before, after = callbacks.callbacks(hp, data, objective=objective, patience=patience, **limits)
    stopper = BestWeights(objective, patience if patience is not None else max_epochs)
    inputs: dict[str, Any] = {
        "x": data.x_train,
        "y": data.y_train,
        "validation_data": (data.x_val, data.y_val),
        "batch_size": int(hp["batch_size"]),
    }
    extra: list[Any] = []
    if getattr(data, "interactions", None) is not None:
        from automl.training import recommend

        # Implicit feedback: negatives sampled per epoch, ranking metrics at epoch end.
        changes, extra = recommend.fit_inputs(data, hp, objective.metric)
        inputs.update(changes)
    return run_fit(
        tracker,
        objective,
        len(data.y_val),
        lambda: model.fit(
            **inputs,
            validation_batch_size=EVAL_BATCH,
            epochs=max_epochs,
            callbacks=[*extra, *before, tracker, *after, stopper],
            class_weight=callbacks.class_weights(hp, data.input_spec, data.y_train),
            verbose=0,
        ),
        timers=extra,
    )


def run_fit(
    tracker: EpochReporter,
    objective: Objective,
    n_val: int,
    call: Callable[[], Any],
    *,
    timers: list[Any] | None = None,
) -> FitResult:
    """Run one trial's ``fit`` call and read its result: the one path every trial takes.

    ``call`` does the fitting (Keras' ``fit``, or a ``HyperModel.fit`` override) with
    ``tracker`` among its callbacks. A pruned or failed trial keeps the curve seen so far;
    the result is taken at :func:`~automl.ranking.best_epoch`; latency is read off the
    fastest validation pass (of ``tracker`` or, for ranking metrics, of ``timers``).
    """
    try:
        returned = call()
    except (Pruned, TrialFailed) as exc:
        # Keep the curve of a stopped trial: learning curves show where it ended.
        exc.history = tracker.history
        raise
    result = result_of(tracker.history, objective, returned)
    seconds = tracker.val_seconds or [
        s for c in timers or [] for s in getattr(c, "val_seconds", [])
    ]
    if seconds:
        result.latency_ms = 1000.0 * min(seconds) / max(n_val, 1)
    return result


def trial_metrics(model: keras.Model, fit: FitResult) -> dict[str, Any]:
    """What a trial stores besides its history: epochs, size, latency, validation metrics."""
    return {
        "epochs": fit.epochs,
        "best_epoch": fit.best_epoch + 1,
        "params_count": int(model.count_params()),
        "latency_ms": round(fit.latency_ms, 6),
        **{k: round(v, 6) for k, v in fit.val_metrics.items()},
    }


def result_of(
    history: dict[str, list[float]], objective: Objective, returned: Any = None
) -> FitResult:
    """The trial's result from the epochs seen, or from what a custom ``fit`` returned
    (a Keras ``History``, a dict of metrics, or the objective's value)."""
    if not history.get(objective.metric) and isinstance(returned, keras.callbacks.History):
        history = {k: [float(v) for v in vs] for k, vs in returned.history.items()}
    if history.get(objective.metric):
        best = best_epoch(history, objective)
        val = {k: v[best] for k, v in history.items() if k.startswith("val_")}
        return FitResult(history, best, val)
    if isinstance(returned, dict) and objective.metric in returned:
        val = {str(k): float(v) for k, v in returned.items()}
        return FitResult({k: [v] for k, v in val.items()}, 0, val)
    if isinstance(returned, int | float) and not isinstance(returned, bool):
        value = float(returned)
        return FitResult({objective.metric: [value]}, 0, {objective.metric: value})
    raise TrialFailed(
        "error",
        f"objective {objective.metric!r} was not computed: the fit returned "
        f"{type(returned).__name__} and the logs have {', '.join(sorted(history)) or 'nothing'}",
    )
