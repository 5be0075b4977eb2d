"""Conformance: every registered family builds, fits one epoch, saves and reloads.

CI runs this module with the TensorFlow backend and again with KERAS_BACKEND=torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest

from automl.models import FAMILIES, InputSpec, build_model
from automl.space import suggest
from automl.spec import validate_spec
from automl.training import compile_model

pytestmark = pytest.mark.backend

SHAPES = {"mlp": (6,), "cnn": (8, 8, 1)}
AUGMENT = {
    "cnn": {
        "rotation": 0.1,
        "zoom": 0.1,
        "translation": 0.1,
        "flip": "horizontal",
        "crop": 1,
        "contrast": 0.2,
    }
}


def _hp(family: str) -> dict:
    spec = validate_spec(
        {
            "data": {"source": "digits"},
            "model": {"family": family},
            "search": {"n_layers": 2, "batch_norm": True, "dropout": 0.1},
            "augmentation": AUGMENT.get(family, {}),
        }
    )
    return suggest(optuna.trial.FixedTrial({}), spec)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_family_builds_fits_saves_and_reloads(family: str, task: str, tmp_path: Path) -> None:
    import keras

    assert family in SHAPES, f"add a sample shape for new family {family!r} to this test"
    rng = np.random.default_rng(0)
    shape = SHAPES[family]
    x = rng.random((48, *shape)).astype("float32")
    if task == "classification":
        y = rng.integers(0, 3, 48).astype("int32")
        spec = InputSpec(shape=shape, task=task, n_classes=3)
    else:
        y = (rng.random(48) * 50 + 100).astype("float32")
        spec = InputSpec(
            shape=shape, task=task, target_mean=float(y.mean()), target_std=float(y.std())
        )
    hp = _hp(family)
    model = build_model(family, hp, spec)
    compile_model(model, spec, hp)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    out = np.asarray(model.predict(x, verbose=0))
    if task == "classification":
        assert out.shape == (48, 3) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4)
    else:
        assert out.shape == (48, 1)
        assert abs(float(out.mean()) - float(y.mean())) < 3 * float(y.std())  # in target units
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert np.allclose(np.asarray(again.predict(x, verbose=0)), out, atol=1e-5)


def test_cnn_stops_pooling_on_tiny_images() -> None:
    hp = _hp("cnn")
    hp.update(n_layers=5, filters=[4] * 5)
    model = build_model("cnn", hp, InputSpec(shape=(8, 8, 1), task="classification", n_classes=2))
    assert model.output_shape == (None, 2)


def test_augmentation_is_inactive_at_inference() -> None:
    import keras

    hp = _hp("cnn")
    spec = InputSpec(shape=(8, 8, 1), task="classification", n_classes=2)
    model = build_model("cnn", hp, spec)
    x = np.random.default_rng(1).random((4, 8, 8, 1)).astype("float32")
    a = keras.ops.convert_to_numpy(model(x, training=False))
    b = keras.ops.convert_to_numpy(model(x, training=False))
    assert np.allclose(a, b)
    assert any(layer.name.startswith("aug_") for layer in model.layers)
