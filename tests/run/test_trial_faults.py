"""Out of memory and a full disk fail one trial with its reason; the sweep goes on."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from automl import errors
from automl.store import storage
from automl.training import fit as training
from tests.helpers import tiny_spec, write_yaml


class ResourceExhaustedError(Exception):
    """Stands for tf.errors.ResourceExhaustedError (matched by name)."""


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (MemoryError(), "oom"),
        (ResourceExhaustedError("OOM when allocating tensor with shape[4096,4096]"), "oom"),
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), "oom"),
        (OSError(errno.ENOSPC, "No space left on device"), "disk_full"),
        (OSError(errno.EFBIG, "File too large"), "disk_full"),
        (OSError(errno.EACCES, "Permission denied"), "error"),
        (ValueError("shapes do not match"), "error"),
    ],
)
def test_failure_reasons(exc: BaseException, reason: str) -> None:
    assert errors.reason_of(exc) == reason


def _failing_once(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, exc: Exception) -> None:
    real = getattr(target, name)
    calls = {"n": 0}

    def once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, once)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "name", "exc", "reason"),
    [
        (training, "fit", MemoryError(), "oom"),
        (training, "fit", RuntimeError("boom in a layer"), "error"),
        (storage, "save_model", OSError(errno.ENOSPC, "No space left on device"), "disk_full"),
    ],
)
def test_a_trial_that_runs_out_fails_with_its_reason_and_the_sweep_goes_on(
    target: Any,
    name: str,
    exc: Exception,
    reason: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from automl import sweeps

    _failing_once(monkeypatch, target, name, exc)
    spec = write_yaml(tmp_path / "s.yaml", tiny_spec(training={"max_epochs": 1}))
    sweep = sweeps.tune(spec, trials=2, storage=str(tmp_path / "j.log"), in_process=True)
    trials = sweep.record().trials
    # An own failure counts toward --trials, like a diverged trial; the next one trains.
    assert [(t.state, t.fail_reason) for t in trials] == [("FAIL", reason), ("COMPLETE", "")]
    assert trials[1].has_model and sweep.best_trial.number == 1


def test_a_worker_process_exits_to_be_replaced_after_running_out_of_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl.run.worker import Limits, work
    from automl.search.catalog import load_spec
    from automl.study import create as study
    from automl.study.context import open_context

    url = str(tmp_path / "j.log")
    study.create(load_spec(write_yaml(tmp_path / "s.yaml", tiny_spec())), "oom", url)
    _failing_once(monkeypatch, training, "fit", MemoryError())
    ctx = open_context("oom", url)
    assert work(ctx, Limits(replace_after_oom=True)) == "oom"
    assert [t.user_attrs.get("fail_reason") for t in ctx.study.trials] == ["oom"]
