"""Promises of the CLI and storages that had no test: one-line errors, env storages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from automl.cli.main import app
from tests.helpers import tiny_spec, write_yaml

runner = CliRunner()


def test_worker_on_an_unknown_study_is_one_line(in_tmp: Path) -> None:
    result = runner.invoke(app, ["worker", "nope", "--storage", str(in_tmp / "j.log")])
    out = result.output.strip()
    assert result.exit_code != 0 and len(out.splitlines()) == 1
    assert "no study 'nope'" in out and "Traceback" not in out


def test_seed_cannot_change_on_resume(in_tmp: Path) -> None:
    result = runner.invoke(app, ["tune", "any", "--resume", "--seed", "3", "--trials", "1"])
    assert result.exit_code != 0
    assert result.output.strip() == "error: --seed cannot change the seed of an existing study"


@pytest.mark.slow
def test_sqlite_storage_and_artifacts_from_the_environment(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl import sweeps

    monkeypatch.setenv("AUTOML_STORAGE", f"sqlite:///{in_tmp / 'db' / 'studies.sqlite'}")
    monkeypatch.setenv("AUTOML_ARTIFACTS", str(in_tmp / "models"))
    spec = write_yaml(in_tmp / "s.yaml", tiny_spec(training={"max_epochs": 1}))
    sweep = sweeps.tune(spec, trials=2, in_process=True, report=False)
    assert (in_tmp / "db" / "studies.sqlite").exists()
    assert [t.state for t in sweep.record().trials] == ["COMPLETE", "COMPLETE"]
    assert list((in_tmp / "models").iterdir()) and not (in_tmp / "automl_studies").exists()
    assert sweep.best_model() is not None


def _tune(*args: str) -> Any:
    result = runner.invoke(app, ["tune", *args, "--in-process"])
    assert result.exit_code == 0, result.output
    return result


def _space(folder: Path, **training: Any) -> str:
    raw = tiny_spec(ensemble=0)
    raw["training"] = {"max_epochs": 1, "batch_size": 64, **training}
    return str(write_yaml(folder / "s.yaml", raw))


@pytest.mark.slow
def test_timeout_ends_the_sweep_and_max_retries_is_stored_and_caps_retries(
    in_tmp: Path,
) -> None:
    import automl
    from automl.run import budget
    from automl.store import records

    _tune(_space(in_tmp), "--study", "t", "--trials", "500", "--timeout", "4")
    _tune(_space(in_tmp), "--study", "t", "--resume", "--trials", "1", "--max-retries", "1")
    sweep = automl.load("t")
    trials = sweep.study.get_trials()
    assert 1 < len(trials) < 500  # --timeout stopped it long before 500 trials
    assert sweep.study.user_attrs["max_retries"] == 1
    lost = trials[0]
    assert budget.requeue(sweep.study, lost)  # a first retry is allowed
    lost.user_attrs[records.RETRY] = 1
    assert not budget.requeue(sweep.study, lost)  # a second one passes --max-retries 1


@pytest.mark.slow
def test_seed_makes_a_sweep_repeatable(in_tmp: Path) -> None:
    import automl

    space = _space(in_tmp)
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        _tune(space, "--study", name, "--trials", "1", "--seed", seed, "--no-report")
    a, b, c = ([t.params for t in automl.load(n).study.trials] for n in "abc")
    assert a == b and a != c


@pytest.mark.slow
def test_report_every_refreshes_no_report_writes_nothing_and_export_a_trial(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras

    import automl
    from automl import sweeps

    seen: list[int] = []
    real = sweeps._write_report

    def spy(sweep: Any, report: Any) -> Any:
        seen.append(sum(t.state == "COMPLETE" for t in sweep.record(models=False).trials))
        return real(sweep, report)

    monkeypatch.setattr(sweeps, "_write_report", spy)
    _tune(_space(in_tmp), "--study", "r", "--trials", "2", "--report-every", "1")
    assert seen == [1, 2, 2]  # after each trial, and at the end
    assert (in_tmp / "reports" / "r.html").exists()
    sweep = automl.load("r")
    (other,) = [t for t in sweep.record().trials if t.number != sweep.best_trial.number]
    result = runner.invoke(app, ["export", "r", "--trial", str(other.number), "--out", "o.keras"])
    assert result.exit_code == 0, result.output
    assert keras.saving.load_model(in_tmp / "o.keras").count_params() == other.params_count
    assert other.params_count != sweep.best_trial.params_count

    seen.clear()
    (in_tmp / "reports" / "r.html").unlink()
    _tune("r", "--resume", "--trials", "1", "--no-report")
    assert seen == [] and not list((in_tmp / "reports").iterdir())


@pytest.mark.slow
def test_a_sweep_on_redis_keeps_its_trials_and_models(
    in_tmp: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    import optuna

    import automl
    from automl.store.storage import open_storage

    name = f"redis-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("AUTOML_ARTIFACTS", str(in_tmp / "models"))
    try:
        _tune(_space(in_tmp), "--study", name, "--trials", "2", "--storage", redis_url)
        sweep = automl.load(name, redis_url)
        assert [t.state for t in sweep.record().trials] == ["COMPLETE", "COMPLETE"]
        assert sweep.best_model() is not None and list((in_tmp / "models").iterdir())
    finally:
        optuna.delete_study(study_name=name, storage=open_storage(redis_url))
