"""The README's main job: a digits_cnn sweep from the CLI reaches 0.95 test accuracy; grown
to 30 trials, its report opens in a real browser with every section and figure drawn."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import automl
from automl.cli import app
from tests.reports.test_browser import check_page, chromium  # noqa: F401 - fixture

pytestmark = pytest.mark.slow

SECTIONS = (
    "Leaderboard",
    "Optimization history",
    "Learning curves",
    "Parameters",
    "Model comparison",
    "Best model on the test split",
)


def test_digits_cnn_main_job_and_its_report(in_tmp: Path, chromium: str) -> None:  # noqa: F811
    result = CliRunner().invoke(app, ["tune", "digits_cnn", "--trials", "10"])
    assert result.exit_code == 0, result.output
    assert "best: trial" in result.output and "test: accuracy" in result.output
    sweep = automl.load("digits_cnn")
    assert len(sweep.study.trials) == 10
    assert sweep.test_metrics["accuracy"] >= 0.95
    assert "report: reports/digits_cnn.html" in result.output

    result = CliRunner().invoke(app, ["tune", "digits_cnn", "--resume", "--trials", "20"])
    assert result.exit_code == 0, result.output
    assert len(automl.load("digits_cnn").study.trials) == 30
    report = in_tmp / "reports" / "digits_cnn.html"
    scan = check_page(chromium, report, in_tmp)
    assert len(scan.plots) >= 10
    text = report.read_text(encoding="utf-8")
    assert all(section in text for section in SECTIONS)
