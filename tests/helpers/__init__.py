"""Helpers the test modules share: tiny specs, YAML files, missing services, started processes.

Test modules import these (``from tests.helpers import tiny_spec``) and never each other;
fixtures live in the ``conftest.py`` files. Submodules: ``make`` (small generated data
sets), ``sample_study`` (synthetic studies for reports), ``processes`` (the CLI as a
subprocess, waiting on a study) and ``browser`` (a report page opened in Chromium).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import pytest

REDIS_URL = os.environ.get("AUTOML_TEST_REDIS", "redis://127.0.0.1:6379")
PG_URL = os.environ.get("AUTOML_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

# Processes tests started; tests/conftest.py kills those still running after each test.
STARTED: list[subprocess.Popen[str]] = []


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


def write_yaml(path: Path, data: dict[str, Any] | str) -> Path:
    import yaml

    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def missing(message: str) -> NoReturn:
    """A service or tool a test needs is missing: fail under ``CI=true``, else skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
