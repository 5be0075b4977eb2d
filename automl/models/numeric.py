"""Encodings of a table's numbers inside an ``mlp`` (``numeric_encoding``).

Plain MLPs trail gradient boosting on many tables; encoding each number before the dense
layers closes most of the gap (Gorishniy, Rubachev and Babenko, "On Embeddings for
Numerical Features in Tabular Deep Learning", NeurIPS 2022):

- ``piecewise_linear``: each number becomes ``numeric_bins`` values, one per quantile bin
  of its training values: 1 for the bins below it, its relative position inside its own
  bin, 0 above (PLE with quantile bins). Fixed, built from stock layers (``EinsumDense``,
  ``ReLU``): nothing is trained, the model loads in Keras safe mode.
- ``periodic``: each number x becomes ``cos(2 pi c x), sin(2 pi c x)`` for ``FREQUENCIES``
  trained frequencies ``c`` (started from a normal of standard deviation
  ``periodic_sigma``), then a trained dense layer of ``numeric_embedding_dim`` units and
  a ReLU per number (PLR). :class:`Periodic` is automl's own layer, registered with Keras,
  so the model loads in safe mode where automl is installed.

The bin edges are fitted on the train split (:func:`edges`) and reach the builder in
:attr:`automl.models.InputSpec.numeric_edges`; a number with fewer than three distinct
training values (a flag, a one-hot column, a constant) passes through as it is.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from automl.models.blocks import pick

FREQUENCIES = 16  # periodic: frequencies per number (cos and sin of each)
MIN_DISTINCT = 3  # numbers with fewer distinct training values pass through


def edges(x: np.ndarray, bins: int) -> tuple[tuple[float, ...], ...]:
    """Per column of ``x`` (2-D, train rows): its quantile bin edges, at most ``bins + 1``
    (ties merged), or ``()`` for a column to pass through unchanged."""
    out: list[tuple[float, ...]] = []
    probs = np.linspace(0.0, 1.0, bins + 1)
    for column in np.asarray(x, dtype="float64").T:
        finite = column[np.isfinite(column)]
        qs = np.unique(np.quantile(finite, probs)) if len(finite) else np.empty(0)
        few = len(np.unique(finite)) < MIN_DISTINCT or len(qs) < 2
        out.append(() if few else tuple(float(q) for q in qs))
    return tuple(out)


def encode(
    x: Any, hp: dict[str, Any], numbers_edges: tuple[tuple[float, ...], ...]
) -> tuple[Any, list[Any]]:
    """The numbers ``x`` (batch, n) encoded as ``hp['numeric_encoding']`` says, and the
    fixed column selections to set once the model is built (see ``blocks.pick``)."""
    kind = hp.get("numeric_encoding", "none")
    encoded = [j for j, e in enumerate(numbers_edges) if e]
    if kind == "none" or not encoded:
        return x, []
    width = len(numbers_edges)
    kept = [j for j in range(width) if not numbers_edges[j]]
    chosen, sel = pick(x, encoded, width, "numeric_pick")
    picks = [sel]
    if kind == "piecewise_linear":
        parts = [_piecewise_linear([numbers_edges[j] for j in encoded], chosen)]
    else:
        parts = [_periodic(chosen, hp)]
    if kept:
        rest, sel = pick(x, kept, width, "numeric_as_is")
        picks.append(sel)
        parts.append(rest)
    out = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="numeric")(parts)
    return out, picks


def _piecewise_linear(columns: list[tuple[float, ...]], x: Any) -> Any:
    n, bins = len(columns), max(len(e) for e in columns) - 1
    kernel = np.zeros((n, bins), dtype="float32")
    bias = np.zeros((n, bins), dtype="float32")
    for j, e in enumerate(columns):
        lo, hi = np.asarray(e[:-1]), np.asarray(e[1:])
        kernel[j, : len(lo)] = 1.0 / (hi - lo)
        bias[j, : len(lo)] = -lo / (hi - lo)
    layer = keras.layers.EinsumDense(
        "ab,bc->abc", output_shape=(n, bins), bias_axes="bc", trainable=False, name="ple_bins"
    )
    z = keras.layers.ReLU(max_value=1.0, name="ple_clip")(layer(x))
    layer.set_weights([kernel, bias])
    return keras.layers.Flatten(name="ple")(z)


def _periodic(x: Any, hp: dict[str, Any]) -> Any:
    dim = int(hp.get("numeric_embedding_dim", 16))
    sigma = float(hp.get("periodic_sigma", 1.0))
    n = int(x.shape[-1])
    z = Periodic(FREQUENCIES, sigma, name="periodic")(x)  # (batch, n, 2k)
    dense = keras.layers.EinsumDense(
        "abc,bcd->abd", output_shape=(n, dim), bias_axes="bd", name="periodic_dense"
    )
    z = keras.layers.ReLU(name="periodic_relu")(dense(z))
    return keras.layers.Flatten(name="plr")(z)


@keras.saving.register_keras_serializable(package="automl")
class Periodic(keras.layers.Layer):
    """``x`` (batch, n) -> (batch, n, 2k): cos and sin of ``2 pi c x`` for k trained
    frequencies ``c`` per number, started from N(0, sigma)."""

    def __init__(self, frequencies: int = FREQUENCIES, sigma: float = 1.0, **kw: Any) -> None:
        super().__init__(**kw)
        self.frequencies = int(frequencies)
        self.sigma = float(sigma)

    def build(self, input_shape: Any) -> None:
        self.coefficients = self.add_weight(
            shape=(int(input_shape[-1]), self.frequencies),
            initializer=keras.initializers.RandomNormal(0.0, self.sigma),
            name="coefficients",
        )

    def call(self, x: Any) -> Any:
        z = 2 * math.pi * keras.ops.expand_dims(x, -1) * self.coefficients
        return keras.ops.concatenate([keras.ops.cos(z), keras.ops.sin(z)], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        return (*input_shape, 2 * self.frequencies)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "frequencies": self.frequencies, "sigma": self.sigma}
