"""What "better" means: objectives, the best trial, the Pareto front, kept models, pick().

Every comparison of trials in automl goes through this module, with one tie rule: the
better first objective wins; on a tie the model with fewer parameters, then the faster
one, then the earlier trial. So the report's best, ``Sweep.best_trial``, the kept models
and ``pick()`` always agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

Direction = Literal["maximize", "minimize"]
# Metrics where higher is better; every other metric (losses, errors, costs) is minimized.
MAXIMIZED = ("val_accuracy", "val_hr@10", "val_ndcg@10")
AT_K = ("val_hr@", "val_ndcg@")  # recommender ranking metrics, for any K


def at_k(metric: str) -> tuple[str, int] | None:
    """``("val_hr", 10)`` for ``val_hr@10``; None for a metric that is not "@K"."""
    base, _, k = metric.partition("@")
    return (base, int(k)) if metric.startswith(AT_K) and k.isdigit() and int(k) > 0 else None


# Keras metric names (with or without val_) a user's own model may log that are maximized.
KERAS_MAXIMIZED = ("accuracy", "auc", "precision", "recall", "f1_score", "r2_score")


@dataclass(frozen=True)
class Objective:
    """A metric and its direction, resolved (a file may leave the direction out)."""

    metric: str
    direction: Direction

    @classmethod
    def of(cls, metric: str, direction: str | None = None) -> Objective:
        """The objective, with the metric's usual direction when none is given."""
        if direction is None:
            bare = metric.removeprefix("val_")
            up = metric in MAXIMIZED or at_k(metric) is not None or bare.endswith(KERAS_MAXIMIZED)
            direction = "maximize" if up else "minimize"
        if direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be maximize or minimize; got {direction!r}")
        return cls(metric, direction)  # type: ignore[arg-type]

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    @property
    def mode(self) -> Literal["max", "min"]:
        """Keras callbacks' name for the direction."""
        return "max" if self.maximize else "min"

    def sort_key(self, value: float | None) -> float:
        """Smaller is better; a missing or NaN value sorts last."""
        if value is None or math.isnan(value):
            return math.inf
        return -value if self.maximize else value

    def better(self, a: float, b: float | None) -> bool:
        """Whether ``a`` is strictly better than ``b`` (anything beats a missing ``b``)."""
        return self.sort_key(a) < self.sort_key(b)

    def as_dict(self) -> dict[str, str]:
        return {"metric": self.metric, "direction": self.direction}


def default_objectives(directions: Sequence[str]) -> list[Objective]:
    """Objectives of a study automl did not create: ``value``, or ``value_0``, ``value_1``..."""
    names = ["value"] if len(directions) == 1 else [f"value_{i}" for i in range(len(directions))]
    return [Objective.of(n, d) for n, d in zip(names, directions, strict=True)]


class Ranked(Protocol):
    """What ranking needs of a trial (a :class:`~automl.store.records.TrialRecord` has it)."""

    @property
    def number(self) -> int: ...
    @property
    def values(self) -> list[float] | None: ...
    @property
    def params_count(self) -> float | None: ...
    @property
    def latency_ms(self) -> float | None: ...


T = TypeVar("T", bound=Ranked)


def rank_key(t: Ranked, objectives: Sequence[Objective]) -> tuple[float, float, float, float, int]:
    """The one tie rule: first objective, then the lower validation loss, then fewer
    parameters, lower latency, number.

    Accuracy on a small validation split ties often (one sample is a fraction of a point);
    among tied trials the validation loss still tells confident from lucky ones, which
    ranks them far better on held-out data than their size does (docs/design/findings.md §1a).
    """
    value = t.values[0] if t.values else None
    return (
        objectives[0].sort_key(value),
        _tie_loss(t, objectives[0]),
        t.params_count or 0.0,
        t.latency_ms or 0.0,
        t.number,
    )


