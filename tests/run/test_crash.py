"""Crash safety with real worker processes: kill -9, Ctrl-C, many workers on one study.

The PostgreSQL test needs the server at 127.0.0.1:5432 (database ``test``); under
``CI=true`` a missing server fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from automl.run.budget import counts
from tests.helpers import tiny_spec, write_yaml
from tests.helpers.processes import automl, finish, trials_of, wait_for

pytestmark = pytest.mark.slow


def slow_spec(tmp_path: Path) -> Path:
    """Trials of a few seconds each, so a kill lands in the middle of one."""
    spec = tiny_spec(
        training={"max_epochs": 25, "patience": None, "batch_size": 16},
        pruner={"name": "none"},
    )
    return write_yaml(tmp_path / "slow.yaml", spec)


def running_of(name: str, url: str, pid: int | None = None) -> FrozenTrial | None:
    for t in trials_of(name, url):
        owner = str(t.user_attrs.get("worker", ""))
        mine = pid is None or owner.endswith(f":{pid}")
        # Started over a second ago: well inside training, past data loading.
        if (
            t.state == TrialState.RUNNING
            and mine
            and time.time() - t.datetime_start.timestamp() > 1
        ):
            return t
    return None


def assert_sweep_whole(trials: list[FrozenTrial], wanted: int, killed: int) -> None:
    by_number = {t.number: t for t in trials}
    assert by_number[killed].state == TrialState.FAIL
    retries = [t for t in trials if t.user_attrs.get("retry_of") == killed]
    assert retries and retries[-1].state == TrialState.COMPLETE
    assert retries[-1].params == by_number[killed].params
    assert sum(1 for t in trials if counts(t)) == wanted
    assert sum(1 for t in trials if t.state == TrialState.COMPLETE) == wanted
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]


def test_local_worker_killed_mid_trial(tmp_path: Path) -> None:
    url = str(tmp_path / "journal.log")
    proc = automl(
        "tune",
        str(slow_spec(tmp_path)),
        "--study",
        "k",
        "--trials",
        "5",
        "--workers",
        "2",
        "--storage",
        url,
    )
    victim = wait_for(lambda: running_of("k", url), 120, "a running trial")
    assert isinstance(victim, FrozenTrial)
    pid = int(str(victim.user_attrs["worker"]).rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)
    finish(proc, 300)
    trials = trials_of("k", url)
    assert_sweep_whole(trials, 5, victim.number)
    assert {t.number: t for t in trials}[victim.number].user_attrs["fail_reason"] == "worker_died"


def test_postgres_two_workers_one_killed(tmp_path: Path, postgres: str) -> None:
    name = f"pg-{uuid.uuid4().hex[:8]}"
    fast_heartbeat = {"AUTOML_HEARTBEAT_S": "1", "AUTOML_GRACE_S": "4"}
    conductor = automl(
        "tune",
        str(slow_spec(tmp_path)),
        "--study",
        name,
        "--trials",
        "5",
        "--storage",
        postgres,
        "--in-process",
        env=fast_heartbeat,
    )
    wait_for(lambda: trials_of(name, postgres), 120, "the study to start")
    remote = automl("worker", name, env={**fast_heartbeat, "AUTOML_STORAGE": postgres})
    victim = wait_for(lambda: running_of(name, postgres, remote.pid), 120, "the second worker")
    assert isinstance(victim, FrozenTrial)
    remote.kill()
    remote.wait(timeout=10)
    finish(conductor, 300)
    trials = trials_of(name, postgres)
    assert_sweep_whole(trials, 5, victim.number)
    optuna.delete_study(study_name=name, storage=postgres)


def test_ctrl_c_stops_cleanly_and_resume_completes(tmp_path: Path) -> None:
    url = str(tmp_path / "journal.log")
    proc = automl(
        "tune", str(slow_spec(tmp_path)), "--study", "i", "--trials", "6", "--storage", url
    )
    wait_for(
        lambda: (
            any(t.state == TrialState.COMPLETE for t in trials_of("i", url))
            and running_of("i", url)
        ),
        180,
        "one complete and one running trial",
    )
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert time.monotonic() - start < 30
    assert proc.returncode == 130, out
    assert "interrupted" in out and "Traceback" not in out
    trials = trials_of("i", url)
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    interrupted = [t for t in trials if t.user_attrs.get("fail_reason") == "interrupted"]
    assert len(interrupted) == 1
    done_before = sum(1 for t in trials if counts(t))
    finish(automl("tune", "i", "--resume", "--trials", "2", "--storage", url), 300)
    trials = trials_of("i", url)
    assert sum(1 for t in trials if counts(t)) == done_before + 2
    assert any(
        t.user_attrs.get("retry_of") == interrupted[0].number and t.state == TrialState.COMPLETE
        for t in trials
    )
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]


def test_workers_that_cannot_start_stop_the_sweep(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from automl.cli.main import app
    from automl.search.spec import validate_spec
    from automl.study import create as study

    table = tmp_path / "t.csv"
    table.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(60)))
    url = str(tmp_path / "journal.log")
    study.create(validate_spec(tiny_spec(data={"source": str(table)})), "gone", url)
    table.unlink()  # every worker now fails to load the data
    result = CliRunner().invoke(
        app, ["tune", "gone", "--resume", "--trials", "2", "--storage", url, "--no-report"]
    )
    assert result.exit_code == 1
    assert "3 worker processes in a row exited with code 2" in result.output
    assert not [t for t in trials_of("gone", url) if t.state == TrialState.RUNNING]


def test_workers_dying_in_every_trial_stop_the_sweep(tmp_path: Path) -> None:
    """A trial that kills its worker each time must not respawn workers for ever."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import os\n"
        "if os.environ.get('AUTOML_TEST_CRASH'):\n"
        "    import automl.run.worker\n"
        "    automl.run.worker._train = lambda *a, **k: os._exit(1)\n"
    )
    url = str(tmp_path / "journal.log")
    env = {"AUTOML_TEST_CRASH": "1", "PYTHONPATH": str(hook)}
    proc = automl(
        "tune", str(slow_spec(tmp_path)), "--study", "c", "--trials", "2", "--storage", url, env=env
    )
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 1, out
    assert "worker processes in a row exited with code 1" in out and "Traceback" not in out
    trials = trials_of("c", url)
    assert trials and all(
        t.user_attrs.get("fail_reason") == "worker_died"
        for t in trials
        if t.state == TrialState.FAIL
    )
    assert not [t for t in trials if t.state == TrialState.RUNNING]
