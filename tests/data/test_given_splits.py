"""The user's own splits: a test / validation source or a split column, for every data kind.

The test rows are exactly the given ones, read like the main source, with preprocessing
fitted on the train rows only; a label train never saw, a bad split value and a split
given twice are one-line errors. Training on such splits is in ``test_given_sweeps.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from automl.data import Splits, load_source, prepare
from automl.data.raw import RawData
from automl.errors import DataError, SpecError
from automl.search.catalog import load_spec
from automl.search.overrides import apply
from automl.search.spec import validate_spec
from tests.helpers import make, tiny_spec, write_yaml


def data_spec(**data: Any) -> Any:
    return validate_spec(tiny_spec(data=data)).data


def load(**data: Any) -> tuple[RawData, Splits]:
    raw = load_source(data_spec(**data))
    return raw, prepare(raw, raw.options["given_split"])


def test_csv_test_source_rows_are_the_test_split_scaled_with_train_statistics(
    tmp_path: Path,
) -> None:
    train = make.mixed_csv(tmp_path / "train.csv", n=100, seed=0)
    test = make.mixed_csv(tmp_path / "test.csv", n=30, seed=1)
    raw, data = load(source=str(train), test_source=str(test))
    split = raw.options["given_split"]
    assert data.sizes() == {"train": 85, "validation": 15, "test": 30}  # 15% of train.csv
    assert split["test"].tolist() == list(range(100, 130))
    rows = pd.read_csv(test)
    assert [data.classes[i] for i in data.y_test] == rows["label"].tolist()
    income = pd.read_csv(train)["income"].to_numpy()[split["train"]]
    expected = (rows["income"].to_numpy() - income.mean()) / income.std()
    assert np.allclose(data.x_test[:, 1], expected, rtol=1e-4)


def test_csv_validation_and_test_sources_leave_the_whole_main_file_to_train(
    tmp_path: Path,
) -> None:
    train = make.mixed_csv(tmp_path / "train.csv", n=60, seed=0)
    val = make.mixed_csv(tmp_path / "val.csv", n=20, seed=1)
    test = make.mixed_csv(tmp_path / "test.csv", n=25, seed=2)
    frame = pd.read_csv(test)
    frame.loc[0, "city"] = "berlin"  # a category train never saw
    frame.to_csv(test, index=False)
    raw, data = load(source=str(train), validation_source=str(val), test_source=str(test))
    assert data.sizes() == {"train": 60, "validation": 20, "test": 25}
    # Category columns are one-hot encoded from the train rows: berlin has no column.
    assert data.x_test.shape[1] == 2 + 3 and data.x_test[0, 2:].sum() == 0


def test_only_validation_source_draws_the_test_split_from_the_main_file(tmp_path: Path) -> None:
    train = make.mixed_csv(tmp_path / "train.csv", n=100, seed=0)
    val = make.mixed_csv(tmp_path / "val.csv", n=10, seed=1)
    _, data = load(source=str(train), validation_source=str(val), test=0.2)
    assert data.sizes() == {"train": 80, "validation": 10, "test": 20}


def test_a_test_label_train_never_saw_is_one_line_naming_file_label_and_known(
    tmp_path: Path,
) -> None:
    train = make.mixed_csv(tmp_path / "train.csv", n=40)
    test = make.mixed_csv(tmp_path / "test.csv", n=10, seed=1)
    frame = pd.read_csv(test)
    frame.loc[3, "label"] = "maybe"
    frame.to_csv(test, index=False)
    with pytest.raises(DataError) as err:
        load_source(data_spec(source=str(train), test_source=str(test)))
    message = str(err.value)
    assert message.startswith(f"{test}: label 'maybe' is not a label of the train data")
    assert message.endswith(f"({train}); known labels: no, yes")
    assert "\n" not in message
    frame.drop(columns=["city"]).to_csv(test, index=False)
    with pytest.raises(DataError, match=r"test\.csv: no column 'city', which .*train\.csv has"):
        load_source(data_spec(source=str(train), test_source=str(test)))


def _with_split_column(path: Path, split: list[str]) -> Path:
    frame = pd.read_csv(path)
    frame["split"] = split  # the last column: never taken for the target
    frame.to_csv(path, index=False)
    return path


def test_csv_split_column_is_honoured_and_dropped_from_the_features(tmp_path: Path) -> None:
    marks = ["train"] * 50 + ["validation"] * 12 + ["test"] * 18
    path = _with_split_column(make.mixed_csv(tmp_path / "t.csv", n=80), marks)
    raw, data = load(source=str(path), split_column="split")
    assert "split" not in raw.x.columns and raw.classes == ["no", "yes"]
    assert data.sizes() == {"train": 50, "validation": 12, "test": 18}
    assert raw.options["given_split"]["test"].tolist() == list(range(62, 80))
    # Without validation rows the validation split is drawn from the train rows.
    path = _with_split_column(path, ["train"] * 60 + ["test"] * 20)
    _, data = load(source=str(path), split_column="split", validation=0.25)
    assert data.sizes() == {"train": 45, "validation": 15, "test": 20}


def test_a_bad_split_value_or_column_is_one_line(tmp_path: Path) -> None:
    marks = ["train"] * 30 + ["Test"] + ["test"] * 9
    path = _with_split_column(make.mixed_csv(tmp_path / "t.csv", n=40), marks)
    with pytest.raises(DataError) as err:
        load_source(data_spec(source=str(path), split_column="split"))
    assert str(err.value) == (
        f"{path}: data.split_column 'split' row 31: 'Test' is not a split; "
        "allowed: train, validation, test"
    )
    with pytest.raises(DataError, match=r"t\.csv: data\.split_column: no column 'part'; col"):
        load_source(data_spec(source=str(path), split_column="part"))
    frame = pd.read_csv(path)
    frame["split"] = ["train"] * 20 + ["test"] * 20
    frame.loc[20:, "label"] = "yes"
    frame.loc[:19, "label"] = "no"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"a test row has label 'yes', which no train row has"):
        load_source(data_spec(source=str(path), split_column="split"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"test_source": "t.csv", "test": 0.2},
            "data.test: 'test' must be left out when 'test_source' is given",
        ),
        (
            {"validation_source": "v.csv", "validation": 0.1},
            "data.validation: 'validation' must be left out when 'validation_source' is given",
        ),
        (
            {"test_source": "t.csv", "split_column": "split"},
            "data.split_column: 'split_column' must be left out when 'test_source' is given",
        ),
        ({"source": "digits", "test_source": "t.csv"}, "data.test_source: 'digits' is not a"),
        ({"kind": "images", "split_column": "split"}, "data.split_column: 'a.csv' is a folder"),
    ],
)
def test_a_split_given_twice_is_a_spec_error_naming_file_and_field(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecError) as err:
        validate_spec(tiny_spec(data={"source": "a.csv", **data}), origin="space.yaml")
    assert str(err.value).startswith(f"space.yaml: {message}"), str(err.value)


def test_an_image_folder_takes_no_split_column(tmp_path: Path) -> None:
    photos = make.images(tmp_path / "photos", per_class=2)
    with pytest.raises(SpecError, match="is a folder of class subfolders, which has no column"):
        validate_spec(tiny_spec(data={"source": str(photos), "split_column": "s"}), origin="x")


def test_given_sources_survive_storage_and_set(tmp_path: Path) -> None:
    spec = validate_spec(tiny_spec(data={"source": "a.csv", "test_source": "t.csv"}))
    stored = validate_spec(spec.model_dump(mode="json"), stored=True)  # read back by workers
    assert stored.data.test_source == "t.csv" and stored.data.test is None
    spec = validate_spec(tiny_spec(data={"source": "a.csv"}))
    assert apply(spec, {"data.test_source": "t.csv"}).data.test_source == "t.csv"
    with pytest.raises(SpecError, match=r"data\.test: 'test' must be left out.*--set"):
        apply(spec, {"data.test_source": "t.csv", "data.test": 0.3})


def test_relative_sources_resolve_next_to_the_yaml_or_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "adult"
    folder.mkdir()
    make.mixed_csv(folder / "adult.data")
    make.mixed_csv(folder / "adult.test", seed=1)
    space = write_yaml(
        folder / "space.yaml",
        tiny_spec(data={"source": "adult.data", "test_source": "adult.test", "kind": "csv"}),
    )
    monkeypatch.chdir(tmp_path)
    spec = load_spec(space)
    assert spec.data.test_source == str((folder / "adult.test").resolve())
    # From --set: relative to the working folder, as --data is.
    spec = apply(spec, {"data.test_source": "adult/adult.data"})
    assert spec.data.test_source == str((folder / "adult.data").resolve())
    assert spec.overrides == {"data.test_source": "adult/adult.data"}


def test_text_test_source_is_tokenized_with_the_train_vocabulary(tmp_path: Path) -> None:
    train = make.text_csv(tmp_path / "train.csv", n=40)
    test = make.text_csv(tmp_path / "test.csv", n=10, seed=1)
    frame = pd.read_csv(test)
    frame.loc[0, "text"] = "zebra"  # a word only the test file has
    frame.to_csv(test, index=False)
    raw, data = load(source=str(train), test_source=str(test), text_column="text")
    assert data.sizes()["test"] == 10 and "zebra" not in data.tokenizer["vocabulary"]
    assert data.x_test[0, 0] == 1 and data.x_test[0, 1:].sum() == 0  # out of vocabulary
    assert [data.classes[i] for i in data.y_test] == frame["label"].tolist()


def test_time_series_test_source_and_split_column(tmp_path: Path) -> None:
    train = make.series_csv(tmp_path / "train.csv", n=60)
    test = make.series_csv(tmp_path / "test.csv", n=30, seed=1)
    raw, data = load(source=str(train), test_source=str(test), window=10)
    # Each file is cut into its own windows: 60 - 10 = 50 and 30 - 10 = 20.
    assert len(raw.y) == 70 and data.sizes()["test"] == 20
    assert np.isclose(data.y_test[0], pd.read_csv(test)["target"][10])
    marks = ["train"] * 40 + ["test"] * 20
    path = _with_split_column(make.series_csv(tmp_path / "s.csv", n=60), marks)
    raw, data = load(source=str(path), split_column="split", window=10)
    # A window belongs to the split of the row its target is read from.
    assert data.sizes()["test"] == 20 and data.sizes()["train"] + data.sizes()["validation"] == 30


def test_npz_test_source_and_split_array(tmp_path: Path) -> None:
    train = make.sequences_npz(tmp_path / "train.npz", n=60)
    test = make.sequences_npz(tmp_path / "test.npz", n=12, seed=1)
    raw, data = load(source=str(train), test_source=str(test))
    with np.load(test) as z:
        assert np.array_equal(data.y_test, z["y"])
    flat = data.x_train.reshape(-1, 2)  # standardized with the train samples only
    assert np.allclose(flat.mean(axis=0), 0.0, atol=1e-5)
    with np.load(train) as z:
        x, y = z["x"], z["y"]
    split = np.array(["train"] * 40 + ["validation"] * 8 + ["test"] * 12)
    np.savez(tmp_path / "s.npz", x=x, y=y, split=split)
    _, data = load(source=str(tmp_path / "s.npz"), split_column="split")
    assert data.sizes() == {"train": 40, "validation": 8, "test": 12}
    with pytest.raises(DataError, match=r"s\.npz: data\.split_column: no array 'part'; arrays"):
        load_source(data_spec(source=str(tmp_path / "s.npz"), split_column="part"))


def test_image_folder_test_source_and_a_class_train_lacks(tmp_path: Path) -> None:
    train = make.images(tmp_path / "train", per_class=6)
    test = make.images(tmp_path / "test", per_class=3, seed=1)
    raw, data = load(source=str(train), test_source=str(test), image_size=[16, 16])
    assert data.sizes()["test"] == 6 and data.y_test.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.x_test.shape[1:] == (16, 16, 3) and data.x_test.max() <= 1.0
    (test / "triangle").mkdir()
    (test / "disc" / "disc0.png").rename(test / "triangle" / "t.png")
    with pytest.raises(
        DataError, match=r"test: label 'triangle' is not a label of .*; known labels: disc, square"
    ):
        load_source(data_spec(source=str(train), test_source=str(test)))


def test_audio_test_source_takes_the_main_sources_sample_rate(tmp_path: Path) -> None:
    train = make.audio(tmp_path / "train", per_class=3)  # 8000, 11025 and 16000 Hz files
    test = tmp_path / "test"
    for cls in ("low", "high"):  # 16 kHz only: read alone it would stay at 16 kHz
        (test / cls).mkdir(parents=True)
        t = np.arange(4000) / 16000
        make.write_wav(test / cls / "a.wav", 0.5 * np.sin(2 * np.pi * 440 * t), 16000)
    raw, data = load(source=str(train), test_source=str(test), duration=0.25)
    assert raw.options["sample_rate"] == 8000 and data.x_test.shape == (2, 2000)
    assert data.sizes()["test"] == 2 and data.input_spec.sample_rate == 8000


def test_audio_manifest_split_column(tmp_path: Path) -> None:
    manifest = make.audio_manifest(tmp_path / "m", per_class=4)
    frame = pd.read_csv(manifest)
    frame["split"] = (["train", "train", "validation", "test"] * 3)[: len(frame)]
    frame.to_csv(manifest, index=False)
    raw, data = load(source=str(manifest), split_column="split", duration=0.25)
    assert data.sizes() == {"train": 6, "validation": 3, "test": 3}
    assert raw.classes == ["high", "low", "noise"]


def _ratings(path: Path, users: range, items: range) -> Path:
    rows = [(f"u{u}", f"i{i}", 1 + (i % 5), 1000 * u + i) for u in users for i in items]
    pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]).to_csv(path, index=False)
    return path


def test_interactions_test_source_keeps_its_rows_and_counts_cold_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base = _ratings(tmp_path / "u1.base", range(10), range(8))
    test = _ratings(tmp_path / "u1.test", range(8, 12), range(8, 10))  # new users and items
    with caplog.at_level(logging.WARNING, logger="automl"):
        raw, data = load(source=str(base), test_source=str(test), kind="interactions")
    assert data.sizes() == {"train": 68, "validation": 12, "test": 8}
    assert "8 of 8 test interactions have a user or item without train" in caplog.text
    info = data.interactions
    assert info is not None and "u11" in info.users and "i9" in info.items
    assert info.popularity[info.items.index("i9")] == 0  # fitted on the train rows only
    assert np.allclose(data.y_test, pd.read_csv(test)["rating"])


def test_implicit_interactions_split_column_and_by_time_validation(tmp_path: Path) -> None:
    path = _ratings(tmp_path / "r.csv", range(6), range(6))
    frame = pd.read_csv(path).drop(columns=["rating"])
    frame["split"] = np.where(frame["item"] == "i5", "test", "train")
    frame.to_csv(path, index=False)
    raw, data = load(source=str(path), split_column="split")
    # The test rows as marked; validation: each user's last train interaction (by time).
    assert data.sizes() == {"train": 24, "validation": 6, "test": 6}
    info = data.interactions
    assert info is not None and info.implicit and info.test_candidates is not None
    assert [info.items[i] for i in data.x_test[:, 1]] == ["i5"] * 6
    assert [info.items[i] for i in data.x_val[:, 1]] == ["i4"] * 6
