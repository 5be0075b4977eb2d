"""Readers of every source kind: images, audio, text, tables, sequences; bad files."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from automl.data import infer_kind, load_source, make_split, prepare
from automl.data.text import encode, load_tokenizer, save_tokenizer
from automl.errors import DataError
from automl.search.spec import validate_spec
from tests.helpers import make


def data_spec(**data: Any) -> Any:
    return validate_spec({"data": data, "model": {"family": "mlp"}}).data


def load(**data: Any) -> tuple[Any, Any]:
    raw = load_source(data_spec(**data))
    split = make_split(raw.y, 0.2, 0.2, 0, raw.task == "classification")
    return raw, prepare(raw, split)


def test_image_folder_resized_scaled_rgb_or_grayscale(tmp_path: Path) -> None:
    root = make.images(tmp_path / "photos", per_class=6)
    assert infer_kind(str(root)) == "images"
    raw, data = load(source=str(root), image_size=[12, 10])
    assert raw.kind == "image" and raw.classes == ["disc", "square"] and len(raw.y) == 12
    assert data.x_train.shape[1:] == (12, 10, 3)
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    _, gray = load(source=str(root), image_size=[8, 8], color_mode="grayscale")
    assert gray.input_spec.shape == (8, 8, 1)


def test_corrupt_image_stops_or_is_skipped(tmp_path: Path, caplog: Any) -> None:
    root = make.images(tmp_path / "photos", per_class=5)
    bad = root / "square" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(DataError, match=r"broken\.jpg: cannot read image.*skip_bad_files"):
        load_source(data_spec(source=str(root)))
    with caplog.at_level(logging.WARNING, logger="automl"):
        raw = load_source(data_spec(source=str(root), skip_bad_files=True))
    assert raw.skipped == 1 and len(raw.y) == 10
    assert "skipped 1 unreadable image" in caplog.text


def test_audio_folder_of_mixed_wavs_is_resampled_and_padded(tmp_path: Path) -> None:
    root = make.audio(tmp_path / "rec", per_class=4, seconds=0.3)
    make.pcm_wav_with_wave(root / "low" / "std.wav", np.sin(np.arange(800) / 3), 11025)
    assert infer_kind(str(root)) == "audio"
    raw, data = load(source=str(root), sample_rate=8000, duration=0.5)
    assert raw.kind == "audio" and raw.classes == ["high", "low", "noise"]
    assert data.x_train.shape[1:] == (4000,) and data.input_spec.sample_rate == 8000
    assert np.abs(data.x_train).max() <= 1.0
    # padding with silence: a 0.3 s clip ends in zeros
    assert np.all(raw.x[:, -200:] == 0)


def test_audio_manifest_and_broken_wav(tmp_path: Path) -> None:
    manifest = make.audio_manifest(tmp_path / "m", per_class=3)
    assert infer_kind(str(manifest)) == "audio"
    raw = load_source(data_spec(source=str(manifest), sample_rate=8000, duration=0.25))
    assert raw.x.shape == (9, 2000) and raw.classes == ["high", "low", "noise"]
    make.broken_wav(tmp_path / "m" / "clips" / "low" / "low0.wav")
    with pytest.raises(DataError, match=r"low0\.wav: cannot read WAV"):
        load_source(data_spec(source=str(manifest)))
    raw = load_source(data_spec(source=str(manifest), skip_bad_files=True))
    assert raw.skipped == 1 and len(raw.y) == 8


def test_text_vocabulary_from_train_rows_only(tmp_path: Path) -> None:
    path = make.text_csv(tmp_path / "t.csv", n=40)
    frame = pd.read_csv(path)
    frame.loc[39, "text"] = "zebra zebra"  # a word in one row only
    frame.to_csv(path, index=False)
    spec = data_spec(source=str(path), text_column="text")
    assert infer_kind(str(path), spec) == "text"
    raw = load_source(spec)
    split = make_split(raw.y, 0.2, 0.2, 0, True)
    data = prepare(raw, split)
    vocab = data.tokenizer["vocabulary"]
    assert vocab[:2] == ["", "[UNK]"] and data.input_spec.vocab_size == len(vocab)
    in_train = 39 in split["train"]
    assert ("zebra" in vocab) == in_train
    assert data.x_train.dtype == np.int32 and data.x_train.max() < len(vocab)
    again = load_tokenizer(save_tokenizer(data.tokenizer, tmp_path / "tok.json"))
    assert np.array_equal(encode(raw.x[split["test"]], again), data.x_test)


def test_chinese_characters_tsv_and_encoding(tmp_path: Path) -> None:
    path = make.text_csv(tmp_path / "zh.tsv", n=30, lang="zh", sep="\t", encoding="gb18030")
    with pytest.raises(DataError, match=r"zh\.tsv: not valid utf-8.*data\.encoding"):
        load_source(data_spec(source=str(path), kind="text"))
    raw, data = load(source=str(path), kind="text", tokenize="chars", encoding="gb18030")
    assert "电" in data.tokenizer["vocabulary"] and raw.classes == ["neg", "pos"]


def test_text_column_errors_name_the_field(tmp_path: Path) -> None:
    path = make.text_csv(tmp_path / "t.csv", n=20)
    with pytest.raises(DataError, match=r"data\.text_column: no column 'body'; columns: text"):
        load_source(data_spec(source=str(path), text_column="body"))


def test_robust_table(tmp_path: Path) -> None:
    raw, data = load(source=str(make.tabular_csv(tmp_path / "t.csv")))
    assert raw.kind == "tabular" and raw.classes == ["1", "2", "3"]
    # size, weight, member (0/1), colour one-hot (3); the empty and the ID column dropped
    assert data.x_train.shape[1] == 6 and not np.isnan(data.x_train).any()


def test_numeric_looking_float_labels_sort_by_value(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": np.arange(30.0), "label": [10.0, 2.0, 1.0] * 10}).to_csv(path, index=False)
    raw = load_source(data_spec(source=str(path)))
    assert raw.classes == ["1", "2", "10"]


def test_time_series_csv_windows(tmp_path: Path) -> None:
    path = make.series_csv(tmp_path / "s.csv", n=50)
    spec = data_spec(source=str(path), window=10, horizon=2, stride=5)
    assert infer_kind(str(path), spec) == "sequence"
    raw = load_source(spec)
    frame = pd.read_csv(path)
    assert raw.kind == "sequence" and raw.task == "regression" and raw.x.shape == (8, 10, 3)
    # the first window is rows 0-9; its target is row 11's
    assert np.isclose(raw.y[0], frame["target"][11]) and np.isclose(raw.x[0, 0, 0], frame["a"][0])
    with pytest.raises(DataError, match="data.window"):
        load_source(data_spec(source=str(path), kind="sequence"))


def test_npz_sequences_standardized_per_feature(tmp_path: Path) -> None:
    raw, data = load(source=str(make.sequences_npz(tmp_path / "q.npz")))
    assert raw.kind == "sequence" and data.input_spec.shape == (16, 2)
    flat = data.x_train.reshape(-1, 2)
    assert np.allclose(flat.mean(axis=0), 0, atol=1e-4) and np.allclose(flat.std(axis=0), 1, 1e-3)


def test_folder_without_class_subfolders(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="one subfolder per class"):
        load_source(data_spec(source=str(tmp_path / "empty")))
