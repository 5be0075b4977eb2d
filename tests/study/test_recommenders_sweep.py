"""Recommenders end to end: the ready spaces sweep from the CLI, export carries the id
vocabularies, ``recommend`` gives top-K items, bad files are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.data.make_interactions import generate
from automl.search.catalog import ready_spaces

pytestmark = pytest.mark.slow

SMALL = {"body": ["mf", "neumf"], "embedding_dim": 8, "n_layers": 1, "units": 16}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _space(name: str, folder: Path) -> str:
    raw = yaml.safe_load(ready_spaces()[name].read_text(encoding="utf-8"))
    raw["search"].update(SMALL)
    raw["training"] = {"max_epochs": 2, "patience": 1}
    raw["pruner"] = {"name": "none"}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return str(path)


def _data(path: Path, implicit: bool) -> Path:
    frame = generate(80, 120, 3000, implicit=implicit, seed=3)
    # Ids that only survive as strings: leading zeros, spaces, non-ASCII.
    frame["user"] = "0" + frame["user"].str[1:] + " ü"
    frame["item"] = "élément " + frame["item"]
    frame.to_csv(path, index=False)
    return path


def _tune(name: str, data: Path, storage: str, tmp_path: Path) -> Any:
    args = ["tune", _space(name, tmp_path), "--data", str(data), "--trials", "2"]
    result = CliRunner().invoke(app, [*args, "--storage", storage, "--study", name, "--in-process"])
    assert result.exit_code == 0, result.output
    return automl.load(name, storage)


def test_ratings_sweep_exports_ids_and_recommends(tmp_path: Path) -> None:
    import keras

    data = _data(tmp_path / "ratings.csv", implicit=False)
    storage = str(tmp_path / "j.log")
    sweep = _tune("ratings_mf", data, storage, tmp_path)
    assert sweep.objectives[0].metric == "val_rmse"
    assert 0 < sweep.test_metrics["rmse"] < 2.0
    result = CliRunner().invoke(
        app, ["export", "ratings_mf", "-o", "m.keras", "--storage", storage]
    )
    assert result.exit_code == 0, result.output
    vocab = json.loads((tmp_path / "m.vocabulary.json").read_text(encoding="utf-8"))
    assert vocab["users"] == sorted(vocab["users"]) and "01 ü" in vocab["users"]
    model = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    pair = np.array([[vocab["users"].index("01 ü"), vocab["items"].index("élément i3")]])
    exported = float(model.predict(pair.astype("int32"), verbose=0)[0, 0])
    expected = float(sweep.best_model().predict(pair.astype("int32"), verbose=0)[0, 0])
    assert exported == pytest.approx(expected, rel=1e-5) and 0.0 < exported < 7.0
    html = (tmp_path / "reports" / "ratings_mf.html").read_text(encoding="utf-8")
    assert "Predicted against actual ratings" in html and "val_rmse" in html
    top = sweep.recommend(["01 ü"], k=5)
    assert list(top.columns) == ["user", "item", "score"] and len(top) == 5
    assert set(top["item"]) <= set(vocab["items"]) and top["score"].is_monotonic_decreasing


def test_implicit_sweep_ranks_and_recommends_unseen_items(tmp_path: Path) -> None:
    data = _data(tmp_path / "clicks.csv", implicit=True)
    storage = str(tmp_path / "j.log")
    sweep = _tune("implicit_ncf", data, storage, tmp_path)
    board = sweep.leaderboard()
    assert {"val_hr@10", "val_ndcg@10"} <= set(board.columns)
    test = sweep.test_metrics
    assert 0.0 <= test["ndcg@10"] <= test["hr@10"] <= test["hr@20"] <= 1.0
    curve = (sweep.record().best_eval or {})["at_k"]
    assert curve["hr"] == sorted(curve["hr"])
    html = (tmp_path / "reports" / "implicit_ncf.html").read_text(encoding="utf-8")
    assert "HitRate@K and NDCG@K against K" in html and "val_ndcg@10" in html
    user = "01 ü"
    info = automl.api.splits_of(sweep.study, sweep.storage).interactions
    seen = {info.items[i] for i in info.seen(info.users.index(user))}
    top = sweep.recommend([user], k=10)
    assert len(top) == 10 and not set(top["item"]) & seen
    assert set(sweep.recommend([user], k=10, exclude_seen=False)["item"]) & seen or not seen
    result = CliRunner().invoke(
        app, ["recommend", "implicit_ncf", "--user", "nobody", "--k", "3", "--storage", storage]
    )
    assert result.exit_code == 0 and result.output.count("cold start") == 3, result.output
    with pytest.raises(automl.errors.DataError, match="unknown user id"):
        sweep.recommend(["nobody"], cold_start=False)


def test_bad_rating_is_a_one_line_cli_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating\na,x,4\nb,y,lots\nc,z,2\n", encoding="utf-8")
    args = ["tune", "ratings_mf", "--data", str(path), "--storage", str(tmp_path / "j.log")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "column 'rating' row 2: 'lots' is not a number" in result.output
    assert "Traceback" not in result.output
