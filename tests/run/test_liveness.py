"""Nothing hangs, nothing is lost: dead workers anywhere, storage outages, two finalizers."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from automl.errors import StorageError
from automl.run import budget, conductor
from automl.store import records, storage
from automl.store import retry as durable

REDIS_URL = "redis://127.0.0.1:6379"


def _url(kind: str, tmp_path: Path) -> str:
    if kind == "journal":
        return str(tmp_path / "journal.log")
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    return REDIS_URL


def _open(kind: str, tmp_path: Path) -> optuna.Study:
    try:
        opened = storage.open_storage(_url(kind, tmp_path))
    except StorageError as exc:
        if kind == "redis":
            pytest.fail(f"the Redis server at {REDIS_URL} is needed: {exc}")
        raise
    return optuna.create_study(study_name=f"live-{uuid.uuid4().hex[:8]}", storage=opened)


def _remote_trial(study: optuna.Study, worker: str = "elsewhere:4242") -> optuna.Trial:
    """A trial as a worker on another machine starts it: owner, params, first beat."""
    trial = study.ask()
    trial.suggest_float("x", 0.0, 1.0)
    trial.set_user_attr(records.WORKER, worker)
    storage.first_beat(study, trial)
    return trial


@pytest.mark.parametrize(
    "kind",
    ["journal", pytest.param("redis", marks=pytest.mark.slow), "sqlite"],  # Redis: a service
)
def test_a_silent_trial_of_any_machine_fails_as_lost_and_is_retried(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grace = 1.0 if kind == "sqlite" else 0.3  # Optuna's RDB grace counts whole seconds
    monkeypatch.setattr(storage, "GRACE_S", grace)
    monkeypatch.setattr(storage, "HEARTBEAT_S", 1.0)
    study = _open(kind, tmp_path)
    if kind == "sqlite":  # Optuna's own heartbeat table, with its grace period shortened
        study._storage.grace_period = 1
    dead = _remote_trial(study)
    alive = _remote_trial(study, "elsewhere:4243")
    assert budget.fail_stale(study) == []  # both beat just now
    time.sleep(grace + 1.2)
    storage.beat(study, alive)  # this one's worker still beats
    assert budget.fail_stale(study) == [dead.number]
    trials = study.get_trials()
    lost = trials[dead.number]
    assert lost.state == TrialState.FAIL and lost.user_attrs[records.FAIL_REASON] == "lost"
    assert trials[alive.number].state == TrialState.RUNNING
    retry = [t for t in trials if t.state == TrialState.WAITING]
    assert len(retry) == 1 and retry[0].user_attrs[records.RETRY_OF] == dead.number
    assert retry[0].system_attrs["fixed_params"] == dead.params
    assert budget.fail_stale(study) == []  # failed once, retried once


@pytest.mark.slow
def test_heartbeat_thread_keeps_a_journal_trial_alive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "HEARTBEAT_S", 0.1)
    monkeypatch.setattr(storage, "GRACE_S", 0.6)
    study = _open("journal", tmp_path)
    trial = _remote_trial(study)
    with storage.heartbeat(study, trial):
        time.sleep(1.5)
        assert budget.fail_stale(study) == []
    time.sleep(0.8)
    assert budget.fail_stale(study) == [trial.number]


@pytest.mark.slow
def test_sweep_waiting_on_a_dead_workers_trial_retries_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trial whose worker died elsewhere holds budget; the sweep must not wait for ever."""
    from automl import sweeps
    from automl.search.suggest import suggest
    from automl.study.context import spec_of
    from tests.helpers import tiny_spec, write_yaml

    for key, value in {"AUTOML_GRACE_S": "4", "AUTOML_HEARTBEAT_S": "1"}.items():
        monkeypatch.setenv(key, value)  # for the worker processes
    monkeypatch.setattr(storage, "GRACE_S", 4.0)
    monkeypatch.setattr(storage, "HEARTBEAT_S", 1.0)
    url = str(tmp_path / "studies" / "journal.log")
    spec = write_yaml(tmp_path / "s.yaml", tiny_spec(training={"max_epochs": 2}))
    sweeps.tune(spec, trials=1, study="dead", storage=url, in_process=True)
    study = optuna.load_study(study_name="dead", storage=storage.open_storage(url))
    dead = study.ask()
    suggest(dead, spec_of(study, url))  # its worker drew the parameters, then died
    dead.set_user_attr(records.WORKER, "another-machine:1")
    storage.first_beat(study, dead)
    start = time.monotonic()
    sweeps.tune("dead", resume=True, trials=2, storage=url, workers=1, timeout=240)
    assert time.monotonic() - start < 200, "the sweep waited for its timeout"
    trials = study.get_trials()
    assert trials[dead.number].user_attrs.get(records.FAIL_REASON) == "lost"
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    retries = [t for t in trials if t.user_attrs.get(records.RETRY_OF) == dead.number]
    assert [t.state for t in retries] == [TrialState.COMPLETE]
    assert budget.done(trials) == 3


