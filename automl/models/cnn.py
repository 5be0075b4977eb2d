"""Convolutional network for images of shape (height, width, channels)."""

from __future__ import annotations

from typing import Any

import keras

from automl.augment import image_augmentation
from automl.errors import DataError
from automl.models import InputSpec
from automl.models._common import head


def build(hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    if len(spec.shape) != 3:
        raise DataError(
            f"model.family 'cnn' needs images (height, width, channels); "
            f"the data gives samples of shape {spec.shape}"
        )
    inputs = keras.Input(shape=spec.shape, name="image")
    x = image_augmentation(inputs, hp.get("augmentation", {}))
    size = min(spec.shape[0], spec.shape[1])
    for i in range(hp["n_layers"]):
        x = keras.layers.Conv2D(
            hp["filters"][i], hp["kernel_size"], padding="same", name=f"conv{i}"
        )(x)
        if hp["batch_norm"]:
            x = keras.layers.BatchNormalization(name=f"conv{i}_bn")(x)
        x = keras.layers.Activation(hp["activation"], name=f"conv{i}_act")(x)
        # Stop pooling once the feature map is 1 pixel wide, so deep nets fit small images.
        if hp["pooling"] != "none" and size >= 2:
            pool = (
                keras.layers.MaxPooling2D
                if hp["pooling"] == "max"
                else keras.layers.AveragePooling2D
            )
            x = pool(2, padding="same", name=f"pool{i}")(x)
            size = (size + 1) // 2
    x = (
        keras.layers.GlobalAveragePooling2D(name="gap")(x)
        if size > 4
        else keras.layers.Flatten()(x)
    )
    if hp["dropout"] > 0:
        x = keras.layers.Dropout(hp["dropout"], name="dropout")(x)
    if hp["dense_units"] > 0:
        x = keras.layers.Dense(hp["dense_units"], name="dense")(x)
        x = keras.layers.Activation(hp["activation"], name="dense_act")(x)
    return keras.Model(inputs, head(x, spec), name="cnn")
