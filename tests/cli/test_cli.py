"""The CLI as a user drives it: exit codes and one-line errors, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from automl.cli.main import app
from tests.helpers import tiny_spec, write_yaml

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_spaces_lists_ready_spaces_one_line_each() -> None:
    code, out = run("spaces")
    assert code == 0
    lines = out.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert {"digits_cnn", "digits_mlp", "wine_mlp", "breast_cancer_mlp", "diabetes_mlp"} <= set(
        names
    )


def test_validate_ok(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "ok.yaml", tiny_spec())
    code, out = run("spaces", "--validate", str(path))
    assert code == 0 and out.startswith("ok: ")


BAD_SPECS = {
    "unknown field": (tiny_spec(colour="red"), "unknown field 'colour'"),
    "wrong type": (tiny_spec(training={"max_epochs": "ten"}), "training.max_epochs"),
    "low > high": (tiny_spec(search={"units": {"low": 9, "high": 2}}), "'low' must be <= 'high'"),
    "unknown activation": (tiny_spec(search={"activation": ["relu", "swoosh"]}), "'swoosh'"),
    "unknown family": (tiny_spec(model={"family": "xformer"}), "unknown family 'xformer'; valid:"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
@pytest.mark.parametrize("command", ["validate", "tune"])
def test_bad_spec_one_line_error(case: str, command: str, in_tmp: Path) -> None:
    spec, expected = BAD_SPECS[case]
    path = write_yaml(in_tmp / "bad.yaml", spec)
    args = ["spaces", "--validate", str(path)] if command == "validate" else ["tune", str(path)]
    code, out = run(*args)
    assert code == 2
    assert expected in out and "bad.yaml" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1


def test_yaml_syntax_error(in_tmp: Path) -> None:
    path = write_yaml(in_tmp / "broken.yaml", "data: [digits\n")
    code, out = run("tune", str(path))
    assert code == 2 and "YAML syntax error" in out and "Traceback" not in out


def test_missing_data_file(in_tmp: Path) -> None:
    path = write_yaml(in_tmp / "s.yaml", tiny_spec(data={"source": "missing.csv"}))
    code, out = run("tune", str(path), "--trials", "1")
    assert code == 2 and "missing.csv: data file not found" in out and "Traceback" not in out


def test_missing_target_column(in_tmp: Path) -> None:
    (in_tmp / "d.csv").write_text("a,b,label\n1,2,x\n3,4,y\n")
    path = write_yaml(in_tmp / "s.yaml", tiny_spec(data={"source": "d.csv", "target": "kind"}))
    code, out = run("tune", str(path), "--trials", "1")
    assert code == 2 and "no column 'kind'; columns: a, b, label" in out


def test_target_on_a_builtin_dataset(in_tmp: Path) -> None:
    code, out = run("tune", "digits_mlp", "--target", "label", "--trials", "1")
    assert code == 2 and "'digits' is a built-in dataset with its own target" in out


def test_data_override_missing_file(in_tmp: Path) -> None:
    code, out = run("tune", "digits_mlp", "--data", "nope.csv", "--trials", "1")
    assert code == 2 and "nope.csv: data file not found" in out


def test_unknown_space_and_study(in_tmp: Path) -> None:
    code, out = run("tune", "no_such_space")
    assert code == 2 and "ready: " in out
    for args in (
        ["best", "ghost"],
        ["export", "ghost", "--out", "x.keras"],
        ["tune", "ghost", "--resume"],
    ):
        code, out = run(*args)
        assert code == 4 and "no study 'ghost'" in out and "Traceback" not in out


def test_unreachable_storage_masks_password(in_tmp: Path) -> None:
    code, out = run("studies", "--storage", "postgresql://u:hunter2@127.0.0.1:1/db")
    assert code == 3 and "cannot open storage" in out
    assert "hunter2" not in out and "u:***@" in out


def test_unknown_storage_scheme(in_tmp: Path) -> None:
    code, out = run("studies", "--storage", "ftp://host/x")
    assert code == 3 and "unknown storage URL scheme 'ftp'" in out


def test_studies_empty(in_tmp: Path) -> None:
    code, out = run("studies")
    assert code == 0 and "no studies yet" in out


def test_debug_shows_traceback(in_tmp: Path) -> None:
    result = runner.invoke(app, ["--debug", "best", "ghost"])
    assert result.exit_code != 0 and result.exception is not None
