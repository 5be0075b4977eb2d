"""Studies with saved models, made without training: a synthetic study plus tiny Keras models
saved as the workers save them (artifact and digest), and the tampered files an attacker
who can write the artifact folder could put in their place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna

from automl.store import models, records
from automl.store.storage import artifact_dir, artifact_store
from tests.helpers.sample_study import make_study


def tiny_model(lambda_layer: bool = False, units: int = 10) -> Any:
    """A digits-shaped model; with ``lambda_layer``, one that carries Python code."""
    import keras

    layers: list[Any] = [keras.Input((64,))]
    if lambda_layer:
        layers.append(keras.layers.Lambda(lambda x: x * 2.0))
    layers.append(keras.layers.Dense(units, activation="softmax"))
    return keras.Sequential(layers)


def add_saved_trial(
    study: optuna.Study, url: str, *, value: float, digest: bool = True, aid: str | None = None
) -> tuple[int, str]:
    """A completed trial whose model is saved (as kept_models saves it): number, artifact id.

    ``digest=False``: no digest recorded (as in a study saved by an older automl);
    ``aid``: store this artifact id instead of the saved one's.
    """
    trial = study.ask()
    saved, sha = models.save(artifact_store(url), trial, tiny_model(), f"trial-{trial.number}")
    if digest:
        trial.set_user_attr(records.MODEL_SHA256, sha)
    trial.set_user_attr(records.ARTIFACT, aid or saved)
    study.tell(trial, value)
    return trial.number, saved


def study_with_model(url: str, name: str = "s", **kwargs: Any) -> tuple[optuna.Study, str]:
    """A synthetic study whose best trial has a saved model: the study and its artifact id."""
    study = make_study(url, name, n_trials=3, states=["COMPLETE", "PRUNED", "FAIL"])
    return study, add_saved_trial(study, url, value=1.0, **kwargs)[1]


def replace_artifact(url: str, aid: str, model: Any) -> Path:
    """Put another model's ``.keras`` file where artifact ``aid`` is."""
    path = artifact_dir(url) / aid
    path.unlink()
    model.save(path.with_suffix(".keras"))
    path.with_suffix(".keras").rename(path)
    return path
