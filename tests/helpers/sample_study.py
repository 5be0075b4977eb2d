"""Synthetic automl studies written straight through Optuna: no data, no training.

They hold what the tuning code stores (spec, task, objectives, data, per-trial history,
metrics, fail reasons, test metrics, best-model evaluation), so reports can be tested,
benchmarked and tried in seconds.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial, TrialState

from automl.ranking import Objective
from automl.store import records

ACTIVATIONS = ("relu", "gelu", "tanh")
OPTIMIZERS = ("adam", "sgd", "rmsprop")


def make_study(
    storage: str | optuna.storages.BaseStorage,
    name: str,
    *,
    n_trials: int = 30,
    task: str = "classification",
    objectives: Sequence[dict[str, Any]] | None = None,
    states: Sequence[str] | None = None,
    max_epochs: int = 10,
    activations: Sequence[str] = ACTIVATIONS,
    classes: Sequence[str] = ("0", "1", "2"),
    seed: int = 0,
) -> optuna.Study:
    """Create study ``name`` with ``n_trials`` finished synthetic trials.

    Args:
        storage: an Optuna storage or URL (a journal file path is opened as a journal).
        name: the study name.
        n_trials: trials to add.
        task: ``classification`` or ``regression``.
        objectives: automl objectives; default the task's validation metric.
        states: one of COMPLETE / PRUNED / FAIL per trial; default about 60/30/10 %.
        max_epochs: epochs of a trial that is not pruned.
        activations: the choices of the ``activation`` parameter.
        classes: class names (classification).
        seed: random seed.
    """
    from automl.search.spec import validate_spec
    from automl.store.storage import open_storage

    rng = random.Random(seed)
    metric = "val_accuracy" if task == "classification" else "val_loss"
    objs = list(objectives or [{"metric": metric, "direction": None}])
    directions = [Objective.of(o["metric"], o.get("direction")).direction for o in objs]
    st = open_storage(storage) if isinstance(storage, str) else storage
    study = optuna.create_study(study_name=name, storage=st, directions=directions)
    spec = validate_spec(
        {
            "name": f"{name}-space",
            "data": {"source": "digits"},
            "task": task,
            "model": {"family": "mlp"},
            "search": {"units": {"low": 8, "high": 128}, "activation": list(ACTIVATIONS)},
            "training": {"max_epochs": max_epochs},
            "objective": objs,
        }
    )
    start = dt.datetime(2024, 1, 1, 12, 0, 0)
    trials = []
    for number in range(n_trials):
        state = states[number] if states else _draw_state(rng, number, len(objs))
        trial, start = _trial(rng, number, state, objs, task, activations, max_epochs, start)
        trials.append(trial)
    study.add_trials(trials)
    attrs = {
        records.SPEC: spec.model_dump(mode="json"),
        records.TASK: task,
        records.OBJECTIVES: objs,
        records.DATA: {
            "name": "digits",
            "source": "digits",
            "kind": "builtin",
            "sizes": {"train": 1257, "validation": 270, "test": 270},
            "classes": list(classes) if task == "classification" else [],
            "fingerprint": "synthetic",
        },
        "created": start.timestamp(),
    }
    attrs.update(_evaluation(study, task, list(classes), directions, rng))
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    return study


def _draw_state(rng: random.Random, number: int, n_objectives: int) -> str:
    if number < 3:
        return "COMPLETE"
    u = rng.random()
    if u < 0.1:
        return "FAIL"
    if u < 0.4 and n_objectives == 1:
        return "PRUNED"
    return "COMPLETE"


def _params(rng: random.Random, activations: Sequence[str]) -> tuple[dict[str, Any], dict]:
    dists: dict[str, BaseDistribution] = {
        "units": IntDistribution(8, 128),
        "activation": CategoricalDistribution(list(activations)),
        "optimizer": CategoricalDistribution(list(OPTIMIZERS)),
        "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
        "dropout": FloatDistribution(0.0, 0.5),
    }
    params: dict[str, Any] = {
        "units": rng.randint(8, 128),
        "activation": rng.choice(list(activations)),
        "optimizer": rng.choice(OPTIMIZERS),
        "learning_rate": math.exp(rng.uniform(math.log(1e-4), math.log(1e-1))),
        "dropout": rng.uniform(0.0, 0.5),
    }
    if params["optimizer"] == "sgd":  # a conditional parameter, as ``when:`` makes
        dists["momentum"] = FloatDistribution(0.0, 0.99)
        params["momentum"] = rng.uniform(0.0, 0.99)
    return params, dists


def _quality(params: dict[str, Any], rng: random.Random) -> float:
    """A score in (0, 1): best near lr 3e-3, more units, little dropout."""
    lr = -abs(math.log10(params["learning_rate"]) + 2.5) * 0.6
    return 1 / (
        1 + math.exp(-(1.5 + lr + params["units"] / 80 - params["dropout"] + rng.gauss(0, 0.3)))
    )


def _trial(
    rng: random.Random,
    number: int,
    state: str,
    objs: Sequence[dict[str, Any]],
    task: str,
    activations: Sequence[str],
    max_epochs: int,
    start: dt.datetime,
) -> tuple[FrozenTrial, dt.datetime]:
    params, dists = _params(rng, activations)
    q = _quality(params, rng)
    epochs = max_epochs if state == "COMPLETE" else rng.randint(1, max(1, max_epochs - 1))
    if state == "FAIL":
        epochs = rng.randint(0, 2)
    curve = [q * (1 - math.exp(-(e + 1) / 2.5)) + rng.gauss(0, 0.01) for e in range(epochs)]
    if task == "classification":
        history = {
            "loss": [1.5 - v for v in curve],
            "accuracy": [min(1.0, v + 0.03) for v in curve],
            "val_loss": [1.6 - v for v in curve],
            "val_accuracy": curve,
        }
    else:
        history = {
            "loss": [2.0 - v for v in curve],
            "val_loss": [2.1 - v for v in curve],
            "val_mae": [1.2 - v for v in curve],
            "val_rmse": [1.5 - v for v in curve],
        }
    duration = round(2.0 + 0.5 * epochs + rng.random(), 3)
    metrics: dict[str, Any] = {"epochs": epochs, "duration_s": duration}
    user_attrs: dict[str, Any] = {records.HISTORY: history}
    values: list[float] | None = None
    metric = objs[0]["metric"]
    if state == "COMPLETE":
        best = max(range(epochs), key=lambda e: curve[e])
        metrics.update(
            best_epoch=best + 1,
            params_count=int(params["units"] * 80 + 10 * params["units"] + 10),
            latency_ms=round(0.002 + params["units"] * 1e-4 * (1 + rng.random()), 6),
            **{k: round(v[best], 6) for k, v in history.items() if k.startswith("val_")},
        )
        values = [float(metrics[o["metric"]]) for o in objs]
    elif state == "FAIL":
        user_attrs[records.FAIL_REASON] = rng.choice(["nan", "error"])
        user_attrs["fail_detail"] = "loss became nan at epoch 2"
    user_attrs[records.METRICS] = metrics
    inter = {e: float(v) for e, v in enumerate(history[metric])} if len(objs) == 1 else {}
    end = start + dt.timedelta(seconds=duration)
    trial = FrozenTrial(
        number=number,
        state=TrialState[state],
        value=None,
        values=values,
        datetime_start=start,
        datetime_complete=end,
        params=params,
        distributions=dists,
        user_attrs=user_attrs,
        system_attrs={},
        intermediate_values=inter if state != "FAIL" else {},
        trial_id=number,
    )
    return trial, end + dt.timedelta(seconds=0.2)


def _evaluation(
    study: optuna.Study,
    task: str,
    classes: list[str],
    directions: Sequence[str],
    rng: random.Random,
) -> dict[str, Any]:
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        return {}
    objective = Objective.of("value", directions[0])
    ranked = sorted(done, key=lambda t: (objective.sort_key(t.values[0]), t.number))
    tests: dict[str, dict[str, float]] = {}
    for t in ranked[:5]:
        v = t.values[0]
        if task == "classification":
            tests[str(t.number)] = {"accuracy": round(v - 0.01, 6), "f1_macro": round(v - 0.02, 6)}
        else:
            tests[str(t.number)] = {"mae": round(v * 0.8, 6), "rmse": round(v, 6), "r2": 0.7}
    best = ranked[0]
    layers = [
        {"name": "input", "type": "InputLayer", "output_shape": "(None, 64)", "params": 0},
        {"name": "dense", "type": "Dense", "output_shape": "(None, 32)", "params": 2080},
        {"name": "head", "type": "Dense", "output_shape": f"(None, {len(classes)})", "params": 99},
    ]
    info: dict[str, Any] = {"trial": best.number, "layers": layers}
    if task == "classification":
        n = len(classes)
        info["classes"] = classes
        info["confusion"] = [
            [30 if i == j else rng.randint(0, 3) for j in range(n)] for i in range(n)
        ]
        info["per_class"] = {
            key: [round(rng.uniform(0.8, 1.0), 4) for _ in range(n)]
            for key in ("precision", "recall", "f1")
        }
        info["per_class"]["support"] = [30 + i for i in range(n)]
    else:
        y = [rng.gauss(0, 1) for _ in range(200)]
        info["y_true"] = y
        info["y_pred"] = [v + rng.gauss(0, 0.3) for v in y]
    return {"test_metrics": tests, "best_eval": info}
