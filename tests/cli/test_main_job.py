"""The README's main job: a digits_cnn sweep from the CLI reaches 0.95 test accuracy; grown
by a resume, its report opens in a real browser with every section and figure drawn."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from tests.helpers.browser import check_page

pytestmark = pytest.mark.slow

SECTIONS = (
    "Leaderboard",
    "Optimization history",
    "Learning curves",
    "Parameters",
    "Model comparison",
    "Best model on the test split",
)


@pytest.fixture(scope="module")
def main_job(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """The main job, run once: ``automl tune digits_cnn --trials 10`` in a fresh folder."""
    folder = tmp_path_factory.mktemp("main_job")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.delenv("AUTOML_STORAGE", raising=False)
        mp.delenv("AUTOML_ARTIFACTS", raising=False)
        result = CliRunner().invoke(app, ["tune", "digits_cnn", "--trials", "10"])
    return folder, result.exit_code, result.output


@pytest.fixture
def in_main_job(main_job: tuple[Path, int, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(main_job[0])
    monkeypatch.delenv("AUTOML_STORAGE", raising=False)
    monkeypatch.delenv("AUTOML_ARTIFACTS", raising=False)
    return main_job[0]


# Apart from the browser test, so a machine without Chromium still checks the accuracy.
def test_digits_cnn_main_job_reaches_its_accuracy(
    main_job: tuple[Path, int, str], in_main_job: Path
) -> None:
    _, code, output = main_job
    assert code == 0, output
    assert "best: trial" in output and "test: accuracy" in output
    sweep = automl.load("digits_cnn")
    assert len(sweep.study.trials) == 10
    assert sweep.test_metrics["accuracy"] >= 0.95
    assert "report: reports/digits_cnn.html" in output


def test_digits_cnn_main_job_report_grown_by_a_resume_in_a_browser(
    main_job: tuple[Path, int, str],
    in_main_job: Path,
    chromium: str,
) -> None:
    assert main_job[1] == 0, main_job[2]
    result = CliRunner().invoke(app, ["tune", "digits_cnn", "--resume", "--trials", "4"])
    assert result.exit_code == 0, result.output
    assert len(automl.load("digits_cnn").study.trials) == 14
    report = in_main_job / "reports" / "digits_cnn.html"
    scan = check_page(chromium, report, in_main_job)
    assert len(scan.plots) >= 10
    text = report.read_text(encoding="utf-8")
    assert all(section in text for section in SECTIONS)
