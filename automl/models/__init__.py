"""Model families: a registry of name -> Family, and ``get()`` that builds one.

Each family lives in its own module with a ``build(hp, spec) -> keras.Model``; the module
is imported only when a model is built, so validating a search space needs no Keras.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from automl.errors import AutoMLError, unknown_name
from automl.models.params import (
    DENSE_PARAMS,
    IMAGE_AUGMENTATION,
    POOLING,
    Family,
    HParam,
    in_range,
    integer,
    one_of,
)

if TYPE_CHECKING:
    import keras

__all__ = ["FAMILIES", "Family", "InputSpec", "build_model", "get_family"]


@dataclass(frozen=True)
class InputSpec:
    """What a builder needs to know about the data.

    Attributes:
        shape: one sample's shape, e.g. ``(8, 8, 1)`` or ``(13,)``.
        task: ``classification`` or ``regression``.
        n_classes: number of classes (classification only).
        target_mean: mean of the training targets (regression only).
        target_std: standard deviation of the training targets (regression only).
    """

    shape: tuple[int, ...]
    task: str
    n_classes: int = 0
    target_mean: float = 0.0
    target_std: float = 1.0


FAMILIES: dict[str, Family] = {
    "mlp": Family(
        name="mlp",
        module="automl.models.mlp",
        inputs=("tabular",),
        doc="dense layers for tabular features",
        params={
            "n_layers": HParam(2, integer(1, 32), doc="hidden layers"),
            "units": HParam(64, integer(1), per_layer=True, doc="units of a hidden layer"),
            **DENSE_PARAMS,
        },
    ),
    "cnn": Family(
        name="cnn",
        module="automl.models.cnn",
        inputs=("image",),
        doc="2-D convolution blocks for images (height, width, channels)",
        params={
            "n_layers": HParam(2, integer(1, 16), doc="convolution blocks"),
            "filters": HParam(32, integer(1), per_layer=True, doc="filters of a block"),
            "kernel_size": HParam(3, integer(1, 15), doc="convolution kernel size"),
            "pooling": HParam("max", one_of(*POOLING), doc="pooling after each block"),
            "dense_units": HParam(64, integer(0), doc="dense layer before the output; 0: none"),
            **DENSE_PARAMS,
            "dropout": HParam(0.0, in_range(0, 1, hi_open=True), doc="dropout before the head"),
        },
        augmentation=IMAGE_AUGMENTATION,
    ),
}


def get_family(name: str | Family) -> Family:
    """Return a family by name (or the family itself)."""
    if isinstance(name, Family):
        return name
    try:
        return FAMILIES[name]
    except KeyError:
        raise AutoMLError(unknown_name("model family", name, list(FAMILIES))) from None


def build_model(family: str, hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    """Build an uncompiled Keras model of ``family`` from resolved hyperparameters."""
    fam = get_family(family)
    module = importlib.import_module(fam.module)
    model: keras.Model = module.build(hp, spec)
    return model
