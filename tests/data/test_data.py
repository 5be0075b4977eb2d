"""Data sources, the stored split, preprocessing fitted on the train split only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl.data import load_source, make_split, prepare
from automl.errors import DataError
from automl.search.spec import validate_spec
from tests.helpers import tiny_spec
from tests.helpers.make import mixed_csv


def data_spec(**data: object) -> object:
    return validate_spec(tiny_spec(data=data)).data


def test_digits_are_8x8x1_images_in_0_1() -> None:
    raw = load_source(data_spec(source="digits"))
    data = prepare(raw, make_split(raw.y, 0.15, 0.15, 0, True))
    assert data.x_train.shape[1:] == (8, 8, 1)
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    assert data.input_spec.n_classes == 10 and data.classes[3] == "3"
    assert sum(data.sizes().values()) == 1797


def test_split_is_deterministic_stratified_and_disjoint() -> None:
    y = np.repeat(np.arange(3), 50)
    a = make_split(y, 0.2, 0.2, seed=7, stratify=True)
    b = make_split(y, 0.2, 0.2, seed=7, stratify=True)
    for part in ("train", "validation", "test"):
        assert np.array_equal(a[part], b[part])
    every = np.concatenate([a["train"], a["validation"], a["test"]])
    assert len(np.unique(every)) == len(y) == len(every)
    assert np.bincount(y[a["test"]]).tolist() == [10, 10, 10]


def test_csv_with_strings_and_missing_values_uses_train_statistics(tmp_path: Path) -> None:
    path = mixed_csv(tmp_path / "people.csv")
    raw = load_source(data_spec(source=str(path)))
    assert raw.task == "classification" and raw.classes == ["no", "yes"]
    split = make_split(raw.y, 0.2, 0.2, 0, True)
    data = prepare(raw, split)
    assert not np.isnan(data.x_train).any() and not np.isnan(data.x_test).any()
    # 2 numeric columns + 3 one-hot city columns
    assert data.x_train.shape[1] == 5
    # Standardized with the train rows: train means are ~0, test means are not forced to be.
    assert np.allclose(data.x_train[:, :2].mean(axis=0), 0.0, atol=1e-5)
    frame = pd.read_csv(path)
    income = frame["income"].to_numpy()
    train_mean = income[split["train"]].mean()
    expected = (income[split["test"][0]] - train_mean) / income[split["train"]].std()
    assert data.x_test[0, 1] == pytest.approx(expected, rel=1e-4)


def test_csv_default_target_and_regression_inference(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.random(50), "price": rng.random(50) * 100}).to_csv(path, index=False)
    raw = load_source(data_spec(source=str(path)))
    assert raw.task == "regression"  # last column, continuous values


def test_missing_target_column_lists_columns(tmp_path: Path) -> None:
    path = mixed_csv(tmp_path / "people.csv")
    with pytest.raises(
        DataError, match=r"people\.csv: data\.target: no column 'salary'; columns: age"
    ):
        load_source(data_spec(source=str(path), target="salary"))


def test_missing_file_and_unknown_builtin() -> None:
    with pytest.raises(DataError, match="nothere.csv: data file not found"):
        load_source(data_spec(source="nothere.csv"))
    with pytest.raises(
        DataError, match="unknown built-in dataset or file 'mnist'; valid: breast_cancer"
    ):
        load_source(data_spec(source="mnist"))


def test_npz_source(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.random((40, 5)), y=rng.integers(0, 2, 40))
    raw = load_source(data_spec(source=str(path)))
    assert raw.task == "classification" and raw.x.shape == (40, 5)
    np.savez(tmp_path / "bad.npz", features=rng.random((4, 2)))
    with pytest.raises(DataError, match="npz needs arrays 'x' and 'y'"):
        load_source(data_spec(source=str(tmp_path / "bad.npz")))
