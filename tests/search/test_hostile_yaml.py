"""Hostile YAML: an alias bomb ("billion laughs") or a self-referring alias is refused where
the file (or a ``--set`` value) is read, in one line, before anything expands it; the
``overrides`` field holds only what ``--set`` writes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from automl.cli.main import app
from automl.errors import SpecError
from automl.search.catalog import load_spec
from tests.helpers import tiny_spec, write_yaml

LEVELS = 9  # 10 ** 9 values once expanded


def bomb(levels: int = LEVELS) -> str:
    """Nine lines of aliases that stand for a billion strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        refs = ",".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines)


def _space_with_overrides(tmp_path: Path) -> Path:
    base = yaml.safe_dump(tiny_spec())
    body = "\n".join("  " + line for line in bomb().splitlines())
    return write_yaml(tmp_path / "bomb.yaml", f"{base}overrides:\n{body}\n")


def test_an_alias_bomb_in_a_file_is_refused_at_once(tmp_path: Path) -> None:
    path = _space_with_overrides(tmp_path)
    start = time.monotonic()
    with pytest.raises(SpecError, match=r"bomb\.yaml: refused: aliases expand to more than"):
        load_spec(path)
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("command", ["spaces", "tune"])
def test_the_cli_refuses_an_alias_bomb_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _space_with_overrides(tmp_path)
    args = ["spaces", "--validate", str(path)] if command == "spaces" else ["tune", str(path)]
    result = CliRunner().invoke(app, [*args, "--trials", "1"] if command == "tune" else args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "bomb.yaml" in lines[0] and "alias" in lines[0], result.output
    assert not (tmp_path / "automl_studies").exists()  # no study, not even an empty one


def test_a_self_referring_alias_is_refused(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path / "loop.yaml", yaml.safe_dump(tiny_spec()) + "overrides: &o {a: *o}\n"
    )
    with pytest.raises(SpecError, match=r"loop\.yaml: refused: an alias refers to"):
        load_spec(path)
