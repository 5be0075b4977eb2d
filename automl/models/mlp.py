"""Multi-layer perceptron for tabular features (any input is flattened).

A table whose space tunes ``categorical_encoding`` arrives with one column of integer codes
per category column, after its numbers (:func:`automl.data.tabular.fit_codes`). The model
encodes them itself, so one prepared table serves every trial: ``onehot`` one-hot encodes
each column (at most ``ONEHOT_MAX`` levels, the rarest sharing the last); ``embedding``
gives each column of more than ``embedding_min_levels`` levels a trainable Embedding of
``embedding_dim(levels)`` dimensions, and one-hot encodes the rest. Columns are picked by
fixed (non-trainable) Dense layers: stock layers only, so the model loads in safe mode.
Numbers may be encoded first (``numeric_encoding``: :mod:`automl.models.numeric`).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from automl.models import InputSpec, numeric
from automl.models.blocks import dense_block, head, pick

ONEHOT_MAX = 50  # one-hot columns of a category column at most (as the data layer's)


def embedding_dim(levels: int) -> int:
    """The usual rule of thumb for an embedding's size: min(50, 1.6 levels^0.56)."""
    return max(1, min(50, round(1.6 * levels**0.56)))


def build(hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    inputs = keras.Input(shape=spec.shape, name="features")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(spec.shape) > 1 else inputs
    picks: list[tuple[keras.layers.Layer, np.ndarray]] = []
    if spec.categories:
        x, picks = _encode_categories(x, hp, spec)
    elif spec.numeric_edges:
        x, picks = numeric.encode(x, hp, spec.numeric_edges)
    for i in range(hp["n_layers"]):
        x = dense_block(x, hp["units"][i], hp, name=f"hidden{i}")
    model = keras.Model(inputs, head(x, spec), name="mlp")
    for layer, kernel in picks:  # fixed column selections, set once the layers are built
        layer.set_weights([kernel])
    return model


def _encode_categories(x: Any, hp: dict[str, Any], spec: InputSpec) -> tuple[Any, list]:
    width = int(spec.shape[0])
    n_num = width - len(spec.categories)
    embed = hp.get("categorical_encoding", "onehot") == "embedding"
    min_levels = int(hp.get("embedding_min_levels", 10))
    parts, picks = [], []
    if n_num:
        numbers, sel = pick(x, list(range(n_num)), width, "numbers")
        picks.append(sel)
        numbers, more = numeric.encode(numbers, hp, spec.numeric_edges[:n_num])
        parts.append(numbers)
        picks += more
    for j, levels in enumerate(spec.categories):
        code, sel = pick(x, [n_num + j], width, f"category{j}_code")
        picks.append(sel)
        if embed and levels > min_levels:
            dim = embedding_dim(levels)
            vec = keras.layers.Embedding(levels + 1, dim, name=f"category{j}_embedding")(code)
        else:
            size = min(levels, ONEHOT_MAX - 1) + 1  # the last: unknown and rare levels
            code = keras.layers.ReLU(max_value=size - 1, name=f"category{j}_clip")(code)
            table = keras.layers.Embedding(
                size,
                size,
                embeddings_initializer="identity",
                trainable=False,
                name=f"category{j}_onehot",
            )
            vec = table(code)
        parts.append(keras.layers.Flatten(name=f"category{j}_flat")(vec))
    if len(parts) == 1:
        return parts[0], picks
    return keras.layers.Concatenate(name="encoded")(parts), picks
