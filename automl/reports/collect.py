"""Compute what a report shows: plain dataclasses built from study records, no drawing.

``collect(records)`` turns :class:`~automl.store.records.StudyRecord` objects into a
:class:`ReportData`; the figure and page code take only that object. Nothing here imports
Plotly, and nothing here reads a storage: :func:`automl.store.records.read_study` did.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from automl import ranking
from automl.ranking import Objective
from automl.reports import analysis, baselines
from automl.reports.analysis import Importance, Table
from automl.reports.delivered import final_models
from automl.reports.leaderboard import leaderboard
from automl.reports.trial_logs import TrialLogs, collect_logs
from automl.store.records import StudyRecord, TrialRecord, reason_counts

__all__ = ["BestEval", "Importance", "Param", "ReportData", "StudyData", "Table"]
__all__ += ["collect", "collect_study"]


@dataclass(frozen=True)
class Param:
    """A searched parameter: its kind, scale and choices."""

    name: str
    kind: str  # "float" | "int" | "categorical"
    log: bool = False
    choices: tuple[str, ...] = ()


@dataclass
class BestEval:
    """The best model on the test split."""

    trial: int
    layers: Table
    classes: list[str] = field(default_factory=list)
    confusion: list[list[int]] = field(default_factory=list)
    per_class: Table | None = None
    y_true: list[float] = field(default_factory=list)
    y_pred: list[float] = field(default_factory=list)
    ratings: bool = False  # a recommender's ratings: draw their distribution too
    at_k: dict[str, list[float]] = field(default_factory=dict)  # recommender metric@K


@dataclass
class StudyData:
    """Everything a report shows about one study."""

    name: str
    space: str
    family: str
    task: str
    sampler: str
    pruner: str
    storage: str  # masked: no password
    data_name: str
    sizes: dict[str, int]
    objectives: list[Objective]
    counts: dict[str, int]
    fail_reasons: dict[str, int]
    prune_reasons: dict[str, int]  # pruned trials a rule ended (no_progress), by reason
    compute_s: float
    trials: list[TrialRecord]
    params: list[Param]
    best: list[int]  # the best trial, or the Pareto front best first by objective 1
    best_so_far: list[tuple[int, float]]  # (trial number, best first-objective value)
    best_by_time: list[tuple[str, float]]  # (completion time, best value so far)
    fronts: dict[str, list[int]]  # "params_count" / "latency_ms": trial numbers on the front
    leaderboard: Table
    importance: Importance | analysis.Later
    best_eval: BestEval | None
    created: float | None = None
    finals: Table | None = None  # the single best, its refit and the ensemble on test
    baselines: Table | None = None  # the best model beside the simple models, same split
    overrides: dict[str, Any] = field(default_factory=dict)  # --set KEY=VALUE
    sampled: int = 0  # trials drawn in per-trial figures when not all (reports.thin)
    n_trials: int = 0  # every trial, also when the figures draw a sample
    logs: TrialLogs | None = None  # links to trial logs, failed trials with their log's end

    @property
    def multi(self) -> bool:
        return len(self.objectives) > 1

    @property
    def complete(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.state == "COMPLETE" and t.values]

    def trial(self, number: int) -> TrialRecord:
        return next(t for t in self.trials if t.number == number)


@dataclass
class ReportData:
    """A whole report: one study, or several to compare."""

    title: str
    studies: list[StudyData]
    generated: str


def collect(studies: Sequence[StudyRecord]) -> ReportData:
    """Compute what a report of one study, or a comparison of several, shows."""
    data = [collect_study(s) for s in studies]
    title = " vs ".join(s.name for s in data) or "empty report"
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return ReportData(title=title, studies=data, generated=now)


def collect_study(record: StudyRecord) -> StudyData:
    """Compute the report data of one study."""
    objectives = record.objectives
    first = objectives[0]
    done = record.complete
    firsts = [(t.number, t.values[0]) for t in done if t.values]
    importance = analysis.importance_soon(record.study, objectives, len(done))
    data = record.data
    return StudyData(
        name=record.name,
        space=record.space,
        family=record.family,
        task=record.task,
        sampler=record.sampler,
        pruner=record.pruner,
        storage=record.storage,
        data_name=str(data.get("name") or data.get("source") or ""),
        sizes={str(k): int(v) for k, v in (data.get("sizes") or {}).items()},
        objectives=objectives,
        counts=dict(Counter(t.state for t in record.trials)),
        fail_reasons=reason_counts(record.trials, "FAIL"),
        prune_reasons=reason_counts(record.trials, "PRUNED"),
        compute_s=sum(t.duration_s for t in record.trials),
        trials=record.trials,
        params=_params(record.trials),
        best=[t.number for t in ranking.best(done, objectives)],
        best_so_far=ranking.best_so_far(firsts, first),
        best_by_time=_best_by_time(done, first),
        fronts={key: _front(done, first, key) for key in ("params_count", "latency_ms")},
        leaderboard=_leaderboard(record),
        importance=importance,
        best_eval=_best_eval(record.best_eval),
        created=record.created,
        finals=final_models(record),
        baselines=baselines.table(record),
        overrides=dict(record.spec.get("overrides") or {}),
        n_trials=len(record.trials),
        logs=collect_logs(record),
    )


def _front(done: list[TrialRecord], objective: Objective, cost: str) -> list[int]:
    points = [(t.number, t.values[0], getattr(t, cost)) for t in done if t.values]
    return ranking.front_2d(points, objective)


def _best_by_time(done: list[TrialRecord], objective: Objective) -> list[tuple[str, float]]:
    timed = sorted((t.complete, t.number, t.values[0]) for t in done if t.complete and t.values)
    order = [(i, value) for i, (_, _, value) in enumerate(timed)]
    best = ranking.best_so_far(order, objective)
    return [(_iso(when), value) for (when, _, _), (_, value) in zip(timed, best, strict=True)]


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _params(trials: list[TrialRecord]) -> list[Param]:
    """Every parameter that any trial drew, in the order first seen."""
    seen: dict[str, Param] = {}
    for t in trials:
        for name, d in t.distributions.items():
            if name in seen:
                continue
            if isinstance(d, CategoricalDistribution):
                seen[name] = Param(name, "categorical", choices=tuple(str(c) for c in d.choices))
            elif isinstance(d, IntDistribution | FloatDistribution):
                kind = "int" if isinstance(d, IntDistribution) else "float"
                seen[name] = Param(name, kind, log=bool(d.log))
    return list(seen.values())


def _leaderboard(record: StudyRecord) -> Table:
    """The API's leaderboard as a plain table."""
    frame = leaderboard(record)
    columns = [str(c) for c in frame.columns]
    taken = set(columns)
    shown = []
    for c in columns:
        bare = c.removeprefix("param_")
        shown.append(bare if c.startswith("param_") and bare not in taken else c)
    rows = [[analysis.plain(v) for v in row] for row in frame.itertuples(index=False)]
    return Table(shown, rows)


