"""Fixed costs of a sweep: early workers, and a last evaluation that loads no model back."""

from __future__ import annotations

from pathlib import Path

import pytest

import automl
from automl.search.spec import validate_spec
from automl.store import storage
from automl.study import evaluate
from tests.helpers import tiny_spec


@pytest.mark.slow
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
    assert len(kept) >= 2 and kept <= set(record.test_metrics)  # best 2, plus cost fronts
    assert record.best_eval is not None and record.best_eval["layers"]
    # The evaluation (confusion matrix, layer table: kilobytes) is an artifact; the study
    # attribute only names it, so Optuna's own tools list the study in a short line.
    assert set(sweep.study.user_attrs["best_eval"]) == {"trial", "artifact"}
    assert record.best_eval["confusion"] and record.best_eval["trial"] == sweep.best_trial.number
    # Only the kept models' outputs stay cached.
    ours = [n for (study, n) in evaluate._OUTPUTS if study[0] == url]
    assert {str(n) for n in ours} == kept


@pytest.mark.slow
def test_finalize_matches_the_saved_models(tmp_path: Path) -> None:
    spec = validate_spec(tiny_spec(training={"max_epochs": 1}, keep=1))
    url = str(tmp_path / "journal.log")
    sweep = automl.tune(spec, trials=2, storage=url, in_process=True)
    evaluate._OUTPUTS.clear()  # as in a fresh process: load the saved model
    number = sweep.best_trial.number
    cached = dict(sweep.test_metrics)
    sweep.study.set_user_attr(f"test_metrics:{number}", None)  # as if never evaluated
    from automl.study.context import open_context

    results = evaluate.finalize(open_context(sweep.study_name, url))
    assert results[str(number)] == pytest.approx(cached, rel=1e-5)


def test_early_workers_are_stopped_when_the_study_cannot_be_made(tmp_path: Path) -> None:
    import psutil

    from automl.errors import DataError

    spec = validate_spec(tiny_spec(data={"source": str(tmp_path / "missing.csv")}))
    with pytest.raises(DataError, match="data file not found"):
        automl.tune(spec, trials=1, storage=str(tmp_path / "journal.log"))
    children = psutil.Process().children(recursive=True)
    assert not [p for p in children if "--wait-study" in " ".join(p.cmdline())]


@pytest.mark.slow
def test_early_workers_run_the_new_study(tmp_path: Path) -> None:
    spec = validate_spec(tiny_spec(training={"max_epochs": 1}))
    sweep = automl.tune(spec, trials=2, storage=str(tmp_path / "journal.log"))
    record = sweep.record()
    assert [t.state for t in record.trials] == ["COMPLETE", "COMPLETE"]
    assert len({t.worker for t in record.trials}) == 1 and record.test_metrics


@pytest.mark.slow
def test_cached_outputs_never_cross_storages(tmp_path: Path) -> None:
    # Two storages each hold a study with id 0 and trials 0 and 1; this process trained
    # the first one's models, a worker process the second's.
    from automl.study.context import open_context

    spec = validate_spec(tiny_spec(training={"max_epochs": 1}, keep=2))
    a = automl.tune(spec, trials=2, storage=str(tmp_path / "a.log"), in_process=True)
    url = str(tmp_path / "b.log")
    b = automl.tune(spec.replace(**{"data.source": "wine"}), trials=2, storage=url)
    assert storage.study_id(a.study) == storage.study_id(b.study)
    expected = b.record().test_metrics
    for number in expected:  # as if never evaluated
        b.study.set_user_attr(f"test_metrics:{number}", None)
    b.study.set_user_attr("best_eval", None)
    results = evaluate.finalize(open_context(b.study_name, url))  # loads b's own models
    assert results.keys() == expected.keys()
    for number, metrics in expected.items():
        assert results[number] == pytest.approx(metrics, rel=1e-5)
