"""Ensemble, refit and folds through a whole sweep: API, CLI, report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.search.spec import validate_spec
from automl.training import callbacks
from tests.helpers import tiny_spec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def refitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[automl.Sweep, list[dict]]:
    """A 3-trial sweep with refit on; every ``Model.fit`` call is recorded."""
    url = str(tmp_path_factory.mktemp("quality") / "journal.log")
    calls: list[dict[str, Any]] = []
    original = keras.Model.fit

    def spy(self: keras.Model, x: Any = None, y: Any = None, **kw: Any) -> Any:
        calls.append({"n": len(x), "epochs": kw.get("epochs"), "val": "validation_data" in kw})
        return original(self, x, y, **kw)

    raw = tiny_spec(training={"max_epochs": 4, "patience": 1, "batch_size": 64, "refit": True})
    raw["search"]["lr_schedule"] = ["constant", "cosine"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(keras.Model, "fit", spy)
        sweep = automl.tune(validate_spec(raw), trials=3, storage=url, study="q", in_process=True)
    return sweep, calls


def test_refit_trains_on_train_and_validation_for_the_trials_best_epoch(
    refitted: tuple[automl.Sweep, list[dict]],
) -> None:
    sweep, calls = refitted
    record = sweep.record()
    refit = record.refit or {}
    best = sweep.best_trial
    sizes = record.data["sizes"]
    last = calls[-1]
    assert refit["trial"] == best.number and not last["val"]
    assert last["n"] == sizes["train"] + sizes["validation"] == refit["samples"]
    assert last["epochs"] == best.metrics["best_epoch"] == refit["epochs"]
    assert sweep.test_metrics["accuracy"] == refit["test"]["accuracy"]


def test_best_model_and_export_return_the_refit(
    refitted: tuple[automl.Sweep, list[dict]], tmp_path: Path
) -> None:
    sweep, _ = refitted
    x = np.random.default_rng(1).random((3, 8, 8, 1)).astype("float32")
    kept = sweep.model(sweep.best_trial.number)
    best = sweep.best_model()
    assert not np.allclose(best.predict(x, verbose=0), kept.predict(x, verbose=0))
    path = sweep.export(tmp_path / "m.keras")
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert np.allclose(loaded.predict(x, verbose=0), best.predict(x, verbose=0), atol=1e-6)


def test_ensemble_is_chosen_evaluated_and_exported(
    refitted: tuple[automl.Sweep, list[dict]], tmp_path: Path
) -> None:
    sweep, _ = refitted
    record = sweep.record()
    chosen = record.ensemble or {}
    assert set(chosen["members"]) <= set(chosen["candidates"]) and len(chosen["candidates"]) == 2
    assert chosen["val_loss"] <= chosen["single_val_loss"]
    assert 0 < sweep.test_metrics["ensemble"]["accuracy"] <= 1
    data = np.random.default_rng(0).random((5, 8, 8, 1)).astype("float32")
    model = sweep.ensemble(2)
    members = [sweep.model(n) for n in chosen["candidates"]]
    mean = np.mean([m.predict(data, verbose=0) for m in members], axis=0)
    assert np.allclose(model.predict(data, verbose=0), mean, atol=1e-5)
    result = CliRunner().invoke(
        app,
        [
            "export",
            "q",
            "--ensemble",
            "2",
            "--out",
            str(tmp_path / "e.keras"),
            "--storage",
            sweep.storage,
        ],
    )
    assert result.exit_code == 0, result.output
    loaded = keras.saving.load_model(tmp_path / "e.keras", safe_mode=True, compile=False)
    assert np.allclose(loaded.predict(data, verbose=0), mean, atol=1e-5)


def test_cli_best_and_report_show_refit_and_ensemble(
    refitted: tuple[automl.Sweep, list[dict]], tmp_path: Path
) -> None:
    sweep, _ = refitted
    result = CliRunner().invoke(app, ["best", "q", "--storage", sweep.storage])
    assert result.exit_code == 0, result.output
    assert "(refit on train + validation)" in result.output
    assert "test accuracy (ensemble)" in result.output
    html = sweep.report(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Delivered models on the test split" in html and "refit on train + validation" in html


def test_learning_rates_are_recorded_for_the_refit_to_replay(
    refitted: tuple[automl.Sweep, list[dict]],
) -> None:
    sweep, _ = refitted
    for t in sweep.record().complete:
        assert len(t.history[callbacks.LR_KEY]) == t.epochs


def test_folds_objective_is_the_mean_over_folds(storage: str) -> None:
    raw = tiny_spec(data={"source": "wine", "folds": 3}, keep=1)
    sweep = automl.tune(validate_spec(raw), trials=1, storage=storage, in_process=True)
    trial = sweep.record().complete[0]
    reports = sorted(sweep.study.trials[0].intermediate_values.items())
    assert [step for step, _ in reports] == [0, 1, 2]
    assert trial.metrics["folds"] == 3
    assert reports[-1][1] == pytest.approx(trial.value, abs=1e-5)
    assert sweep.test_metrics["accuracy"] > 0


def test_quantile_scaling_travels_with_the_kept_model(storage: str) -> None:
    raw = tiny_spec(data={"source": "wine"}, keep=1)
    raw["search"]["scaling"] = "quantile"
    raw["training"] = {"max_epochs": 6, "patience": None, "batch_size": 16}
    sweep = automl.tune(validate_spec(raw), trials=1, storage=storage, in_process=True)
    model = sweep.best_model()
    assert [layer.name for layer in model.layers][1] == "quantile_knots"
    assert sweep.record().trials[0].state == "COMPLETE" and sweep.test_metrics["accuracy"] > 0.6


def test_a_sweep_that_cannot_learn_prunes_with_reason_no_progress(
    storage: str, tmp_path: Path
) -> None:
    import io

    import pandas as pd

    from automl.reports.collect import collect_study
    from automl.run.progress import TrialLog

    rng = np.random.default_rng(0)  # labels independent of the features: nothing to learn
    table = pd.DataFrame(rng.normal(size=(1500, 4)), columns=list("abcd"))
    table["label"] = rng.integers(0, 10, 1500)
    table.to_csv(tmp_path / "noise.csv", index=False)
    raw = tiny_spec(data={"source": str(tmp_path / "noise.csv"), "target": "label"}, keep=1)
    raw["search"] = {"n_layers": 1, "units": 16, "learning_rate": 1e-7}
    raw["training"] = {"max_epochs": 8, "patience": None, "batch_size": 256}
    sweep = automl.tune(validate_spec(raw), trials=2, storage=storage, in_process=True)
    record = sweep.record(models=False)
    assert [(t.state, t.fail_reason, t.epochs) for t in record.trials] == [
        ("PRUNED", "no_progress", 5)
    ] * 2  # pruned trials count toward the budget: 2 trials, not more
    assert list(sweep.leaderboard()["fail_reason"]) == ["no_progress"] * 2
    assert collect_study(record).prune_reasons == {"no_progress": 2}
    log = TrialLog(io.StringIO())
    assert log.line(record.trials[0]).startswith("trial 0 PRUNED (no_progress)")


def _city_table(path: Path, n: int = 2000, seed: int = 0) -> Path:
    """A 200-level category that decides the class, beside a weak numeric feature."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    city = rng.integers(0, 200, n)
    x = rng.normal(size=n)
    label = ((city % 3 == 0) ^ (x > 1.5)).astype(int)
    pd.DataFrame({"city": [f"c{c}" for c in city], "x": x, "label": label}).to_csv(
        path, index=False
    )
    return path


def test_a_high_cardinality_column_is_embedded_and_new_rows_predict(
    storage: str, tmp_path: Path
) -> None:
    import pandas as pd

    source = _city_table(tmp_path / "cities.csv")
    raw = tiny_spec(data={"source": str(source), "target": "label"}, keep=1)
    raw["search"] = {"n_layers": 1, "units": 32, "learning_rate": 1e-2}
    raw["search"]["categorical_encoding"] = "embedding"
    raw["training"] = {"max_epochs": 8, "patience": None, "batch_size": 64}
    sweep = automl.tune(validate_spec(raw), trials=1, storage=storage, in_process=True)
    model = sweep.best_model()  # loaded from its .keras file (safe mode)
    embeddings = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
    assert [e.name for e in embeddings if e.trainable] == ["category0_embedding"]
    assert embeddings[0].input_dim == 201  # 200 levels and one for unseen ones
    assert sweep.test_metrics["accuracy"] > 0.8  # it learned the category
    rows = pd.DataFrame({"city": ["c3", "c4", "nowhere"], "x": [0.0, 0.0, 0.0]})
    out = model.predict(sweep.preprocess(rows), verbose=0)
    assert out.shape == (3, 2) and out[0].argmax() == 1 and out[1].argmax() == 0
