"""A study name reaches ``automl worker`` after ``--``: a name that starts with ``-`` is a
name, never an option."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from automl.cli.main import app
from automl.options import DEFAULTS
from automl.run import conductor
from automl.run.devices import Slot


def test_worker_argv_ends_with_the_name_after_a_double_dash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str]] = []

    def popen(cmd: list[str], **kwargs: Any) -> Any:
        seen.append(cmd)
        return None

    monkeypatch.setattr(subprocess, "Popen", popen)
    conductor.start_worker("-rf", "j.log", Slot(0, None, 1), DEFAULTS, None, 2, creator="t")
    assert seen[0][-2:] == ["--", "-rf"]
    assert "--wait-study" in seen[0]


def test_the_worker_command_reads_a_dash_name_after_a_double_dash(in_tmp: Path) -> None:
    result = CliRunner().invoke(
        app, ["worker", "--storage", str(in_tmp / "j.log"), "--max-trials", "1", "--", "-rf"]
    )
    assert result.exit_code == 4, result.output  # no such study; not a usage error (2)
    assert "no study '-rf'" in result.output


@pytest.mark.slow
def test_a_study_named_like_an_option_runs_on_worker_processes(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A study made before names were checked (or by another tool) still runs."""
    from automl import sweeps
    from automl.run.budget import done
    from automl.search.spec import validate_spec
    from automl.study.create import create
    from tests.helpers import tiny_spec

    url = str(in_tmp / "studies" / "journal.log")
    monkeypatch.setenv("AUTOML_ARTIFACTS", str(in_tmp / "models"))
    spec = validate_spec(tiny_spec(training={"max_epochs": 1, "batch_size": 64}, ensemble=0))
    create(spec, "-rf", url)
    sweep = sweeps.tune("-rf", resume=True, trials=1, storage=url, workers=1, gpus="none")
    assert done(sweep.study.get_trials()) == 1
