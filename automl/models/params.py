"""Declared hyperparameters: the rules each family and the trainer accept.

Kept free of Keras so that validating a search space stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from automl.models.optimizers import OPTIMIZERS as _OPTIMIZERS

ACTIVATIONS = (
    "relu",
    "gelu",
    "silu",
    "swish",
    "tanh",
    "elu",
    "selu",
    "leaky_relu",
    "sigmoid",
    "softplus",
    "mish",
)
OPTIMIZERS = _OPTIMIZERS.names  # the optimizer registry's names
POOLING = ("max", "avg", "none")
FLIPS = ("none", "horizontal", "vertical", "horizontal_and_vertical")
LR_SCHEDULES = ("constant", "cosine", "plateau")
CLASS_WEIGHTS = ("none", "balanced")
SCALINGS = ("standard", "quantile")
ENCODINGS = ("onehot", "embedding")  # tables: categorical columns
NUMERIC_ENCODINGS = ("none", "piecewise_linear", "periodic")  # tables: numbers

Check = Callable[[Any], "str | None"]


def in_range(lo: float, hi: float, *, hi_open: bool = False, lo_open: bool = False) -> Check:
    """A rule that a number lies in an interval."""
    left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
    text = f"in {left}{_fmt(lo)}, {_fmt(hi)}{right}"

    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number {text}; got {value!r}"
        if math.isnan(value) or value < lo or value > hi:
            return f"must be {text}; got {value!r}"
        if (lo_open and value == lo) or (hi_open and value == hi):
            return f"must be {text}; got {value!r}"
        return None

    return check


def integer(lo: int, hi: int | None = None) -> Check:
    """A rule that a value is an integer of at least ``lo`` (and at most ``hi``)."""

    def check(value: Any) -> str | None:
        bound = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer {bound}; got {value!r}"
        if value < lo or (hi is not None and value > hi):
            return f"must be an integer {bound}; got {value!r}"
        return None

    return check


def one_of(*names: Any) -> Check:
    """A rule that a value is one of the given names."""

    def check(value: Any) -> str | None:
        if any(value == n and type(value) is type(n) for n in names):
            return None
        return f"must be one of {', '.join(str(n) for n in names)}; got {value!r}"

    return check


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false; got {value!r}"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class HParam:
    """One hyperparameter a family or the trainer understands.

    Attributes:
        default: value used when the search space leaves it out.
        check: rule for any value it may take; returns an error text or None.
        per_layer: may be drawn once per layer (``per_layer: true`` in YAML).
        doc: one line saying what the parameter does.
    """

    default: Any
    check: Check
    per_layer: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Family:
    """A model family: its hyperparameters and where its builder lives."""

    name: str
    module: str
    inputs: tuple[str, ...]
    params: dict[str, HParam]
    augmentation: dict[str, HParam] = field(default_factory=dict)
    doc: str = ""


TRAINING_PARAMS: dict[str, HParam] = {
    "learning_rate": HParam(1e-3, in_range(0, 1e3, lo_open=True), doc="optimizer step size"),
    "optimizer": HParam("adam", one_of(*OPTIMIZERS), doc="optimizer name"),
    "batch_size": HParam(32, integer(1), doc="samples per gradient step"),
    "momentum": HParam(0.9, in_range(0, 1, hi_open=True), doc="sgd / rmsprop momentum"),
    "weight_decay": HParam(0.0, in_range(0, 1), doc="decoupled weight decay, any optimizer"),
    "lr_schedule": HParam("constant", one_of(*LR_SCHEDULES), doc="learning rate per epoch"),
    "warmup_epochs": HParam(0, integer(0, 100), doc="epochs of linear learning-rate warmup"),
    "label_smoothing": HParam(0.0, in_range(0, 0.5), doc="classification target smoothing"),
    "class_weight": HParam("none", one_of(*CLASS_WEIGHTS), doc="balanced: weight rare classes up"),
}

DENSE_PARAMS: dict[str, HParam] = {
    "activation": HParam("relu", one_of(*ACTIVATIONS), doc="hidden-layer activation"),
    "dropout": HParam(0.0, in_range(0, 1, hi_open=True), doc="dropout rate after each layer"),
    "batch_norm": HParam(False, boolean, doc="batch normalization after each layer"),
}

IMAGE_AUGMENTATION: dict[str, HParam] = {
    "rotation": HParam(0.0, in_range(0, 0.5), doc="max rotation, fraction of a full turn"),
    "zoom": HParam(0.0, in_range(0, 0.9), doc="max zoom in or out, fraction of size"),
    "translation": HParam(0.0, in_range(0, 0.5), doc="max shift, fraction of size"),
    "flip": HParam("none", one_of(*FLIPS), doc="random flips"),
    "crop": HParam(0, integer(0, 64), doc="pad by this many pixels, then crop back at random"),
    "contrast": HParam(0.0, in_range(0, 1), doc="max contrast change factor"),
    "brightness": HParam(0.0, in_range(0, 1), doc="max brightness shift, fraction of range"),
    "rand_augment": HParam(0, integer(0, 8), doc="RandAugment: random operations per image"),
    "rand_augment_factor": HParam(0.5, in_range(0, 1), doc="RandAugment: operation strength"),
}

AUDIO_AUGMENTATION: dict[str, HParam] = {
    "time_shift": HParam(0.0, in_range(0, 0.5), doc="max shift in time, fraction of the clip"),
    "noise": HParam(0.0, in_range(0, 1), doc="std of Gaussian noise added to the waveform"),
    "time_mask": HParam(0.0, in_range(0, 0.5), doc="fraction of spectrogram frames zeroed"),
    "freq_mask": HParam(0.0, in_range(0, 0.5), doc="fraction of frequency bins zeroed"),
}

SEQUENCE_AUGMENTATION: dict[str, HParam] = {
    "jitter": HParam(0.0, in_range(0, 1), doc="std of Gaussian noise on each value"),
    "scaling": HParam(0.0, in_range(0, 1), doc="std of a random factor around 1 per sample"),
}

RNN_CELLS = ("lstm", "gru", "simple_rnn")
TEXT_BODIES = ("lstm", "gru", "conv1d", "pooling")
AUDIO_BODIES = ("cnn", "lstm", "gru")

RECOMMENDER_BODIES = ("mf", "mlp", "neumf", "bias")
RECOMMENDER_PARAMS: dict[str, HParam] = {
    "body": HParam(
        "mf", one_of(*RECOMMENDER_BODIES), doc="mf, mlp, neumf (both fused), or bias alone"
    ),
    "embedding_dim": HParam(32, integer(1, 1024), doc="size of a user or item embedding"),
    "n_layers": HParam(2, integer(1, 8), doc="mlp / neumf: hidden layers"),
    "units": HParam(64, integer(1), per_layer=True, doc="mlp / neumf: units of a layer"),
    "activation": HParam("relu", one_of(*ACTIVATIONS), doc="mlp / neumf: activation"),
    "dropout": HParam(0.0, in_range(0, 1, hi_open=True), doc="mlp / neumf: dropout rate"),
    "l2": HParam(1e-6, in_range(0, 1), doc="L2 penalty on the embedding tables"),
    "bias_damping": HParam(
        10.0, in_range(0, 1e6), doc="ratings: L2 on user and item biases, in ratings"
    ),
    "negatives": HParam(4, integer(1, 100), doc="implicit: negatives sampled per positive"),
}
