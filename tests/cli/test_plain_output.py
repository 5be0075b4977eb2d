"""What the CLI prints fits a terminal and says what it means: widths, labels, help, JSON."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from automl import __version__
from automl.cli.main import app
from automl.cli.output import studies_table
from tests.helpers import tiny_spec, write_yaml

runner = CliRunner()


def test_spaces_fit_80_columns_with_the_family_whole() -> None:
    result = runner.invoke(app, ["spaces"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert all(line == line.rstrip() for line in lines)
    ratings = next(line for line in lines if line.startswith("ratings_mf"))
    assert ratings.split()[1] == "recommender"


def test_studies_table_labels_each_best_value_with_its_metric() -> None:
    frame = pd.DataFrame(
        [
            ["a-classifier", "digits_cnn", "cnn", "classification", "val_accuracy"]
            + [9, 1, 0, 0, 0.98],
            ["a-regressor", "diabetes_mlp", "mlp", "regression", "val_rmse"] + [9, 1, 0, 0, 53.2],
        ],
        columns=["study", "space", "family", "task", "objective"]
        + ["COMPLETE", "PRUNED", "FAIL", "RUNNING", "best"],
    )
    console = Console(width=80, record=True)
    console.print(studies_table(frame, 80))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "val_accuracy 0.98" in text and "val_rmse 53.2" in text


def test_help_shows_values_only_where_options_take_one() -> None:
    result = runner.invoke(app, ["tune", "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert "<bool>" not in result.output and "list[str]" not in result.output
    assert "--set KEY=VALUE" in result.output
    for command in ("best", "export", "recommend"):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "100"})
        assert "The study's name" in result.output, command


def test_version_is_the_installed_distribution_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"automl {__version__}"
    assert importlib.metadata.version("keras-automl") == __version__


def test_project_metadata_is_complete() -> None:
    meta = importlib.metadata.metadata("keras-automl")
    assert meta["License-Expression"] == "Apache-2.0"
    assert any(
        c.startswith("Programming Language :: Python :: 3") for c in meta.get_all("Classifier")
    )
    # One version: pyproject takes it from automl/_version.py.
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and "\nversion =" not in pyproject


@pytest.mark.slow  # trains a 2-trial sweep
def test_tune_json_is_one_summary_document(tmp_path: Path) -> None:
    space = write_yaml(tmp_path / "s.yaml", tiny_spec(training={"max_epochs": 2, "batch_size": 64}))
    storage = str(tmp_path / "journal.log")
    result = runner.invoke(
        app,
        ["tune", str(space), "--trials", "2", "--storage", storage, "--in-process"]
        + ["--no-report", "--json"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # the whole of stdout is one document
    assert doc["study"] == "tiny" and doc["trials"]["COMPLETE"] == 2 and doc["report"] is None
    best = doc["best"]
    assert best["trial"] in (0, 1) and "val_accuracy" in best["validation"]
    assert isinstance(best["params_count"], int) and "accuracy" in best["test"]
