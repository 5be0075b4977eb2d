"""Fixtures for report tests: synthetic studies written straight through Optuna."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import automl
from automl.api import Sweep
from tests.helpers.sample_study import make_study


@pytest.fixture
def journal(tmp_path: Path) -> str:
    """A fresh journal storage file for report studies."""
    return str(tmp_path / "studies" / "journal.log")


@pytest.fixture
def make_sweep(journal: str) -> Callable[..., Sweep]:
    """Create a synthetic study (see ``make_study``) and return it as a loaded Sweep."""

    def make(name: str = "study", **kwargs: Any) -> Sweep:
        make_study(journal, name, **kwargs)
        return automl.load(name, journal)

    return make
