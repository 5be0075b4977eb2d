"""KerasTuner build functions driven by Optuna trials through automl.usercode.hp."""

from __future__ import annotations

import math
from typing import Any

import keras
import keras_tuner
import optuna
import pytest

from automl.errors import HyperParameterError, SpecError
from automl.usercode.hp import (
    OptunaHyperParameters,
    compile_options,
    space_summary,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def build_model(hp: keras_tuner.HyperParameters) -> keras.Model:
    """The KerasTuner getting-started build function, on a tiny input."""
    model = keras.Sequential([keras.Input((8,)), keras.layers.Flatten()])
    model.add(
        keras.layers.Dense(
            units=hp.Int("units", min_value=32, max_value=512, step=32),
            activation=hp.Choice("activation", ["relu", "tanh"]),
        )
    )
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(rate=0.25))
    model.add(keras.layers.Dense(10, activation="softmax"))
    learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def dense_units(model: keras.Model) -> list[int]:
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]


@pytest.mark.slow
def test_getting_started_build_runs_in_a_tpe_study() -> None:
    sampler = optuna.samplers.TPESampler(n_startup_trials=3, seed=0)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    for _ in range(8):
        trial = study.ask()
        hp = OptunaHyperParameters(trial)
        assert isinstance(hp, keras_tuner.HyperParameters)
        keras.backend.clear_session()
        model = build_model(hp)
        assert dense_units(model) == [hp.get("units"), 10]
        assert math.isclose(float(model.optimizer.learning_rate), hp.get("lr"), rel_tol=1e-6)
        study.tell(trial, -abs(hp.get("units") - 256) - 100 * hp.get("lr"))

    assert len(study.trials) == 8
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    for t in study.trials:
        assert set(t.params) == {"units", "activation", "dropout", "lr"}
        assert 32 <= t.params["units"] <= 512 and t.params["units"] % 32 == 0
        assert t.params["activation"] in ("relu", "tanh")
        assert isinstance(t.params["dropout"], bool)
        assert 1e-4 <= t.params["lr"] <= 1e-2
        # one distribution per name in every trial, so TPE models them after startup
        assert t.distributions == study.trials[0].distributions
    assert study.trials[0].distributions["lr"].log


def branchy(hp: keras_tuner.HyperParameters) -> dict[str, Any]:
    """A model-selection space: scopes and parent_name/parent_values."""
    kind = hp.Choice("model_type", ["mlp", "cnn"])
    got: dict[str, Any] = {"model_type": kind}
    with hp.conditional_scope("model_type", ["mlp"]):
        got["mlp_units"] = hp.Int("mlp_units", 8, 64, step=8)
    with hp.conditional_scope("model_type", ["cnn"]):
        got["filters"] = hp.Choice("filters", [16, 32])
        got["kernel"] = hp.Int("kernel", 3, 5, step=2, parent_name="filters", parent_values=[32])
    got["pool"] = hp.Boolean("pool", parent_name="model_type", parent_values=["cnn"])
    return got


def test_inactive_branch_is_never_suggested() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    study.enqueue_trial({"model_type": "mlp"})
    study.enqueue_trial({"model_type": "cnn", "filters": 32})
    study.enqueue_trial({"model_type": "cnn", "filters": 16})
    seen = []
    for _ in range(3):
        trial = study.ask()
        hp = OptunaHyperParameters(trial)
        seen.append((branchy(hp), hp))
        study.tell(trial, 0.0)
    (mlp, mlp_hp), (cnn32, _), (cnn16, _) = seen
    params = [t.params for t in study.trials]

    assert set(params[0]) == {"model_type", "mlp_units"}
    assert mlp["filters"] is None and mlp["kernel"] is None and mlp["pool"] is None
    assert set(mlp_hp.values) == {"model_type", "mlp_units"}
    with pytest.raises(ValueError, match="inactive"):
        mlp_hp.get("filters")
    assert set(params[1]) == {"model_type", "filters", "kernel", "pool"}
    assert cnn32["mlp_units"] is None and cnn32["kernel"] in (3, 5)
    assert set(params[2]) == {"model_type", "filters", "pool"}
    assert cnn16["kernel"] is None


def test_inactive_values_match_keras_tuner() -> None:
    """Which declarations return None is what plain KerasTuner does for the same values."""
    plain = keras_tuner.HyperParameters()
    plain.values = {"model_type": "cnn", "filters": 16}
    theirs = branchy(plain)
    stored = {"model_type": "cnn", "filters": 16, "pool": False}
    ours = branchy(OptunaHyperParameters.from_params(stored))
    assert {k for k, v in theirs.items() if v is None} == {k for k, v in ours.items() if v is None}


def test_same_name_twice_returns_the_same_value() -> None:
    trial = optuna.create_study().ask()
    hp = OptunaHyperParameters(trial)
    first = [hp.Int("units", 1, 100), hp.Float("rate", 0.0, 1.0), hp.Choice("act", ["a", "b"])]
    again = [hp.Int("units", 1, 100), hp.Float("rate", 0.0, 1.0), hp.Choice("act", ["a", "b"])]
    assert first == again
    assert trial.params == {"units": first[0], "rate": first[1], "act": first[2]}


@pytest.mark.parametrize(
    ("second", "shown"),
    [
        (lambda hp: hp.Choice("units", [8, 16]), "Choice(values=[8, 16])"),
        (lambda hp: hp.Int("units", 1, 8), "Int(min_value=1, max_value=8)"),
        (lambda hp: hp.Float("units", 1, 64), "Float(min_value=1.0, max_value=64.0)"),
    ],
)
def test_same_name_with_another_definition_is_a_spec_error(second: Any, shown: str) -> None:
    hp = OptunaHyperParameters(optuna.create_study().ask())
    hp.Int("units", 8, 64, step=8)
    with pytest.raises(SpecError) as info:
        second(hp)
    message = str(info.value)
    assert "'units'" in message and "Int(min_value=8, max_value=64, step=8)" in message
    assert shown in message and "\n" not in message


