"""Messy but common CSV files read as the user meant them."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl.data import infer_kind, load_source
from automl.errors import DataError
from automl.search.spec import validate_spec
from tests.helpers import tiny_spec

ROWS = [("39", "State-gov", "<=50K"), ("50", "Self-emp", ">50K"), ("38", "Private", "<=50K")]


def data_spec(**data: object) -> object:
    return validate_spec(tiny_spec(data=data)).data


def test_spaces_after_commas_are_stripped_from_names_and_cells(tmp_path: Path) -> None:
    path = tmp_path / "adult.csv"
    path.write_text("age, workclass , Salary\n" + "".join(f"{a}, {w} , {s}\n" for a, w, s in ROWS))
    raw = load_source(data_spec(source=str(path), target="Salary"))
    assert list(raw.x.columns) == ["age", "workclass"]
    assert list(raw.x["workclass"]) == ["State-gov", "Self-emp", "Private"]
    assert raw.classes == ["<=50K", ">50K"]
    assert raw.x["age"].dtype.kind in "if"


def test_file_without_extension_is_sniffed_as_csv(tmp_path: Path) -> None:
    path = tmp_path / "adult"
    path.write_text("age;workclass;Salary\n" + "".join(f"{a};{w};{s}\n" for a, w, s in ROWS))
    spec = data_spec(source=str(path), target="Salary")
    assert infer_kind(str(path), spec) == "csv"
    assert load_source(spec).classes == ["<=50K", ">50K"]


def test_unknown_format_names_data_kind(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(DataError, match=r"no extension.*data\.kind"):
        infer_kind(str(path), data_spec(source=str(path)))


def test_data_kind_csv_reads_any_extension(tmp_path: Path) -> None:
    path = tmp_path / "adult.dat"
    path.write_text("age,workclass,Salary\n" + "".join(",".join(r) + "\n" for r in ROWS))
    raw = load_source(data_spec(source=str(path), target="Salary", kind="csv"))
    assert len(raw.y) == 3


def test_bom_crlf_and_quoted_delimiters_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    body = 'age,note,Salary\r\n39,"hello, world\r\nsecond line",<=50K\r\n50,plain,>50K\r\n'
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    raw = load_source(data_spec(source=str(path), target="Salary"))
    assert list(raw.x.columns) == ["age", "note"]
    assert raw.x["note"].iloc[0].replace("\r", "") == "hello, world\nsecond line"
    assert raw.classes == ["<=50K", ">50K"]


def test_headerless_file_with_data_columns(tmp_path: Path) -> None:
    path = tmp_path / "rows.tsv"
    path.write_text("1\t2\tx\n3\t4\ty\n5\t6\tx\n")
    raw = load_source(data_spec(source=str(path), columns=["a", "b", "kind"], target="kind"))
    assert list(raw.x.columns) == ["a", "b"] and len(raw.y) == 3  # no row lost as a header
    with pytest.raises(DataError, match="data.columns names 2 columns; the file has 3"):
        load_source(data_spec(source=str(path), columns=["a", "kind"]))


def test_given_delimiter_is_used_for_tables(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("a;x:b;y:label\n1;2:3;4:x\n5;6:7;8:y\n9;1:2;3:x\n")
    raw = load_source(data_spec(source=str(path), delimiter=":"))  # sniffing would pick ;
    assert list(raw.x.columns) == ["a;x", "b;y"]
