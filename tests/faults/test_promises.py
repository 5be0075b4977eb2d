"""Promises of the CLI and storages that had no test: one-line errors, env storages."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from automl.cli import app
from tests.conftest import tiny_spec, write_yaml

runner = CliRunner()


def test_worker_on_an_unknown_study_is_one_line(in_tmp: Path) -> None:
    result = runner.invoke(app, ["worker", "nope", "--storage", str(in_tmp / "j.log")])
    out = result.output.strip()
    assert result.exit_code != 0 and len(out.splitlines()) == 1
    assert "no study 'nope'" in out and "Traceback" not in out


def test_seed_cannot_change_on_resume(in_tmp: Path) -> None:
    result = runner.invoke(app, ["tune", "any", "--resume", "--seed", "3", "--trials", "1"])
    assert result.exit_code != 0
    assert result.output.strip() == "error: --seed cannot change the seed of an existing study"


def test_sqlite_storage_and_artifacts_from_the_environment(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl import sweeps

    monkeypatch.setenv("AUTOML_STORAGE", f"sqlite:///{in_tmp / 'db' / 'studies.sqlite'}")
    monkeypatch.setenv("AUTOML_ARTIFACTS", str(in_tmp / "models"))
    spec = write_yaml(in_tmp / "s.yaml", tiny_spec(training={"max_epochs": 1}))
    sweep = sweeps.tune(spec, trials=2, in_process=True, report=False)
    assert (in_tmp / "db" / "studies.sqlite").exists()
    assert [t.state for t in sweep.record().trials] == ["COMPLETE", "COMPLETE"]
    assert list((in_tmp / "models").iterdir()) and not (in_tmp / "automl_studies").exists()
    assert sweep.best_model() is not None