def _best_eval(info: Any) -> BestEval | None:
    if not isinstance(info, dict) or "trial" not in info:
        return None
    layers = info.get("layers") or []
    keys = ["name", "type", "output_shape", "params"]
    out = BestEval(
        trial=int(info["trial"]),
        layers=Table(keys, [[analysis.plain(row.get(k)) for k in keys] for row in layers]),
    )
    if info.get("confusion"):
        out.classes = [str(c) for c in info.get("classes") or []]
        out.confusion = [[int(v) for v in row] for row in info["confusion"]]
        if len(out.classes) != len(out.confusion):
            out.classes = [str(i) for i in range(len(out.confusion))]
        scores = info.get("per_class") or {}
        cols = [k for k in ("precision", "recall", "f1", "support") if k in scores]
        rows = [[c, *[_at(scores[k], i) for k in cols]] for i, c in enumerate(out.classes)]
        out.per_class = Table(["class", *cols], rows) if cols else None
    if info.get("y_true") and info.get("y_pred"):  # regression
        n = min(len(info["y_true"]), len(info["y_pred"]))
        out.y_true = [float(v) for v in info["y_true"][:n]]
        out.y_pred = [float(v) for v in info["y_pred"][:n]]
        out.ratings = bool(info.get("ratings"))
    if isinstance(info.get("at_k"), dict):
        out.at_k = {str(k): [float(v) for v in vs] for k, vs in info["at_k"].items()}
    return out


def _at(values: Any, i: int) -> Any:
    return analysis.plain(values[i]) if isinstance(values, list) and i < len(values) else None
