"""Data files that are empty or not UTF-8: one line that names the file, never a silent
U+FFFD (``señor`` in UTF-8 and in Latin-1 would become two categories)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from automl.cli.main import app
from automl.data import load_source
from automl.errors import DataError
from automl.search.spec import validate_spec
from tests.helpers import tiny_spec, write_yaml

ROWS = [("1", "señor", "a"), ("2", "niño", "b"), ("3", "señor", "a"), ("4", "niño", "b")] * 3


def data_spec(**data: object) -> Any:
    return validate_spec(tiny_spec(data=data)).data


def _csv(path: Path, rows: list[tuple[str, ...]], encodings: list[str]) -> Path:
    """A CSV whose row i is in encodings[i % len(encodings)]."""
    lines = [b"id,who,label\n"]
    lines += [
        (",".join(r) + "\n").encode(encodings[i % len(encodings)]) for i, r in enumerate(rows)
    ]
    path.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_an_empty_csv_is_named(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty"):
        load_source(data_spec(source=str(path), target="label"))


def test_an_empty_csv_through_the_cli_is_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    space = write_yaml(tmp_path / "s.yaml", tiny_spec(data={"source": str(path)}))
    result = CliRunner().invoke(app, ["tune", str(space), "--in-process", "--trials", "1"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "empty.csv" in lines[0] and "empty" in lines[0], result.output
    assert "Traceback" not in result.output


def test_latin1_without_an_encoding_stops_and_names_one(tmp_path: Path) -> None:
    path = _csv(tmp_path / "latin.csv", ROWS, ["latin-1"])
    with pytest.raises(DataError, match=r"latin\.csv: not valid utf-8.*data\.encoding.*cp1252"):
        load_source(data_spec(source=str(path), target="label"))


def test_latin1_with_its_encoding_reads_one_category_per_word(tmp_path: Path) -> None:
    path = _csv(tmp_path / "latin.csv", ROWS, ["latin-1"])
    raw = load_source(data_spec(source=str(path), target="label", encoding="latin-1"))
    assert sorted(set(raw.x["who"])) == ["niño", "señor"]


def test_a_file_that_mixes_utf8_and_latin1_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path / "mixed.csv", ROWS, ["utf-8", "latin-1"])
    with pytest.raises(DataError, match=r"mixed\.csv: not valid utf-8.*line 2 is UTF-8.*mix"):
        load_source(data_spec(source=str(path), target="label"))
    with pytest.raises(DataError, match=r"mixed\.csv: line 2 is UTF-8.*latin-1 would misread"):
        load_source(data_spec(source=str(path), target="label", encoding="latin-1"))


def test_an_unknown_encoding_is_named(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", ROWS, ["utf-8"])
    with pytest.raises(DataError, match=r"t\.csv: data\.encoding: unknown encoding 'nope'"):
        load_source(data_spec(source=str(path), target="label", encoding="nope"))


def test_interactions_are_held_to_the_same_rule(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    rows = "".join(f"u{i},señor{i % 3},{1 + i % 5}\n" for i in range(30))
    path.write_bytes(b"user,item,rating\n" + rows.encode("latin-1"))
    spec = data_spec(source=str(path), kind="interactions")
    with pytest.raises(DataError, match=r"ratings\.csv: not valid utf-8.*data\.encoding"):
        load_source(spec)
    raw = load_source(data_spec(source=str(path), kind="interactions", encoding="latin-1"))
    assert len(raw.y) == 30
