"""TensorBoard: event files written without TensorFlow, and the Keras TensorBoard callback
of ``Tuner.search`` given a folder per trial."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import automl
from tests.helpers.own_code import build_model, digits

WRITE = """
import sys
from automl.track import tb_events
writer = tb_events.EventWriter(tb_events.trial_dir(sys.argv[1], "s", 3))
writer.scalars({"loss": 0.5, "val_accuracy": 0.75}, 0)
writer.scalars({"loss": 0.25, "val_accuracy": 0.875}, 1)
tb_events.write_hparams(writer, {"units": 8, "act": "relu", "bn": True}, "trial-0003")
tb_events.write_status(writer, "PRUNED")
writer.close()
print(sorted(m for m in ("tensorflow", "keras", "torch", "jax") if m in sys.modules))
"""


@pytest.mark.backend
def test_event_files_are_written_without_loading_tensorflow(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import api_pb2, metadata
    from tensorboard.util import tensor_util

    done = subprocess.run(
        [sys.executable, "-c", WRITE, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr  # no framework loaded
    events = EventAccumulator(str(tmp_path / "s" / "trial-0003"))
    events.Reload()
    curve = [
        (e.step, float(tensor_util.make_ndarray(e.tensor_proto)))
        for e in events.Tensors("val_accuracy")
    ]
    assert curve == [(0, 0.75), (1, 0.875)]
    start = events.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
    info = metadata.parse_session_start_info_plugin_data(start)
    assert info.hparams["units"].number_value == 8
    assert info.hparams["act"].string_value == "relu"
    assert info.hparams["bn"].bool_value is True
    end = events.SummaryMetadata(metadata.SESSION_END_INFO_TAG).plugin_data.content
    assert metadata.parse_session_end_info_plugin_data(end).status == api_pb2.STATUS_UNKNOWN


@pytest.mark.slow
def test_a_keras_tensorboard_callback_gets_a_folder_per_trial(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")  # Keras' TensorBoard callback writes with tf.summary
    import keras
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata

    x, y = digits(300)
    logs = tmp_path / "logs"
    tuner = automl.Tuner(
        build_model, objective="val_accuracy", max_trials=2, directory=str(tmp_path), seed=0
    )
    sweep = tuner.search(
        x[:240],
        y[:240],
        validation_data=(x[240:], y[240:]),
        epochs=2,
        callbacks=[keras.callbacks.TensorBoard(log_dir=str(logs))],
    )
    trials = sweep.record().trials
    assert sorted(p.name for p in logs.iterdir()) == [f"trial-{t.number:04d}" for t in trials]
    for t in trials:
        folder = logs / f"trial-{t.number:04d}"
        train = EventAccumulator(str(folder / "train"))
        train.Reload()
        assert len(train.Tensors("epoch_loss")) == 2  # this trial's epochs, nobody else's
        hparams = EventAccumulator(str(folder))
        hparams.Reload()
        start = hparams.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
        info = metadata.parse_session_start_info_plugin_data(start)
        assert {k: v.number_value for k, v in info.hparams.items()} == t.params
