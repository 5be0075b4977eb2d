"""A family that cannot read the data is refused at study creation with one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from automl.data import load_source
from automl.errors import DataError
from automl.search.spec import SweepSpec, validate_spec
from automl.study.create import _check_family_input
from tests.helpers import make


def spec(family: str, **data: Any) -> SweepSpec:
    return validate_spec({"data": data, "model": {"family": family}})


@pytest.mark.parametrize(
    ("family", "ok"),
    [("text", True), ("cnn", False), ("mlp", False), ("rnn", False)],
)
def test_text_data(family: str, ok: bool, tmp_path: Path) -> None:
    s = spec(family, source=str(make.text_csv(tmp_path / "t.csv", n=20)), text_column="text")
    raw = load_source(s.data)
    if ok:
        _check_family_input(s, raw.x)
        return
    with pytest.raises(DataError, match=r"gives text samples.*families for text data: text$"):
        _check_family_input(s, raw.x)


def test_audio_allows_audio_and_conv1d_only(tmp_path: Path) -> None:
    root = make.audio(tmp_path / "a", per_class=2, seconds=0.1)
    for family in ("audio", "conv1d"):
        s = spec(family, source=str(root), sample_rate=8000, duration=0.1)
        _check_family_input(s, load_source(s.data).x)
    s = spec("cnn", source=str(root), sample_rate=8000, duration=0.1)
    with pytest.raises(DataError, match="'cnn' needs images"):
        _check_family_input(s, load_source(s.data).x)


def test_builtin_and_npz_by_sample_rank(tmp_path: Path) -> None:
    for family in ("cnn", "mlp"):
        s = spec(family, source="digits")
        _check_family_input(s, load_source(s.data).x)
    s = spec("rnn", source=str(make.sequences_npz(tmp_path / "q.npz")))
    _check_family_input(s, load_source(s.data).x)
    s = spec("rnn", source="wine")
    with pytest.raises(DataError, match="'rnn' needs sequences"):
        _check_family_input(s, load_source(s.data).x)
