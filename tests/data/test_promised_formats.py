"""Formats the README promises: delimiters sniffed among ``, ; tab |``, 24-bit WAV."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from automl.data import load_source
from automl.search.spec import validate_spec
from tests.helpers import tiny_spec

ROWS = [("39", "State-gov", "<=50K"), ("50", "Self-emp", ">50K"), ("38", "Private", "<=50K")]


@pytest.mark.parametrize("sep", [";", "|", "\t", ","])
def test_semicolon_and_pipe_tables_are_sniffed(sep: str, tmp_path: Path) -> None:
    path = tmp_path / "adult.csv"
    path.write_text(sep.join(["age", "workclass", "Salary"]) + "\n")
    with path.open("a") as f:
        f.writelines(sep.join(r) + "\n" for r in ROWS)
    spec = validate_spec(tiny_spec(data={"source": str(path), "target": "Salary"})).data
    raw = load_source(spec)
    assert list(raw.x.columns) == ["age", "workclass"]
    assert list(raw.x["workclass"]) == ["State-gov", "Self-emp", "Private"]
    assert raw.classes == ["<=50K", ">50K"]


def test_24_bit_wav_is_read_at_its_true_scale(tmp_path: Path) -> None:
    from automl.data.audio import read_wav

    rate, n = 8000, 800
    x = 0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)
    ints = np.round(x * (2**23 - 1)).astype("<i4")
    frames = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints)
    path = tmp_path / "tone24.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(3)
        w.setframerate(rate)
        w.writeframes(frames)
    got = read_wav(path, rate, n)
    assert got.shape == (n,)
    assert np.allclose(got, x, atol=1e-5)
