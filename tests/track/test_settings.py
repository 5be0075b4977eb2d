"""``--track`` values: what is allowed where they enter, and what a worker accepts from a
study's storage (untrusted: no code chosen by it, no password kept in it)."""

from __future__ import annotations

import sys
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

from automl.cli.main import app
from automl.errors import TrackingError
from automl.track import settings
from automl.track.trial import TRACKING, TrialTracker

runner = CliRunner()


def test_an_unknown_tracker_is_one_line_naming_the_allowed_ones(in_tmp: Path) -> None:
    result = runner.invoke(app, ["tune", "digits_mlp", "--trials", "1", "--track", "wandb"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "wandb" in lines[0] and "mlflow=URI" in lines[0] and "tensorboard=DIR" in lines[0]
    assert not (in_tmp / "automl_studies").exists()  # refused before any study is made


def test_a_missing_mlflow_package_names_the_extra(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed
    result = runner.invoke(app, ["tune", "digits_mlp", "--trials", "1", "--track", "mlflow"])
    assert result.exit_code == 2
    assert "pip install '.[mlflow]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_tensorboard_needs_a_folder() -> None:
    with pytest.raises(TrackingError, match="tensorboard=DIR"):
        settings.parse(["tensorboard"])


def test_a_uri_with_a_password_is_refused_on_the_command_line(in_tmp: Path) -> None:
    uri = "http://me:hunter2-pw@127.0.0.1:5000"
    result = runner.invoke(app, ["tune", "digits_mlp", "--track", f"mlflow={uri}"])
    assert result.exit_code == 2
    assert "MLFLOW_TRACKING_PASSWORD" in result.output
    assert "hunter2-pw" not in result.output


def test_the_environment_uri_is_stored_without_its_password_and_found_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://me:hunter2-pw@mlflow.example:443/x")
    tracking = settings.parse(["mlflow"])
    assert tracking.mlflow == "https://me@mlflow.example:443/x"
    # a worker with the same variable gets its credentials back from its environment
    assert settings.worker_uri(tracking.mlflow) == "https://me:hunter2-pw@mlflow.example:443/x"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://other.example")
    assert settings.worker_uri(tracking.mlflow) == tracking.mlflow


def test_local_stores_are_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert settings.parse(["mlflow=sqlite:///runs.db"]).mlflow == f"sqlite:///{tmp_path}/runs.db"
    assert settings.parse(["tensorboard=tb"]).tensorboard == str(tmp_path / "tb")


def _stored(uri: str) -> dict:
    return {"sweep": "abc", "mlflow": {"uri": uri, "experiment_id": "1", "parent_run_id": "r1"}}


@pytest.mark.parametrize(
    "uri",
    [
        "databricks://profile",  # a scheme that picks other code: not one of ours
        "my-plugin+http://host",
        "http://me:pw-in-storage@host:5000",
        "relative/path",
        "http://host\n:5000",
    ],
)
def test_a_stored_uri_that_is_not_plain_is_refused(uri: str) -> None:
    with pytest.raises(TrackingError):
        settings.from_attr(_stored(uri))


@pytest.mark.parametrize(
    "attr",
    [
        {
            "sweep": "abc",
            "mlflow": {"uri": "http://h", "experiment_id": "../1", "parent_run_id": "r"},
        },
        {"sweep": "a b", "tensorboard": {"dir": "/tmp/tb"}},
        {"sweep": "abc", "tensorboard": {"dir": "https://host/tb"}},
    ],
)
def test_stored_ids_and_folders_are_checked(attr: dict) -> None:
    with pytest.raises(TrackingError):
        settings.from_attr(attr)


def test_plain_stored_settings_are_read_back() -> None:
    got = settings.from_attr({**_stored("https://mlflow.example"), "tensorboard": {"dir": "/tb"}})
    assert (got.mlflow, got.parent_run_id, got.tensorboard) == (
        "https://mlflow.example",
        "r1",
        "/tb",
    )


def test_a_worker_ignores_hostile_stored_tracking_and_trains_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    study = optuna.create_study()
    study.set_user_attr(TRACKING, _stored("databricks://profile"))
    trial = study.ask()
    tracker = TrialTracker(study, trial.number)
    assert tracker.run_id is None and tracker.writer is None
    tracker.epoch(0, {"loss": 1.0})  # no tracker, no error
    assert sum("tracking settings ignored" in r.getMessage() for r in caplog.records) == 1