def test_keras_tuner_argument_errors_and_unsupported_features_are_one_line() -> None:
    hp = OptunaHyperParameters(optuna.create_study().ask())
    hp.Int("units", 8, 64)
    cases = [
        (lambda: hp.Int("n", 5, 1), "hp.Int('n')"),
        (lambda: hp.Float("x", 0.0, 1.0, sampling="log"), "hp.Float('x')"),
        (lambda: hp.Choice("c", [1, "a"]), "hp.Choice('c')"),
        (lambda: hp.Int("k", 1, 4, parent_name="nope", parent_values=[1]), "'nope'"),
        (lambda: hp.merge(keras_tuner.HyperParameters()), "hp.merge() is not supported"),
    ]
    for call, needle in cases:
        with pytest.raises(HyperParameterError) as info:
            call()
        assert needle in str(info.value) and "\n" not in str(info.value)


def test_log_step_and_reverse_log_sampling() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    for _ in range(6):
        trial = study.ask()
        hp = OptunaHyperParameters(trial)
        batch = hp.Int("batch", 16, 256, step=2, sampling="log")
        momentum = hp.Float("momentum", 0.5, 0.999, sampling="reverse_log")
        assert batch in (16, 32, 64, 128, 256)
        assert 0.5 <= momentum <= 0.999
        mirror = trial.params["mirror(momentum)"]
        assert math.isclose(momentum, 0.5 + 0.999 - mirror)
        assert "momentum" not in trial.params
        study.tell(trial, momentum)
        replayed = OptunaHyperParameters.from_params(trial.params)
        assert replayed.Float("momentum", 0.5, 0.999, sampling="reverse_log") == momentum


def test_replay_of_stored_params_rebuilds_the_same_model() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=5))
    study.optimize(lambda t: float(build_model(OptunaHyperParameters(t)).count_params()), 3)
    best = study.best_trial

    hp = OptunaHyperParameters.from_params(best.params)
    assert isinstance(hp, keras_tuner.HyperParameters)
    assert hp.values == best.params and hp.get("units") == best.params["units"]
    model = build_model(hp)
    again = build_model(hp)
    assert dense_units(model) == dense_units(again) == [best.params["units"], 10]
    assert float(model.count_params()) == best.value
    assert hp.values == best.params

    changed = OptunaHyperParameters.from_params({"units": 64})
    with pytest.raises(HyperParameterError, match="'activation'.*no value"):
        build_model(changed)


def test_fixed_values_are_returned_not_suggested() -> None:
    trial = optuna.create_study().ask()
    hp = OptunaHyperParameters(trial)
    assert hp.Fixed("classes", 10) == 10
    assert hp.values == {"classes": 10} and trial.params == {}


def test_space_summary_lists_declarations() -> None:
    hp = OptunaHyperParameters.from_params({"model_type": "mlp", "mlp_units": 16})
    branchy(hp)
    rows = {row["name"]: row for row in space_summary(hp)}
    assert list(rows) == ["model_type", "mlp_units", "filters", "kernel", "pool"]
    assert rows["mlp_units"]["type"] == "Int" and rows["mlp_units"]["active"]
    assert rows["mlp_units"]["value"] == 16 and rows["mlp_units"]["param"] == "mlp_units"
    assert rows["mlp_units"]["description"] == (
        "Int(min_value=8, max_value=64, step=8) if model_type in ['mlp']"
    )
    assert rows["filters"]["value"] is None and not rows["filters"]["active"]
    assert rows["pool"]["description"] == "Boolean() if model_type in ['cnn']"


def test_compile_options_follow_the_naming_convention() -> None:
    plain = OptunaHyperParameters(optuna.create_study().ask())
    plain.Int("units", 8, 16)
    assert compile_options(plain) == {"optimizer": "adam", "learning_rate": 1e-3, "asked": []}

    hp = OptunaHyperParameters.from_params({"lr": 0.01, "optimizer": "SGD"})
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Choice("optimizer", ["SGD", "Adam"])
    assert compile_options(hp) == {
        "optimizer": "sgd",
        "learning_rate": 0.01,
        "asked": ["lr", "optimizer"],
    }
    bad = OptunaHyperParameters.from_params({"optimizer": "lamb"})
    bad.Choice("optimizer", ["lamb"])
    with pytest.raises(HyperParameterError, match="'lamb'"):
        compile_options(bad)


def test_name_scopes_with_grouped_multivariate_tpe() -> None:
    sampler = optuna.samplers.TPESampler(n_startup_trials=2, multivariate=True, group=True, seed=0)
    study = optuna.create_study(sampler=sampler)
    for _ in range(5):
        trial = study.ask()
        hp = OptunaHyperParameters(trial)
        with hp.name_scope("block"):
            hp.Choice("kind", ["a", "b"])
            hp.Int("n", 1, 100, sampling="reverse_log", parent_name="kind", parent_values=["a"])
        study.tell(trial, 0.0 if hp.get("block/kind") == "a" else 1.0)
        assert trial.params["block/kind"] == hp.values["block/kind"]
        assert ("mirror(block/n)" in trial.params) == (hp.get("block/kind") == "a")
        assert ("block/n" in hp.values) == (hp.get("block/kind") == "a")
