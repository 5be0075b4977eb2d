"""PostgreSQL restarted in the middle of a sweep: the sweep finishes, nothing stays
RUNNING, no completed trial is lost. Needs the local server and ``pg_ctlcluster`` (root);
under ``CI=true`` their absence fails the test."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from automl.run.budget import counts
from automl.store.storage import open_storage
from tests.helpers import missing, tiny_spec, write_yaml
from tests.helpers.processes import automl, finish, trials_of, wait_for

# It restarts the shared server: it runs alone, after the parallel run (see README).
pytestmark = [pytest.mark.slow, pytest.mark.alone]


def _cluster() -> list[str]:
    tool = shutil.which("pg_ctlcluster")
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not tool or not versions or os.geteuid() != 0:
        missing("restarting PostgreSQL needs pg_ctlcluster, /etc/postgresql and root")
    return [tool, "--skip-systemctl-redirect", versions[-1], "main"]


def _ready() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0


def test_a_sweep_outlives_a_postgres_restart(tmp_path: Path, postgres: str) -> None:
    cluster = _cluster()
    name = f"pg-restart-{uuid.uuid4().hex[:8]}"
    raw = tiny_spec(ensemble=0)
    raw["training"] = {"max_epochs": 8, "patience": None, "batch_size": 16}
    space = write_yaml(tmp_path / "s.yaml", raw)
    env = {"AUTOML_ARTIFACTS": str(tmp_path / "models")}
    args = ["--study", name, "--trials", "3", "--storage", postgres, "--in-process"]
    conductor = automl("tune", str(space), *args, env=env)
    try:

        def one_done_and_one_running() -> bool:
            trials = trials_of(name, postgres)
            return any(t.state == TrialState.COMPLETE for t in trials) and any(
                t.state == TrialState.RUNNING for t in trials
            )

        wait_for(one_done_and_one_running, 400, "a complete trial and a running one")
        done = {t.number: t.values for t in trials_of(name, postgres) if counts(t)}
        subprocess.run([*cluster, "restart"], check=True, timeout=120)
        finish(conductor, 400)
    finally:
        conductor.kill()
        if not _ready():
            subprocess.run([*cluster, "start"], check=False, timeout=120)
        wait_for(_ready, 60, "PostgreSQL to accept connections again")
    trials = trials_of(name, postgres)
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert {t.number: t.values for t in trials if t.number in done} == done
    assert sum(1 for t in trials if counts(t)) == 3
    optuna.delete_study(study_name=name, storage=open_storage(postgres))
