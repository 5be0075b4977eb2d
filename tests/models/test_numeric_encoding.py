"""Numbers of a table encoded inside the mlp (``numeric_encoding``)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import automl
from automl.models import InputSpec, mlp, numeric
from automl.models.scaling import knots, quantile_front, transform
from automl.search.spec import validate_spec
from tests.helpers import mlp_hp, tiny_spec


def test_piecewise_linear_encodes_each_number_by_its_training_quantile_bins() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([np.arange(101.0), rng.integers(0, 2, 101)])  # a number, a flag
    found = numeric.edges(x, 4)
    assert found == ((0.0, 25.0, 50.0, 75.0, 100.0), ())  # the flag passes through
    spec = InputSpec(shape=(2,), task="regression", numeric_edges=found)
    model = mlp.build(mlp_hp(numeric_encoding="piecewise_linear", numeric_bins=4), spec)
    encoded = keras.Model(model.inputs, model.get_layer("numeric").output)
    rows = np.array([[60.0, 1.0], [-10.0, 0.0], [200.0, 1.0]], dtype="float32")
    out = encoded.predict(rows, verbose=0)
    # Bins below the value: 1; its own bin: the position in it; above: 0; then the flag.
    expected = [[1, 1, 0.4, 0, 1], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]]
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_periodic_encoding_trains_its_frequencies_and_reloads_in_safe_mode(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(256, 3)).astype("float32")
    y = (np.sin(3 * x[:, 0]) > 0).astype("int32")
    spec = InputSpec(shape=(3,), task="classification", n_classes=2)
    spec = InputSpec(**{**spec.__dict__, "numeric_edges": numeric.edges(x, 8)})
    hp = mlp_hp(numeric_encoding="periodic", periodic_sigma=0.5, numeric_embedding_dim=8)
    model = mlp.build(hp, spec)
    before = model.get_layer("periodic").get_weights()[0].copy()
    assert before.shape == (3, numeric.FREQUENCIES)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    assert not np.allclose(model.get_layer("periodic").get_weights()[0], before)
    path = tmp_path / "periodic.keras"
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True, compile=False)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), 1e-5)


def test_the_numpy_quantile_transform_is_the_model_front() -> None:
    x = np.random.default_rng(2).lognormal(size=(500, 3))
    front = quantile_front(keras.Sequential([keras.Input((3,)), keras.layers.Identity()]), x)
    np.testing.assert_allclose(
        transform(x, *knots(x)), front.predict(x.astype("float32"), verbose=0), atol=1e-4
    )


def _wavy_table(path: Path, n: int = 1200) -> Path:
    """Classes from a non-monotone function of one number, beside a flag and a category."""
    import pandas as pd

    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, n)
    frame = pd.DataFrame(
        {
            "x": x,
            "noise": rng.normal(size=n),
            "flag": rng.integers(0, 2, n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "label": (np.sin(2 * x) > 0).astype(int),
        }
    )
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_a_sweep_tunes_the_encodings_and_their_models_serve(tmp_path: Path) -> None:
    source = _wavy_table(tmp_path / "wavy.csv")
    raw = tiny_spec(data={"source": str(source), "target": "label"}, keep=3)
    raw["search"] = {
        "n_layers": 1,
        "units": 32,
        "learning_rate": 1e-2,
        "numeric_encoding": ["none", "piecewise_linear", "periodic"],
        "categorical_encoding": ["onehot"],
    }
    raw["training"] = {"max_epochs": 10, "patience": None, "batch_size": 64}
    raw["enqueue"] = [{"numeric_encoding": e} for e in ("none", "piecewise_linear", "periodic")]
    url = str(tmp_path / "studies" / "journal.log")
    sweep = automl.tune(validate_spec(raw), trials=3, storage=url, in_process=True)
    trials = sweep.study.trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3
    by_encoding = {t.params["numeric_encoding"]: t.number for t in trials}
    assert sorted(by_encoding) == ["none", "periodic", "piecewise_linear"]
    layers = {e: {x.name for x in sweep.model(t).layers} for e, t in by_encoding.items()}
    assert "ple_bins" in layers["piecewise_linear"] and "periodic" in layers["periodic"]
    assert not {"ple_bins", "periodic"} & layers["none"]
    assert "accuracy" in sweep.test_metrics
    pytest.importorskip("onnxruntime")
    # Export checks the artifact's outputs against the Keras model's before it writes.
    out = sweep.export(tmp_path / "periodic.onnx", by_encoding["periodic"])
    assert out.is_file()
