"""Refit: retrain the best configuration on train + validation when the sweep ends.

With ``training.refit: true`` the best trial's hyperparameters are trained again on the
pooled train and validation samples for as many epochs as the trial needed (its best
epoch), replaying its learning rate per epoch; the model is evaluated on test, saved as
its own artifact and stored under :data:`automl.store.records.REFIT`. ``best_model()`` and
``export`` then return it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.ranking import best
from automl.store import records, storage

if TYPE_CHECKING:
    from automl.store.records import StudyRecord, TrialRecord
    from automl.study.context import Context


def target(record: StudyRecord, enabled: bool) -> TrialRecord | None:
    """The trial a refit is still due for (single objective, refit on), else None."""
    if not enabled or len(record.objectives) != 1:
        return None
    top = best(record.complete, record.objectives)
    if not top or (record.refit or {}).get("trial") == top[0].number:
        return None
    return top[0]


def epochs_of(trial: TrialRecord) -> int:
    """The epochs a refit trains: the trial's best epoch (1-based), else all it ran."""
    return max(int(trial.metrics.get("best_epoch") or trial.epochs or 1), 1)


def train(ctx: Context, trial: TrialRecord) -> tuple[Any, int, int]:
    """Train the trial's configuration on train + validation; (model, epochs, samples)."""
    import keras
    import optuna

    from automl.search.suggest import suggest
    from automl.training import callbacks, folds
    from automl.training import fit as training

    data = ctx.splits
    hp = suggest(optuna.trial.FixedTrial(trial.params), ctx.spec)
    epochs = epochs_of(trial)
    x = np.concatenate([data.x_train, data.x_val])
    y = np.concatenate([data.y_train, data.y_val])
    keras.backend.clear_session()
    keras.utils.set_random_seed(int(ctx.study.user_attrs.get(records.SEED) or 0) + trial.number)
    pooled = dataclasses.replace(data, x_train=x, y_train=y)
    model = folds.build(ctx.spec, pooled, hp)
    training.compile_model(model, data.input_spec, hp)
    rates = [float(v) for v in trial.history.get(callbacks.LR_KEY, [])[:epochs]] or None
    schedule = callbacks.LearningRate(hp, ctx.spec.training.max_epochs, replay=rates)
    model.fit(
        x,
        y,
        batch_size=int(hp["batch_size"]),
        epochs=epochs,
        callbacks=[schedule],
        class_weight=callbacks.class_weights(hp, data.input_spec, y),
        verbose=0,
    )
    return model, epochs, len(y)


def finalize(ctx: Context, record: StudyRecord) -> None:
    """Refit the best trial if it changed since the last refit; store model and metrics."""
    from automl.training import measure

    trial = target(record, ctx.spec.training.refit)
    if trial is None:
        return
    model, epochs, samples = train(ctx, trial)
    out = measure.predict(model, ctx.splits.x_test)
    aid, digest = storage.save_study_model(ctx.store, ctx.study, model, f"refit-{trial.number}")
    old = (record.refit or {}).get("artifact_id")
    ctx.study.set_user_attr(
        records.REFIT,
        {
            "trial": trial.number,
            "artifact_id": aid,
            "sha256": digest,
            "epochs": epochs,
            "samples": samples,
            "test": measure.score(ctx.task, ctx.splits.y_test, out),
        },
    )
    if old:
        storage.remove(ctx.store, str(old))
