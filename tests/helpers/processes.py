"""The CLI run as a subprocess, and waiting on what it writes to a study."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

import optuna
from optuna.trial import FrozenTrial

from tests.helpers import STARTED


def automl(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    extra = ["--no-report"] if args[0] == "tune" else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl", *args, *extra],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    STARTED.append(proc)  # killed after the test if still running
    return proc


def trials_of(name: str, url: str) -> list[FrozenTrial]:
    try:
        return optuna.load_study(study_name=name, storage=_storage(url)).get_trials()
    except KeyError:
        return []


def _storage(url: str) -> optuna.storages.BaseStorage:
    from automl.store.storage import open_storage

    return open_storage(url)


def wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def finish(proc: subprocess.Popen[str], timeout: float) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    return out