class Flaky:
    """Study.tell that fails ``n`` times with a connection error, then works."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0
        real = optuna.Study.tell

        def tell(study: optuna.Study, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls <= self.n:
                raise ConnectionError("server closed the connection unexpectedly")
            return real(study, *args, **kwargs)

        self.tell = tell


@pytest.mark.slow
def test_tell_survives_a_storage_outage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from automl import sweeps
    from tests.helpers import tiny_spec, write_yaml

    monkeypatch.setattr(durable, "FIRST_DELAY_S", 0.05)
    flaky = Flaky(3)
    monkeypatch.setattr(optuna.Study, "tell", flaky.tell)
    spec = write_yaml(tmp_path / "s.yaml", tiny_spec(training={"max_epochs": 1}))
    url = str(tmp_path / "journal.log")
    with caplog.at_level(logging.WARNING, logger="automl"):
        sweep = sweeps.tune(spec, trials=2, storage=url, in_process=True)
    states = [t.state for t in sweep.record().trials]
    assert states == ["COMPLETE", "COMPLETE"] and flaky.calls == 5
    assert "retrying" in caplog.text and "trial 0's result" in caplog.text


def test_a_result_that_cannot_be_stored_is_logged_never_dropped_silently(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(durable, "FIRST_DELAY_S", 0.05)

    def down() -> None:
        raise ConnectionError("redis://:s3cret-pw@db:6379 refused")

    with caplog.at_level(logging.WARNING, logger="automl"), pytest.raises(StorageError) as info:
        durable.persist(down, "trial 7's result [0.93]", retry_s=0.3)
    assert "trial 7's result [0.93]" in str(info.value) and "s3cret-pw" not in str(info.value)
    assert "could not store trial 7's result [0.93]" in caplog.text
    assert "s3cret-pw" not in caplog.text

    def finished() -> None:
        raise optuna.exceptions.UpdateFinishedTrialError("trial 7 is already finished")

    assert durable.persist(finished, "trial 7's result [0.93]") is False
    assert "was not stored: the trial had finished already" in caplog.text

    def full() -> None:
        raise OSError(28, "No space left on device")

    start = time.monotonic()
    with pytest.raises(StorageError, match="No space left"):
        durable.persist(full, "trial 8's result", retry_s=30)
    assert time.monotonic() - start < 5  # a full disk fails at once


def test_two_finalizers_never_overwrite_each_others_test_metrics(tmp_path: Path) -> None:
    url = str(tmp_path / "journal.log")
    opened = storage.open_storage(url)
    optuna.create_study(study_name="s", storage=opened).set_user_attr(
        records.TEST_METRICS,
        {"0": {"accuracy": 0.5}},  # a study from before per-trial keys
    )
    # Two machines, each with its own handle read before the other wrote.
    a = optuna.load_study(study_name="s", storage=storage.open_storage(url))
    b = optuna.load_study(study_name="s", storage=storage.open_storage(url))
    records.write_test(a, 1, {"accuracy": 0.9})
    records.write_test(b, 2, {"accuracy": 0.8})
    tests = records.read_study(a, url, models=False).test_metrics
    assert tests == {"0": {"accuracy": 0.5}, "1": {"accuracy": 0.9}, "2": {"accuracy": 0.8}}


def test_reaping_a_trial_that_finished_meanwhile_queues_no_retry(tmp_path: Path) -> None:
    study = _open("journal", tmp_path)
    trial = _remote_trial(study)
    frozen = study.get_trials()[trial.number]  # read while RUNNING
    study.tell(trial, 0.5)  # ...then its worker told it after all
    assert storage.fail_trial(study, frozen, records.lost_attrs("lost")) is False
    assert conductor._fail(study, frozen, "worker_died") is False
    assert [t.state for t in study.get_trials()] == [TrialState.COMPLETE]


def test_reaping_during_an_outage_leaves_the_trial_running_without_a_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = _open("journal", tmp_path)
    trial = _remote_trial(study)
    frozen = study.get_trials()[trial.number]

    def outage(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("storage unreachable")

    monkeypatch.setattr(study._storage, "set_trial_user_attr", outage)
    assert conductor._fail(study, frozen, "worker_died") is False
    monkeypatch.undo()
    assert [t.state for t in study.get_trials()] == [TrialState.RUNNING]
    assert conductor._fail(study, frozen, "worker_died") is True  # the next reaping succeeds
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.FAIL, TrialState.WAITING]  # failed once, retried once
