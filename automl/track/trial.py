"""One trial's tracking, in the worker process that trains it.

:class:`TrialTracker` reads the sweep's settings from the study, opens the trial's MLflow
run (nested under the sweep's) and TensorBoard folder, logs every epoch, and at the end
the trial's parameters, results, state and fail reason. A tracker that fails (a server
gone, a full disk) is dropped for the rest of the process with one warning line per
sweep; the trial never notices.
"""

from __future__ import annotations

import logging
from typing import Any

import optuna

from automl.errors import TrackingError
from automl.store import records
from automl.store.redact import mask
from automl.track import settings
from automl.track.settings import Tracking

log = logging.getLogger("automl")
TRACKING = "tracking"  # the study attribute: the running sweep's settings (settings.py)
WARNED = "tracking_warned"  # "tracking_warned:<tracker>": {sweep token, the line shown}
_DOWN: set[tuple[str, str]] = set()  # (tracker, sweep token) warned of in this process
_MAX_LINE = 300


def stored(study: optuna.Study) -> Tracking:
    """The settings of the sweep now running; none, with a warning, when they are bad."""
    raw = study.user_attrs.get(TRACKING)
    try:
        return settings.from_attr(raw)
    except TrackingError as exc:
        sweep = raw.get("sweep") if isinstance(raw, dict) else ""
        warn(study, "", str(sweep) if settings.plain_id(sweep) else "", str(exc))
        return Tracking()


_UNREACHABLE = ("Max retries exceeded", "NewConnectionError", "Connection refused", "timed out")


def failure(exc: BaseException, where: str = "") -> str:
    """What went wrong, short: a server that cannot be reached says so, not its traceback."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if any(s in text for s in _UNREACHABLE):
        return f"cannot reach {mask(where)}" if where else "cannot reach the server"
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 160 else text[:157] + "..."


def warn(study: optuna.Study | None, tracker: str, sweep: str, why: str) -> None:
    """One warning line per sweep and tracker, however many workers meet the problem.

    A worker's own line goes to its trial's log; the line is also stored with the study
    (no secret: masked), so that the sweep's conductor shows it (:func:`relay`).
    """
    if (tracker, sweep) in _DOWN:
        return
    _DOWN.add((tracker, sweep))
    first = mask(str(why)).strip().splitlines()[0] if str(why).strip() else ""
    if tracker:
        line = f"{tracker} tracking stopped for this sweep ({first[:_MAX_LINE]}); the trials go on"
    else:
        line = f"tracking settings ignored ({first[:_MAX_LINE]}); the trials go on untracked"
    key = f"{WARNED}:{tracker or 'settings'}"
    try:
        if study is not None and sweep:
            seen = study.user_attrs.get(key)
            if isinstance(seen, dict) and seen.get("sweep") == sweep:
                return  # another worker of this sweep said it
            study.set_user_attr(key, {"sweep": sweep, "line": line})
    except Exception:  # noqa: BLE001, S110 - the storage's own trouble is reported elsewhere
        pass
    log.warning("%s", line)


def relay(study: optuna.Study, sweep: str) -> None:
    """In the sweep's own process: show the warnings its workers stored, once each."""
    if not sweep:
        return
    for tracker in ("mlflow", "tensorboard", "settings"):
        seen = study.user_attrs.get(f"{WARNED}:{tracker}")
        mine = "" if tracker == "settings" else tracker
        if not isinstance(seen, dict) or seen.get("sweep") != sweep or down(mine, sweep):
            continue
        _DOWN.add((mine, sweep))
        line = "".join(
            c for c in str(seen.get("line", "")) if c.isprintable()
        )  # stored: shown plain
        log.warning("%s", line[: _MAX_LINE + 100])


def down(tracker: str, sweep: str) -> bool:
    return (tracker, sweep) in _DOWN


