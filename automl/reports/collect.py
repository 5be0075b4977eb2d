"""Compute what a report shows: plain dataclasses built from sweeps, no drawing here.

``collect(sweeps)`` reads each study once and returns a :class:`ReportData`; the figure and
page code take only that object. Nothing here imports Plotly.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from automl.reports import analysis
from automl.reports.analysis import Importance, Table

if TYPE_CHECKING:
    import optuna

    from automl.api import Sweep

__all__ = ["BestEval", "Importance", "Objective", "Param", "ReportData", "StudyData", "Table"]
__all__ += ["TrialData", "collect", "collect_study"]


@dataclass(frozen=True)
class Objective:
    metric: str
    direction: str  # "maximize" | "minimize"


@dataclass
class TrialData:
    """One trial, as the report needs it."""

    number: int
    state: str
    values: list[float] | None
    params: dict[str, Any]
    start: dt.datetime | None
    complete: dt.datetime | None
    duration_s: float
    epochs: int | None
    params_count: float | None
    latency_ms: float | None
    fail_reason: str
    curve: list[float]  # per-epoch validation value of the first objective
    test: dict[str, float] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        """The first objective's value (completed trials only)."""
        return self.values[0] if self.values else None


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
    compute_s: float
    trials: list[TrialData]
    params: list[Param]
    best: list[int]  # the best trial, or the Pareto front best first by objective 1
    best_so_far: list[tuple[int, float]]  # (trial number, best first-objective value)
    best_by_time: list[tuple[str, float]]  # (completion time, best value so far)
    fronts: dict[str, list[int]]  # "params_count" / "latency_ms": trial numbers on the front
    leaderboard: Table
    importance: Importance
    best_eval: BestEval | None
    created: float | None = None

    @property
    def multi(self) -> bool:
        return len(self.objectives) > 1

    @property
    def complete(self) -> list[TrialData]:
        return [t for t in self.trials if t.state == "COMPLETE" and t.values]

    def trial(self, number: int) -> TrialData:
        return next(t for t in self.trials if t.number == number)


@dataclass
class ReportData:
    """A whole report: one study, or several to compare."""

    title: str
    studies: list[StudyData]
    generated: str


def collect(sweeps: Sequence[Sweep]) -> ReportData:
    """Read every sweep once and compute what its report shows."""
    studies = [collect_study(s) for s in sweeps]
    title = " vs ".join(s.name for s in studies) or "empty report"
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return ReportData(title=title, studies=studies, generated=now)


def collect_study(sweep: Sweep) -> StudyData:
    """Compute the report data of one sweep."""
    from automl.study import mask

    study = sweep.study
    attrs = study.user_attrs
    spec = attrs.get("spec") or {}
    objectives = _objectives(study)
    frozen = study.get_trials(deepcopy=False)
    tests = attrs.get("test_metrics") or {}
    trials = [_trial(t, objectives[0].metric, tests) for t in frozen]
    directions = [o.direction for o in objectives]
    done = [t for t in trials if t.state == "COMPLETE" and t.values]
    firsts = [(t.number, t.values[0]) for t in trials if t.state == "COMPLETE" and t.values]
    by_number = {t.number: t for t in trials}
    data = attrs.get("data") or {}
    return StudyData(
        name=study.study_name,
        space=str(spec.get("name") or ""),
        family=str((spec.get("model") or {}).get("family") or ""),
        task=str(attrs.get("task") or ""),
        sampler=str((spec.get("sampler") or {}).get("name") or ""),
        pruner=str((spec.get("pruner") or {}).get("name") or ""),
        storage=mask(sweep.storage),
        data_name=str(data.get("name") or data.get("source") or ""),
        sizes={str(k): int(v) for k, v in (data.get("sizes") or {}).items()},
        objectives=objectives,
        counts=dict(Counter(t.state for t in trials)),
        fail_reasons=dict(
            # Optuna fails a trial whose heartbeat stopped before any reason can be stored.
            Counter(t.fail_reason or "lost" for t in trials if t.state == "FAIL")
        ),
        compute_s=sum(t.duration_s for t in trials),
        trials=trials,
        params=_params(frozen),
        best=analysis.best_numbers([(t.number, t.values or []) for t in done], directions),
        best_so_far=analysis.best_so_far(firsts, directions[0]),
        best_by_time=_best_by_time(done, directions[0]),
        fronts={
            key: analysis.front_2d(
                [(n, v, getattr(by_number[n], key)) for n, v in firsts], directions[0]
            )
            for key in ("params_count", "latency_ms")
        },
        leaderboard=_leaderboard(sweep, objectives),
        importance=analysis.importance(study, directions, len(done)),
        best_eval=_best_eval(attrs.get("best_eval")),
        created=attrs.get("created"),
    )


def _best_by_time(done: list[TrialData], direction: str) -> list[tuple[str, float]]:
    timed = sorted((t.complete, t.number, t.values[0]) for t in done if t.complete and t.values)
    order = [(i, value) for i, (_, _, value) in enumerate(timed)]
    best = analysis.best_so_far(order, direction)
    return [(_iso(when), value) for (when, _, _), (_, value) in zip(timed, best, strict=True)]


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _objectives(study: optuna.Study) -> list[Objective]:
    from automl.spec import Objective as SpecObjective

    stored = study.user_attrs.get("objectives") or []
    if stored:
        parsed = [SpecObjective.model_validate(o) for o in stored]
        return [Objective(o.metric, o.resolved_direction) for o in parsed]
    # Not made by automl: name the values after their position.
    dirs = study.directions
    names = ["value"] if len(dirs) == 1 else [f"value_{i}" for i in range(len(dirs))]
    return [Objective(name, d.name.lower()) for name, d in zip(names, dirs, strict=True)]


def _trial(t: FrozenTrial, metric: str, tests: dict[str, Any]) -> TrialData:
    m = t.user_attrs.get("metrics") or {}
    duration = m.get("duration_s")
    if duration is None and t.datetime_start and t.datetime_complete:
        duration = (t.datetime_complete - t.datetime_start).total_seconds()
    history = (t.user_attrs.get("history") or {}).get(metric)
    curve = history if history else [v for _, v in sorted(t.intermediate_values.items())]
    return TrialData(
        number=t.number,
        state=t.state.name,
        values=[float(v) for v in t.values]
        if t.state == TrialState.COMPLETE and t.values
        else None,
        params=dict(t.params),
        start=t.datetime_start,
        complete=t.datetime_complete,
        duration_s=float(duration or 0.0),
        epochs=_num(m.get("epochs"), int),
        params_count=_num(m.get("params_count"), float),
        latency_ms=_num(m.get("latency_ms"), float),
        fail_reason=str(t.user_attrs.get("fail_reason") or ""),
        curve=[float(v) for v in curve if _finite(v)],
        test={str(k): float(v) for k, v in (tests.get(str(t.number)) or {}).items() if _finite(v)},
    )


def _num(value: Any, kind: type) -> Any:
    return kind(value) if _finite(value) else None


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _params(trials: list[FrozenTrial]) -> list[Param]:
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


def _leaderboard(sweep: Sweep, objectives: list[Objective]) -> Table:
    """The API's leaderboard as a plain table; a bare Optuna study gets a short one."""
    if sweep.study.user_attrs.get("objectives"):
        frame = sweep.leaderboard()
    else:
        frame = analysis.plain_leaderboard(sweep.study, objectives[0].direction, len(objectives))
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
    return out


def _at(values: Any, i: int) -> Any:
    return analysis.plain(values[i]) if isinstance(values, list) and i < len(values) else None
