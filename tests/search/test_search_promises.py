"""Promises of the YAML reference that each get a short sweep: samplers, pruners and
``min_epochs``, ``patience``, ``latency_ms`` and ``val_mae`` objectives, storages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from automl import sweeps
from automl.search import samplers
from automl.search.spec import validate_spec
from tests.helpers import tiny_spec

pytestmark = pytest.mark.slow


def _spying(monkeypatch: pytest.MonkeyPatch, registry: dict[str, Any], name: str) -> list[Any]:
    """Record what the registry's factory ``name`` builds, so a test sees what ran."""
    made: list[Any] = []
    real = registry[name]

    def factory(*args: Any) -> Any:
        made.append(real(*args))
        return made[-1]

    monkeypatch.setitem(registry, name, factory)
    return made


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("cmaes", "CmaEsSampler"),
        ("gp", "GPSampler"),
        ("qmc", "QMCSampler"),
        ("nsga2", "NSGAIISampler"),
        ("grid", "GridSampler"),
    ],
)
def test_every_sampler_runs_a_short_sweep(
    name: str, cls: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _spying(monkeypatch, samplers.SAMPLERS, name)
    search: dict[str, Any] = {
        "n_layers": 1,
        "units": {"low": 8, "high": 32, "step": 8},
        "learning_rate": {"low": 3e-3, "high": 1e-2, "step": 1e-3},
    }
    raw = tiny_spec(search=search, sampler={"name": name, "seed": 0}, ensemble=0)
    raw["training"] = {"max_epochs": 1, "batch_size": 64, "no_progress_epochs": 0}
    sweep = sweeps.tune(
        validate_spec(raw), trials=3, storage=str(tmp_path / "j.log"), in_process=True
    )
    trials = sweep.record().trials
    assert made and all(type(s).__name__ == cls for s in made)
    assert [t.state for t in trials] == ["COMPLETE"] * 3, [t.fail_detail for t in trials]
    if name == "grid":  # a grid never repeats a point while points remain
        assert len({tuple(sorted(t.params.items())) for t in trials}) == 3


@pytest.mark.parametrize(
    ("name", "cls"),
    [("successive_halving", "SuccessiveHalvingPruner"), ("hyperband", "HyperbandPruner")],
)
def test_pruners_prune_only_after_min_epochs(
    name: str, cls: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _spying(monkeypatch, samplers.PRUNERS, name)
    raw = tiny_spec(pruner={"name": name, "min_epochs": 2}, ensemble=0)
    raw["search"]["learning_rate"] = {"low": 1e-4, "high": 3e-2, "log": True}
    raw["training"] = {"max_epochs": 3, "patience": None, "batch_size": 64}
    raw["training"]["no_progress_epochs"] = 0
    sweep = sweeps.tune(
        validate_spec(raw), trials=4, storage=str(tmp_path / "j.log"), in_process=True
    )
    trials = sweep.record().trials
    assert made and type(made[0]).__name__ == cls
    pruned = [t for t in trials if t.state == "PRUNED"]
    assert pruned, [(t.state, t.value) for t in trials]
    # min_epochs: 2 means no trial stops at its first epoch, and pruning ends it early.
    assert all(len(t.curve) == 2 for t in pruned), [t.curve for t in pruned]
    assert all(len(t.curve) == 3 for t in trials if t.state == "COMPLETE")


def test_patience_stops_a_trial_that_stops_improving(tmp_path: Path) -> None:
    raw = tiny_spec(
        search={"n_layers": 1, "units": 16, "learning_rate": 1e-7, "optimizer": "sgd"}, ensemble=0
    )
    raw["training"] = {"max_epochs": 8, "patience": 1, "batch_size": 64, "no_progress_epochs": 0}
    sweep = sweeps.tune(
        validate_spec(raw), trials=1, storage=str(tmp_path / "j.log"), in_process=True
    )
    (trial,) = sweep.record().trials
    curve = trial.curve
    best = curve.index(max(curve))
    # It ran exactly `patience` epochs past its best one, well before max_epochs.
    assert trial.state == "COMPLETE" and len(curve) == best + 1 + 1 < 8, curve


def test_latency_as_a_further_objective(tmp_path: Path) -> None:
    raw = tiny_spec(objective=[{"metric": "val_accuracy"}, {"metric": "latency_ms"}], ensemble=0)
    raw["training"] = {"max_epochs": 1, "batch_size": 64, "no_progress_epochs": 0}
    sweep = sweeps.tune(
        validate_spec(raw), trials=2, storage=str(tmp_path / "j.log"), in_process=True
    )
    done = [t for t in sweep.record().trials if t.state == "COMPLETE"]
    assert len(done) == 2
    assert sweep.directions == ["maximize", "minimize"]
    assert all(t.values and t.values[1] == pytest.approx(t.latency_ms) for t in done)


def test_val_mae_objective_of_a_regression_is_minimized(tmp_path: Path) -> None:
    raw = tiny_spec(data={"source": "diabetes"}, objective={"metric": "val_mae"}, ensemble=0)
    raw["training"] = {"max_epochs": 2, "batch_size": 32, "no_progress_epochs": 0}
    sweep = sweeps.tune(
        validate_spec(raw), trials=2, storage=str(tmp_path / "j.log"), in_process=True
    )
    done = [t for t in sweep.record().trials if t.state == "COMPLETE"]
    assert len(done) == 2 and sweep.objectives[0].direction == "minimize"
    for t in done:
        assert t.value == pytest.approx(min(t.history["val_mae"]))
    assert sweep.best_value == min(t.value for t in done if t.value is not None)


def test_a_sampler_whose_package_is_missing_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from typer.testing import CliRunner

    from automl.cli.main import app
    from tests.helpers import write_yaml

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "cmaes" else real(name, *a)
    )
    space = write_yaml(tmp_path / "s.yaml", tiny_spec(sampler={"name": "cmaes"}))
    result = CliRunner().invoke(app, ["tune", str(space), "--storage", str(tmp_path / "j.log")])
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == [
        "error: sampler.name: 'cmaes' needs the 'cmaes' package: pip install cmaes"
    ]
