"""The user's ``keras.callbacks.TensorBoard``, given to ``Tuner.search``: a folder per trial.

As in KerasTuner, each trial writes to ``log_dir/<trial>`` (here ``log_dir/trial-0007``),
with the trial's hyperparameters for TensorBoard's HParams tab, instead of every trial
writing over the last one's curves.
"""

from __future__ import annotations

import copy
import logging
import os
from typing import Any

log = logging.getLogger("automl")


def per_trial(callbacks: list[Any], number: int, params: dict[str, Any]) -> list[Any]:
    """``callbacks`` with each TensorBoard callback copied to write into its trial's folder."""
    import keras

    from automl.track import tb_events

    out = []
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.TensorBoard):
            callback = copy.copy(callback)
            name = tb_events.trial_name(number)
            callback.log_dir = os.path.join(str(callback.log_dir), name)
            _hparams(callback.log_dir, params, name)
        out.append(callback)
    return out


def _hparams(folder: str, params: dict[str, Any], name: str) -> None:
    try:
        from automl.track import tb_events

        writer = tb_events.EventWriter(folder)
        try:
            tb_events.write_hparams(writer, params, name)
        finally:
            writer.close()
    except ImportError:  # tf.summary without the tensorboard package: curves only
        return
    except OSError as exc:  # the callback itself will report an unwritable folder
        log.debug("hparams not written to %s: %s", folder, exc)
