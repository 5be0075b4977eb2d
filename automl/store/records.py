"""The one typed reading of what a study's storage holds, and the keys it is stored under.

Workers write trial results through :func:`write_result` / :func:`write_failure`; every
reader (API, leaderboard, reports, CLI) gets :class:`StudyRecord` and :class:`TrialRecord`
from :func:`read_study`, never raw ``user_attrs``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState

from automl.options import DEFAULTS
from automl.ranking import Objective, default_objectives
from automl.store.logs import StudyLogs, study_logs
from automl.store.models import safe_id
from automl.store.placement import read_placement
from automl.store.redact import scrub

# Study attributes.
VERSION = "automl_version"
SPEC = "spec"
TASK = "task"
OBJECTIVES = "objectives"
SEED = "seed"
SPLIT = "split_artifact"
TOKENIZER = "tokenizer_artifact"
VOCAB = "vocabulary_artifact"  # recommenders: user and item ids, popular items (JSON)
DATA = "data"
CREATED = "created"
# "test_metrics:<trial number>": {metric: value}, one key per trial so that finalizers on
# two machines never overwrite each other; studies before 0.2 hold one dict under
# "test_metrics" ({trial number (str): {metric: value}}), still read.
TEST_METRICS = "test_metrics"
BEST_EVAL = "best_eval"  # the best model's confusion matrix or residuals, layer table
TARGET_TRIALS = "target_trials"
TARGET_OWNERS = "target_owners"  # "host:pid" of the conductors whose --trials the target holds
CREATOR = "creator"  # a token of the conductor that made the study; its early workers wait for it
ENSEMBLE = "ensemble"  # {candidates, members (trial numbers, repeats), val_loss, test}
# {trial, artifact_id, sha256, epochs, samples, test}: the best refitted on train+val
REFIT = "refit"
MAX_RETRIES = "max_retries"
# {name: {"validation": {metric: v}, "test": {metric: v}, "seconds": s}}: the simple models
# fitted once per study (automl.study.baselines)
BASELINES = "baselines"
# Trial attributes.
METRICS = "metrics"  # validation metrics and costs: epochs, duration_s, params_count...
HISTORY = "history"  # per-epoch Keras logs
FAIL_REASON = "fail_reason"
FAIL_DETAIL = "fail_detail"
WORKER = "worker"  # "host:pid" of the process running the trial
ARTIFACT = "artifact_id"  # the saved model, while it is kept
MODEL_SHA256 = "model_sha256"  # its SHA-256 when saved: a reader hands out only that file
RETRY = "retry"
RETRY_OF = "retry_of"
EPOCH = "epoch"  # epochs finished so far, while the trial runs (automl watch)


@dataclass
class TrialRecord:
    """One trial, as every reader sees it."""

    number: int
    state: str  # an Optuna TrialState name: COMPLETE, PRUNED, FAIL, RUNNING, WAITING
    values: list[float] | None  # objective values, completed trials only
    params: dict[str, Any]
    distributions: dict[str, BaseDistribution] = field(default_factory=dict, repr=False)
    start: dt.datetime | None = None
    complete: dt.datetime | None = None
    duration_s: float = 0.0
    epochs: int | None = None
    params_count: float | None = None
    latency_ms: float | None = None
    fail_reason: str = ""
    fail_detail: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict, repr=False)
    curve: list[float] = field(default_factory=list, repr=False)  # first objective per epoch
    test: dict[str, float] = field(default_factory=dict)
    worker: str = ""
    placement: dict[str, str] = field(default_factory=dict)  # see store/placement.py
    artifact_id: str | None = None
    has_model: bool = False
    model_sha256: str | None = None
    retry_of: int | None = None

    @property
    def value(self) -> float | None:
        """The first objective's value (completed trials only)."""
        return self.values[0] if self.values else None

    @classmethod
    def from_frozen(
        cls, t: FrozenTrial, metric: str, tests: dict[str, Any], saved: set[str] | None = None
    ) -> TrialRecord:
        """Read one stored trial; ``saved`` holds the artifact ids that exist."""
        a = t.user_attrs
        m = dict(a.get(METRICS) or {})
        duration = m.get("duration_s")
        if duration is None and t.datetime_start and t.datetime_complete:
            duration = (t.datetime_complete - t.datetime_start).total_seconds()
        history = dict(a.get(HISTORY) or {})
        curve = history.get(metric) or [v for _, v in sorted(t.intermediate_values.items())]
        done = t.state == TrialState.COMPLETE and t.values
        artifact = a.get(ARTIFACT)
        return cls(
            number=t.number,
            state=t.state.name,
            values=[float(v) for v in t.values] if done else None,
            params=dict(t.params),
            distributions=dict(t.distributions),
            start=t.datetime_start,
            complete=t.datetime_complete,
            duration_s=float(duration or 0.0),
            epochs=_num(m.get("epochs", a.get(EPOCH)), int),  # so far, while running
            params_count=_num(m.get("params_count"), float),
            latency_ms=_num(m.get("latency_ms"), float),
            fail_reason=str(a.get(FAIL_REASON) or ""),
            fail_detail=scrub(str(a.get(FAIL_DETAIL) or "")),
            metrics=m,
            history=history,
            curve=[float(v) for v in curve if finite(v)],
            test={
                str(k): float(v) for k, v in (tests.get(str(t.number)) or {}).items() if finite(v)
            },
            worker=str(a.get(WORKER) or ""),
            placement=read_placement(a),
            artifact_id=str(artifact) if artifact else None,
            has_model=safe_id(artifact) and (saved is None or str(artifact) in saved),
            model_sha256=str(a[MODEL_SHA256]) if a.get(MODEL_SHA256) else None,
            retry_of=_num(a.get(RETRY_OF), int),
        )


