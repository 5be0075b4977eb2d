"""Recurrent network (SimpleRNN / LSTM / GRU) for sequences of shape (steps, features)."""

from __future__ import annotations

from typing import Any

import keras

from automl.models import InputSpec
from automl.models.augment import sequence_augmentation
from automl.models.blocks import as_sequence, finish, recurrent_stack


def build(hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    inputs = keras.Input(shape=spec.shape, name="sequence")
    x = as_sequence(inputs)
    x = sequence_augmentation(x, hp.get("augmentation", {}))
    x = recurrent_stack(x, hp, hp["cell"], name="rnn")
    return keras.Model(inputs, finish(x, hp, spec), name="rnn")
