"""Sweeps end to end on tiny data: tune, resume, fail, keep, pick, export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from optuna.trial import TrialState
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.errors import NoModelError, StudyExistsError
from automl.search.spec import validate_spec
from automl.store.storage import artifact_dir
from tests.helpers import tiny_spec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> automl.Sweep:
    """One 5-trial sweep whose first trial has an absurd learning rate."""
    url = str(tmp_path_factory.mktemp("sweep") / "journal.log")
    spec = validate_spec(tiny_spec(enqueue=[{"learning_rate": 1.0e4}]))
    outcomes: list = []
    sweep = automl.tune(spec, trials=5, storage=url, study="exp", on_trial=outcomes.append)
    assert [o.number for o in outcomes] == [0, 1, 2, 3, 4]
    return sweep


def test_absurd_learning_rate_fails_with_nan_and_the_sweep_goes_on(swept: automl.Sweep) -> None:
    trials = swept.study.trials
    assert trials[0].state == TrialState.FAIL
    assert trials[0].user_attrs["fail_reason"] == "nan"
    assert all(t.state == TrialState.COMPLETE for t in trials[1:])


def test_results_and_leaderboard(swept: automl.Sweep) -> None:
    assert set(swept.best_params) >= {"learning_rate", "n_layers"}
    assert 0.5 < swept.best_value <= 1.0
    assert 0.5 < swept.test_metrics["accuracy"] <= 1.0
    board = swept.leaderboard()
    for col in (
        "number",
        "state",
        "val_accuracy",
        "test_accuracy",
        "duration_s",
        "params_count",
        "latency_ms",
        "epochs",
        "param_learning_rate",
        "fail_reason",
    ):
        assert col in board.columns
    assert len(board) == 5
    assert board.iloc[0]["number"] == swept.best_trial.number
    assert board.iloc[-1]["state"] == "FAIL"
    done = board[board.state == "COMPLETE"]
    assert list(done["val_accuracy"]) == sorted(done["val_accuracy"], reverse=True)


def test_history_is_stored_per_epoch(swept: automl.Sweep) -> None:
    best = swept.best_trial
    frozen = swept.study.trials[best.number]
    assert len(best.history["val_accuracy"]) == best.epochs == len(frozen.intermediate_values)


def test_only_kept_models_stay_on_disk(swept: automl.Sweep) -> None:
    board = swept.leaderboard()
    saved = board[board.model_saved]
    assert swept.best_trial.number in set(saved["number"])
    files = [
        p
        for p in artifact_dir(swept.storage).iterdir()
        if p.is_file() and not p.name.startswith(("split", ".", "best-eval"))
    ]
    assert len(files) == len(saved) < 5


def test_best_model_export_and_load_agree(swept: automl.Sweep, tmp_path: Path) -> None:
    import keras

    model = swept.best_model()
    out = tmp_path / "best.keras"
    result = CliRunner().invoke(
        app, ["export", "exp", "--out", str(out), "--storage", swept.storage]
    )
    assert result.exit_code == 0, result.output
    again = keras.saving.load_model(out, safe_mode=True)
    x = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")
    assert np.allclose(model.predict(x, verbose=0), again.predict(x, verbose=0), atol=1e-6)


def test_pick_respects_constraints(swept: automl.Sweep) -> None:
    board = swept.leaderboard()
    done = board[board.state == "COMPLETE"]
    limit = int(done["params_count"].min())
    picked = swept.pick_trial(max_params=limit)
    assert picked.params_count is not None and picked.params_count <= limit
    model = swept.pick(max_params=limit)
    assert model.count_params() <= limit
    with pytest.raises(NoModelError):
        swept.pick(max_params=1)
    fastest = min(t.latency_ms or 0 for t in swept.record(models=False).complete)
    assert fastest > 0
    quick = swept.pick_trial(max_latency_ms=fastest)
    assert quick.latency_ms is not None and quick.latency_ms <= fastest
    assert swept.pick(max_latency_ms=fastest).count_params() == quick.params_count
    with pytest.raises(NoModelError):
        swept.pick(max_latency_ms=fastest / 2)


def test_cli_best_and_studies(swept: automl.Sweep) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["best", "exp", "--storage", swept.storage])
    assert (
        result.exit_code == 0 and "best trial" in result.output and "test accuracy" in result.output
    )
    result = runner.invoke(app, ["studies", "--storage", swept.storage])
    assert result.exit_code == 0 and "exp" in result.output


def test_resume_continues_numbering_and_keeps_earlier_trials(storage: str, in_tmp: Path) -> None:
    spec = validate_spec(tiny_spec())
    first = automl.tune(spec, trials=2, storage=storage, study="r")
    before = [
        (t.number, t.state, t.params, t.values, t.datetime_complete) for t in first.study.trials
    ]
    with pytest.raises(StudyExistsError):
        automl.tune(spec, trials=1, storage=storage, study="r")
    result = CliRunner().invoke(
        app, ["tune", "r", "--resume", "--trials", "2", "--storage", storage]
    )
    assert result.exit_code == 0, result.output
    assert (in_tmp / "reports" / "r.html").is_file()  # the CLI refreshes the report
    after = automl.load("r", storage).study.trials
    assert [t.number for t in after] == [0, 1, 2, 3]
    assert [
        (t.number, t.state, t.params, t.values, t.datetime_complete) for t in after[:2]
    ] == before
    # a resumed seeded study does not replay the same draws
    assert after[2].params != after[0].params


def test_default_storage_is_the_working_directory(in_tmp: Path) -> None:
    spec = validate_spec(tiny_spec(training={"max_epochs": 1}))
    a = automl.tune(spec, trials=1)
    b = automl.tune(spec, trials=1)
    assert (a.study_name, b.study_name) == ("tiny", "tiny-2")
    assert (in_tmp / "automl_studies" / "journal.log").is_file()
    assert set(automl.studies()["study"]) == {"tiny", "tiny-2"}


def test_regression_sweep(storage: str) -> None:
    spec = validate_spec(
        tiny_spec(data={"source": "diabetes"}, objective="val_rmse", training={"max_epochs": 3})
    )
    sweep = automl.tune(spec, trials=2, storage=storage)
    assert sweep.task == "regression" and sweep.directions == ["minimize"]
    assert {"mae", "rmse", "r2"} <= set(sweep.test_metrics)
    assert sweep.best_value > 10  # RMSE in target units (the target spans about 25..346)


def test_multi_objective_pareto(storage: str) -> None:
    spec = validate_spec(
        tiny_spec(objective=["val_accuracy", "params_count"], training={"max_epochs": 2})
    )
    sweep = automl.tune(spec, trials=3, storage=storage)
    assert sweep.directions == ["maximize", "minimize"]
    assert 1 <= len(sweep.pareto_front) <= 3
    assert sweep.best_model() is not None


def test_preprocess_turns_raw_rows_into_model_inputs(storage: str, tmp_path: Path) -> None:
    import pandas as pd

    from tests.helpers.make import mixed_csv

    path = mixed_csv(tmp_path / "people.csv", n=90)
    spec = validate_spec(tiny_spec(data={"source": str(path)}, training={"max_epochs": 2}))
    sweep = automl.tune(spec, trials=1, storage=storage, in_process=True)
    rows = pd.read_csv(path).drop(columns="label")
    x = sweep.preprocess(rows.head(5))
    assert x.shape == (5, 5) and not np.isnan(x).any()
    out = sweep.best_model().predict(x, verbose=0)
    assert out.shape == (5, 2)
    digits = automl.tune(
        validate_spec(tiny_spec(training={"max_epochs": 1})),
        trials=1,
        storage=storage,
        in_process=True,
    )
    assert digits.preprocess(np.full((1, 8, 8, 1), 16.0)).max() == 1.0  # pixels / 16
    # sklearn's flat (n, 64) rows are not this study's samples: one clear error, and the
    # next right call still works.
    with pytest.raises(automl.AutoMLError, match=r"shape \(64,\).*takes \(8, 8, 1\)"):
        digits.preprocess(np.zeros((2, 64)))
    assert digits.preprocess(np.zeros((2, 8, 8, 1))).shape == (2, 8, 8, 1)