def reason_counts(trials: list[TrialRecord], state: str) -> dict[str, int]:
    """Trials in ``state`` (FAIL or PRUNED) by stored reason.

    A failed trial with no reason is ``lost``: Optuna fails a trial whose heartbeat stopped
    before any reason could be stored. Pruned trials count only when a rule gave a reason
    (``no_progress``), not when the pruner stopped them.
    """
    lost = "lost" if state == "FAIL" else ""
    return dict(
        Counter(
            t.fail_reason or lost for t in trials if t.state == state and (t.fail_reason or lost)
        )
    )


@dataclass
class StudyRecord:
    """One study: what it searched, how, and every trial."""

    name: str
    storage: str  # masked: no password
    objectives: list[Objective]
    trials: list[TrialRecord]
    made_by_automl: bool = True
    spec: dict[str, Any] = field(default_factory=dict, repr=False)
    task: str = ""
    seed: int | None = None
    data: dict[str, Any] = field(default_factory=dict, repr=False)
    created: float | None = None
    test_metrics: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)
    best_eval: dict[str, Any] | None = field(default=None, repr=False)
    ensemble: dict[str, Any] | None = field(default=None, repr=False)
    refit: dict[str, Any] | None = field(default=None, repr=False)
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    tokenizer_artifact: str | None = None
    split_artifact: str | None = None
    target_trials: int | None = None
    max_retries: int = DEFAULTS.max_retries
    study: optuna.Study | None = field(default=None, repr=False, compare=False)
    logs: StudyLogs | None = field(default=None, repr=False, compare=False)  # read with models

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    @property
    def complete(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.state == "COMPLETE" and t.values]

    def trial(self, number: int) -> TrialRecord:
        return next(t for t in self.trials if t.number == number)

    @property
    def space(self) -> str:
        return str(self.spec.get("name") or "")

    @property
    def family(self) -> str:
        model = self.spec.get("model") or {}
        return str(model.get("family") or ("build" if model.get("build") else ""))

    @property
    def sampler(self) -> str:
        return str((self.spec.get("sampler") or {}).get("name") or "")

    @property
    def pruner(self) -> str:
        return str((self.spec.get("pruner") or {}).get("name") or "")

    @property
    def keep(self) -> int:
        return int(self.spec.get("keep") or 5)


def objectives_of(study: optuna.Study) -> list[Objective]:
    """The study's stored objectives, or ``value``/``value_i`` for a study automl did not make."""
    stored = study.user_attrs.get(OBJECTIVES) or []
    if stored:
        return [Objective.of(o["metric"], o.get("direction")) for o in stored]
    return default_objectives([d.name.lower() for d in study.directions])


def read_study(study: optuna.Study, url: str, *, models: bool = True) -> StudyRecord:
    """Read a study once into a :class:`StudyRecord`.

    Args:
        study: the loaded Optuna study.
        url: its storage URL (masked in the record; locates the artifact store).
        models: check which saved models still exist (``has_model``), and which trials
            kept a log (``logs``: the tails of failed trials' logs too).
    """
    from automl.store import storage

    attrs = study.user_attrs
    objectives = objectives_of(study)
    frozen = study.get_trials(deepcopy=False)
    saved: set[str] | None = None
    if models:
        store = storage.artifact_store(url, create=False)
        ids = {str(a) for t in frozen if (a := t.user_attrs.get(ARTIFACT))}
        saved = {i for i in ids if storage.has(store, i)}
    tests = tests_of(attrs)
    metric = objectives[0].metric
    failed = [t.number for t in frozen if t.state == TrialState.FAIL]
    return StudyRecord(
        name=study.study_name,
        storage=storage.mask(url),
        objectives=objectives,
        trials=[TrialRecord.from_frozen(t, metric, tests, saved) for t in frozen],
        made_by_automl=SPEC in attrs,
        spec=dict(attrs.get(SPEC) or {}),
        task=str(attrs.get(TASK) or ""),
        seed=attrs.get(SEED),
        data=dict(attrs.get(DATA) or {}),
        created=attrs.get(CREATED),
        test_metrics=dict(tests),
        best_eval=best_eval_of(attrs, url),
        ensemble=attrs.get(ENSEMBLE),
        refit=attrs.get(REFIT),
        baselines=dict(b) if isinstance(b := attrs.get(BASELINES), dict) else {},
        tokenizer_artifact=attrs.get(TOKENIZER),
        split_artifact=attrs.get(SPLIT),
        target_trials=attrs.get(TARGET_TRIALS),
        max_retries=int(attrs.get(MAX_RETRIES, DEFAULTS.max_retries)),
        study=study,
        logs=study_logs(url, study.study_name, failed) if models else None,
    )


