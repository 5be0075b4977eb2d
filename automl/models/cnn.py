"""Convolutional network for images of shape (height, width, channels)."""

from __future__ import annotations

from typing import Any

import keras

from automl.errors import DataError
from automl.models import InputSpec
from automl.models.augment import image_augmentation
from automl.models.blocks import conv_stack, finish


def build(hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    if len(spec.shape) != 3:
        raise DataError(
            f"model.family 'cnn' needs images (height, width, channels); "
            f"the data gives samples of shape {spec.shape}"
        )
    inputs = keras.Input(shape=spec.shape, name="image")
    x = image_augmentation(inputs, hp.get("augmentation", {}))
    x = conv_stack(x, hp["filters"], hp["kernel_size"], hp, hp["pooling"], name="conv")
    x = flatten_2d(x)
    return keras.Model(inputs, finish(x, hp, spec), name="cnn")


GRID = 4  # cells per side that the head sees of a feature map


def flatten_2d(x: Any) -> Any:
    """Average large maps down to at most GRID x GRID cells, then flatten.

    This replaces global average pooling of maps over 4x4, which threw away where features
    are: on 64x64 photos whose classes differ by the layout of parts (hand signs), 2-3
    block CNNs ending in it stayed at chance (train loss ln 10) for 10 epochs with max or
    avg pooling, while the same nets with a 4x4 grid reached 0.98 / 0.93 validation
    accuracy (docs/design/findings.md). Maps of at most 4x4 are flattened as before.
    """
    h, w = int(x.shape[1]), int(x.shape[2])
    if h > GRID or w > GRID:
        size = (-(-h // GRID), -(-w // GRID))  # ceil: at most GRID cells per side
        x = keras.layers.AveragePooling2D(size, padding="same", name="grid_pool")(x)
    return keras.layers.Flatten(name="flatten")(x)
