"""What "better" means: one tie rule for the best trial, kept models and pick()."""

from __future__ import annotations

import pytest

from automl.ranking import Objective, best, kept, pareto_front, pick, ranked
from automl.store.records import TrialRecord

MAX = [Objective.of("val_accuracy")]
MIN = [Objective.of("val_loss")]


def c(n: int, value: float, params: int, latency: float = 1.0) -> TrialRecord:
    return TrialRecord(n, "COMPLETE", [value], {}, params_count=params, latency_ms=latency)


def test_top_k_by_objective_plus_the_size_front() -> None:
    cands = [
        c(0, 0.90, 1000),
        c(1, 0.95, 5000),
        c(2, 0.97, 9000),
        c(3, 0.80, 100),
        c(4, 0.85, 8000),
    ]
    keep = kept(cands, MAX, k=2)
    assert {1, 2} <= keep  # best two
    assert 3 in keep and 0 in keep  # smallest and a trade-off are on the front
    assert 4 not in keep  # worse and bigger than trial 1


def test_minimize_direction_and_ranking() -> None:
    cands = [c(0, 3.0, 10), c(1, 1.0, 10), c(2, 2.0, 10)]
    assert [x.number for x in ranked(cands, MIN)] == [1, 2, 0]
    assert kept(cands, MIN, k=1) == {1}


def test_ties_prefer_the_smaller_model_so_pick_finds_a_kept_one() -> None:
    cands = [c(0, 0.99, 5000), c(1, 0.95, 1000), c(2, 0.95, 900)]
    keep = kept(cands, MAX, k=1)
    found = pick(cands, MAX, max_params=1000)
    assert found is not None and found.number == 2
    assert 2 in keep and 1 not in keep


def test_best_and_pick_agree_on_ties() -> None:
    cands = [c(0, 0.95, 2000, 0.2), c(1, 0.95, 1000, 0.3), c(2, 0.95, 1000, 0.1)]
    assert best(cands, MAX)[0].number == 2 == pick(cands, MAX).number  # type: ignore[union-attr]
    assert pick(cands, MAX, max_latency_ms=0.05) is None


def test_pareto_front_of_two_objectives_best_first() -> None:
    objs = [Objective.of("val_accuracy"), Objective.of("latency_ms")]
    trials = [
        TrialRecord(0, "COMPLETE", [0.9, 5.0], {}),
        TrialRecord(1, "COMPLETE", [0.8, 1.0], {}),
        TrialRecord(2, "COMPLETE", [0.7, 6.0], {}),  # beaten on both
        TrialRecord(3, "PRUNED", None, {}),
    ]
    assert [t.number for t in pareto_front(trials, objs)] == [0, 1]


def test_nan_sorts_last_and_direction_is_checked() -> None:
    assert MAX[0].better(0.1, float("nan")) and not MAX[0].better(float("nan"), 0.1)
    assert Objective.of("val_rmse").direction == "minimize"
    with pytest.raises(ValueError, match="direction"):
        Objective.of("val_accuracy", "up")


def test_accuracy_ties_go_to_the_lower_validation_loss() -> None:
    a, b = c(0, 0.98, 100), c(1, 0.98, 5000)
    a.metrics["val_loss"], b.metrics["val_loss"] = 0.09, 0.05
    assert best([a, b], MAX)[0].number == 1 == pick([a, b], MAX).number  # type: ignore[union-attr]
    assert ranked([a, b], MIN)[0].number == 0  # a loss objective: no second loss to consult
