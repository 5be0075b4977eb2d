"""Shared fixtures: tiny specs, isolated storage, a CLI runner."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def tiny_spec(**overrides: Any) -> dict[str, Any]:
    """A digits MLP space that trains in about a second a trial."""
    spec: dict[str, Any] = {
        "name": "tiny",
        "data": {"source": "digits"},
        "model": {"family": "mlp"},
        "search": {
            "n_layers": {"low": 1, "high": 2},
            "units": {"low": 16, "high": 48, "per_layer": True},
            "learning_rate": {"low": 3e-3, "high": 1e-2, "log": True},
        },
        "training": {"max_epochs": 4, "patience": 2, "batch_size": 64},
        "sampler": {"name": "random", "seed": 0},
        "pruner": {"name": "none"},
        "keep": 2,
    }
    spec.update(overrides)
    return spec


def mlp_hp(**changes: Any) -> dict[str, Any]:
    """Every mlp and training hyperparameter at its default, with ``changes`` applied."""
    import optuna

    from automl.search.spec import validate_spec
    from automl.search.suggest import suggest

    spec = validate_spec({"data": {"source": "digits"}, "model": {"family": "mlp"}})
    hp = suggest(optuna.trial.FixedTrial({}), spec)
    hp.update(changes)
    return hp


@pytest.fixture
def storage(tmp_path: Path) -> str:
    """A fresh embedded journal storage in a temporary folder."""
    return str(tmp_path / "studies" / "journal.log")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty working directory with no storage override."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOML_STORAGE", raising=False)
    monkeypatch.delenv("AUTOML_ARTIFACTS", raising=False)
    return tmp_path


def write_yaml(path: Path, data: dict[str, Any] | str) -> Path:
    import yaml

    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


REDIS_URL = os.environ.get("AUTOML_TEST_REDIS", "redis://127.0.0.1:6379")


def missing(message: str) -> NoReturn:
    """A service or tool a test needs is missing: fail under ``CI=true``, else skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def redis_url() -> str:
    """The Redis server at 127.0.0.1:6379; missing, it skips, or fails with ``CI=true``."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        missing(f"Redis at {REDIS_URL} is not reachable: {exc}")
    return REDIS_URL


STARTED: list[subprocess.Popen[str]] = []  # processes tests started; see the fixture below


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test() -> Iterator[None]:
    """Kill what a test started and left running (a failed assertion, a timeout): its
    workers notice their conductor is gone and stop too (automl.run.parent_watch)."""
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
