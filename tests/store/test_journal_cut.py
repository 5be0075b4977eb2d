"""A journal file cut in the middle of its last line (power loss) still loads."""

from __future__ import annotations

import logging
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from automl.store import storage


def test_a_cut_last_line_is_dropped_with_a_warning_and_appends_work_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = tmp_path / "journal.log"
    study = optuna.create_study(study_name="s", storage=storage.open_storage(str(url)))
    for x in (0.1, 0.2, 0.3):
        study.enqueue_trial({"x": x})
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    whole = url.read_bytes()
    url.write_bytes(whole[:-25])  # the last trial's "complete" record, half written
    with caplog.at_level(logging.WARNING, logger="automl"):
        loaded = optuna.load_study(study_name="s", storage=storage.open_storage(str(url)))
    assert "its last line was cut" in caplog.text and "a record of trial id 2" in caplog.text
    assert [t.state for t in loaded.trials][:2] == [TrialState.COMPLETE] * 2
    side = list(tmp_path.glob("journal.log.cut-*"))
    assert len(side) == 1 and whole.endswith(side[0].read_bytes() + whole[-25:])
    # The file ends with a whole line again: new records are readable by everyone.
    loaded.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    again = optuna.load_study(study_name="s", storage=storage.open_storage(str(url)))
    assert [t.state for t in again.trials].count(TrialState.COMPLETE) == 3
    assert [t.params["x"] for t in again.trials[:2]] == [0.1, 0.2]
