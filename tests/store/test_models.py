"""Saved models from an artifact folder others can write: a reader hands out only the file
its trial saved, loaded in Keras safe mode, and an id from the database is never a path."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.errors import NoModelError
from tests.helpers.saved_models import (
    add_saved_trial,
    replace_artifact,
    study_with_model,
    tiny_model,
)

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return str(tmp_path / "studies" / "journal.log")


def _export(url: str, out: Path, *more: str) -> tuple[int, str]:
    done = runner.invoke(app, ["export", "s", "--out", str(out), "--storage", url, *more])
    return done.exit_code, done.output


def test_export_writes_the_saved_model_and_refuses_one_with_code_in_it(
    tmp_path: Path, url: str
) -> None:
    study, aid = study_with_model(url)
    code, text = _export(url, tmp_path / "good.keras")
    assert code == 0, text
    assert (tmp_path / "good.keras").read_bytes() == (
        Path(url).parent / "artifacts" / aid
    ).read_bytes()
    replace_artifact(url, aid, tiny_model(lambda_layer=True))
    code, text = _export(url, tmp_path / "bad.keras")
    assert code == 5 and "refused" in text and "changed since it was saved" in text
    assert not (tmp_path / "bad.keras").exists()
    # No digest recorded (an older study): Keras safe mode still refuses the Lambda layer.
    number, other = add_saved_trial(study, url, value=2.0, digest=False)
    replace_artifact(url, other, tiny_model(lambda_layer=True))
    code, text = _export(url, tmp_path / "bad.keras", "--trial", str(number))
    assert code == 5 and "does not load in Keras safe mode" in text, text
    assert not (tmp_path / "bad.keras").exists()
    with pytest.raises(NoModelError, match="safe mode"):
        automl.load("s", url).model(number)


def test_a_model_swapped_for_another_is_refused(tmp_path: Path, url: str) -> None:
    _, aid = study_with_model(url)
    replace_artifact(url, aid, tiny_model(units=10))  # same shape, other weights: no code
    code, text = _export(url, tmp_path / "m.keras")
    assert code == 5 and "changed since it was saved" in text
    with pytest.raises(NoModelError, match="changed since it was saved"):
        automl.load("s", url).best_model()


def test_an_artifact_id_that_leaves_the_folder_is_no_model(tmp_path: Path, url: str) -> None:
    study_with_model(url, aid="../../etc/passwd")
    sweep = automl.load("s", url)
    best = sweep.best_trial
    assert best.artifact_id == "../../etc/passwd" and not best.has_model
    assert not sweep.record().trial(best.number).has_model
    code, text = _export(url, tmp_path / "m.keras")
    assert code == 5 and "has no saved model" in text, text
    done = runner.invoke(app, ["report", "s", "--storage", url, "-o", str(tmp_path / "r.html")])
    assert done.exit_code == 0, done.output
