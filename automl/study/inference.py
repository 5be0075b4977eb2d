"""The model as it runs at inference, rebuilt for the converters of export.

Layers that act only while training (dropout, noise, random augmentation) become
identities; for LiteRT recurrent layers are unrolled over their fixed number of steps (no
TensorFlow ops outside LiteRT's built-in set), for ONNX GELU is written with ``erf``
(tf2onnx has no ``erfc``). The trained layers are shared, not copied, and the whole is
called with ``training=False``. :func:`probe` makes a batch of inputs to check the result.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

# Layers that pass inputs through unchanged at inference: identities in the export copy.
_TRAINING_ONLY = (
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomContrast", "RandomBrightness", "RandAugment",
)  # fmt: skip


def layers(model: Any) -> Iterator[Any]:
    """Every layer of a model, inside nested models too."""
    for layer in getattr(model, "layers", []):
        yield layer
        yield from layers(layer)


def signature(model: Any) -> list[Any] | None:
    """The original model's input, named and shaped (a rebuilt copy may have lost both)."""
    import keras

    if len(model.inputs) != 1:
        return None  # Keras reads several inputs off the copy itself
    (inp,) = model.inputs
    return [keras.InputSpec(shape=tuple(inp.shape), dtype=str(inp.dtype), name=str(inp.name))]


def feeds_list(feeds: dict[str, np.ndarray]) -> Any:
    values = list(feeds.values())
    return values[0] if len(values) == 1 else values


def probe(model: Any, batch: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    """A batch of inputs for every model input: uniform in [-1, 1], or ids every embedding
    of the model takes."""
    import keras

    rng = np.random.default_rng(seed)
    dims = [la.input_dim for la in layers(model) if isinstance(la, keras.layers.Embedding)]
    high = max(1, min(dims or [2]))
    feeds = {}
    for inp in model.inputs:
        shape = (batch, *(d or 4 for d in inp.shape[1:]))
        dtype = np.dtype(str(inp.dtype))
        if dtype.kind in "iu":
            feeds[inp.name] = rng.integers(0, high, shape).astype(dtype)
        else:
            feeds[inp.name] = rng.uniform(-1.0, 1.0, shape).astype(dtype)
    return feeds


def inference_copy(model: Any, fmt: str, backend: str) -> Any:
    """The model as it runs at inference, rebuilt from the same (shared) trained layers,
    for exporting to ``fmt`` with the Keras ``backend``."""
    import keras

    name = backend
    unroll = fmt == "litert" and name == "tensorflow"
    erf_gelu = fmt == "onnx" and name == "tensorflow"
    training_only: tuple[type, ...] = tuple(
        c for n in _TRAINING_ONLY if isinstance(c := getattr(keras.layers, n, None), type)
    )

    def swap(layer: Any) -> Any:
        if any(isinstance(layer, c) for c in training_only):
            return keras.layers.Identity(name=layer.name)
        if unroll and isinstance(layer, keras.layers.RNN | keras.layers.Bidirectional):
            return _unrolled(layer)
        if erf_gelu and getattr(layer, "activation", None) is keras.activations.gelu:
            return _rebuilt(layer, {}, activation=_gelu_erf)
        return layer

    try:
        copy = keras.models.clone_model(model, clone_function=swap, recursive=True)
    except Exception:  # noqa: BLE001 - a subclassed model: exported as it is, then checked
        copy = model
    return _at_inference(copy, model)


def _at_inference(copy: Any, model: Any) -> Any:
    """``copy`` called with ``training=False`` inside a model of the original's inputs.

    Exporters call a model without ``training``; a layer whose call defaults to
    ``training=True`` (Keras' random augmentation layers) then stores that in its node and
    passes it on to every layer after it, batch normalization and dropout included.
    """
    import keras

    try:
        inputs = [
            keras.Input(shape=tuple(t.shape[1:]), dtype=str(t.dtype), name=str(t.name))
            for t in model.inputs
        ]
        args = inputs[0] if len(inputs) == 1 else inputs
        return keras.Model(args, copy(args, training=False), name=f"{model.name}_inference")
    except Exception:  # noqa: BLE001 - a model that takes no such call: as it is, then checked
        return copy


def _gelu_erf(x: Any) -> Any:
    """GELU as 0.5 x (1 + erf(x / sqrt 2)): the same function, in ops every converter has."""
    import keras

    return 0.5 * x * (1.0 + keras.ops.erf(x * 0.7071067811865476))


def _unrolled(layer: Any) -> Any:
    """A recurrent layer unrolled over its fixed number of steps (LiteRT's built-in ops)."""
    import keras

    steps = _input_shape(layer)
    if steps is None or len(steps) < 2 or steps[1] is None:
        return layer  # unknown length: it cannot be unrolled
    if isinstance(layer, keras.layers.Bidirectional):
        cfg = layer.get_config()
        changes = {}
        for key in ("layer", "backward_layer"):
            if isinstance(cfg.get(key), dict):
                inner = dict(cfg[key])
                inner["config"] = {**inner["config"], "unroll": True}
                changes[key] = inner
        return _rebuilt(layer, changes)
    return _rebuilt(layer, {"unroll": True})


def _input_shape(layer: Any) -> tuple[int | None, ...] | None:
    try:
        inp = layer.input
    except (AttributeError, ValueError):  # called several times, or never
        return None
    inp = inp[0] if isinstance(inp, list | tuple) else inp
    return tuple(inp.shape)


def _rebuilt(layer: Any, changes: dict[str, Any], activation: Any = None) -> Any:
    """A new layer of the same class and config (with ``changes``) holding its weights."""
    shape = _input_shape(layer)
    if layer.weights and shape is None:
        return layer
    new = type(layer).from_config({**layer.get_config(), **changes})
    if activation is not None:
        new.activation = activation
    if layer.weights:
        new.build(shape)
        new.set_weights(layer.get_weights())
    return new
