"""Baselines: the simple models fitted once per study on its split, shown beside the best
model in ``Sweep.baselines``, ``automl best`` (and ``--json``) and the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.data import load_source, prepare, split_raw
from automl.search.spec import DataSpec
from automl.study import baseline_models
from tests.helpers import make, tiny_spec, write_yaml


def _accuracy(out: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(out.argmax(axis=1) == y))


def test_majority_and_logistic_on_digits_are_cheap_and_plausible() -> None:
    data = DataSpec(source="digits")
    raw = load_source(data)
    s = prepare(raw, split_raw(raw, data))
    val, test = baseline_models.constant(s, "classification")
    assert 0.05 < _accuracy(test, s.y_test) < 0.2
    assert np.allclose(val.sum(axis=1), 1.0)  # class shares: the loss is finite
    val, test = baseline_models.linear(s, "classification", "image")
    assert _accuracy(test, s.y_test) > 0.85 and _accuracy(val, s.y_val) > 0.85


def test_linear_features_stay_small_for_large_images_texts_and_audio() -> None:
    data = DataSpec(source="digits")
    raw = load_source(data)
    s = prepare(raw, split_raw(raw, data))
    big = np.random.default_rng(0).random((3, 96, 96, 3), dtype="float32")
    assert baseline_models.features(big, "image", s).shape[1] <= baseline_models.MAX_FEATURES
    ids = np.array([[5, 7, 7, 0], [1, 2, 0, 0]])
    bag = baseline_models.features(ids, "text", s).toarray()
    assert bag[0, 7] == pytest.approx(np.log(3)) and bag[1].sum() == pytest.approx(np.log(2))
    clips = np.random.default_rng(1).normal(0, 0.1, (4, 8000)).astype("float32")
    assert baseline_models.features(clips, "audio", s).shape[0] == 4


def _tune(tmp_path: Path, space: Path | str, *args: str) -> str:
    storage = str(tmp_path / "j.log")
    cmd = ["tune", str(space), "--trials", "1", "--storage", storage, "--in-process", *args]
    result = CliRunner().invoke(app, cmd)
    assert result.exit_code == 0, result.output
    return storage


@pytest.mark.slow
def test_digits_sweep_shows_baselines_in_best_api_and_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    space = write_yaml(tmp_path / "tiny.yaml", tiny_spec(training={"max_epochs": 1}))
    storage = _tune(tmp_path, space, "--study", "tiny")
    frame = automl.load("tiny", storage).baselines
    rows = frame.set_index("baseline")
    assert list(rows.index) == ["majority", "logistic"]
    assert 0.05 < rows.loc["majority", "test_accuracy"] < 0.2
    assert rows.loc["logistic", "test_accuracy"] > 0.85
    assert rows.loc["logistic", "val_accuracy"] > 0.85 and (frame["seconds"] < 30).all()
    result = CliRunner().invoke(app, ["best", "tiny", "--storage", storage])
    assert result.exit_code == 0, result.output
    assert "baselines (fitted once on the same split)" in result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith("logistic:"))
    assert "validation val_accuracy" in line and "test accuracy" in line
    doc = json.loads(
        CliRunner().invoke(app, ["best", "tiny", "--json", "--storage", storage]).output
    )
    assert doc["baselines"]["majority"]["test"]["accuracy"] < 0.2
    html = (tmp_path / "reports" / "tiny.html").read_text(encoding="utf-8")
    assert "Baselines on the same split" in html and "logistic regression" in html


@pytest.mark.slow
def test_table_study_has_a_gradient_boosting_baseline_on_the_raw_table(tmp_path: Path) -> None:
    data = make.tabular_csv(tmp_path / "table.csv", n=300)
    space = write_yaml(
        tmp_path / "table.yaml",
        {
            "data": {"source": str(data), "target": "label"},
            "model": {"family": "mlp"},
            "search": {"units": 16, "n_layers": 1},
            "training": {"max_epochs": 1},
            "pruner": {"name": "none"},
        },
    )
    storage = _tune(tmp_path, space, "--study", "table", "--no-report")
    rows = automl.load("table", storage).baselines.set_index("baseline")
    assert list(rows.index) == ["majority", "logistic", "gradient_boosting"]
    # The label follows `size` (with gaps) and `colour` (a category with gaps).
    assert rows.loc["gradient_boosting", "test_accuracy"] > 0.9
    assert rows.loc["majority", "test_accuracy"] < 0.6
