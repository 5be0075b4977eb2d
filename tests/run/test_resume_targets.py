"""Every ``--trials`` holds: two resumes of one study at once add both their trials; a
target left by a conductor that is gone is not carried over."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from automl.run import budget
from automl.store import records
from tests.helpers import tiny_spec, write_yaml
from tests.helpers.processes import automl, finish, trials_of


def _study_with_done(n: int) -> optuna.Study:
    study = optuna.create_study()
    for _ in range(n):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    return study


def test_a_live_conductors_share_is_kept(tmp_path: Path) -> None:
    study = _study_with_done(2)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        study.set_user_attr(records.TARGET_OWNERS, [f"{socket.gethostname()}:{other.pid}"])
        study.set_user_attr(records.TARGET_TRIALS, 4)  # it still owes 2 trials
        budget.set_target(study, 2, tmp_path)
        assert records.target_trials(study) == 6
        me = f"{socket.gethostname()}:{os.getpid()}"
        assert study.user_attrs[records.TARGET_OWNERS] == [
            f"{socket.gethostname()}:{other.pid}",
            me,
        ]
    finally:
        other.kill()
        other.wait()


def test_a_gone_conductors_target_is_not_carried_over(tmp_path: Path) -> None:
    study = _study_with_done(2)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    study.set_user_attr(records.TARGET_OWNERS, [f"{socket.gethostname()}:{gone.pid}"])
    study.set_user_attr(records.TARGET_TRIALS, 5)  # interrupted before its last 3 trials
    budget.set_target(study, 2, tmp_path)
    assert records.target_trials(study) == 4  # --trials 2 runs 2 trials now
    budget.set_target(study, None, tmp_path)
    assert records.target_trials(study) is None


@pytest.mark.slow
def test_two_resumes_at_once_add_both_their_trials(in_tmp: Path) -> None:
    raw = tiny_spec(ensemble=0, keep=1)
    raw["training"] = {"max_epochs": 1, "batch_size": 64}
    space = write_yaml(in_tmp / "s.yaml", raw)
    url = str(in_tmp / "studies" / "journal.log")
    env = {"AUTOML_STORAGE": url, "AUTOML_ARTIFACTS": str(in_tmp / "models")}
    finish(
        automl("tune", str(space), "--study", "r", "--trials", "1", "--in-process", env=env), 300
    )
    resumes = [
        automl("tune", "r", "--resume", "--trials", "2", "--in-process", env=env) for _ in range(2)
    ]
    for proc in resumes:
        finish(proc, 300)
    assert sum(budget.counts(t) for t in trials_of("r", url)) == 5
