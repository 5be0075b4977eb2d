"""Sparse ratings: the ready space never falls clearly behind the user and item biases, and
the study shows that baseline beside its best model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import automl
from automl.api import splits_of
from automl.data import rating_biases
from automl.data.make_interactions import generate
from automl.search.catalog import load_spec


def _rmse(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pred - y) ** 2)))


def test_closed_form_biases_recover_biases_and_beat_the_mean() -> None:
    rng = np.random.default_rng(0)
    pairs = np.stack([rng.integers(0, 30, 3000), rng.integers(0, 20, 3000)], axis=1)
    b_u, b_i = rng.normal(0, 0.5, 30), rng.normal(0, 0.5, 20)
    y = 3.5 + b_u[pairs[:, 0]] + b_i[pairs[:, 1]]
    mu, user, item = rating_biases.biases(pairs, y, 30, 20, damping=0.0, sweeps=50)
    assert np.allclose(mu + user[pairs[:, 0]] + item[pairs[:, 1]], y, atol=1e-6)
    noisy = y + rng.normal(0, 1.0, len(y))
    fitted = rating_biases.biases(pairs[:2000], noisy[:2000], 30, 20)
    held = rating_biases.predict(fitted, pairs[2000:])
    assert _rmse(held, y[2000:]) < 0.5 * _rmse(np.full(1000, noisy[:2000].mean()), y[2000:])
    assert rating_biases.biases(pairs[:5], y[:5], 40, 25)[1].shape == (40,)  # unseen ids: 0


@pytest.mark.slow
def test_ready_space_is_never_clearly_behind_the_biases_on_sparse_ratings(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    generate(200, 80, 2000, seed=5).to_csv(path, index=False)  # about 10 ratings a user
    spec = load_spec("ratings_mf").replace(
        **{"data.source": str(path), "training.max_epochs": 6, "pruner.name": "none"}
    )
    sweep = automl.tune(spec, trials=3, study="sparse", storage=str(tmp_path / "j.log"))
    assert sweep.study.trials[0].params["body"] == "bias"  # the ready space tries it first
    s = splits_of(sweep.study, sweep.storage)
    fitted = rating_biases.biases(s.x_train, s.y_train, s.input_spec.n_users, s.input_spec.n_items)
    pred = np.clip(rating_biases.predict(fitted, s.x_test), s.y_train.min(), s.y_train.max())
    closed = _rmse(pred, s.y_test)
    assert sweep.test_metrics["rmse"] <= closed + 0.01
    rows = sweep.baselines.set_index("baseline")
    assert list(rows.index) == ["mean", "biases"]
    assert rows.loc["biases", "test_rmse"] == pytest.approx(closed, abs=1e-5)
    assert rows.loc["mean", "test_rmse"] > closed and "val_rmse" in rows.columns
