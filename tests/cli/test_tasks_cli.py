"""Task spaces from the CLI on generated data: bad files, a family given the wrong data,
and a text export that carries its tokenizer (in-process, on a small copy of the space).
Every ready space's sweep, as shipped and through worker processes, is in
``tests/search/test_shipped_spaces.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from automl.cli.main import app
from automl.search.catalog import ready_spaces
from tests.helpers import make

pytestmark = pytest.mark.slow

# Two epochs say nothing about progress: the no_progress rule would judge epoch 1 alone.
FAST = {
    "training": {"max_epochs": 2, "patience": 1, "no_progress_epochs": 0},
    "pruner": {"name": "none"},
}
# Per space: the data it gets, and changes to the shipped space (None: run as shipped).
CASES: dict[str, tuple[Callable[[Path], Path], dict[str, Any] | None]] = {
    "text_conv1d": (
        lambda d: make.text_csv(d / "reviews.csv"),
        {**FAST, "search": {"n_layers": 1, "units": 16}},
    ),
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports and default storage go to the test's folder, not the checkout."""
    monkeypatch.chdir(tmp_path)


def _space(name: str, changes: dict[str, Any] | None, folder: Path) -> str:
    if changes is None:
        return name
    raw = yaml.safe_load(ready_spaces()[name].read_text(encoding="utf-8"))
    for section, values in changes.items():
        if isinstance(values, dict) and isinstance(raw.get(section), dict):
            raw[section].update(values)
        else:
            raw[section] = values
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return str(path)


def test_bad_file_and_wrong_family_are_one_line_errors(tmp_path: Path) -> None:
    photos = make.images(tmp_path / "photos", per_class=3)
    (photos / "disc" / "broken.png").write_bytes(b"not a png")
    storage = str(tmp_path / "j.log")
    result = CliRunner().invoke(
        app, ["tune", "image_folder_cnn", "--data", str(photos), "--storage", storage]
    )
    assert result.exit_code == 2, result.output
    assert "broken.png: cannot read image" in result.output and "Traceback" not in result.output
    reviews = make.text_csv(tmp_path / "reviews.csv", n=20)
    result = CliRunner().invoke(
        app, ["tune", "image_folder_cnn", "--data", str(reviews), "--storage", storage]
    )
    assert result.exit_code == 2, result.output
    assert "'cnn' needs images" in result.output and "families for tabular data" in result.output


def test_text_export_carries_its_tokenizer(tmp_path: Path) -> None:
    import keras

    from automl.data.text import OOV, PAD, encode, load_tokenizer

    maker, changes = CASES["text_conv1d"]
    data = maker(tmp_path)
    space = _space("text_conv1d", changes, tmp_path)
    storage = str(tmp_path / "j.log")
    args = ["tune", space, "--data", str(data), "--trials", "1", "--storage", storage]
    assert CliRunner().invoke(app, [*args, "--study", "t", "--in-process"]).exit_code == 0
    result = CliRunner().invoke(app, ["export", "t", "--out", "m.keras", "--storage", storage])
    assert result.exit_code == 0, result.output
    tokenizer = load_tokenizer(tmp_path / "m.tokenizer.json")
    assert tokenizer["vocabulary"][:2] == [PAD, OOV] and len(tokenizer["vocabulary"]) > 10
    model = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    ids = encode(["a brand new sentence", "another one"], tokenizer)
    assert model.predict(ids, verbose=0).shape[0] == 2
