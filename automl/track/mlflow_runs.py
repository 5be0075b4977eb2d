"""MLflow: one experiment per study, a parent run per sweep, a nested run per trial.

Everything goes through an ``MlflowClient`` of its own (no global tracking URI, no active
run), so a user's MLflow session in the same process is left as it was. HTTP calls get a
short timeout and few retries: a tracking server that went away must cost a warning, not
minutes of each trial.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# MLflow's own settings, only while automl talks to the server.
_QUICK = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",  # no "View run ... at" lines
}
PARAM_MAX = 6000  # characters MLflow keeps of a parameter value
PARENT = "mlflow.parentRunId"
RUN_NAME = "mlflow.runName"


@contextlib.contextmanager
def quick() -> Iterator[None]:
    """Short HTTP timeouts and retries for the calls inside (unless the user set them), and
    MLflow's own log lines (a model without a signature...) kept off the terminal."""
    saved = {k: os.environ.get(k) for k in _QUICK}
    for key, value in _QUICK.items():
        os.environ.setdefault(key, value)
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        logger.setLevel(level)
        for name, before in saved.items():
            if before is None:
                os.environ.pop(name, None)


def client(uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def key(name: str) -> str:
    """A metric or parameter name MLflow accepts (letters, digits, ``_ - . / space``)."""
    return re.sub(r"[^\w\-./ ]", "_", str(name))[:250] or "_"


def numbers(values: dict[str, Any]) -> dict[str, float]:
    """The finite numbers of ``values``, under keys MLflow accepts."""
    out = {}
    for name, value in values.items():
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and math.isfinite(value):
            out[key(name)] = float(value)
    return out


def begin_sweep(
    uri: str, study: str, params: dict[str, Any], tags: dict[str, str]
) -> tuple[str, str]:
    """The study's experiment (made, or restored when deleted) and a new parent run.

    Returns:
        (experiment id, parent run id).
    """
    with quick():
        c = client(uri)
        found = c.get_experiment_by_name(study)
        if found is None:
            experiment = str(c.create_experiment(study, tags={"automl.study": study}))
        else:
            experiment = str(found.experiment_id)
            if found.lifecycle_stage == "deleted":
                c.restore_experiment(experiment)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        run = c.create_run(experiment, run_name=f"sweep {stamp}", tags=tags)
        run_id = str(run.info.run_id)
        log_params(c, run_id, params)
    return experiment, run_id


def log_params(c: Any, run_id: str, params: dict[str, Any]) -> None:
    from mlflow.entities import Param

    items = [Param(key(k), str(v)[:PARAM_MAX]) for k, v in sorted(params.items())]
    for start in range(0, len(items), 100):  # MLflow takes at most 100 a batch
        c.log_batch(run_id, params=items[start : start + 100])


def log_metrics(c: Any, run_id: str, values: dict[str, Any], step: int = 0) -> None:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    items = [Metric(k, v, now, step) for k, v in sorted(numbers(values).items())]
    for start in range(0, len(items), 1000):
        c.log_batch(run_id, metrics=items[start : start + 1000])


def start_trial(uri: str, experiment: str, parent: str, name: str, tags: dict[str, str]) -> str:
    """A trial's run, nested under the sweep's parent run; its id."""
    with quick():
        run = client(uri).create_run(experiment, run_name=name, tags={PARENT: parent, **tags})
    return str(run.info.run_id)


STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED"}  # anything else: FAILED


def end_run(uri: str, run_id: str, state: str, tags: dict[str, str]) -> None:
    from mlflow.entities import RunTag

    with quick():
        c = client(uri)
        c.log_batch(run_id, tags=[RunTag(k, str(v)[:PARAM_MAX]) for k, v in tags.items()])
        c.set_terminated(run_id, STATUS.get(state, "FAILED"))


def log_model(uri: str, run_id: str, model: Any, path: str) -> None:
    """A Keras model on ``run_id`` as an MLflow Keras model (``mlflow.keras.load_model``)."""
    import keras
    import mlflow.keras

    with tempfile.TemporaryDirectory() as tmp, quick():
        local = str(Path(tmp) / "model")
        requirements = [f"keras=={keras.__version__}"]
        mlflow.keras.save_model(model, local, pip_requirements=requirements)
        client(uri).log_artifacts(run_id, local, path)


def log_file(uri: str, run_id: str, file: Path, folder: str = "") -> None:
    with quick():
        client(uri).log_artifact(run_id, str(file), folder or None)