class TrialTracker:
    """Logs one trial to the sweep's trackers; never raises."""

    def __init__(self, study: optuna.Study, number: int, worker: str = "") -> None:
        self.study, self.number = study, number
        self.tracking = stored(study)
        self.run_id: str | None = None
        self.writer: Any = None
        self.uri = ""
        sweep = self.tracking.sweep
        if self.tracking.mlflow and not down("mlflow", sweep):
            self._guard("mlflow", lambda: self._start_mlflow(worker))
        if self.tracking.tensorboard and not down("tensorboard", sweep):
            self._guard("tensorboard", self._start_tensorboard)

    def _guard(self, tracker: str, step: Any) -> None:
        try:
            step()
        except ImportError:
            self._drop(tracker)
            warn(self.study, tracker, self.tracking.sweep, settings.missing(tracker))
        except Exception as exc:  # noqa: BLE001 - tracking never costs a trial
            self._drop(tracker)
            where = self.uri if tracker == "mlflow" else str(self.tracking.tensorboard)
            warn(self.study, tracker, self.tracking.sweep, failure(exc, where))

    def _drop(self, tracker: str) -> None:
        if tracker == "mlflow":
            self.run_id = None
        elif self.writer is not None:
            writer, self.writer = self.writer, None
            writer.close()

    def _start_mlflow(self, worker: str) -> None:
        from automl.track import mlflow_runs

        t = self.tracking
        self.uri = settings.worker_uri(str(t.mlflow))
        tags = {"automl.study": self.study.study_name, "automl.trial": str(self.number)}
        if worker:
            tags["automl.worker"] = worker
        name = f"trial-{self.number:04d}"
        self.run_id = mlflow_runs.start_trial(
            self.uri, str(t.experiment_id), str(t.parent_run_id), name, tags
        )

    def _start_tensorboard(self) -> None:
        from automl.track import tb_events

        folder = tb_events.trial_dir(
            str(self.tracking.tensorboard), self.study.study_name, self.number
        )
        self.writer = tb_events.EventWriter(folder)

    def epoch(self, step: int, logs: dict[str, Any]) -> None:
        """One epoch's Keras logs (``loss``, ``val_accuracy``...) at ``step`` (0-based)."""
        if self.run_id is not None:
            from automl.track import mlflow_runs

            run_id = self.run_id
            self._guard("mlflow", lambda: _log_epoch(mlflow_runs, self.uri, run_id, logs, step))
        if self.writer is not None:
            self._guard("tensorboard", lambda: self.writer.scalars(logs, step))

    def end(self, record: records.TrialRecord) -> None:
        """The trial's parameters, results (``trial/<metric>``), state and fail reason."""
        if self.run_id is not None:
            self._guard("mlflow", lambda: self._end_mlflow(record))
        if self.writer is not None:
            self._guard("tensorboard", lambda: self._end_tensorboard(record))
            self._drop("tensorboard")

    def _end_mlflow(self, record: records.TrialRecord) -> None:
        from automl.track import mlflow_runs

        run_id = str(self.run_id)
        with mlflow_runs.quick():
            c = mlflow_runs.client(self.uri)
            mlflow_runs.log_params(c, run_id, record.params)
            results = {f"trial/{k}": v for k, v in record.metrics.items()}
            mlflow_runs.log_metrics(c, run_id, results, step=record.epochs or 0)
        tags = {"state": record.state}
        if record.fail_reason:
            tags["fail_reason"] = record.fail_reason
        if record.fail_detail:
            tags["fail_detail"] = mask(record.fail_detail)
        mlflow_runs.end_run(self.uri, run_id, record.state, tags)
        self.run_id = None

    def _end_tensorboard(self, record: records.TrialRecord) -> None:
        from automl.track import tb_events

        results = {f"trial/{k}": v for k, v in record.metrics.items()}
        self.writer.scalars(results, record.epochs or 0)
        tb_events.write_hparams(self.writer, record.params, tb_events.trial_name(self.number))
        tb_events.write_status(self.writer, record.state)


class TrackedRecorder(records.EpochRecorder):
    """A worker's epoch recorder that also hands each epoch's logs to the trial's trackers
    (``EpochReporter`` calls :meth:`epoch_end` before it may fail or prune the trial)."""

    def __init__(self, trial: optuna.Trial, prune: bool, tracker: TrialTracker) -> None:
        super().__init__(trial, prune)
        self.tracker = tracker

    def epoch_end(self, step: int, logs: dict[str, float]) -> None:
        self.tracker.epoch(step, logs)


def _log_epoch(module: Any, uri: str, run_id: str, logs: dict[str, Any], step: int) -> None:
    with module.quick():
        module.log_metrics(module.client(uri), run_id, logs, step)
