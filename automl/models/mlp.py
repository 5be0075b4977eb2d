"""Multi-layer perceptron for tabular features (any input is flattened)."""

from __future__ import annotations

from typing import Any

import keras

from automl.models import InputSpec
from automl.models._common import dense_block, head


def build(hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    inputs = keras.Input(shape=spec.shape, name="features")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(spec.shape) > 1 else inputs
    for i in range(hp["n_layers"]):
        x = dense_block(x, hp["units"][i], hp, name=f"hidden{i}")
    return keras.Model(inputs, head(x, spec), name="mlp")
