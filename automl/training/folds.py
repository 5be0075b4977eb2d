"""Train one trial's model: on the validation split, or k-fold on all non-test samples.

With ``data.folds: k`` the train and validation splits are pooled and cut into k folds
(stratified for classification); the test split is never in any fold. The trial's
objective is the mean over folds of each fold's best-epoch value, reported to the pruner
after each fold (step = fold index), and the model kept is the last fold's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.data import Splits
from automl.search.spec import SweepSpec

if TYPE_CHECKING:
    from automl.models import InputSpec
    from automl.ranking import Objective
    from automl.training.fit import Reporter


def fold_splits(splits: Splits, k: int, seed: int = 0) -> Iterator[Splits]:
    """The k train/validation splits of the pooled non-test samples; test stays as is."""
    from sklearn.model_selection import KFold, StratifiedKFold

    x = np.concatenate([splits.x_train, splits.x_val])
    y = np.concatenate([splits.y_train, splits.y_val])
    cutter: Any = KFold(k, shuffle=True, random_state=seed)
    if splits.input_spec.task == "classification" and np.bincount(y.astype(int)).min() >= k:
        cutter = StratifiedKFold(k, shuffle=True, random_state=seed)
    for train, val in cutter.split(x, y):
        yield dataclasses.replace(
            splits, x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val]
        )


def build(spec: SweepSpec, data: Splits, hp: dict[str, Any]) -> Any:
    """The trial's uncompiled model; tables with ``scaling: quantile`` get it in front;
    a rating model's biases start at their closed-form values."""
    from automl.models import build_model
    from automl.models.scaling import quantile_front

    ratings = data.interactions is not None and not data.interactions.implicit
    input_spec = data.input_spec
    if ratings:  # the bias penalty is counted in ratings: it needs the train size
        input_spec = dataclasses.replace(input_spec, n_train=len(data.y_train))
    quantile = hp.get("scaling") == "quantile" and np.ndim(data.x_train) == 2
    if hp.get("numeric_encoding", "none") != "none" and np.ndim(data.x_train) == 2:
        input_spec = with_numeric_edges(input_spec, data.x_train, hp, quantile)
    model = build_model(str(spec.model.family), hp, input_spec)
    if quantile:
        model = quantile_front(model, data.x_train, len(data.input_spec.categories))
    if ratings:
        start_from_biases(model, data, hp)
    return model


def with_numeric_edges(
    input_spec: InputSpec, x_train: np.ndarray, hp: dict[str, Any], quantile: bool
) -> InputSpec:
    """The spec with each number's quantile bin edges on the train split, as the model sees
    the numbers (after the quantile transform when ``scaling: quantile`` puts one in front)."""
    from automl.models.numeric import edges
    from automl.models.scaling import knots, transform

    numbers = x_train[:, : x_train.shape[1] - len(input_spec.categories)]
    if quantile:
        numbers = transform(numbers, *knots(numbers))
    found = edges(numbers, int(hp.get("numeric_bins", 16)))
    return dataclasses.replace(input_spec, numeric_edges=found)


def start_from_biases(model: Any, data: Splits, hp: dict[str, Any]) -> None:
    """Set a rating model's biases to their closed-form values on the train split, so that
    every trial starts as the biases baseline (the output's offset is the train mean)."""
    from automl.data import rating_biases
    from automl.models import recommender

    spec = data.input_spec
    _, user, item = rating_biases.biases(
        data.x_train,
        data.y_train,
        spec.n_users,
        spec.n_items,
        damping=float(hp.get("bias_damping", rating_biases.DAMPING)),
        mean=spec.target_mean,
    )
    recommender.start_from_biases(model, user / spec.target_std, item / spec.target_std)


def train_once(
    spec: SweepSpec,
    data: Splits,
    hp: dict[str, Any],
    objective: Objective,
    reporter: Reporter | None,
) -> tuple[Any, Any]:
    """Build, compile and fit one model on ``data``; returns (model, FitResult).

    A family with a feature front end trains only its body, on features computed once
    per front-end setting (:mod:`automl.training.frontend_cache`); the model returned is the
    whole one.
    """
    from automl.training import fit as training
    from automl.training import frontend_cache

    parts = frontend_cache.parts_of(spec.model.family, hp, data.input_spec)
    cached = parts is not None and parts.cacheable and spec.data.feature_cache
    front_ms = 0.0
    if parts is not None and cached:
        model, net = parts.model, parts.body
        data, front_ms = frontend_cache.feed(parts.front, data)
    else:
        model = net = parts.model if parts is not None else build(spec, data, hp)
    training.compile_model(net, data.input_spec, hp)
    fit = training.fit(
        net,
        data,
        hp,
        max_epochs=spec.training.max_epochs,
        patience=spec.training.patience,
        objective=objective,
        reporter=reporter,
        no_progress_epochs=spec.training.no_progress_epochs,
    )
    if net is not model:  # saved models keep their compile settings, as uncached ones do
        training.compile_model(model, data.input_spec, hp)
        fit.latency_ms += front_ms
    return model, fit


def train_folds(
    spec: SweepSpec,
    splits: Splits,
    hp: dict[str, Any],
    objective: Objective,
    reporter: Reporter | None,
) -> tuple[Any, Any]:
    """Train one model per fold; the result's validation metrics are the fold means.

    Raises:
        Pruned: when the reporter says so after a fold (on the running mean).
    """
    import keras

    from automl.errors import Pruned
    from automl.training.fit import FitResult

    k = int(spec.data.folds or 0)
    fits: list[Any] = []
    model: Any = None
    for i, data in enumerate(fold_splits(splits, k, spec.data.split_seed)):
        keras.backend.clear_session()
        model, fit = train_once(spec, data, hp, objective, None)
        fits.append(fit)
        if reporter is not None:
            running = float(np.mean([f.val_metrics[objective.metric] for f in fits]))
            reporter.report(running, i)
            if reporter.should_prune():
                exc = Pruned(i + 1)
                exc.history = fit.history
                raise exc
    keys = set.intersection(*(set(f.val_metrics) for f in fits))
    mean = {key: float(np.mean([f.val_metrics[key] for f in fits])) for key in keys}
    best_epoch = int(round(float(np.median([f.best_epoch for f in fits]))))
    last = fits[-1]
    return model, FitResult(last.history, best_epoch, mean, last.latency_ms)
