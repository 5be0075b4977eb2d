"""The user's own model code: KerasTuner build functions and HyperModels tuned by automl."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from examples.keras_tuner_script import build_model as getting_started
from tests.helpers import write_yaml

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

MODELS = """
import keras


def build_model(hp, input_shape, n_classes):
    model = keras.Sequential([keras.Input(input_shape), keras.layers.Flatten()])
    model.add(keras.layers.Dense(hp.Int("width", 8, 24, step=8), activation="relu"))
    model.add(keras.layers.Dense(n_classes, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def not_a_model(hp):
    return "a string"


def two_types(hp):
    hp.Int("units", 8, 16)
    hp.Choice("units", ["a", "b"])
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])


def merges(hp):
    hp.merge(hp)
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
"""


def _digits(n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    x, y = load_digits(return_X_y=True)
    return (x[:n] / 16.0).astype("float32"), y[:n]


def _tuner(tmp_path: Path, max_trials: int, **kwargs: Any) -> automl.Tuner:
    """The README example's tuner line, in a temporary folder, trained in this process."""
    kwargs = {"objective": "val_accuracy", "project_name": "p", **kwargs}
    return automl.Tuner(
        getting_started, max_trials=max_trials, directory=str(tmp_path), in_process=True, **kwargs
    )


class Conditional(kt.HyperModel):
    """A HyperModel with a conditional scope, an uncompiled model and a tuned batch size."""

    def build(self, hp: Any) -> keras.Model:
        model = keras.Sequential([keras.Input((64,))])
        head = hp.Choice("head", ["plain", "deep"])
        with hp.conditional_scope("head", ["deep"]):
            if head == "deep":
                model.add(keras.layers.Dense(hp.Int("deep_units", 8, 16, step=8), "relu"))
        hp.Float("learning_rate", 3e-3, 1e-2, sampling="log")
        model.add(keras.layers.Dense(10, activation="softmax"))
        return model  # uncompiled: automl compiles it with the tuned learning_rate

    def fit(self, hp: Any, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        return model.fit(*args, batch_size=hp.Choice("batch_size", [32, 64]), **kwargs)


class EpochFiles(keras.callbacks.Callback):
    """Writes one file per epoch: proof that search()'s callbacks ran in the trials."""

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        n = len(os.listdir(self.folder))
        Path(self.folder, f"{n}.json").write_text(json.dumps(sorted(logs or {})))


@pytest.mark.slow
@pytest.mark.backend
def test_tuner_runs_a_keras_tuner_script_and_resumes(tmp_path: Path) -> None:
    x, y = _digits()
    xv, yv = x[450:], y[450:]
    logs = tmp_path / "epochs"
    logs.mkdir()
    tuner = _tuner(tmp_path, 3, seed=0)
    early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1)
    tuner.search(
        x[:450],
        y[:450],
        validation_data=(xv, yv),
        epochs=4,
        batch_size=64,
        callbacks=[early, EpochFiles(str(logs))],
    )
    record = tuner.sweep.record()
    assert [t.state for t in record.trials] == ["COMPLETE"] * 3
    assert set(record.trials[0].params) <= {
        "num_layers",
        "units_0",
        "units_1",
        "activation",
        "dropout",
        "lr",
    }
    assert record.data["sizes"] == {"train": 450, "validation": 150, "test": 0}
    assert len(list(logs.iterdir())) == sum(t.epochs for t in record.trials)
    assert "val_accuracy" in json.loads((logs / "0.json").read_text())
    best_hp = tuner.get_best_hyperparameters(num_trials=1)[0]
    best = tuner.sweep.best_trial
    assert best_hp.values == best.params and best_hp.get("units_0") == best.params["units_0"]
    models = tuner.get_best_models(num_models=2)
    accuracy = float(np.mean(models[0].predict(xv, verbose=0).argmax(1) == yv))
    assert accuracy == pytest.approx(best.values[0], abs=1e-6)  # exactly that validation set
    # A second script run with overwrite=False resumes: only the missing trial runs.
    again = _tuner(tmp_path, 4)
    again.search(x[:450], y[:450], validation_data=(xv, yv), epochs=2)
    assert [t.number for t in again.sweep.record().trials] == [0, 1, 2, 3]


