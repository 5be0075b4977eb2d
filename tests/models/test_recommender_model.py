"""The recommender family on any backend: builds, trains with ranking metrics, reloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from automl.data import load_source, prepare, split_raw
from automl.data.make_interactions import generate
from automl.errors import DataError
from automl.ranking import Objective
from automl.search.spec import DataSpec

pytestmark = pytest.mark.backend


def test_models_build_for_every_body_and_feedback() -> None:
    import keras

    from automl.models import InputSpec, build_model

    hp = {
        "embedding_dim": 4,
        "units": [8],
        "activation": "relu",
        "dropout": 0.1,
        "l2": 1e-4,
    }
    pairs = np.array([[0, 1], [2, 3]], dtype="int32")
    for task, width in (("regression", 1), ("classification", 2)):
        spec = InputSpec(shape=(2,), task=task, n_classes=2, n_users=3, n_items=5, target_mean=3)
        counts = {}
        for body in ("mf", "mlp", "neumf", "bias"):
            model = build_model("recommender", {**hp, "body": body}, spec)
            out = keras.ops.convert_to_numpy(model(pairs, training=False))
            assert out.shape == (2, width)
            counts[body] = model.count_params()
        assert counts["neumf"] > counts["mlp"] > counts["mf"] > counts["bias"] == 3 + 5
    with pytest.raises(DataError, match="needs user-item interactions"):
        build_model("recommender", {**hp, "body": "mf"}, InputSpec(shape=(8,), task="regression"))


def test_implicit_training_reports_ranking_metrics_and_reloads(tmp_path: Path) -> None:
    import keras

    from automl.models import build_model
    from automl.training import fit as training

    path = tmp_path / "clicks.csv"
    generate(50, 60, 1200, implicit=True, seed=4).to_csv(path, index=False)
    data = DataSpec(source=str(path), kind="interactions")
    raw = load_source(data)
    splits = prepare(raw, split_raw(raw, data))
    hp = {"body": "neumf", "embedding_dim": 8, "units": [8], "activation": "relu"}
    hp |= {"dropout": 0.0, "l2": 0.0, "negatives": 2, "batch_size": 128}
    hp |= {"learning_rate": 0.01, "optimizer": "adam"}
    model = build_model("recommender", hp, splits.input_spec)
    training.compile_model(model, splits.input_spec, hp)
    objective = Objective.of("val_ndcg@5")
    fit = training.fit(model, splits, hp, max_epochs=3, patience=None, objective=objective)
    assert fit.epochs == 3 and {"val_hr@5", "val_ndcg@5", "val_hr@10"} <= set(fit.history)
    assert all(0.0 <= v <= 1.0 for v in fit.history["val_hr@10"]) and fit.latency_ms > 0
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    pairs = splits.x_test[:5]
    assert np.allclose(again.predict(pairs, verbose=0), model.predict(pairs, verbose=0), atol=1e-6)


@pytest.mark.parametrize("body", ["bias", "mf", "neumf"])
def test_rating_models_start_as_the_closed_form_biases(tmp_path: Path, body: str) -> None:
    """Every rating model starts from the train mean plus damped user and item biases (its
    embeddings near zero), so early stopping never keeps anything worse than an epoch that
    began there."""
    import optuna

    from automl.data import rating_biases
    from automl.search.spec import validate_spec
    from automl.search.suggest import suggest
    from automl.training import folds, measure

    path = tmp_path / "ratings.csv"
    generate(60, 40, 800, seed=2).to_csv(path, index=False)
    spec = validate_spec({"data": {"source": str(path)}, "model": {"family": "recommender"}})
    raw = load_source(spec.data)
    splits = prepare(raw, split_raw(raw, spec.data))
    hp = suggest(optuna.trial.FixedTrial({}), spec) | {"body": body, "embedding_dim": 4}
    model = folds.build(spec, splits, hp)
    info = splits.input_spec
    fitted = rating_biases.biases(splits.x_train, splits.y_train, info.n_users, info.n_items)
    expected = rating_biases.predict(fitted, splits.x_val)
    got = measure.predict(model, splits.x_val).reshape(-1)
    # mf: the dot product of the small random embeddings; neumf: its untrained dense layers.
    assert np.abs(got - expected).max() < (1e-4 if body == "bias" else 0.5)
    assert np.corrcoef(got, expected)[0, 1] > (0.999999 if body == "bias" else 0.9)
