"""collect() and the pure computations under it: numbers right, no Plotly, never crashes."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

import automl
from automl import ranking
from automl.ranking import Objective
from automl.reports import analysis
from automl.reports.collect import collect, collect_study
from automl.store.records import TrialRecord

MAX, MIN = Objective.of("value", "maximize"), Objective.of("value", "minimize")

MULTI = [{"metric": "val_accuracy"}, {"metric": "params_count", "direction": "minimize"}]


def test_classification_study_numbers(make_sweep):
    states = ["COMPLETE"] * 6 + ["PRUNED"] * 3 + ["FAIL"] * 2
    sweep = make_sweep("cls", n_trials=len(states), states=states)
    s = collect_study(sweep.record())
    frozen = sweep.study.get_trials(deepcopy=False)

    assert s.counts == {"COMPLETE": 6, "PRUNED": 3, "FAIL": 2}
    assert sum(s.fail_reasons.values()) == 2 and set(s.fail_reasons) <= {"nan", "error"}
    assert s.compute_s == pytest.approx(sum(t.user_attrs["metrics"]["duration_s"] for t in frozen))
    assert s.best == [sweep.best_trial.number]
    assert s.task == "classification" and s.family == "mlp" and s.sampler == "tpe"
    assert s.sizes == {"train": 1257, "validation": 270, "test": 270}
    # best so far: one point per completed trial, never getting worse (maximize)
    values = [v for _, v in s.best_so_far]
    assert len(values) == 6 and values == sorted(values)
    assert values[-1] == pytest.approx(sweep.best_value)
    assert len(s.best_by_time) == 6
    # pruned trials keep the curve up to where they were cut
    for t in s.trials:
        if t.state == "PRUNED":
            assert 1 <= len(t.curve) < 10
        if t.state == "COMPLETE":
            assert len(t.curve) == 10 and t.params_count and t.latency_ms
    done = {t.number for t in s.complete}
    assert s.fronts["params_count"] and set(s.fronts["params_count"]) <= done
    assert s.importance.values and s.importance.method == "fANOVA"
    assert s.trial(s.best[0]).test  # test metrics of the best model
    assert s.best_eval is not None and len(s.best_eval.confusion) == 3
    assert s.best_eval.per_class is not None and s.best_eval.per_class.columns[0] == "class"


def test_leaderboard_table(make_sweep):
    sweep = make_sweep("lb", n_trials=8)
    table = collect_study(sweep.record()).leaderboard
    assert table.columns[:3] == ["number", "state", "val_accuracy"]
    assert {"units", "activation", "epochs", "duration_s", "params_count", "latency_ms"} <= set(
        table.columns
    )
    assert len(table.rows) == 8
    assert table.rows[0][0] == sweep.best_trial.number
    for row in table.rows:  # plain Python values only: no numpy, no NaN
        for v in row:
            assert v is None or type(v) in (int, float, str, bool)
            assert not (isinstance(v, float) and math.isnan(v))


def test_regression_study(make_sweep):
    sweep = make_sweep("reg", n_trials=12, task="regression")
    s = collect_study(sweep.record())
    assert s.objectives[0].direction == "minimize"
    assert s.best == [sweep.best_trial.number]
    values = [v for _, v in s.best_so_far]
    assert values == sorted(values, reverse=True)
    assert s.best_eval is not None and len(s.best_eval.y_true) == len(s.best_eval.y_pred) == 200
    assert not s.best_eval.confusion


def test_multi_objective_study(make_sweep):
    sweep = make_sweep("multi", n_trials=15, objectives=MULTI)
    s = collect_study(sweep.record())
    assert s.multi
    assert s.best == [t.number for t in sweep.pareto_front]
    assert all(t.values and len(t.values) == 2 for t in s.complete)
    assert s.importance.values  # against the first objective


@pytest.mark.parametrize(
    ("kwargs", "counts"),
    [
        ({"n_trials": 0}, {}),
        ({"n_trials": 3, "states": ["FAIL"] * 3}, {"FAIL": 3}),
        ({"n_trials": 2, "states": ["PRUNED", "FAIL"]}, {"PRUNED": 1, "FAIL": 1}),
        ({"n_trials": 1}, {"COMPLETE": 1}),
    ],
    ids=["empty", "failed", "pruned-and-failed", "one-trial"],
)
def test_small_studies_collect(make_sweep, kwargs, counts):
    s = collect_study(make_sweep("small", **kwargs).record())
    assert s.counts == counts
    assert not s.importance.values
    assert "at least 2 completed trials" in s.importance.message
    assert len(s.best) == counts.get("COMPLETE", 0)


def test_storage_password_is_masked(make_sweep, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sweep = make_sweep("pw", n_trials=3)
    sweep.study  # noqa: B018 - read from the journal before the URL is swapped
    sweep.storage = "postgresql://user:s3cret@db.example/automl"
    s = collect_study(sweep.record())
    assert "s3cret" not in s.storage and "***" in s.storage


def test_bare_optuna_study(journal):
    st = optuna.create_study(study_name="bare", storage=automl.store.storage.open_storage(journal))
    st.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=4)
    data = collect([automl.load("bare", journal).record()])
    s = data.studies[0]
    assert s.objectives[0].metric == "value" and s.best == [st.best_trial.number]
    assert s.leaderboard.columns == ["number", "state", "value", "x"]
    assert s.leaderboard.rows[0][0] == st.best_trial.number
    assert data.title == "bare"


@pytest.mark.slow
def test_collect_does_not_import_plotly(make_sweep, journal):
    make_sweep("np", n_trials=4)
    code = (
        "import sys, automl\n"
        "from automl.reports.collect import collect\n"
        f"collect([automl.load('np', {journal!r}).record()])\n"
        "assert not [m for m in sys.modules if m.startswith('plotly')], 'plotly imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_importance_switches_to_ped_anova(make_sweep, monkeypatch):
    monkeypatch.setattr(analysis, "FANOVA_MAX_TRIALS", 3)
    s = collect_study(make_sweep("big", n_trials=20).record())
    assert s.importance.method.startswith("PED-ANOVA") and s.importance.values


def test_importance_error_becomes_a_message(make_sweep, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("forest on fire")

    monkeypatch.setattr(optuna.importance, "get_param_importances", broken)
    s = collect_study(make_sweep("err", n_trials=6).record())
    assert s.importance.message == "could not compute: RuntimeError: forest on fire"


def test_importance_needs_a_varying_parameter():
    st = optuna.create_study()
    st.optimize(lambda t: t.suggest_categorical("x", [1]) + 0.0, n_trials=3)
    imp = analysis.importance(st, [Objective.of("value", "minimize")], 3)
    assert imp.message == "no parameter varies across the completed trials"


def test_best_numbers_and_fronts():
    pts = [(0, [0.5, 10.0]), (1, [0.9, 50.0]), (2, [0.9, 40.0]), (3, [0.4, 5.0]), (4, [0.3, 60.0])]

    def best(points, directions):
        objs = [Objective.of(f"v{i}", d) for i, d in enumerate(directions)]
        trials = [TrialRecord(n, "COMPLETE", list(v), {}) for n, v in points]
        return [t.number for t in ranking.best(trials, objs)]

    assert best([(n, v[:1]) for n, v in pts], ["maximize"]) == [1]  # tie: first
    assert best([(n, v[:1]) for n, v in pts], ["minimize"]) == [4]
    assert best(pts, ["maximize", "minimize"]) == [2, 0, 3]
    assert best([], ["maximize"]) == []
    cost = [(n, v[0], v[1]) for n, v in pts] + [(9, 1.0, None)]
    assert ranking.front_2d(cost, MAX) == [3, 0, 2]
    assert ranking.front_2d(cost, MIN) == [3, 4]
    assert ranking.best_so_far([(2, 0.3), (0, 0.5), (5, 0.1)], MIN) == [
        (0, 0.5),
        (2, 0.3),
        (5, 0.1),
    ]


def test_plain_values():
    assert analysis.plain(np.float32(0.5)) == 0.5 and type(analysis.plain(np.int64(3))) is int
    assert analysis.plain(float("nan")) is None and analysis.plain(pd.NA) is None
    assert analysis.plain(np.bool_(True)) is True and analysis.plain("x") == "x"
    assert analysis.plain(Path("a")) == "a"
