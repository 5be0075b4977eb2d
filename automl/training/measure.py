"""Measuring a trained model: outputs in inference mode, test metrics, a layer table."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from automl.training.fit import EVAL_BATCH


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Model outputs in inference mode, batch by batch.

    A direct call skips building a predict function, which costs more than the
    prediction itself for the small test splits of a sweep.
    """
    parts = [
        keras.ops.convert_to_numpy(model(x[i : i + EVAL_BATCH], training=False))
        for i in range(0, len(x), EVAL_BATCH)
    ]
    return np.concatenate(parts) if parts else np.empty((0,))


def score(task: str, y_true: np.ndarray, y_out: np.ndarray) -> dict[str, float]:
    """Metrics of model outputs on the test split (scikit-learn)."""
    from sklearn import metrics as m

    if task == "classification":
        # One sigmoid output (a user's binary model): class 1 above 0.5.
        binary = y_out.ndim == 1 or y_out.shape[1] == 1
        y_pred = (y_out.reshape(-1) > 0.5).astype("int64") if binary else y_out.argmax(axis=1)
        return {
            "accuracy": float(m.accuracy_score(y_true, y_pred)),
            "balanced_accuracy": float(m.balanced_accuracy_score(y_true, y_pred)),
            "f1_macro": float(m.f1_score(y_true, y_pred, average="macro", zero_division=0)),
            "precision_macro": float(
                m.precision_score(y_true, y_pred, average="macro", zero_division=0)
            ),
            "recall_macro": float(m.recall_score(y_true, y_pred, average="macro", zero_division=0)),
        }
    y_pred = y_out.reshape(-1)
    return {
        "mae": float(m.mean_absolute_error(y_true, y_pred)),
        "rmse": float(math.sqrt(m.mean_squared_error(y_true, y_pred))),
        "r2": float(m.r2_score(y_true, y_pred)),
    }


def layer_summary(model: keras.Model) -> list[dict[str, Any]]:
    """One row per layer: name, type, output shape and parameter count."""
    rows = []
    for layer in model.layers:
        try:
            shape = str(tuple(layer.output.shape))
        except (AttributeError, ValueError):
            shape = ""
        rows.append(
            {
                "name": layer.name,
                "type": type(layer).__name__,
                "output_shape": shape,
                "params": int(layer.count_params()),
            }
        )
    return rows
