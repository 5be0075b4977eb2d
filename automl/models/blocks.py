"""Pieces every family shares: the output head, dense, convolution and recurrent stacks."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from automl.models import InputSpec

_CELLS = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}

# Moving-average momentum of BatchNormalization. Keras' default 0.99 needs ~300 steps to
# forget its initial statistics (mean 0, variance 1); small data sets train only 20-50
# steps an epoch, so for 5-8 epochs the validation pass (which uses the moving
# statistics) sat near chance while training accuracy was 0.99, and early stopping or the
# pruner ended the trial there (digits: test 0.49 after early stopping vs 0.986 when
# trained on). 0.9 (PyTorch's default) forgets them within an epoch.
BN_MOMENTUM = 0.9


def pick(x: Any, columns: list[int], width: int, name: str) -> tuple[Any, Any]:
    """Columns ``columns`` of ``x`` (batch, width) by a fixed (non-trainable) Dense layer:
    the output, and ``(layer, kernel)`` to set once the model is built."""
    layer = keras.layers.Dense(len(columns), use_bias=False, trainable=False, name=name)
    kernel = np.zeros((width, len(columns)), dtype="float32")
    kernel[columns, np.arange(len(columns))] = 1.0
    return layer(x), (layer, kernel)


def batch_norm(name: str) -> Any:
    return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=name)


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
        x = batch_norm(f"{name}_bn")(x)
    x = keras.layers.Activation(hp["activation"], name=f"{name}_act")(x)
    if hp["dropout"] > 0:
        x = keras.layers.Dropout(hp["dropout"], name=f"{name}_dropout")(x)
    return x


def finish(x: Any, hp: dict[str, Any], spec: InputSpec) -> Any:
    """Dropout, an optional dense layer (``dense_units``), then the task's head."""
    if hp["dropout"] > 0:
        x = keras.layers.Dropout(hp["dropout"], name="dropout")(x)
    if hp.get("dense_units", 0) > 0:
        x = keras.layers.Dense(hp["dense_units"], name="dense")(x)
        x = keras.layers.Activation(hp["activation"], name="dense_act")(x)
    return head(x, spec)


def as_sequence(x: Any) -> Any:
    """View any input as (steps, features): a vector is one feature per step."""
    shape = tuple(x.shape[1:])
    if len(shape) == 1:
        return keras.layers.Reshape((shape[0], 1), name="as_sequence")(x)
    if len(shape) > 2:
        return keras.layers.Reshape((shape[0], -1), name="as_sequence")(x)
    return x


def conv_stack(
    x: Any, filters: list[int], kernel_size: int, hp: dict[str, Any], pooling: str, name: str
) -> Any:
    """Convolution blocks (1-D or 2-D by the input's rank): conv, norm, activation, pool.

    Pooling stops once the feature map is 1 step wide, so deep stacks fit small inputs.
    """
    two_d = len(x.shape) == 4
    conv = keras.layers.Conv2D if two_d else keras.layers.Conv1D
    pools = {
        "max": keras.layers.MaxPooling2D if two_d else keras.layers.MaxPooling1D,
        "avg": keras.layers.AveragePooling2D if two_d else keras.layers.AveragePooling1D,
    }
    size = min(int(s) for s in x.shape[1:-1])
    for i, n in enumerate(filters):
        x = conv(n, kernel_size, padding="same", name=f"{name}{i}")(x)
        if hp["batch_norm"]:
            x = batch_norm(f"{name}{i}_bn")(x)
        x = keras.layers.Activation(hp["activation"], name=f"{name}{i}_act")(x)
        if pooling != "none" and size >= 2:
            x = pools[pooling](2, padding="same", name=f"{name}{i}_pool")(x)
            size = (size + 1) // 2
    return x


def recurrent_stack(x: Any, hp: dict[str, Any], cell: str, name: str) -> Any:
    """Recurrent layers of ``hp['units']``; the last returns only its final state."""
    layer_cls = getattr(keras.layers, _CELLS[cell])
    units = list(hp["units"])
    for i, n in enumerate(units):
        last = i == len(units) - 1
        layer = layer_cls(n, return_sequences=not last, name=f"{name}{i}")
        if hp.get("bidirectional"):
            layer = keras.layers.Bidirectional(layer, name=f"{name}{i}_bi")
        x = layer(x)
        if hp["batch_norm"]:
            x = batch_norm(f"{name}{i}_bn")(x)
        if hp["dropout"] > 0 and not last:
            x = keras.layers.Dropout(hp["dropout"], name=f"{name}{i}_dropout")(x)
    return x
