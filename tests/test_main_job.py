"""The README's main job: a digits_cnn sweep from the CLI reaches 0.95 test accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import automl
from automl.cli import app

pytestmark = pytest.mark.slow


def test_digits_cnn_main_job(in_tmp: Path) -> None:
    result = CliRunner().invoke(app, ["tune", "digits_cnn", "--trials", "10"])
    assert result.exit_code == 0, result.output
    assert "best: trial" in result.output and "test: accuracy" in result.output
    sweep = automl.load("digits_cnn")
    assert len(sweep.study.trials) == 10
    assert sweep.test_metrics["accuracy"] >= 0.95
