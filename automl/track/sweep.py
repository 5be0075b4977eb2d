"""A sweep's tracking, in the process that runs the sweep (the conductor's).

:func:`begin` makes the MLflow experiment and the sweep's parent run and stores the
settings with the study, before any worker asks for a trial; :func:`end` puts on the
parent run the best results, the kept models' test metrics, the kept models themselves
(MLflow Keras models) and the HTML report, and writes TensorBoard's HParams experiment.
Trouble with a tracker costs one warning line, never the sweep.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import optuna

from automl.errors import TrackingError
from automl.ranking import best
from automl.store import records, storage
from automl.store.records import StudyRecord
from automl.track import settings
from automl.track.settings import Tracking
from automl.track.trial import TRACKING, failure, relay, warn

KERAS_MODEL = "models"  # the parent run's folder of kept models: models/trial-0007


def check(track: str | Iterable[str] | None) -> Tracking:
    """``--track`` values parsed, and each tracker's package there.

    Raises:
        TrackingError: one line: an unknown tracker (naming the allowed ones), a URI that
            is not allowed, or a missing package (naming the extra to install).
    """
    tracking = settings.parse(track)
    for name in settings.TRACKERS:
        if getattr(tracking, name) and importlib.util.find_spec(name) is None:
            raise TrackingError(settings.missing(name))
    return tracking


def begin(name: str, url: str, tracking: Tracking) -> Tracking:
    """Store the sweep's tracking with the study; with MLflow, its experiment and parent run.

    Returns the settings as stored (MLflow dropped, with a warning, when the server
    cannot be reached).
    """
    study = storage.load_study(name, storage.open_storage(url), url)
    if not tracking:
        if study.user_attrs.get(TRACKING):
            study.set_user_attr(TRACKING, {})  # this sweep tracks nothing
        return tracking
    tracking = dataclasses.replace(tracking, sweep=secrets.token_hex(8))
    if tracking.mlflow:
        tracking = _parent_run(study, url, tracking)
    study.set_user_attr(TRACKING, tracking.to_attr())
    return tracking


def _parent_run(study: optuna.Study, url: str, tracking: Tracking) -> Tracking:
    from automl.track import mlflow_runs

    record = records.read_study(study, url, models=False)
    params = {
        "study": record.name,
        "storage": record.storage,
        "space": record.space,
        "family": record.family,
        "task": record.task,
        "sampler": record.sampler,
        "pruner": record.pruner,
        "objectives": ", ".join(f"{o.metric} ({o.direction})" for o in record.objectives),
        "seed": record.seed,
    }
    tags = {"automl.study": record.name, "automl.kind": "sweep"}
    uri = settings.worker_uri(str(tracking.mlflow))
    try:
        experiment, run = mlflow_runs.begin_sweep(uri, record.name, params, tags)
    except Exception as exc:  # noqa: BLE001 - tracking never stops a sweep
        warn(study, "mlflow", tracking.sweep, failure(exc, uri))
        return dataclasses.replace(tracking, mlflow=None)
    return dataclasses.replace(tracking, experiment_id=experiment, parent_run_id=run)


def relaying(
    name: str, url: str, tracking: Tracking, on_trial: Callable[[Any], None] | None
) -> Callable[[Any], None] | None:
    """``on_trial`` that also shows, once, a warning a worker stored for this sweep (a
    worker's own output goes to its trial's log, not to this terminal)."""
    if not tracking:
        return on_trial
    opened: list[optuna.Study] = []

    def callback(outcome: Any) -> None:
        if on_trial is not None:
            on_trial(outcome)
        try:
            if not opened:
                opened.append(storage.load_study(name, storage.open_storage(url), url))
            relay(opened[0], tracking.sweep)
        except Exception:  # noqa: BLE001, S110 - a storage outage is the sweep's to report
            pass

    return callback


def end(
    name: str,
    url: str,
    tracking: Tracking,
    *,
    status: str = "FINISHED",
    report: Path | None = None,
    load_model: Callable[[int], Any] | None = None,
) -> None:
    """Close the sweep's tracking: results, kept models and report on the parent run
    (``status`` FINISHED, FAILED or KILLED), and the HParams experiment."""
    if not tracking:
        return
    try:
        study = storage.load_study(name, storage.open_storage(url), url)
        record = records.read_study(study, url)
    except Exception as exc:  # noqa: BLE001 - the sweep's own error is reported elsewhere
        warn(None, "mlflow" if tracking.mlflow else "tensorboard", tracking.sweep, failure(exc))
        return
    relay(study, tracking.sweep)
    if tracking.mlflow and tracking.parent_run_id:
        try:
            _end_mlflow(record, tracking, status, report, load_model)
        except Exception as exc:  # noqa: BLE001 - tracking never stops a sweep
            where = settings.worker_uri(str(tracking.mlflow))
            warn(study, "mlflow", tracking.sweep, failure(exc, where))
    if tracking.tensorboard:
        try:
            _end_tensorboard(record, str(tracking.tensorboard))
        except Exception as exc:  # noqa: BLE001 - tracking never stops a sweep
            warn(study, "tensorboard", tracking.sweep, failure(exc))


def results(record: StudyRecord) -> dict[str, float]:
    """The parent run's metrics: the best values, its test metrics, trials by state,
    and each kept model's test metrics (``test/trial-0007/accuracy``)."""
    out: dict[str, float] = {}
    top = best(record.complete, record.objectives)
    if top:
        for objective, value in zip(record.objectives, top[0].values or [], strict=False):
            out[f"best/{objective.metric}"] = value
        out.update({f"test/{k}": v for k, v in top[0].test.items()})
    for state in ("COMPLETE", "PRUNED", "FAIL"):
        out[f"trials/{state.lower()}"] = sum(t.state == state for t in record.trials)
    for t in record.trials:
        out.update({f"test/trial-{t.number:04d}/{k}": v for k, v in t.test.items()})
    return out


