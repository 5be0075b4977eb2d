"""A sweep tracked in a real MLflow server and in TensorBoard event files, read back as
their users read them: MlflowClient, and TensorBoard's own event reader."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import automl
from automl.search.spec import validate_spec
from automl.track.trial import TRACKING
from tests.helpers import tiny_spec
from tests.helpers.mlflow_server import Relay, mlflow_server

pytestmark = pytest.mark.slow
PASSWORD = "s3cret-pw-42"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("mlflow")
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as url:
        yield url


@pytest.fixture(scope="module")
def swept(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 4-trial sweep (trial 0 diverges) tracked in MLflow, whose URI comes from
    MLFLOW_TRACKING_URI with a password, and in TensorBoard."""
    home = tmp_path_factory.mktemp("tracked")
    url, tb = str(home / "journal.log"), home / "tb"
    spec = validate_spec(tiny_spec(enqueue=[{"learning_rate": 1.0e4}]))
    env_uri = server.replace("http://", f"http://me:{PASSWORD}@")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", env_uri)
        sweep = automl.tune(
            spec,
            trials=4,
            storage=url,
            study="tracked",
            report=home / "report.html",
            track=["mlflow", f"tensorboard={tb}"],
        )
    return {"sweep": sweep, "url": url, "tb": tb, "home": home}


def _client(server: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(server)


def _runs(server: str, study: str) -> tuple[Any, list[Any]]:
    client = _client(server)
    experiment = client.get_experiment_by_name(study)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    return parents[0], [r for r in runs if "mlflow.parentRunId" in r.data.tags]


def test_a_parent_run_per_sweep_and_a_nested_run_per_trial(
    swept: dict[str, Any], server: str
) -> None:
    parent, children = _runs(server, "tracked")
    assert parent.info.status == "FINISHED"
    assert parent.data.params["study"] == "tracked"
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parent.info.run_id}
    names = sorted(r.info.run_name for r in children)
    assert names == ["trial-0000", "trial-0001", "trial-0002", "trial-0003"]


def test_trial_runs_hold_params_epoch_curves_state_and_fail_reason(
    swept: dict[str, Any], server: str
) -> None:
    client = _client(server)
    _, children = _runs(server, "tracked")
    by_number = {int(r.data.tags["automl.trial"]): r for r in children}
    record = swept["sweep"].record()
    for t in record.trials:
        run = by_number[t.number]
        assert run.data.params == {k: str(v) for k, v in t.params.items()}
        assert run.data.tags["state"] == t.state
        curve = client.get_metric_history(run.info.run_id, "val_accuracy")
        stored = t.history.get("val_accuracy", [])
        assert [m.step for m in sorted(curve, key=lambda m: m.step)] == list(range(len(stored)))
        assert np.allclose([m.value for m in sorted(curve, key=lambda m: m.step)], stored)
    failed = by_number[0]
    assert failed.info.status == "FAILED"
    assert failed.data.tags["fail_reason"] == "nan"
    done = by_number[1]
    assert done.info.status == "FINISHED"
    assert done.data.metrics["trial/val_accuracy"] == pytest.approx(
        record.trial(1).metrics["val_accuracy"]
    )


def test_the_parent_run_holds_test_metrics_kept_models_and_the_report(
    swept: dict[str, Any], server: str, tmp_path: Path
) -> None:
    import mlflow.keras

    client = _client(server)
    parent, _ = _runs(server, "tracked")
    sweep = swept["sweep"]
    record = sweep.record()
    best = sweep.best_trial
    assert parent.data.metrics["test/accuracy"] == pytest.approx(best.test["accuracy"])
    assert parent.data.tags["best_trial"] == str(best.number)
    kept = sorted(t.number for t in record.complete if t.has_model)
    assert kept
    models = [a.path for a in client.list_artifacts(parent.info.run_id, "models")]
    assert models == [f"models/trial-{n:04d}" for n in kept]
    uri = f"runs:/{parent.info.run_id}/models/trial-{best.number:04d}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", server)
        loaded = mlflow.keras.load_model(uri)
    x = _samples()
    assert np.allclose(loaded.predict(x, verbose=0), sweep.model(best.number).predict(x, verbose=0))
    reports = [a.path for a in client.list_artifacts(parent.info.run_id, "report")]
    assert reports == ["report/report.html"]


def _samples() -> np.ndarray:
    return np.random.default_rng(0).random((8, 8, 8, 1)).astype("float32")  # digits' shape


