"""Framework log lines never reach the terminal without --debug.

TensorFlow writes absl, oneDNN and CUDA lines from C++ while it is imported, before Python
can stop them. Each test runs the command as a user does: a fresh process whose
environment does not hold the TF_CPP_MIN_LOG_LEVEL that tests/conftest.py sets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# A user's environment: nothing asks the frameworks to be quiet.
USER_ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def automl(cwd: Path, *args: str) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "automl", *args],
        cwd=cwd,
        env=USER_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, (done.stdout + done.stderr).splitlines()


@pytest.mark.slow  # a fresh process imports TensorFlow (about 10 s)
def test_a_model_file_that_imports_keras_fails_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "my_models.py").write_text("import keras\n\n\ndef build(hp):\n    return None\n")
    code, lines = automl(tmp_path, "tune", "my_models.py:no_such_function", "--data", "digits")
    path = (tmp_path / "my_models.py").resolve()
    assert (code, lines) == (2, [f"error: {path}: no 'no_such_function' in it; it defines build"])


@pytest.mark.slow  # a fresh process imports TensorFlow and loads two models
def test_export_of_an_ensemble_prints_one_line(tmp_path: Path) -> None:
    from tests.helpers.saved_models import add_saved_trial, study_with_model

    url = str(tmp_path / "studies" / "journal.log")
    study, _ = study_with_model(url)
    add_saved_trial(study, url, value=0.5)
    out = tmp_path / "ensemble.keras"
    code, lines = automl(
        tmp_path, "export", "s", "--ensemble", "2", "-o", str(out), "--storage", url
    )
    assert code == 0, lines
    assert "".join(lines) == f"wrote {out}"  # rich may wrap a long path, nothing more
