"""Conformance: every registered family builds, fits one epoch, saves and reloads.

CI runs this module with the TensorFlow backend and again with KERAS_BACKEND=torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

from automl.models import FAMILIES, InputSpec, build_model
from automl.search.spec import validate_spec
from automl.search.suggest import suggest
from automl.training.fit import compile_model

pytestmark = pytest.mark.backend

N = 48
VOCAB = 30
RATE = 4000
SHAPES = {
    "mlp": (6,),
    "cnn": (8, 8, 1),
    "rnn": (10, 3),
    "conv1d": (16, 2),
    "text": (12,),
    "audio": (1000,),
    "recommender": (2,),  # [user_idx, item_idx]
}
N_IDS = 7  # users and items of the recommender samples
FAST = {"mlp", "recommender"}  # the families the fast tier fits; -m slow fits the rest
AUGMENT: dict[str, dict[str, Any]] = {
    "cnn": {
        "rotation": 0.1,
        "zoom": 0.1,
        "translation": 0.1,
        "flip": "horizontal",
        "crop": 1,
        "contrast": 0.2,
        "brightness": 0.1,
        "rand_augment": 2,
    },
    "rnn": {"jitter": 0.05, "scaling": 0.1},
    "conv1d": {"jitter": 0.05, "scaling": 0.1},
    "audio": {"time_shift": 0.1, "noise": 0.01, "time_mask": 0.1, "freq_mask": 0.1},
}
# Small front-end and body settings, so each family trains in a fraction of a second.
SEARCH: dict[str, dict[str, Any]] = {
    "text": {"embedding_dim": 8, "units": 8, "vocab_size": 20, "seq_len": 10, "n_layers": 1},
    "audio": {"frame_length": 128, "frame_step": 64, "mel_bins": 16, "units": 4},
    "rnn": {"units": 8, "bidirectional": True, "n_layers": 1},
}
SLOW = pytest.mark.slow  # a recurrent body takes seconds to build and fit, even tiny
VARIANTS = [
    pytest.param("rnn", {"cell": "gru", "n_layers": 2, "bidirectional": False}, marks=SLOW),
    ("rnn", {"cell": "simple_rnn"}),
    pytest.param("text", {"body": "gru", "bidirectional": True}, marks=SLOW),
    ("text", {"body": "conv1d", "kernel_size": 3}),
    ("text", {"body": "pooling"}),
    pytest.param("audio", {"body": "lstm", "n_layers": 1}, marks=SLOW),
    ("conv1d", {"pooling": "none"}),
]


def _hp(family: str, **search: Any) -> dict:
    spec = validate_spec(
        {
            "data": {"source": "digits"},
            "model": {"family": family},
            "search": {
                "n_layers": 2,
                **({} if family == "recommender" else {"batch_norm": True}),
                "dropout": 0.1,
                **SEARCH.get(family, {}),
                **search,
            },
            "augmentation": AUGMENT.get(family, {}),
        }
    )
    return suggest(optuna.trial.FixedTrial({}), spec)


def _samples(family: str, rng: np.random.Generator) -> np.ndarray:
    shape = SHAPES[family]
    if family == "text":
        x = rng.integers(2, VOCAB, (N, *shape)).astype("int32")
        x[::3, 8:] = 0  # padding at the end of some rows
        x[::5] = 0  # an empty text
        return x
    if family == "recommender":
        return rng.integers(0, N_IDS, (N, 2)).astype("int32")
    if family == "audio":
        t = np.arange(shape[0]) / RATE
        freqs = rng.choice([300.0, 900.0], N)
        return (0.5 * np.sin(2 * np.pi * freqs[:, None] * t)).astype("float32")
    return rng.random((N, *shape)).astype("float32")


def _classes(family: str) -> int:
    return 2 if family == "recommender" else 3  # implicit feedback: interacts or not


def _spec(family: str, task: str, y: np.ndarray) -> InputSpec:
    extra = {"vocab_size": VOCAB, "sample_rate": RATE, "n_users": N_IDS, "n_items": N_IDS}
    if task == "classification":
        return InputSpec(shape=SHAPES[family], task=task, n_classes=_classes(family), **extra)
    return InputSpec(
        shape=SHAPES[family],
        task=task,
        target_mean=float(y.mean()),
        target_std=float(y.std()),
        **extra,
    )


@pytest.mark.parametrize(
    "family",
    [pytest.param(f, marks=() if f in FAST else pytest.mark.slow) for f in sorted(FAMILIES)],
)
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_family_builds_fits_saves_and_reloads(family: str, task: str, tmp_path: Path) -> None:
    import keras

    assert family in SHAPES, f"add a sample shape for new family {family!r} to this test"
    rng = np.random.default_rng(0)
    x = _samples(family, rng)
    if task == "classification":
        y = rng.integers(0, _classes(family), N).astype("int32")
    else:
        y = (rng.random(N) * 50 + 100).astype("float32")
    spec = _spec(family, task, y)
    hp = _hp(family)
    model = build_model(family, hp, spec)
    compile_model(model, spec, hp)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    out = np.asarray(model.predict(x, verbose=0))
    assert np.all(np.isfinite(out))
    if task == "classification":
        shape = (N, _classes(family))
        assert out.shape == shape and np.allclose(out.sum(axis=1), 1.0, atol=1e-4)
    else:
        assert out.shape == (N, 1)
        assert abs(float(out.mean()) - float(y.mean())) < 3 * float(y.std())  # in target units
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert np.allclose(np.asarray(again.predict(x, verbose=0)), out, atol=1e-5)


@pytest.mark.parametrize(("family", "search"), VARIANTS, ids=lambda v: str(v))
def test_family_variants_fit(family: str, search: dict[str, Any]) -> None:
    rng = np.random.default_rng(1)
    x = _samples(family, rng)
    y = rng.integers(0, 3, N).astype("int32")
    spec = _spec(family, "classification", y)
    hp = _hp(family, **search)
    model = build_model(family, hp, spec)
    compile_model(model, spec, hp)
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


def test_text_clips_vocabulary_and_length_inside_the_model() -> None:
    hp = _hp("text", vocab_size=5, seq_len=4)
    spec = InputSpec(shape=(12,), task="classification", n_classes=2, vocab_size=VOCAB)
    model = build_model("text", hp, spec)
    emb = model.get_layer("embedding")
    assert emb.input_dim == 5
    assert tuple(emb.output.shape[1:]) == (4, 8)


def test_cnn_stops_pooling_on_tiny_images() -> None:
    hp = _hp("cnn")
    hp.update(n_layers=5, filters=[4] * 5)
    model = build_model("cnn", hp, InputSpec(shape=(8, 8, 1), task="classification", n_classes=2))
    assert model.output_shape == (None, 2)


@pytest.mark.parametrize("family", ["cnn", "rnn", "audio"])
def test_augmentation_is_inactive_at_inference(family: str) -> None:
    import keras

    hp = _hp(family)
    y = np.zeros(4, dtype="int32")
    model = build_model(family, hp, _spec(family, "classification", y))
    x = _samples(family, np.random.default_rng(1))[:4]
    a = keras.ops.convert_to_numpy(model(x, training=False))
    b = keras.ops.convert_to_numpy(model(x, training=False))
    assert np.allclose(a, b)
    assert any(layer.name.startswith("aug_") for layer in model.layers)
