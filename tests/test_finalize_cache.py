"""The last worker evaluates kept models on test without loading them back from disk."""

from __future__ import annotations

from pathlib import Path

import pytest

import automl
from automl import evaluate, storage
from automl.spec import validate_spec
from tests.conftest import tiny_spec


def test_finalize_uses_outputs_of_models_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("a kept model was loaded back from disk")

    monkeypatch.setattr(storage, "load_model", no_load)
    spec = validate_spec(tiny_spec(training={"max_epochs": 1}, keep=2))
    url = str(tmp_path / "journal.log")
    sweep = automl.tune(spec, trials=3, storage=url, in_process=True)
    record = sweep.record()
    kept = {str(t.number) for t in record.trials if t.has_model}
    assert len(kept) == 2 and kept <= set(record.test_metrics)
    assert record.best_eval is not None and record.best_eval["layers"]
    # Only the kept models' outputs stay cached.
    sid = storage.study_id(sweep.study)
    assert {str(n) for s, n in evaluate._OUTPUTS if s == sid} == kept


def test_finalize_matches_the_saved_models(tmp_path: Path) -> None:
    spec = validate_spec(tiny_spec(training={"max_epochs": 1}, keep=1))
    url = str(tmp_path / "journal.log")
    sweep = automl.tune(spec, trials=2, storage=url, in_process=True)
    evaluate._OUTPUTS.clear()  # as in a fresh process: load the saved model
    number = sweep.best_trial.number
    cached = dict(sweep.test_metrics)
    sweep.study.set_user_attr("test_metrics", {})
    from automl.context import open_context

    results = evaluate.finalize(open_context(sweep.study_name, url))
    assert results[str(number)] == pytest.approx(cached, rel=1e-5)
