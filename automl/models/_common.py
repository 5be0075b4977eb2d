"""Pieces every family shares: the output head that follows the task."""

from __future__ import annotations

from typing import Any

import keras

from automl.models import InputSpec


def head(x: Any, spec: InputSpec) -> Any:
    """Output layer: softmax over classes, or one unit rescaled to the target's units."""
    if spec.task == "classification":
        return keras.layers.Dense(spec.n_classes, activation="softmax", name="output")(x)
    x = keras.layers.Dense(1, name="output")(x)
    # The network learns standardized targets; the exported model predicts in real units.
    return keras.layers.Rescaling(spec.target_std, offset=spec.target_mean, name="to_units")(x)


def dense_block(x: Any, units: int, hp: dict[str, Any], name: str) -> Any:
    x = keras.layers.Dense(units, name=f"{name}_dense")(x)
    if hp["batch_norm"]:
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    x = keras.layers.Activation(hp["activation"], name=f"{name}_act")(x)
    if hp["dropout"] > 0:
        x = keras.layers.Dropout(hp["dropout"], name=f"{name}_dropout")(x)
    return x
