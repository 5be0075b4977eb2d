"""``export --out`` and ``report -o`` never replace a file unasked, nor write through a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from automl.cli.main import app
from tests.helpers.saved_models import study_with_model

runner = CliRunner()
posix = pytest.mark.skipif(os.name != "posix", reason="symbolic links")


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = str(tmp_path / "studies" / "journal.log")
    study_with_model(url)
    return url


@posix
@pytest.mark.parametrize("command", ["export", "report"])
def test_an_existing_file_or_link_is_kept_unless_forced(
    command: str, tmp_path: Path, url: str
) -> None:
    flag = "--out" if command == "export" else "-o"
    suffix = ".keras" if command == "export" else ".html"  # a suffix that names the format
    target = tmp_path / f"precious{suffix}"
    target.write_text("keep me")
    link = tmp_path / f"link{suffix}"
    link.symlink_to(target)
    for path in (target, link):
        done = runner.invoke(app, [command, "s", flag, str(path), "--storage", url])
        assert done.exit_code == 1, done.output
        assert "exists; not replaced (--force replaces it)" in done.output
        assert target.read_text() == "keep me"
    done = runner.invoke(app, [command, "s", flag, str(link), "--storage", url, "--force"])
    assert done.exit_code == 0, done.output
    assert not link.is_symlink() and link.stat().st_size > 100  # the link itself replaced
    assert target.read_text() == "keep me"


def test_report_rewrites_its_own_default_file(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        done = runner.invoke(app, ["report", "s", "--storage", url])
        assert done.exit_code == 0, done.output
    assert Path("reports/s.html").is_file()