def _end_mlflow(
    record: StudyRecord,
    tracking: Tracking,
    status: str,
    report: Path | None,
    load_model: Callable[[int], Any] | None,
) -> None:
    from automl.track import mlflow_runs

    uri = settings.worker_uri(str(tracking.mlflow))
    run = str(tracking.parent_run_id)
    top = best(record.complete, record.objectives)
    with mlflow_runs.quick():
        c = mlflow_runs.client(uri)
        mlflow_runs.log_metrics(c, run, results(record))
        if top:
            c.set_tag(run, "best_trial", str(top[0].number))
    kept = [t.number for t in record.complete if t.has_model]
    if load_model is not None and status == "FINISHED":
        for number in kept:
            model = load_model(number)
            mlflow_runs.log_model(uri, run, model, f"{KERAS_MODEL}/trial-{number:04d}")
    if report is not None and Path(report).is_file():
        mlflow_runs.log_file(uri, run, Path(report), "report")
    with mlflow_runs.quick():
        mlflow_runs.client(uri).set_terminated(run, status)


def _end_tensorboard(record: StudyRecord, root: str) -> None:
    from automl.track import tb_events

    folder = Path(root) / settings.safe_name(record.name)
    domains: dict[str, Any] = {}
    for t in record.trials:
        domains.update(t.distributions)
    for t in record.trials:  # the kept models' test metrics, beside their curves
        if t.test:
            writer = tb_events.EventWriter(tb_events.trial_dir(root, record.name, t.number))
            writer.scalars({f"test/{k}": v for k, v in t.test.items()}, t.epochs or 0)
            writer.close()
    metrics = [f"trial/{o.metric}" for o in record.objectives]
    seen = {k for t in record.trials for k in t.metrics}
    metrics += [f"trial/{k}" for k in ("val_loss", "duration_s", "params_count") if k in seen]
    metrics += sorted({f"test/{k}" for t in record.trials for k in t.test})
    tb_events.write_experiment(folder, domains, list(dict.fromkeys(metrics)))