def _alike(hp: Any) -> keras.Model:
    """Equally good models that differ in their start: averaging them helps."""
    model = keras.Sequential([keras.Input((64,))])
    model.add(keras.layers.Dense(hp.Int("units", 30, 34), activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


@pytest.mark.slow
def test_tuner_ensemble_is_the_first_model_only_when_asked(tmp_path: Path) -> None:
    """Without test data the ensemble is chosen on validation; get_best_models() hands it
    first only with Tuner(ensemble=True), and its output is its members' average."""
    x, y = _digits()
    xv, yv = x[450:], y[450:]
    tuner = automl.Tuner(
        _alike, "val_accuracy", 5, directory=tmp_path, project_name="p", in_process=True,
        seed=1, ensemble=True,
    )  # fmt: skip
    tuner.search(x[:450], y[:450], validation_data=(xv, yv), epochs=4, verbose=0)
    sweep = tuner.sweep
    chosen = sweep.record(models=False).ensemble
    members = chosen["members"]
    assert "test" not in chosen and "ensemble" not in sweep.test_metrics
    assert len(set(members)) > 1, chosen  # averaging helped on validation here
    assert chosen["val_loss"] < chosen["single_val_loss"]
    first, second = tuner.get_best_models(num_models=2)
    outputs = {n: sweep.model(n).predict(xv, verbose=0) for n in set(members)}
    average = np.mean([outputs[n] for n in members], axis=0)
    np.testing.assert_allclose(first.predict(xv, verbose=0), average, atol=1e-5)
    best = sweep.best_trial
    accuracy = float(np.mean(second.predict(xv, verbose=0).argmax(1) == yv))
    assert accuracy == pytest.approx(best.values[0], abs=1e-6)  # then the single best
    # Not asked: the single best comes first, as in KerasTuner.
    plain = automl.Tuner(_alike, "val_accuracy", 5, directory=tmp_path, project_name="p")
    plain = plain.get_best_models(1)[0]
    np.testing.assert_allclose(plain.predict(xv, verbose=0), second.predict(xv, verbose=0))


@pytest.mark.slow
def test_tuner_prints_summaries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x, y = _digits(300)
    tuner = _tuner(tmp_path, 2, objective=kt.Objective("val_accuracy", "max"), overwrite=True)
    tuner.search_space_summary()
    assert "units_0 (Int)" in capsys.readouterr().out
    tuner.search(x, y, validation_split=0.25, epochs=2)
    assert tuner.sweep.record().data["sizes"] == {"train": 225, "validation": 75, "test": 0}
    tuner.results_summary(num_trials=1)
    out = capsys.readouterr().out
    assert 'Objective(name="val_accuracy", direction="max")' in out
    assert f"units_0: {tuner.sweep.best_params['units_0']}" in out


@pytest.mark.slow
@pytest.mark.backend
def test_tune_hypermodel_fit_override_and_conditional_scope(storage: str) -> None:
    x, y = _digits()
    sweep = automl.tune(
        Conditional(), data=(x, y), trials=4, storage=storage, seed=1, in_process=True
    )
    record = sweep.record()
    done = [t for t in record.trials if t.state == "COMPLETE"]
    assert len(done) == 4
    for t in done:
        assert t.params["batch_size"] in (32, 64)  # declared in the fit override
        assert ("deep_units" in t.params) == (t.params["head"] == "deep")
    assert sweep.spec.model.build.startswith("pickle:")
    assert record.data["sizes"]["test"] == 90 and 0.5 < sweep.test_metrics["accuracy"] <= 1.0


@pytest.mark.slow
@pytest.mark.backend
def test_tune_dataframe_and_val_auc_objective(storage: str) -> None:
    frame = load_breast_cancer(as_frame=True).frame.iloc[:300]

    def build(hp: Any, input_shape: tuple[int, ...]) -> keras.Model:
        model = keras.Sequential(
            [
                keras.Input(input_shape),
                keras.layers.Dense(hp.Int("units", 4, 8, step=4), "relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile("adam", "binary_crossentropy", metrics=[keras.metrics.AUC(name="auc")])
        return model

    sweep = automl.tune(
        build, data=frame, target="target", trials=2, storage=storage, in_process=True
    )
    assert sweep.objectives[0].metric == "val_accuracy"  # the task's default
    spec = sweep.spec.model_dump(mode="json", exclude_none=True)
    spec["objective"] = {"metric": "val_auc"}  # direction inferred: maximize
    spec.pop("name")
    auc = automl.tune(
        automl.SweepSpec.model_validate(spec), trials=2, storage=storage, in_process=True
    )
    assert auc.objectives[0].direction == "maximize"
    assert 0.5 < auc.best_value <= 1.0
    assert 0.5 < auc.test_metrics["accuracy"] <= 1.0  # one sigmoid output, scored at 0.5


@pytest.mark.slow
def test_build_that_raises_or_diverges_fails_only_its_trial(storage: str) -> None:
    def build(hp: Any) -> keras.Model:
        if hp.Boolean("boom"):
            raise RuntimeError("boom in the build")
        hp.Float("learning_rate", 1e4, 1e5, sampling="log")  # automl compiles: diverges
        return keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, "softmax")])

    sweep = automl.tune(
        build, data=_digits(300), trials=4, storage=storage, seed=7, in_process=True
    )
    trials = sweep.record().trials
    assert len(trials) == 4 and all(t.state == "FAIL" for t in trials)
    reasons = {t.params["boom"]: (t.fail_reason, t.fail_detail) for t in trials}
    assert reasons[True][0] == "error" and "boom in the build" in reasons[True][1]
    assert reasons[False][0] == "nan"


@pytest.mark.slow
def test_missing_objective_metric_is_named(storage: str) -> None:
    def build(hp: Any) -> keras.Model:
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, "softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    spec = {"metric": "val_auc", "direction": "maximize"}
    from automl.usercode.spec import spec_for

    made = spec_for(build, data=_digits(200), url=storage, objective=spec)
    sweep = automl.tune(made, trials=1, storage=storage, in_process=True)
    (trial,) = sweep.record().trials
    assert trial.fail_reason == "error"
    assert "'val_auc' is not in the model's logs" in trial.fail_detail


def _models(tmp_path: Path) -> Path:
    (tmp_path / "my_models.py").write_text(MODELS)
    return tmp_path


@pytest.mark.slow
@pytest.mark.backend
def test_cli_build_function_and_yaml(in_tmp: Path) -> None:
    _models(in_tmp)
    result = runner.invoke(
        app,
        [
            "tune",
            "my_models.py:build_model",
            "--data",
            "digits",
            "--trials",
            "2",
            "--in-process",
            "--no-report",
        ],
    )
    assert result.exit_code == 0, result.output
    sweep = automl.load("build_model")
    assert set(sweep.best_params) == {"width"} and "accuracy" in sweep.test_metrics
    folder = in_tmp / "spaces"
    folder.mkdir()
    (folder / "my_models.py").write_text(MODELS)
    path = write_yaml(
        folder / "own.yaml",
        {
            "data": {"source": "wine"},
            "model": {"build": "my_models.py:build_model"},  # relative to the YAML file
            "training": {"max_epochs": 3},
            "sampler": {"name": "random", "seed": 0},
            "keep": 1,
        },
    )
    result = runner.invoke(app, ["tune", str(path), "--trials", "2", "--in-process"])
    assert result.exit_code == 0, result.output
    html = (in_tmp / "reports" / "own.html").read_text()
    assert "width" in html  # the function's own parameter names
    out = in_tmp / "best.keras"
    assert runner.invoke(app, ["export", "own", "--out", str(out)]).exit_code == 0
    assert keras.saving.load_model(out).output_shape == (None, 3)
    result = runner.invoke(
        app, ["tune", "own", "--resume", "--trials", "1", "--in-process", "--no-report"]
    )
    assert result.exit_code == 0 and len(automl.load("own").record().trials) == 3


BAD = {
    "missing file": (["nowhere.py:build_model"], "nowhere.py: no such file"),
    "missing module": (["no_such_pkg.models:build"], "module 'no_such_pkg.models' cannot be"),
    "missing function": (["my_models.py:ghost"], "no 'ghost' in it; it defines build_model"),
    "not a model": (["my_models.py:not_a_model"], "not a keras.Model"),
    "two types": (["my_models.py:two_types"], "'units' is declared twice"),
    "unsupported": (["my_models.py:merges"], "hp.merge() is not supported"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_model_code_one_line(case: str, in_tmp: Path) -> None:
    _models(in_tmp)
    args, expected = BAD[case]
    result = runner.invoke(app, ["tune", *args, "--data", "digits", "--in-process"])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.output
    assert automl.studies().empty  # nothing half-made is left


def test_bad_yaml_and_tuner_arguments(in_tmp: Path) -> None:
    _models(in_tmp)
    path = write_yaml(
        in_tmp / "x.yaml",
        {
            "data": {"source": "digits"},
            "model": {"build": "my_models.py:build_model"},
            "search": {"units": [8, 16]},
        },
    )
    result = runner.invoke(app, ["spaces", "--validate", str(path)])
    assert result.exit_code == 2 and "search: not used with model.build" in result.output
    with pytest.raises(automl.AutoMLError, match="distribution_strategy= is not supported"):
        automl.Tuner(getting_started, distribution_strategy=object())


@pytest.mark.slow
def test_readme_example_script_runs(tmp_path: Path) -> None:
    script = ROOT / "examples" / "keras_tuner_script.py"
    assert script.read_text() in (ROOT / "README.md").read_text()  # the README shows it
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "best units_0:" in done.stdout and "Score:" in done.stdout
    assert (tmp_path / "reports" / "digits.html").exists()


@pytest.mark.slow
def test_postgres_worker_processes_run_python_model_code(
    in_tmp: Path,
    postgres: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Code and arrays given from Python reach two worker processes through the study."""
    import optuna

    monkeypatch.setenv("AUTOML_ARTIFACTS", str(in_tmp / "shared"))
    name = f"own-{uuid.uuid4().hex[:8]}"
    x, y = _digits(400)
    sweep = automl.tune(
        Conditional(), data=(x, y), trials=4, study=name, storage=postgres, workers=2, seed=0
    )
    try:
        record = sweep.record()
        assert sum(t.state == "COMPLETE" for t in record.trials) == 4
        pids = {int(t.worker.rsplit(":", 1)[1]) for t in record.trials}
        assert os.getpid() not in pids  # trained in worker processes, not in this one
        assert "accuracy" in sweep.test_metrics
    finally:
        optuna.delete_study(study_name=name, storage=postgres)


def test_a_trial_whose_validation_lags_its_training_is_not_pruned() -> None:
    """The median pruner stops a user's trial for a low val_accuracy only when its training
    accuracy is below the completed trials' too (BatchNormalization's lagging statistics)."""
    import optuna

    from automl.errors import Pruned
    from automl.store.records import HISTORY, EpochRecorder
    from automl.training.fit import EpochReporter

    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.MedianPruner(n_startup_trials=1)
    )
    done = study.ask()
    for epoch, value in enumerate([0.8, 0.9]):
        done.report(value, epoch)
    done.set_user_attr(HISTORY, {"accuracy": [0.8, 0.9], "val_accuracy": [0.8, 0.9]})
    study.tell(done, 0.9)

    def epochs(train: list[float]) -> int:
        reporter = EpochRecorder(study.ask(), prune=True)
        tracker = EpochReporter(
            "val_accuracy", reporter, float("inf"), require_metric=True, spare_learners=True
        )
        tracker.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
        for epoch, acc in enumerate(train):
            logs = {"loss": 0.5, "accuracy": acc, "val_accuracy": 0.1}
            try:
                tracker.on_epoch_end(epoch, logs)
            except Pruned:
                return epoch + 1
        return len(train)

    assert epochs([0.85, 0.95]) == 2  # learns as well as the finished trial: goes on
    assert epochs([0.3, 0.4]) == 1  # learns nothing either: pruned at once


SLOW_MODEL = """
import time

import keras
import keras_tuner as kt


class Slow(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.7)


class Model(kt.HyperModel):
    def build(self, hp):
        model = keras.Sequential([
            keras.Input((13,)),
            keras.layers.Dense(hp.Int("width", 8, 16)),
            keras.layers.Dense(3, activation="softmax"),
        ])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, x, y, **kwargs):
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), Slow()]
        return model.fit(x, y, **kwargs)
"""


@pytest.mark.slow
def test_watch_shows_the_epoch_of_a_running_build_function_trial(in_tmp: Path) -> None:
    """Build-function trials report their epochs as family trials do, so ``watch`` sees them."""
    import time

    (in_tmp / "slow_models.py").write_text(SLOW_MODEL)
    tune = subprocess.Popen(
        [sys.executable, "-m", "automl", "tune", "slow_models.py:Model", "--data", "wine",
         "--study", "slow", "--trials", "1", "--set", "training.max_epochs=8",
         "--set", "training.patience=null", "--no-report", "--quiet"],
        cwd=in_tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    epochs: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while tune.poll() is None and time.monotonic() < deadline:
            result = runner.invoke(app, ["watch", "slow", "--json"])
            if result.exit_code == 0:
                epochs += [r["epoch"] for r in json.loads(result.output)["running"]]
            time.sleep(0.3)
        assert tune.wait(timeout=60) == 0, tune.stderr.read() if tune.stderr else ""
    finally:
        tune.kill()
    assert any(1 <= e < 8 for e in epochs), epochs
    assert epochs == sorted(epochs)  # the epoch moves on as the trial trains
