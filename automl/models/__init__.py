"""Model families: a registry of name -> Family, and ``get()`` that builds one.

Each family lives in its own module with a ``build(hp, spec) -> keras.Model``; the module
is imported only when a model is built, so validating a search space needs no Keras.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from automl.models.params import (
    AUDIO_AUGMENTATION,
    AUDIO_BODIES,
    DENSE_PARAMS,
    ENCODINGS,
    IMAGE_AUGMENTATION,
    NUMERIC_ENCODINGS,
    POOLING,
    RECOMMENDER_PARAMS,
    RNN_CELLS,
    SCALINGS,
    SEQUENCE_AUGMENTATION,
    TEXT_BODIES,
    Family,
    HParam,
    boolean,
    in_range,
    integer,
    one_of,
)
from automl.registry import Registry

if TYPE_CHECKING:
    import keras

__all__ = ["FAMILIES", "Family", "InputSpec", "Parts", "build_model", "build_parts", "get_family"]


@dataclass(frozen=True)
class InputSpec:
    """What a builder needs to know about the data.

    Attributes:
        shape: one sample's shape, e.g. ``(8, 8, 1)`` or ``(13,)``.
        task: ``classification`` or ``regression``.
        n_classes: number of classes (classification only).
        target_mean: mean of the training targets (regression only).
        target_std: standard deviation of the training targets (regression only).
        vocab_size: token ids the data uses, padding and out-of-vocabulary included (text).
        sample_rate: samples per second of the waveforms (audio).
        n_users, n_items: sizes of the id vocabularies (interactions).
        n_train: samples in the train split (interactions: the bias penalty's scale).
        categories: tables whose space tunes ``categorical_encoding``: the levels of each
            category column; the last ``len(categories)`` features are their codes.
        numeric_edges: tables whose trial encodes numbers (``numeric_encoding``): per
            feature before the category codes, its quantile bin edges on the train split,
            ``()`` for one to pass through (:mod:`automl.models.numeric`).
    """

    shape: tuple[int, ...]
    task: str
    n_classes: int = 0
    target_mean: float = 0.0
    target_std: float = 1.0
    vocab_size: int = 0
    sample_rate: int = 0
    n_users: int = 0
    n_items: int = 0
    categories: tuple[int, ...] = ()
    n_train: int = 0
    numeric_edges: tuple[tuple[float, ...], ...] = ()


@dataclass(frozen=True)
class Parts:
    """A model made of a fixed feature front end and a trained body.

    Attributes:
        front: inputs -> features; no weights and no randomness, so its output for one
            setting can be computed once and reused (:mod:`automl.training.frontend_cache`).
        body: features -> outputs; holds every trained layer.
        model: the whole model, inputs -> outputs, calling ``front`` then ``body``.
        cacheable: whether training the body on the front end's output trains ``model``
            the same way (false when augmentation acts before the front end).
    """

    front: keras.Model
    body: keras.Model
    model: keras.Model
    cacheable: bool


_HEAD_PARAMS: dict[str, HParam] = {
    "dense_units": HParam(64, integer(0), doc="dense layer before the output; 0: none"),
    **DENSE_PARAMS,
    "dropout": HParam(0.0, in_range(0, 1, hi_open=True), doc="dropout before the head"),
}
_RECURRENT_PARAMS: dict[str, HParam] = {
    "bidirectional": HParam(False, boolean, doc="read sequences both ways"),
}

FAMILIES: Registry[Family] = Registry(
    "model family",
    {
        "mlp": Family(
            name="mlp",
            module="automl.models.mlp",
            inputs=("tabular", "image", "sequence"),
            doc="dense layers for tabular features (any input is flattened)",
            params={
                "n_layers": HParam(2, integer(1, 32), doc="hidden layers"),
                "units": HParam(64, integer(1), per_layer=True, doc="units of a hidden layer"),
                **DENSE_PARAMS,
                "scaling": HParam(
                    "standard", one_of(*SCALINGS), doc="tables: standardized or quantile-normal"
                ),
                "categorical_encoding": HParam(
                    "onehot", one_of(*ENCODINGS), doc="tables: category columns one-hot or embedded"
                ),
                "embedding_min_levels": HParam(
                    10, integer(1, 100000), doc="tables: embed columns with more levels than this"
                ),
                "numeric_encoding": HParam(
                    "none",
                    one_of(*NUMERIC_ENCODINGS),
                    doc="tables: numbers as they are, piecewise-linear or periodic",
                ),
                "numeric_bins": HParam(
                    16, integer(2, 512), doc="tables, piecewise_linear: quantile bins a number"
                ),
                "periodic_sigma": HParam(
                    1.0, in_range(0, 1000, lo_open=True), doc="tables, periodic: frequency scale"
                ),
                "numeric_embedding_dim": HParam(
                    16, integer(1, 512), doc="tables, periodic: embedding units a number"
                ),
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
                **_HEAD_PARAMS,
            },
            augmentation=IMAGE_AUGMENTATION,
        ),
        "rnn": Family(
            name="rnn",
            module="automl.models.rnn",
            inputs=("sequence",),
            doc="recurrent layers (SimpleRNN / LSTM / GRU) for sequences (steps, features)",
            params={
                "cell": HParam("lstm", one_of(*RNN_CELLS), doc="recurrent cell"),
                "n_layers": HParam(1, integer(1, 8), doc="recurrent layers"),
                "units": HParam(64, integer(1), per_layer=True, doc="units of a recurrent layer"),
                **_RECURRENT_PARAMS,
                **_HEAD_PARAMS,
                "dense_units": HParam(0, integer(0), doc="dense layer before the output; 0: none"),
            },
            augmentation=SEQUENCE_AUGMENTATION,
        ),
        "conv1d": Family(
            name="conv1d",
            module="automl.models.conv1d",
            inputs=("sequence", "audio"),
            doc="1-D convolution blocks for sequences (steps, features) or raw waveforms",
            params={
                "n_layers": HParam(2, integer(1, 16), doc="convolution blocks"),
                "filters": HParam(32, integer(1), per_layer=True, doc="filters of a block"),
                "kernel_size": HParam(3, integer(1, 63), doc="convolution kernel size"),
                "pooling": HParam("max", one_of(*POOLING), doc="pooling after each block"),
                **_HEAD_PARAMS,
            },
            augmentation=SEQUENCE_AUGMENTATION,
        ),
        "text": Family(
            name="text",
            module="automl.models.text",
            inputs=("text",),
            doc="token embedding + LSTM / GRU / Conv1D / pooling body for token id sequences",
            params={
                "embedding_dim": HParam(64, integer(1, 4096), doc="embedding size of a token"),
                "vocab_size": HParam(
                    20000, integer(3), doc="most frequent tokens kept; rarer ones become unknown"
                ),
                "seq_len": HParam(200, integer(1), doc="tokens read per sample (the rest is cut)"),
                "body": HParam("lstm", one_of(*TEXT_BODIES), doc="layers after the embedding"),
                "n_layers": HParam(1, integer(1, 8), doc="recurrent or convolution layers"),
                "units": HParam(64, integer(1), per_layer=True, doc="units or filters of a layer"),
                "kernel_size": HParam(5, integer(1, 31), doc="conv1d body: kernel size"),
                **_RECURRENT_PARAMS,
                **_HEAD_PARAMS,
                "dense_units": HParam(0, integer(0), doc="dense layer before the output; 0: none"),
            },
        ),
        "recommender": Family(
            name="recommender",
            module="automl.models.recommender",
            inputs=("interactions",),
            doc="user and item embeddings: matrix factorization, MLP or NeuMF (both fused)",
            params=RECOMMENDER_PARAMS,
        ),
        "audio": Family(
            name="audio",
            module="automl.models.audio",
            inputs=("audio",),
            doc="mel spectrogram front end (inside the model) + CNN or RNN body for waveforms",
            params={
                "frame_length": HParam(
                    400, integer(16, 16384), doc="samples per spectrogram frame"
                ),
                "frame_step": HParam(160, integer(1, 16384), doc="samples between frames"),
                "mel_bins": HParam(64, integer(4, 512), doc="mel frequency bands"),
                "body": HParam("cnn", one_of(*AUDIO_BODIES), doc="layers after the spectrogram"),
                "n_layers": HParam(2, integer(1, 8), doc="convolution blocks or recurrent layers"),
                "units": HParam(32, integer(1), per_layer=True, doc="filters or units of a layer"),
                "kernel_size": HParam(3, integer(1, 15), doc="cnn body: kernel size"),
                "pooling": HParam("max", one_of(*POOLING), doc="cnn body: pooling after a block"),
                **_RECURRENT_PARAMS,
                **_HEAD_PARAMS,
            },
            augmentation=AUDIO_AUGMENTATION,
        ),
    },
)


def get_family(name: str | Family) -> Family:
    """Return a family by name (or the family itself)."""
    if isinstance(name, Family):
        return name
    return FAMILIES.lookup(name)


def build_model(family: str, hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    """Build an uncompiled Keras model of ``family`` from resolved hyperparameters."""
    fam = get_family(family)
    module = importlib.import_module(fam.module)
    model: keras.Model = module.build(hp, spec)
    return model


def build_parts(family: str, hp: dict[str, Any], spec: InputSpec) -> Parts | None:
    """Front end, body and whole model of a family that declares a feature front end."""
    module = importlib.import_module(get_family(family).module)
    maker = getattr(module, "build_parts", None)
    return None if maker is None else maker(hp, spec)
