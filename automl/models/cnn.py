"""Convolutional network for images of shape (height, width, channels)."""

from __future__ import annotations

from typing import Any

import keras

from automl.augment import image_augmentation
from automl.errors import DataError
from automl.models import InputSpec
from automl.models._common import conv_stack, finish


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


def flatten_2d(x: Any) -> Any:
    """Global average pooling of large maps; small ones keep their positions (flatten)."""
    if min(int(x.shape[1]), int(x.shape[2])) > 4:
        return keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.layers.Flatten(name="flatten")(x)
