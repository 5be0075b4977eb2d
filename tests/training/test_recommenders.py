"""Recommender data: reading interactions, leak-free splits, candidates, ranking metrics."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from automl.data import infer_kind, load_source, prepare, split_raw
from automl.data.interactions import N_NEGATIVES, contains, keys
from automl.data.make_interactions import generate
from automl.errors import DataError
from automl.search.spec import DataSpec


def _data(source: Path, **fields: Any) -> DataSpec:
    return DataSpec(source=str(source), kind="interactions", **fields)


def _write(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def ratings(tmp_path: Path) -> Path:
    return _write(tmp_path / "ratings.csv", generate(60, 80, 1500, seed=1))


@pytest.fixture
def implicit(tmp_path: Path) -> Path:
    return _write(tmp_path / "clicks.csv", generate(60, 80, 1500, implicit=True, seed=2))


def test_kind_is_inferred_from_user_and_item_columns(ratings: Path, tmp_path: Path) -> None:
    assert infer_kind(str(ratings), DataSpec(source=str(ratings))) == "interactions"
    other = _write(tmp_path / "t.csv", pd.DataFrame({"a": [1, 2], "label": [0, 1]}))
    assert infer_kind(str(other), DataSpec(source=str(other))) == "csv"


def test_ratings_are_regression_and_no_rating_means_implicit(ratings: Path, implicit: Path) -> None:
    raw = load_source(_data(ratings))
    assert raw.task == "regression" and not raw.options["implicit"]
    assert raw.y.dtype.kind == "f" and 1 <= raw.y.min() <= raw.y.max() <= 5
    raw = load_source(_data(implicit))
    assert raw.task == "classification" and raw.options["implicit"] and set(raw.y) == {1}
    forced = load_source(_data(ratings, implicit=True))
    assert forced.options["implicit"]


def test_headerless_double_colon_file_with_string_ids(tmp_path: Path) -> None:
    rows = ["007::Ünïcode film::5::3", "007::b::3::1", "x y::b::4::2", "x y::007::1::4"]
    path = tmp_path / "ratings.dat"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = DataSpec(source=str(path), columns=["user", "item", "rating", "timestamp"])
    assert infer_kind(str(path), data) == "interactions"
    raw = load_source(data)
    assert list(raw.x["user"]) == ["007", "x y", "007", "x y"]  # time order, "007" kept
    assert sorted(raw.y.tolist()) == [1, 3, 4, 5]


@pytest.mark.parametrize(
    ("text", "fields", "message"),
    [
        ("who,what\na,b\n", {}, "data.user_column: no user column"),
        ("user,movie\na,b\n", {}, "data.item_column: no item column"),
        ("u,i\na,b\n", {"user_column": "user"}, "data.user_column: no column 'user'"),
        ("user,item,rating\na,x,4\nb,y,five\n", {}, "column 'rating' row 2: 'five' is not a"),
        ("user,item,rating\na,x,4\na,y,3\n", {}, "user column 'user' has fewer than 2"),
    ],
)
def test_bad_interactions_are_one_line_errors(
    tmp_path: Path, text: str, fields: dict[str, Any], message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_source(_data(path, **fields))
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def _pairs(raw: Any, idx: np.ndarray) -> set[tuple[str, str]]:
    return set(zip(raw.x["user"].iloc[idx], raw.x["item"].iloc[idx], strict=True))


@pytest.mark.parametrize("how", ["random", "by_time"])
def test_splits_never_leak(ratings: Path, how: str) -> None:
    raw = load_source(_data(ratings, split=how))
    split = split_raw(raw, _data(ratings, split=how))
    train = _pairs(raw, split["train"])
    assert not train & _pairs(raw, split["test"]) and not train & _pairs(raw, split["validation"])
    assert sum(map(len, split.values())) == len(raw.y)
    assert len(np.unique(np.concatenate(list(split.values())))) == len(raw.y)


def test_by_time_holds_out_each_users_last_interactions(implicit: Path) -> None:
    data = _data(implicit)
    raw = load_source(data)
    split = split_raw(raw, data)  # by_time is the default for implicit feedback
    frame = raw.x.assign(part="train")
    frame.loc[split["validation"], "part"] = "validation"
    frame.loc[split["test"], "part"] = "test"
    for _, rows in frame.groupby("user"):
        rows = rows.sort_values("timestamp")
        if len(rows) >= 3:
            assert list(rows["part"].iloc[-2:]) == ["validation", "test"]
            assert set(rows["part"].iloc[:-2]) == {"train"}
        else:
            assert set(rows["part"]) == {"train"}


def test_candidates_are_items_the_user_never_touched(implicit: Path) -> None:
    data = _data(implicit)
    raw = load_source(data)
    splits = prepare(raw, split_raw(raw, data))
    info = splits.interactions
    assert info is not None and info.test_candidates is not None
    assert info.test_candidates.shape == (len(splits.x_test), N_NEGATIVES)
    all_pairs = np.concatenate([splits.x_train, splits.x_val, splits.x_test])
    every = np.sort(keys(all_pairs, info.n_items))
    users = np.repeat(splits.x_test[:, :1], N_NEGATIVES, axis=1)
    cand = np.stack([users.ravel(), info.test_candidates.ravel()], axis=1)
    assert not contains(every, keys(cand, info.n_items)).any()
    assert not contains(info.train_keys, keys(splits.x_test, info.n_items)).any()


def test_generated_implicit_data_has_taste_beyond_popularity(tmp_path: Path) -> None:
    """Item-to-item co-occurrence (per-user taste) ranks held-out items clearly better
    than popularity, while popularity alone stays a strong baseline, as on MovieLens."""
    from automl.training.recommend import hit_rate, ranks

    path = _write(tmp_path / "c.csv", generate(300, 400, 24_000, implicit=True, seed=5))
    data = _data(path)
    raw = load_source(data)
    splits = prepare(raw, split_raw(raw, data))
    info = splits.interactions
    assert info is not None and info.test_candidates is not None
    seen = np.zeros((len(info.users), info.n_items))
    seen[splits.x_train[:, 0], splits.x_train[:, 1]] = 1.0
    unit = seen / np.maximum(np.linalg.norm(seen, axis=0), 1.0)
    taste = seen @ (unit.T @ unit)  # per user: summed cosine to the items they picked
    items = np.concatenate([splits.x_test[:, 1:2], info.test_candidates], axis=1)
    users = splits.x_test[:, :1]
    popular = hit_rate(ranks(info.popularity[items].astype("float64")), 10)
    knn = hit_rate(ranks(taste[users, items]), 10)
    assert 0.25 < popular < 0.6
    assert knn > 1.25 * popular, (knn, popular)


def test_negative_sampling_skips_train_positives(implicit: Path) -> None:
    from automl.training.recommend import NegativeSampling

    data = _data(implicit)
    raw = load_source(data)
    splits = prepare(raw, split_raw(raw, data))
    info = splits.interactions
    assert info is not None
    dataset = NegativeSampling(splits.x_train, info, negatives=3, batch=128, seed=0)
    x = np.concatenate([dataset[i][0] for i in range(len(dataset))])
    y = np.concatenate([dataset[i][1] for i in range(len(dataset))])
    assert (y == 0).sum() == 3 * (y == 1).sum() == 3 * len(splits.x_train)
    in_train = contains(info.train_keys, keys(x, info.n_items))
    assert in_train[y == 1].all() and in_train[y == 0].mean() < 0.01
    first = dataset.pairs.copy()
    dataset.on_epoch_end()
    assert not np.array_equal(first, dataset.pairs)  # fresh negatives each epoch


def _slow_metrics(scores: np.ndarray, k: int) -> tuple[float, float]:
    """Reference: sort each row, place the positive in the middle of its ties."""
    hits, gains = [], []
    for row in scores:
        above = sorted(row[1:], reverse=True)
        rank = sum(1 for s in above if s > row[0]) + 0.5 * sum(1 for s in above if s == row[0])
        hits.append(1.0 if rank < k else 0.0)
        gains.append(1.0 / math.log2(rank + 2) if rank < k else 0.0)
    return sum(hits) / len(hits), sum(gains) / len(gains)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_ranking_metrics_agree_with_a_slow_reference(k: int) -> None:
    from automl.training.recommend import hit_rate, ndcg, ranks

    rng = np.random.default_rng(k)
    scores = rng.integers(0, 12, size=(40, 1 + 20)).astype("float32")  # many ties
    rank = ranks(scores)
    hr, gain = _slow_metrics(scores, k)
    assert hit_rate(rank, k) == pytest.approx(hr) and ndcg(rank, k) == pytest.approx(gain)


def test_ranking_metrics_on_hand_made_rows() -> None:
    from automl.training.recommend import hit_rate, ndcg, ranks

    rank = ranks(np.array([[0.9, 0.1, 0.2], [0.1, 0.5, 0.9], [0.3, 0.3, 0.3]]))
    assert rank.tolist() == [0.0, 2.0, 1.0]  # a constant model is not ranked first
    assert hit_rate(rank, 1) == pytest.approx(1 / 3)
    assert ndcg(rank, 3) == pytest.approx((1 + 1 / math.log2(4) + 1 / math.log2(3)) / 3)


def test_objective_k_and_directions() -> None:
    from automl.ranking import Objective
    from automl.search.spec import ObjectiveSpec

    assert ObjectiveSpec(metric="val_hr@10", k=5).resolve() == Objective("val_hr@5", "maximize")
    assert Objective.of("val_ndcg@20").maximize and not Objective.of("val_rmse").maximize


def test_ranking_objectives_only_for_implicit_interactions(implicit: Path, tmp_path: Path) -> None:
    from automl.errors import SpecError
    from automl.search.spec import validate_spec
    from automl.study.create import create

    url = str(tmp_path / "j.log")
    data = {"source": str(implicit), "kind": "interactions"}
    spec = validate_spec({"data": data, "model": {"family": "recommender"}})
    assert spec.objectives("classification")[0].metric == "val_hr@10"
    wrong = spec.replace(objective="val_accuracy")
    with pytest.raises(SpecError, match="'val_accuracy' does not apply .* take val_hr@K"):
        create(wrong, "a", url)
    digits = validate_spec({"data": {"source": "digits"}, "model": {"family": "mlp"}})
    with pytest.raises(SpecError, match="'val_hr@10' does not apply to data 'digits'"):
        create(digits.replace(objective="val_hr@10"), "b", url)
