"""SIGTERM (what Kubernetes and Slurm send) stops a sweep cleanly; workers are recycled."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from optuna.trial import TrialState

from tests.helpers import tiny_spec, write_yaml
from tests.helpers.processes import automl, trials_of, wait_for

pytestmark = pytest.mark.slow


def test_sigterm_stops_the_sweep_keeping_its_trials_and_workers_are_recycled(
    tmp_path: Path,
) -> None:
    raw = tiny_spec(ensemble=0)
    raw["training"] = {"max_epochs": 8, "patience": None, "batch_size": 16}
    space = write_yaml(tmp_path / "s.yaml", raw)
    url = str(tmp_path / "j.log")
    args = ["--trials", "4", "--workers", "1", "--max-trials-per-worker", "1"]
    proc = automl("tune", str(space), "--study", "t", "--storage", url, *args)
    try:

        def one_done_and_one_running() -> bool:
            trials = trials_of("t", url)
            done = [t for t in trials if t.state == TrialState.COMPLETE]
            return len(done) >= 1 and any(t.state == TrialState.RUNNING for t in trials)

        wait_for(one_done_and_one_running, 400, "a complete trial and a running one")
        done_before = {t.number for t in trials_of("t", url) if t.state == TrialState.COMPLETE}
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert time.monotonic() - start < 30, out
    assert proc.returncode != 0 and "Traceback" not in out, out
    trials = trials_of("t", url)
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert done_before <= {t.number for t in trials if t.state == TrialState.COMPLETE}
    (cut,) = [t for t in trials if t.user_attrs.get("fail_reason") == "interrupted"]
    # The interrupted trial waits, queued again with its parameters, for --resume.
    waiting = [t for t in trials if t.state == TrialState.WAITING]
    assert [t.user_attrs.get("retry_of") for t in waiting] == [cut.number]
    # --max-trials-per-worker 1: every trial ran in a fresh worker process.
    workers = [t.user_attrs["worker"] for t in trials if t.state != TrialState.WAITING]
    assert len(set(workers)) == len(workers), workers


def test_a_worker_stops_after_its_trial_limit_or_past_its_memory_limit(tmp_path: Path) -> None:
    from automl.run.worker import Limits, work
    from automl.search.catalog import load_spec
    from automl.study import create as study
    from automl.study.context import open_context

    raw = tiny_spec(ensemble=0)
    raw["training"] = {"max_epochs": 1, "batch_size": 64}
    url = str(tmp_path / "j.log")
    study.create(load_spec(write_yaml(tmp_path / "s.yaml", raw)), "w", url)
    ctx = open_context("w", url)
    ctx.study.set_user_attr("target_trials", 5)
    assert work(ctx, Limits(max_trials=1)) == "max_trials"
    assert len(ctx.study.trials) == 1
    # A bound below any process's size: it stops after one trial, never before the first.
    assert work(ctx, Limits(max_memory_mb=1)) == "memory"
    assert len(ctx.study.trials) == 2
