"""1-D convolutional network for sequences (steps, features) or raw waveforms (samples,)."""

from __future__ import annotations

from typing import Any

import keras

from automl.models import InputSpec
from automl.models.augment import sequence_augmentation
from automl.models.blocks import as_sequence, conv_stack, finish


def build(hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    inputs = keras.Input(shape=spec.shape, name="sequence")
    x = as_sequence(inputs)
    x = sequence_augmentation(x, hp.get("augmentation", {}))
    x = conv_stack(x, hp["filters"], hp["kernel_size"], hp, hp["pooling"], name="conv")
    x = keras.layers.GlobalAveragePooling1D(name="gap")(x)
    return keras.Model(inputs, finish(x, hp, spec), name="conv1d")