def best_epoch(history: Mapping[str, Sequence[float]], objective: Objective) -> int:
    """The epoch whose weights a trial keeps: the best objective, then the lower validation
    loss, then the earlier epoch (the tie rule of trials, applied to epochs).

    Accuracy on a small validation split repeats from epoch to epoch; the first epoch to
    touch the maximum is often an under-trained one, and a later epoch at the same accuracy
    with a lower loss scores better on held-out data (docs/design/findings.md §1b).
    """
    values = history.get(objective.metric) or []
    losses = history.get("val_loss") or []
    tie = objective.metric != "val_loss" and len(losses) == len(values)

    def key(epoch: int) -> tuple[float, float, int]:
        loss = losses[epoch] if tie and math.isfinite(losses[epoch]) else math.inf
        return objective.sort_key(values[epoch]), loss, epoch

    return min(range(len(values)), key=key)


def _tie_loss(t: Ranked, objective: Objective) -> float:
    if objective.metric == "val_loss":
        return 0.0
    loss = (getattr(t, "metrics", None) or {}).get("val_loss")
    return float(loss) if isinstance(loss, int | float) and math.isfinite(loss) else math.inf


def ranked(trials: Iterable[T], objectives: Sequence[Objective]) -> list[T]:
    """Trials with values, best first."""
    return sorted((t for t in trials if t.values), key=lambda t: rank_key(t, objectives))


def _dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and list(a) != list(b)


def pareto_front(trials: Iterable[T], objectives: Sequence[Objective]) -> list[T]:
    """Trials no other trial beats on every objective, best first by the tie rule."""
    done = ranked(trials, objectives)
    keys = [[o.sort_key(v) for o, v in zip(objectives, t.values or [], strict=True)] for t in done]
    return [t for t, k in zip(done, keys, strict=True) if not any(_dominates(o, k) for o in keys)]


def best(trials: Iterable[T], objectives: Sequence[Objective]) -> list[T]:
    """The best trial (one objective), or the Pareto front (several); empty if none."""
    if len(objectives) > 1:
        return pareto_front(trials, objectives)
    return ranked(trials, objectives)[:1]


def kept(trials: Iterable[T], objectives: Sequence[Objective], k: int) -> set[int]:
    """Numbers of the trials whose models are kept: the best ``k`` plus a cost front.

    The front over (first objective, validation loss, parameter count, latency) means
    ``pick()`` under any parameter and latency limits always finds its answer on disk:
    that answer is never beaten on all four.
    """
    done = ranked(trials, objectives)
    # The front includes the tie loss: pick()'s answer among equals is never dominated.
    keys = [rank_key(t, objectives)[:4] for t in done]
    front = {
        t.number
        for t, key in zip(done, keys, strict=True)
        if not any(_dominates(o, key) for o in keys)
    }
    return {t.number for t in done[:k]} | front


def pick(
    trials: Iterable[T],
    objectives: Sequence[Objective],
    max_params: float | None = None,
    max_latency_ms: float | None = None,
) -> T | None:
    """The best trial whose parameter count and latency stay within the limits."""
    fits = [
        t
        for t in trials
        if (max_params is None or (t.params_count or 0) <= max_params)
        and (max_latency_ms is None or (t.latency_ms or 0) <= max_latency_ms)
    ]
    found = ranked(fits, objectives)
    return found[0] if found else None


def best_so_far(
    points: Iterable[tuple[int, float]], objective: Objective
) -> list[tuple[int, float]]:
    """The best value reached up to each trial number, in trial order."""
    out: list[tuple[int, float]] = []
    current: float | None = None
    for number, value in sorted(points):
        if current is None or objective.better(value, current):
            current = value
        out.append((number, current))
    return out


def front_2d(points: Iterable[tuple[int, float, float | None]], objective: Objective) -> list[int]:
    """Trials no other beats on both the objective and a cost (lower cost is better).

    Args:
        points: ``(trial number, objective value, cost)``; points without a cost are skipped.
        objective: the objective.

    Returns:
        The front's trial numbers, by increasing cost.
    """
    usable = sorted((c, objective.sort_key(v), n) for n, v, c in points if c is not None)
    front: list[int] = []
    lowest = math.inf
    for _, key, number in usable:
        if key < lowest:
            front.append(number)
            lowest = key
    return front
