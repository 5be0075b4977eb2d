"""Loading and calling the user's KerasTuner code through automl.usercode.build."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import keras
import keras_tuner
import optuna
import pytest

from automl.errors import SpecError, TrialFailed
from automl.usercode.build import UserBuild, call_build, fit_override, load_build
from automl.usercode.hp import OptunaHyperParameters

optuna.logging.set_verbosity(optuna.logging.WARNING)

HYPERMODELS = """
import keras
import keras_tuner


class Tuned(keras_tuner.HyperModel):
    def build(self, hp, input_shape=(4,)):
        model = keras.Sequential([keras.Input(input_shape)])
        for i in range(hp.Int("layers", 1, 3)):
            model.add(keras.layers.Dense(hp.Int(f"units_{i}", 4, 32, step=4)))
        model.add(keras.layers.Dense(1))
        return model

    def fit(self, hp, model, *args, **kwargs):
        return model.fit(*args, batch_size=hp.Choice("batch_size", [8, 16]), **kwargs)


class Plain(keras_tuner.HyperModel):
    def build(self, hp):
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(hp.Int("u", 1, 4))])


instance = Tuned()
"""


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _restore_sys_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))


def one_line_error(ref: str, base: Path, kind: type[Exception] = SpecError) -> str:
    with pytest.raises(kind) as info:
        load_build(ref, base)
    message = str(info.value)
    assert "\n" not in message
    return message


def units(model: keras.Model) -> list[int]:
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def test_function_in_a_file_gets_only_the_keywords_it_names(tmp_path: Path) -> None:
    write(
        tmp_path / "models",
        "build.py",
        """
        import keras

        def with_shape(hp, input_shape, n_classes=2):
            return keras.Sequential([
                keras.Input(input_shape),
                keras.layers.Dense(hp.Int("units", 4, 8)),
                keras.layers.Dense(n_classes),
            ])

        def bare(hp):
            return keras.Sequential([keras.Input((3,)), keras.layers.Dense(hp.Int("u", 1, 2))])
        """,
    )
    hp = OptunaHyperParameters(optuna.create_study().ask())
    shaped = load_build("models/build.py:with_shape", tmp_path)
    model = call_build(shaped, hp, input_shape=(5,), n_classes=3)
    assert model.input_shape == (None, 5) and units(model)[-1] == 3
    bare = load_build(str(tmp_path / "models" / "build.py") + ":bare")
    assert units(call_build(bare, hp, input_shape=(9,), n_classes=3)) == [hp.get("u")]
    assert fit_override(shaped) is None and shaped.hypermodel is None


def test_package_module_reference_found_from_base_dir(tmp_path: Path) -> None:
    write(tmp_path, "kt_userpkg_a/__init__.py", "")
    write(tmp_path, "kt_userpkg_a/space.py", "def build(hp):\n    return hp.Int('n', 1, 2)\n")
    build = load_build("kt_userpkg_a.space:build", tmp_path)
    assert isinstance(build, UserBuild) and build.ref == "kt_userpkg_a.space:build"


def test_hypermodel_fit_override_and_replay_of_its_architecture(tmp_path: Path) -> None:
    write(tmp_path, "hm.py", HYPERMODELS)
    tuned = load_build("hm.py:Tuned", tmp_path)
    assert isinstance(tuned.hypermodel, keras_tuner.HyperModel)
    fit = fit_override(tuned)
    assert fit is not None and fit.__func__ is type(tuned.hypermodel).fit
    assert fit_override(load_build("hm.py:instance", tmp_path)) is not None
    assert fit_override(load_build("hm.py:Plain", tmp_path)) is None

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=2))
    for _ in range(3):
        trial = study.ask()
        hp = OptunaHyperParameters(trial)
        model = call_build(tuned, hp, input_shape=(6,))
        assert model.input_shape == (None, 6)
        study.tell(trial, float(sum(units(model))))
    best = study.best_trial
    replayed = OptunaHyperParameters.from_params(best.params)
    model = call_build(tuned, replayed, input_shape=(6,))
    layers = best.params["layers"]
    assert units(model) == [best.params[f"units_{i}"] for i in range(layers)] + [1]
    assert replayed.values == best.params


def test_fit_override_draws_its_own_hyperparameters(tmp_path: Path) -> None:
    write(tmp_path, "hm.py", HYPERMODELS)
    tuned = load_build("hm.py:Tuned", tmp_path)
    trial = optuna.create_study().ask()
    hp = OptunaHyperParameters(trial)
    model = call_build(tuned, hp)
    model.compile(optimizer="sgd", loss="mse")
    fit = fit_override(tuned)
    assert fit is not None
    x = keras.ops.ones((16, 4))
    history = fit(hp, model, x, keras.ops.zeros((16, 1)), epochs=1, verbose=0)
    assert list(history.history) == ["loss"]
    assert trial.params["batch_size"] in (8, 16)


def test_bad_references_are_one_line_spec_errors(tmp_path: Path) -> None:
    write(tmp_path, "ok.py", "X = 3\ndef build(hp):\n    return None\nclass Helper:\n    pass\n")
    write(tmp_path, "boom.py", "raise RuntimeError('no GPU here\\nsecond line')\n")
    write(tmp_path, "needs.py", "import automl_no_such_dependency\n")

    assert "expected 'path/to/file.py:name'" in one_line_error("ok.py", tmp_path)
    missing = one_line_error("nowhere.py:build", tmp_path)
    assert str(tmp_path / "nowhere.py") in missing and "no such file" in missing
    absent = one_line_error("ok.py:build_model", tmp_path)
    assert "ok.py" in absent and "'build_model'" in absent and "build, Helper" in absent
    assert "is a int, not a build function" in one_line_error("ok.py:X", tmp_path)
    broken = one_line_error("boom.py:build", tmp_path)
    assert "boom.py: importing it failed: RuntimeError: no GPU here" in broken
    assert "must be able to import" in one_line_error("needs.py:build", tmp_path)
    module = one_line_error("automl_no_such_pkg.models:build", tmp_path)
    assert "'automl_no_such_pkg.models'" in module and "every machine" in module


def test_a_build_that_returns_no_model_fails_the_trial(tmp_path: Path) -> None:
    write(
        tmp_path,
        "odd.py",
        """
        import keras_tuner

        def nothing(hp):
            return [hp.Int("u", 1, 2)]

        def refuses(hp):
            raise keras_tuner.errors.FailedTrialError("too big")

        def fatal(hp):
            raise keras_tuner.errors.FatalValueError("bad data")
        """,
    )
    hp = OptunaHyperParameters(optuna.create_study().ask())
    with pytest.raises(TrialFailed) as info:
        call_build(load_build("odd.py:nothing", tmp_path), hp)
    assert info.value.reason == "error"
    assert "odd.py:nothing returned builtins.list, not a keras.Model" in str(info.value)
    with pytest.raises(TrialFailed, match="FailedTrialError: too big"):
        call_build(load_build("odd.py:refuses", tmp_path), hp)
    with pytest.raises(SpecError, match="FatalValueError: bad data"):
        call_build(load_build("odd.py:fatal", tmp_path), hp)
