"""Spec -> Optuna suggestions."""

from __future__ import annotations

import optuna

from automl.search.spec import validate_spec
from automl.search.suggest import grid, suggest
from tests.helpers import tiny_spec


def test_per_layer_params_exist_only_for_the_layers_a_trial_has() -> None:
    spec = validate_spec(
        tiny_spec(
            search={
                "n_layers": {"low": 1, "high": 4},
                "units": {"low": 4, "high": 64, "per_layer": True},
            }
        )
    )
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(15):
        trial = study.ask()
        hp = suggest(trial, spec)
        n = hp["n_layers"]
        assert len(hp["units"]) == n
        assert sorted(k for k in trial.params if k.startswith("units_")) == [
            f"units_{i}" for i in range(n)
        ]
        study.tell(trial, 0.0)


def test_conditional_param_only_when_its_condition_holds() -> None:
    spec = validate_spec(
        tiny_spec(
            search={
                "optimizer": ["adam", "sgd"],
                "momentum": {"low": 0.1, "high": 0.9, "when": {"optimizer": "sgd"}},
            }
        )
    )
    seen = set()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        hp = suggest(trial, spec)
        seen.add(hp["optimizer"])
        assert ("momentum" in trial.params) == (hp["optimizer"] == "sgd")
        study.tell(trial, 0.0)
    assert seen == {"adam", "sgd"}


def test_defaults_fill_unsearched_params_and_fixed_trial_rebuilds() -> None:
    spec = validate_spec(tiny_spec(search={"units": 32, "n_layers": {"low": 2, "high": 3}}))
    trial = optuna.create_study().ask()
    hp = suggest(trial, spec)
    assert hp["units"] == [32] * hp["n_layers"]
    assert hp["activation"] == "relu" and hp["batch_size"] == 64
    assert suggest(optuna.trial.FixedTrial(trial.params), spec) == hp


def test_grid_space_lists_every_value() -> None:
    spec = validate_spec(
        tiny_spec(
            sampler={"name": "grid"},
            search={
                "n_layers": [1, 2],
                "units": {"low": 8, "high": 24, "step": 8, "per_layer": True},
                "dropout": {"low": 0.0, "high": 0.2, "step": 0.1},
            },
        )
    )
    space = grid(spec)
    assert space["n_layers"] == [1, 2]
    assert space["units_0"] == space["units_1"] == [8, 16, 24]
    assert space["dropout"] == [0.0, 0.1, 0.2]


def test_conditions_follow_their_dependencies_whatever_the_yaml_order() -> None:
    spec = validate_spec(
        tiny_spec(
            search={
                "weight_decay": {"low": 0.001, "high": 0.01, "when": {"momentum": 0.5}},
                "momentum": {"choices": [0.5], "when": {"optimizer": "sgd"}},
                "optimizer": ["sgd"],
            }
        )
    )
    trial = optuna.create_study().ask()
    hp = suggest(trial, spec)
    assert hp["momentum"] == 0.5 and "weight_decay" in trial.params