def store_best_eval(study: optuna.Study, store: Any, info: dict[str, Any]) -> None:
    """Store what a report shows of the best model as a JSON artifact; the study attribute
    keeps only its trial and the artifact's id (confusion matrices and residuals can be big)."""
    import io
    import json
    import time

    from automl.store import storage

    aid = f"best-eval-{storage.study_id(study)}-{info.get('trial')}-{int(time.time() * 1000)}.json"
    store.write(aid, io.BytesIO(json.dumps(info).encode("utf-8")))
    old = study.user_attrs.get(BEST_EVAL)
    study.set_user_attr(BEST_EVAL, {"trial": info.get("trial"), "artifact": aid})
    if isinstance(old, dict) and safe_id(old.get("artifact")):
        storage.remove(store, str(old["artifact"]))


def best_eval_of(attrs: dict[str, Any], url: str) -> dict[str, Any] | None:
    """The best model's report data: from its artifact, or inline (studies made before)."""
    import json

    from automl.store import storage

    value = attrs.get(BEST_EVAL)
    if not isinstance(value, dict) or "artifact" not in value:
        return value if isinstance(value, dict) else None
    aid = value.get("artifact")
    store = storage.artifact_store(url, create=False)
    if not safe_id(aid) or not storage.has(store, str(aid)):
        return None
    with store.open_reader(str(aid)) as f:
        found = json.loads(f.read().decode("utf-8"))
    return found if isinstance(found, dict) else None


def tests_of(attrs: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Every trial's test metrics by trial number (str), old and new layouts merged."""
    tests = {str(k): dict(v) for k, v in (attrs.get(TEST_METRICS) or {}).items()}
    prefix = f"{TEST_METRICS}:"
    for key, value in attrs.items():
        if key.startswith(prefix) and isinstance(value, dict):
            tests[key.removeprefix(prefix)] = dict(value)
    return tests


def write_test(study: optuna.Study, number: int, metrics: dict[str, float]) -> None:
    """Store one trial's test metrics under a key of its own (no read-modify-write)."""
    study.set_user_attr(f"{TEST_METRICS}:{number}", metrics)


def max_retries(study: optuna.Study) -> int:
    return int(study.user_attrs.get(MAX_RETRIES, DEFAULTS.max_retries))


def target_trials(study: optuna.Study) -> int | None:
    value = study.user_attrs.get(TARGET_TRIALS)
    return None if value is None else int(value)


def write_result(
    trial: optuna.Trial, metrics: dict[str, Any], history: dict[str, list[float]]
) -> None:
    """Store a trial's validation metrics, costs and curves (before it is told)."""
    trial.set_user_attr(HISTORY, history)
    trial.set_user_attr(METRICS, metrics)


def write_failure(
    trial: optuna.Trial,
    metrics: dict[str, Any],
    history: dict[str, list[float]],
    reason: str,
    detail: str,
) -> None:
    """Store why a trial failed, with what it learned until then."""
    write_result(trial, metrics, history)
    if reason:
        trial.set_user_attr(FAIL_REASON, reason)
        trial.set_user_attr(FAIL_DETAIL, scrub(detail))  # a driver's error may quote a URL


class EpochRecorder:
    """A trial's per-epoch reporter that also records the epoch reached, for live views.

    Args:
        trial: the running trial.
        prune: forward values to the pruner (single-objective studies only).
    """

    def __init__(self, trial: optuna.Trial, prune: bool) -> None:
        self.trial = trial
        self.study = trial.study  # what the pruning guard compares against
        self.prune = prune

    def report(self, value: float, step: int) -> None:
        self.trial.set_user_attr(EPOCH, step + 1)  # one small storage write per epoch
        if self.prune:
            self.trial.report(value, step)

    def should_prune(self) -> bool:
        return self.prune and self.trial.should_prune()


def lost_attrs(reason: str) -> dict[str, str]:
    """The attributes of a trial failed because its worker is gone."""
    return {FAIL_REASON: reason, FAIL_DETAIL: f"worker {reason}"}


def finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: Any, kind: type) -> Any:
    return kind(value) if finite(value) else None


def state_of(record: TrialRecord) -> TrialState:
    return TrialState[record.state]


def history_at(trials: Iterable[FrozenTrial], key: str, epoch: int) -> list[float]:
    """The stored per-epoch value ``key`` at 0-based ``epoch`` of each trial that has it."""
    out = []
    for t in trials:
        curve = (t.user_attrs.get(HISTORY) or {}).get(key) or []
        if len(curve) > epoch and isinstance(curve[epoch], int | float):
            out.append(float(curve[epoch]))
    return out
