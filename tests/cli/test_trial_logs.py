"""Trial logs: what a build function prints reaches ``automl logs``, a failure's traceback
ends its log and shows in ``best --verbose`` and the report; passwords never reach a log,
and a log planted as a link in the (untrusted) artifact folder is never read."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from automl.cli.main import app
from automl.run.worker import Limits, work
from automl.store.storage import artifact_dir
from automl.study.context import open_context
from tests.helpers import own_code
from tests.helpers.sample_study import make_study

BUILD = """
import sys

import keras


def build_model(hp, input_shape, n_classes):
    units = hp.Int("units", 4, 8, step=4)
    print(f"building units={units}")
    print("a warning of my own", file=sys.stderr)
    print("connecting to postgresql://me:s3cret-pw@db.example/x")
    if units == 8:
        raise ValueError("eight is too many")
    model = keras.Sequential([keras.Input(input_shape)])
    model.add(keras.layers.Dense(units, activation="relu"))
    model.add(keras.layers.Dense(n_classes, activation="softmax"))
    return model
"""
runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Study ``logged``: trial 0 completes, trial 1's build raises; run by a worker loop
    that keeps logs, as ``automl worker`` runs it."""
    root = tmp_path_factory.mktemp("logs")
    url = str(root / "studies" / "journal.log")
    (root / "models.py").write_text(BUILD, encoding="utf-8")
    study = own_code.make(f"{root / 'models.py'}:build_model", "logged", url)
    study.enqueue_trial({"units": 4})
    study.enqueue_trial({"units": 8})
    work(open_context("logged", url), Limits(max_trials=2), logs=True)
    return {"url": url, "root": root}


def test_automl_logs_shows_what_the_build_function_printed(logged: dict[str, Any]) -> None:
    code, out = cli("logs", "logged", "0", "--storage", logged["url"])
    assert code == 0, out
    assert "building units=4" in out
    assert "a warning of my own" in out
    assert "Traceback" not in out  # trial 1's failure is in trial 1's log only


def test_a_failed_trials_log_ends_with_its_traceback(logged: dict[str, Any]) -> None:
    code, out = cli("logs", "logged", "1", "--storage", logged["url"], "--tail", "2")
    assert code == 0, out
    assert out.splitlines()[-1] == "ValueError: eight is too many"
    assert len(out.splitlines()) == 2


def test_best_verbose_shows_the_failure_with_the_end_of_its_log(logged: dict[str, Any]) -> None:
    code, out = cli("best", "logged", "--verbose", "--storage", logged["url"])
    assert code == 0, out
    assert "trial 1 (error): ValueError: eight is too many" in out
    assert "| ValueError: eight is too many" in out
    code, plain = cli("best", "logged", "--storage", logged["url"])
    assert "eight is too many" not in plain


def test_the_report_links_the_logs_and_shows_a_failures_end(logged: dict[str, Any]) -> None:
    page = logged["root"] / "report.html"
    code, out = cli("report", "logged", "-o", str(page), "--storage", logged["url"])
    assert code == 0, out
    html = page.read_text(encoding="utf-8")
    folder = artifact_dir(logged["url"]) / "logs" / "logged"
    for n in (0, 1):
        assert f'href="{(folder / f"trial-{n}.log").resolve().as_uri()}"' in html
    tail = html.split('<pre class="log-tail">', 1)[1].split("</pre>", 1)[0]
    assert tail.startswith("  File ") or "\n" in tail
    assert tail.endswith("ValueError: eight is too many")


def test_passwords_never_reach_a_log(logged: dict[str, Any]) -> None:
    stored = artifact_dir(logged["url"]) / "logs" / "logged" / "trial-0.log"
    text = stored.read_text(encoding="utf-8")
    assert "postgresql://me:***@db.example/x" in text
    assert "s3cret-pw" not in text


def test_a_log_planted_as_a_link_is_never_read(tmp_path: Path) -> None:
    url = str(tmp_path / "studies" / "journal.log")
    make_study(url, "s", n_trials=2, states=["FAIL", "FAIL"])
    secret = tmp_path / "private.txt"
    secret.write_text("top secret\n", encoding="utf-8")
    folder = artifact_dir(url) / "logs" / "s"
    folder.mkdir(parents=True)
    os.symlink(secret, folder / "trial-0.log")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "trial-1.log").write_text("top secret\n", encoding="utf-8")
    os.symlink(elsewhere, artifact_dir(url) / "logs" / "t")  # a study's folder as a link
    code, out = cli("logs", "s", "0", "--storage", url)
    assert code == 1 and "top secret" not in out
    assert out.startswith("error: trial 0 of study 's' has no log")
    code, out = cli("best", "s", "--verbose", "--storage", url)
    assert "top secret" not in out and "failed trials: 2" in out
    from automl.store import logs

    assert logs.read(url, "t", 1) is None
    assert logs.study_logs(url, "t", [1]).files == {}


@pytest.mark.slow  # a sweep with a worker process (it imports the framework)
def test_a_sweep_with_workers_keeps_each_trials_log(in_tmp: Path) -> None:
    (in_tmp / "models.py").write_text(BUILD.replace("if units == 8", "if False"))
    code, out = cli(
        "tune", "models.py:build_model", "--data", "digits", "--trials", "1", "--study", "w",
        "--set", "training.max_epochs=1", "--no-report",
    )  # fmt: skip
    assert code == 0, out
    code, out = cli("logs", "w", "0")
    assert code == 0 and "building units=" in out and "a warning of my own" in out