def test_no_password_reaches_the_study(swept: dict[str, Any], server: str) -> None:
    stored = swept["sweep"].study.user_attrs[TRACKING]
    assert stored["mlflow"]["uri"] == server.replace("http://", "http://me@")
    assert PASSWORD.encode() not in Path(swept["url"]).read_bytes()


def test_tensorboard_has_a_run_per_trial_with_scalars_and_hparams(
    swept: dict[str, Any],
) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata
    from tensorboard.util import tensor_util

    record = swept["sweep"].record()
    study_dir = swept["tb"] / "tracked"
    for t in record.trials:
        events = EventAccumulator(str(study_dir / f"trial-{t.number:04d}"))
        events.Reload()
        curve = [float(tensor_util.make_ndarray(e.tensor_proto)) for e in events.Tensors("loss")]
        assert np.allclose(curve, t.history["loss"])
        start = events.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
        info = metadata.parse_session_start_info_plugin_data(start)
        assert set(info.hparams) == set(t.params)
        assert metadata.SESSION_END_INFO_TAG in events.Tags()["tensors"]
    best = swept["sweep"].best_trial
    events = EventAccumulator(str(study_dir / f"trial-{best.number:04d}"))
    events.Reload()
    assert "test/accuracy" in events.Tags()["tensors"]
    experiment = EventAccumulator(str(study_dir))
    experiment.Reload()
    content = experiment.SummaryMetadata(metadata.EXPERIMENT_TAG).plugin_data.content
    config = metadata.parse_experiment_plugin_data(content)
    assert {h.name for h in config.hparam_infos} == {k for t in record.trials for k in t.params}
    assert "trial/val_accuracy" in {m.name.tag for m in config.metric_infos}


def test_a_server_gone_mid_sweep_costs_one_warning_and_no_trial(
    server: str,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    relay = Relay(("127.0.0.1", int(server.rsplit(":", 1)[1])))
    seen: list[int] = []

    def cut_after_first(outcome: Any) -> None:
        seen.append(outcome.number)
        relay.stop()  # the server goes away while the next trials run

    sweep = automl.tune(
        validate_spec(tiny_spec()),
        trials=3,
        storage=str(tmp_path / "journal.log"),
        study="outage",
        on_trial=cut_after_first,
        track=[f"mlflow={relay.url}"],
    )
    assert [t.state for t in sweep.record().trials] == ["COMPLETE"] * 3
    # the worker's line goes to its trial's log; the sweep's process shows it once
    shown = capfd.readouterr().err + "\n".join(r.getMessage() for r in caplog.records)
    assert shown.count("mlflow tracking stopped for this sweep") == 1, shown
    parent, children = _runs(server, "outage")
    assert parent.info.status == "RUNNING"  # nobody could close it
    assert children


def test_without_track_the_study_holds_no_tracking(tmp_path: Path) -> None:
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    sweep = automl.tune(
        validate_spec(tiny_spec()), trials=1, storage=str(tmp_path / "j.log"), in_process=True
    )
    assert not sweep.study.user_attrs.get(TRACKING)


def test_workers_on_other_machines_log_to_the_sweep_s_parent_run(
    server: str, postgres: str
) -> None:
    """A standalone ``automl worker`` (as on another machine) against PostgreSQL reads the
    tracking settings from the study and nests its trial runs under the sweep's run."""
    from tests.helpers.processes import automl as automl_cli

    name = f"remote-{uuid.uuid4().hex[:8]}"
    helpers: list[Any] = []

    def start_helper(study: str) -> None:
        helpers.append(automl_cli("worker", "--", study, env={"AUTOML_STORAGE": postgres}))

    spec = validate_spec(tiny_spec(training={"max_epochs": 3, "patience": 2, "batch_size": 64}))
    sweep = automl.tune(
        spec,
        trials=6,
        storage=postgres,
        study=name,
        workers=1,
        on_start=start_helper,
        track=[f"mlflow={server}"],
    )
    helpers[0].wait(timeout=120)
    parent, children = _runs(server, name)
    record = sweep.record(models=False)
    assert sorted(int(r.data.tags["automl.trial"]) for r in children) == sorted(
        t.number for t in record.trials
    )
    by_worker = {r.data.tags["automl.worker"] for r in children}
    assert by_worker == {t.worker for t in record.trials}  # whoever ran a trial logged it
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parent.info.run_id}
