"""TensorBoard event files: per-epoch scalars and the HParams plugin's summaries.

Written with the tensorboard package's own protobufs and record writer, which need no
TensorFlow: the same files come out under every Keras backend, and the torch backend
does not load TensorFlow for them. TensorBoard's HParams tab reads a trial's
hyperparameters (``hparams_pb``) and status from the trial's folder, and the study's
experiment (``hparams_config_pb``: each parameter's domain, the metrics) from the study's.
"""

from __future__ import annotations

import math
import os
import socket
import time
from pathlib import Path
from typing import Any

HPARAMS_SUFFIX = ".hparams"  # the experiment's own event file in the study's folder
_seq = [0]


def trial_dir(root: str, study: str, number: int) -> Path:
    """``root/<study>/trial-0007``: one TensorBoard run per trial."""
    from automl.track.settings import safe_name

    return Path(root) / safe_name(study) / trial_name(number)


def trial_name(number: int) -> str:
    return f"trial-{number:04d}"


class EventWriter:
    """One event file in ``folder`` (made if needed), written as TensorBoard reads it."""

    def __init__(self, folder: str | Path, suffix: str = "") -> None:
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        Path(folder).mkdir(parents=True, exist_ok=True)
        _seq[0] += 1
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}"
        self.path = Path(folder) / f"{name}.{os.getpid()}.{_seq[0]}{suffix}"
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed by close()
        self._records = RecordWriter(self._file)
        self._event = event_pb2.Event
        self._write(self._event(wall_time=time.time(), file_version="brain.Event:2"))

    def _write(self, event: Any) -> None:
        self._records.write(event.SerializeToString())
        self._file.flush()  # every line reaches disk: TensorBoard shows a live trial

    def summary(self, summary: Any, step: int = 0) -> None:
        self._write(self._event(wall_time=time.time(), step=step, summary=summary))

    def scalars(self, values: dict[str, float], step: int) -> None:
        """Finite numbers as TensorBoard scalars at ``step``."""
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb

        for tag, value in sorted(values.items()):
            if _number(value):
                self.summary(scalar_pb(tag, float(value)), step)

    def close(self) -> None:
        self._file.close()


def _number(value: Any) -> bool:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return ok and math.isfinite(value)


def hparams_value(value: Any) -> bool | float | str:
    """A parameter value as the HParams plugin takes it: bool, number or string."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def write_hparams(writer: EventWriter, params: dict[str, Any], trial: str) -> None:
    """The trial's hyperparameters: the HParams tab's row for this run."""
    from tensorboard.plugins.hparams import summary_v2

    values = {str(k): hparams_value(v) for k, v in params.items()}
    writer.summary(summary_v2.hparams_pb(values, trial_id=trial))


def write_status(writer: EventWriter, state: str) -> None:
    """The trial's end: COMPLETE a success, FAIL a failure, PRUNED unknown (the plugin has
    no status for a run stopped early)."""
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
    from tensorboard.plugins.hparams.summary_v2 import _summary_pb

    status = {
        "COMPLETE": api_pb2.STATUS_SUCCESS,
        "PRUNED": api_pb2.STATUS_UNKNOWN,
    }.get(state, api_pb2.STATUS_FAILURE)
    end = plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=time.time())
    data = plugin_data_pb2.HParamsPluginData(session_end_info=end)
    writer.summary(_summary_pb(metadata.SESSION_END_INFO_TAG, data))


def write_experiment(folder: Path, domains: dict[str, Any], metrics: list[str]) -> Path:
    """The study's experiment: each parameter's domain and the metrics the tab compares.

    Rewritten whole at each sweep's end (earlier ones are removed), since TensorBoard
    reads the first experiment it finds.
    """
    from tensorboard.plugins.hparams import summary_v2 as hp

    for old in folder.glob(f"events.out.tfevents.*{HPARAMS_SUFFIX}"):
        old.unlink(missing_ok=True)
    hparams = [hp.HParam(name, _domain(d)) for name, d in sorted(domains.items())]
    config = hp.hparams_config_pb(
        hparams=hparams, metrics=[hp.Metric(m) for m in metrics], time_created_secs=time.time()
    )
    writer = EventWriter(folder, HPARAMS_SUFFIX)
    try:
        writer.summary(config)
    finally:
        writer.close()
    return writer.path


def _domain(distribution: Any) -> Any:
    """An Optuna distribution as an HParams domain (None when it has none)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )
    from tensorboard.plugins.hparams import summary_v2 as hp

    if isinstance(distribution, IntDistribution):
        return hp.IntInterval(int(distribution.low), int(distribution.high))
    if isinstance(distribution, FloatDistribution):
        return hp.RealInterval(float(distribution.low), float(distribution.high))
    if isinstance(distribution, CategoricalDistribution):
        values = [hparams_value(c) for c in distribution.choices]
        if len({type(v) for v in values}) == 1:
            return hp.Discrete(values)
    return None
