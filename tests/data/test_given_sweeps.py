"""Sweeps on the user's own splits: the test metrics come from exactly the given rows.

For each data kind the test rows carry wrong labels (swapped, rotated, or ratings turned
upside down) while the main source is easily learnt: a model that learnt it scores high
on validation and near zero on the given test rows, which it could not if the test rows
came from the main source. The study's data record counts the rows of each split.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.search.spec import validate_spec
from tests.helpers import make, write_yaml

pytestmark = pytest.mark.slow


def _sweep(folder: Path, data: dict[str, Any], family: str, search: dict[str, Any], epochs: int):
    raw = {
        "name": "given",
        "data": data,
        "model": {"family": family},
        "search": search,
        "training": {
            "max_epochs": epochs,
            "patience": None,
            "batch_size": 16,
            "no_progress_epochs": 0,
        },
        "sampler": {"name": "random", "seed": 0},
        "pruner": {"name": "none"},
        "keep": 1,
        "ensemble": 0,
    }
    spec = validate_spec(raw)
    return automl.tune(spec, trials=1, storage=str(folder / "j.log"), in_process=True)


def _relabel(path: Path, column: str, mapping: dict[Any, Any]) -> Path:
    frame = pd.read_csv(path)
    frame[column] = frame[column].map(mapping)
    frame.to_csv(path, index=False)
    return path


def _swap_folders(root: Path, a: str, b: str) -> Path:
    (root / a).rename(root / "_swap")
    (root / b).rename(root / a)
    (root / "_swap").rename(root / b)
    return root


def _table(d: Path) -> tuple[dict[str, Any], int]:
    train = make.tabular_csv(d / "train.csv", n=150)
    test = _relabel(make.tabular_csv(d / "test.csv", n=40, seed=1), "label", {1: 2, 2: 3, 3: 1})
    return {"source": str(train), "test_source": str(test)}, 40


def _table_split_column(d: Path) -> tuple[dict[str, Any], int]:
    path = make.tabular_csv(d / "all.csv", n=190)
    frame = pd.read_csv(path)
    frame["split"] = ["train"] * 130 + ["validation"] * 20 + ["test"] * 40
    frame.loc[150:, "label"] = frame.loc[150:, "label"].map({1: 2, 2: 3, 3: 1})
    frame.to_csv(path, index=False)
    return {"source": str(path), "split_column": "split"}, 40


def _images(d: Path) -> tuple[dict[str, Any], int]:
    train = make.images(d / "train", per_class=16)
    test = _swap_folders(make.images(d / "test", per_class=5, seed=1), "disc", "square")
    return {"source": str(train), "test_source": str(test), "image_size": [16, 16]}, 10


def _audio(d: Path) -> tuple[dict[str, Any], int]:
    train = make.audio(d / "train", per_class=8)
    test = make.audio(d / "test", per_class=3, seed=1)
    _swap_folders(test, "low", "high")
    shutil.rmtree(test / "noise")  # noise stays noise: only swapped classes are tested
    data = {"source": str(train), "test_source": str(test), "duration": 0.25}
    return {**data, "sample_rate": 8000}, 6


def _audio_manifest(d: Path) -> tuple[dict[str, Any], int]:
    manifest = make.audio_manifest(d / "m", per_class=10)
    frame = pd.read_csv(manifest)
    test = frame.index % 5 == 0
    frame["split"] = np.where(test, "test", "train")
    frame.loc[test, "label"] = frame.loc[test, "label"].map(
        {"low": "high", "high": "low", "noise": "noise"}
    )
    frame = frame[~(test & (frame["label"] == "noise"))]  # keep only the swapped test rows
    frame.to_csv(manifest, index=False)
    return {"source": str(manifest), "split_column": "split", "duration": 0.25}, int(
        (frame["split"] == "test").sum()
    )


def _text(d: Path) -> tuple[dict[str, Any], int]:
    train = make.text_csv(d / "train.csv", n=120)
    test = _relabel(
        make.text_csv(d / "test.csv", n=30, seed=1), "label", {"pos": "neg", "neg": "pos"}
    )
    return {"source": str(train), "test_source": str(test), "text_column": "text"}, 30


def _sequences(d: Path) -> tuple[dict[str, Any], int]:
    train = make.sequences_npz(d / "train.npz", n=120)
    with np.load(make.sequences_npz(d / "t.npz", n=30, seed=1)) as z:
        np.savez(d / "test.npz", x=z["x"], y=(z["y"] + 1) % 3)
    return {"source": str(train), "test_source": str(d / "test.npz")}, 30


def _features_npz(d: Path) -> tuple[dict[str, Any], int]:
    rng = np.random.default_rng(0)

    def write(path: Path, n: int, shift: int) -> Path:
        y = np.arange(n) % 3
        x = rng.normal(0, 0.3, (n, 6)) + np.eye(3)[y].repeat(2, axis=1) * 3
        np.savez(path, x=x.astype("float32"), y=(y + shift) % 3)
        return path

    train, test = write(d / "train.npz", 150, 0), write(d / "test.npz", 30, 1)
    return {"source": str(train), "test_source": str(test)}, 30


MLP = {"n_layers": 1, "units": 32, "learning_rate": 0.01}
CASES: dict[str, tuple[Callable[[Path], tuple[dict[str, Any], int]], str, dict[str, Any], int]] = {
    "csv": (_table, "mlp", MLP, 15),
    "csv split_column": (_table_split_column, "mlp", MLP, 15),
    "images": (_images, "cnn", {"n_layers": 1, "filters": 8, "learning_rate": 0.01}, 12),
    "audio": (
        _audio,
        "audio",
        {"body": "cnn", "n_layers": 1, "units": 8, "learning_rate": 0.01},
        10,
    ),
    "audio manifest split_column": (
        _audio_manifest,
        "audio",
        {"body": "cnn", "n_layers": 1, "units": 8, "learning_rate": 0.01},
        10,
    ),
    "text": (_text, "text", {"body": "pooling", "learning_rate": 0.02}, 15),
    "sequences": (
        _sequences,
        "rnn",
        {"cell": "gru", "n_layers": 1, "units": 16, "learning_rate": 0.02},
        15,
    ),
    "npz": (_features_npz, "mlp", MLP, 10),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_test_metrics_come_from_exactly_the_given_rows(kind: str, tmp_path: Path) -> None:
    maker, family, search, epochs = CASES[kind]
    data, n_test = maker(tmp_path)
    sweep = _sweep(tmp_path, data, family, search, epochs)
    record = sweep.record()
    assert record.data["sizes"]["test"] == n_test
    assert sweep.best_value > 0.8, (kind, sweep.best_value)
    assert sweep.test_metrics["accuracy"] < 0.3, (kind, sweep.test_metrics)


def _ratings(path: Path, users: range, flip: bool = False) -> Path:
    rows = []
    for u in users:
        for i in range(12):
            rating = 1 + (i % 5)  # each item has its own rating, whoever rates it
            rows.append((f"u{u}", f"i{i}", 6 - rating if flip else rating))
    pd.DataFrame(rows, columns=["user", "item", "rating"]).to_csv(path, index=False)
    return path


def test_ratings_test_source_scores_its_own_rows(tmp_path: Path) -> None:
    base = _ratings(tmp_path / "u1.base", range(40))
    test = _ratings(tmp_path / "u1.test", range(30, 40), flip=True)  # ratings upside down
    data = {"source": str(base), "test_source": str(test), "kind": "interactions"}
    search = {"body": "bias", "learning_rate": 0.05, "batch_size": 32}
    sweep = _sweep(tmp_path, data, "recommender", search, 15)
    assert sweep.record().data["sizes"]["test"] == 120
    assert sweep.best_value < 0.5, sweep.best_value  # validation RMSE on u1.base's own rows
    assert sweep.test_metrics["rmse"] > 1.5, sweep.test_metrics


def test_set_test_source_from_the_cli_resolves_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "adult"
    make.tabular_csv(folder.mkdir() or folder / "adult.data", n=100)
    make.tabular_csv(folder / "adult.test", n=30, seed=1)
    space = write_yaml(
        tmp_path / "space.yaml",
        {
            "data": {"source": str(folder / "adult.data"), "kind": "csv"},
            "model": {"family": "mlp"},
            "search": MLP,
            "training": {"max_epochs": 2, "patience": None, "no_progress_epochs": 0},
            "pruner": {"name": "none"},
            "ensemble": 0,
        },
    )
    monkeypatch.chdir(folder)
    storage = str(tmp_path / "j.log")
    args = ["tune", str(space), "--trials", "1", "--in-process", "--storage", storage]
    result = CliRunner().invoke(
        app, [*args, "--study", "s", "--set", "data.test_source=adult.test"]
    )
    assert result.exit_code == 0, result.output
    sweep = automl.load("s", storage)
    assert sweep.spec.data.test_source == str((folder / "adult.test").resolve())
    assert sweep.record().data["sizes"]["test"] == 30
    (folder / "adult.test").unlink()  # the CLI error for a test source that is gone names it
    result = CliRunner().invoke(app, [*args, "--set", "data.test_source=adult.test"])
    assert result.exit_code != 0 and "adult.test" in result.output
    assert "Traceback" not in result.output
