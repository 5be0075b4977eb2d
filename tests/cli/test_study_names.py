"""Study names: checked where they enter (length, characters, no leading ``-``, never empty),
and shown on a terminal without the control characters a storage may hold."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

from automl.cli.main import app
from automl.errors import SpecError
from automl.sweeps import check_study_name, default_study_name
from tests.helpers import tiny_spec, write_yaml

runner = CliRunner()


@pytest.mark.parametrize(
    "name", ["-rf", "--help", "", "a b", "a/b", "x" * 129, "bad\x1b[31mred", "new\nline", ".hidden"]
)
def test_a_bad_study_name_is_refused_in_one_line_and_makes_no_study(
    in_tmp: Path, name: str
) -> None:
    space = write_yaml(in_tmp / "s.yaml", tiny_spec())
    result = runner.invoke(app, ["tune", str(space), f"--study={name}", "--trials", "1"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --study:"), result.output
    assert "\x1b" not in result.output
    assert not (in_tmp / "automl_studies").exists()


@pytest.mark.parametrize("name", ["rf", "digits_cnn-2", "données.v1+x", "_a", "9"])
def test_good_names_pass(name: str) -> None:
    assert check_study_name(name) == name


def test_an_empty_name_on_resume_is_refused(in_tmp: Path) -> None:
    result = runner.invoke(app, ["tune", "x", "--resume", "--study", "", "--trials", "1"])
    assert result.exit_code == 2
    assert "cannot be empty" in result.output


def test_a_space_name_becomes_a_fit_default() -> None:
    assert default_study_name("my space!") == "my-space-"
    assert default_study_name("--x") == "x"
    assert default_study_name(None) == "study"
    with pytest.raises(SpecError):
        check_study_name("my space!")


def test_names_from_storage_reach_the_terminal_without_control_characters(in_tmp: Path) -> None:
    url = str(in_tmp / "j.log")
    from automl.store.storage import open_storage

    optuna.create_study(study_name="evil\x1b]0;owned\x07\x1b[2J", storage=open_storage(url))
    result = runner.invoke(app, ["studies", "--storage", url])
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "evil" in result.output
    result = runner.invoke(app, ["best", "nope", "--storage", url])
    assert "\x1b" not in result.output and "evil" in result.output
