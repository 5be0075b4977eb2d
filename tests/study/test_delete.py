"""``automl delete``: a study goes with every file it kept, and only when nothing runs it."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.store import records
from tests.helpers import tiny_spec, write_yaml

runner = CliRunner()


def _files(folder: Path) -> set[str]:
    """The stored files; not this machine's lock files (``.<name digest>.lock``), which
    workers of a study of the same name would share again."""
    return {p.name for p in folder.rglob("*") if p.is_file() and p.suffix != ".lock"}


@pytest.fixture
def two_studies(tmp_path: Path) -> tuple[str, Path]:
    spec = tiny_spec(training={"max_epochs": 2, "batch_size": 64}, keep=2)
    space = write_yaml(tmp_path / "s.yaml", spec)
    storage = str(tmp_path / "studies" / "journal.log")
    for name in ("gone", "kept"):
        automl.tune(space, trials=2, study=name, storage=storage, in_process=True, report=False)
    return storage, tmp_path / "studies" / "artifacts"


@pytest.mark.slow  # trains two 2-trial sweeps
def test_delete_removes_the_study_and_only_its_files(two_studies: tuple[str, Path]) -> None:
    storage, artifacts = two_studies
    before = _files(artifacts)
    kept_files = {
        str(t.user_attrs[records.ARTIFACT])
        for t in automl.load("kept", storage).study.trials
        if records.ARTIFACT in t.user_attrs
    }
    # A hostile id in the storage names a file outside the artifact folder: never touched.
    outside = artifacts.parent / "outside.txt"
    outside.write_text("not a study's file")
    gone = automl.load("gone", storage).study
    gone.set_user_attr(records.REFIT, {"artifact_id": "../outside.txt"})

    # Trial logs, as worker processes write them (these sweeps ran in-process).
    for name in ("gone", "kept"):
        folder = artifacts / "logs" / name
        folder.mkdir(parents=True)
        (folder / "trial-0.log").write_text("epoch 1\n")
    before = _files(artifacts)

    # Without --yes it asks; "n" deletes nothing.
    result = runner.invoke(app, ["delete", "gone", "--storage", storage], input="n\n")
    assert result.exit_code == 1 and "nothing deleted" in result.output
    assert _files(artifacts) == before

    result = runner.invoke(app, ["delete", "gone", "--storage", storage, "--yes"])
    assert result.exit_code == 0, result.output
    assert "deleted study gone" in result.output
    names = [
        s.study_name
        for s in optuna.get_all_study_summaries(automl.load("kept", storage).study._storage)
    ]
    assert names == ["kept"]
    left = _files(artifacts)
    assert kept_files and kept_files <= left  # the other study's models stay
    assert len(left) < len(before) and outside.exists()
    assert not (artifacts / "logs" / "gone").exists()
    assert (artifacts / "logs" / "kept" / "trial-0.log").exists()
    # What is left is the kept study's: deleting it too empties the folder.
    assert automl.delete_study("kept", storage)
    assert _files(artifacts) == set()


def test_delete_refuses_while_a_trial_runs(tmp_path: Path, storage: str) -> None:
    from automl.store.storage import open_storage

    study = optuna.create_study(study_name="busy", storage=open_storage(storage))
    running = study.ask()
    running.set_user_attr(records.WORKER, "gpu-box:4242")
    result = runner.invoke(app, ["delete", "busy", "--storage", storage, "--yes"])
    assert result.exit_code == 4, result.output
    assert "trial 0 running on gpu-box:4242" in result.output
    assert len(result.output.strip().splitlines()) == 1
    study.tell(running, 1.0)
    result = runner.invoke(app, ["delete", "busy", "--storage", storage, "--yes"])
    assert result.exit_code == 0, result.output


def test_delete_of_a_missing_study_names_those_there(storage: str) -> None:
    result = runner.invoke(app, ["delete", "nope", "--storage", storage, "--yes"])
    assert result.exit_code == 4 and "no study 'nope'" in result.output
