"""The worker loop: ask a trial -> build -> train -> tell, until told to stop.

A failed trial is recorded with its reason (``nan``, ``error``, ``interrupted``) and the
loop goes on; only a broken sweep (bad data, bad spec) stops it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.trial import FrozenTrial, TrialState

from automl import artifacts, budget, keep
from automl.context import Context
from automl.errors import DataError, SpecError, TrialFailed
from automl.space import suggest

log = logging.getLogger("automl")
WAIT_S = 1.0  # poll interval of a worker waiting for trials held by other workers


@dataclass
class TrialOutcome:
    """What one trial ended as, for progress displays."""

    number: int
    state: TrialState
    values: list[float] | None = None
    reason: str = ""
    duration_s: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)
    direction: str = "maximize"


@dataclass
class Limits:
    """When a worker stops asking for trials.

    Attributes:
        max_trials: trials this worker runs before it exits to be replaced (memory hygiene).
        max_memory_mb: exit to be replaced once the process's resident memory passes this.
        deadline: wall-clock time (``time.time()``) after which no new trial starts.
    """

    max_trials: int | None = None
    max_memory_mb: float | None = None
    deadline: float | None = None


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def work(
    ctx: Context,
    limits: Limits | None = None,
    *,
    on_trial: Callable[[TrialOutcome], None] | None = None,
) -> str:
    """Ask, train, tell until the study's budget is spent or a limit is reached.

    Returns why it stopped: ``budget``, ``deadline``, ``max_trials`` or ``memory``.
    """
    limits = limits or Limits()
    ran = 0
    while True:
        if limits.max_trials is not None and ran >= limits.max_trials:
            return "max_trials"
        if limits.deadline is not None and time.time() >= limits.deadline:
            return "deadline"
        # Only after a trial: a bound below a fresh worker's size must not stop every worker.
        if limits.max_memory_mb is not None and ran and _rss_mb() > limits.max_memory_mb:
            return "memory"
        trial = claim(ctx, limits.deadline)
        if trial is None:
            return "budget"
        with _heartbeat(ctx, trial):
            outcome = run_trial(ctx, trial)
        ran += 1
        if on_trial is not None:
            on_trial(outcome)


def claim(ctx: Context, deadline: float | None = None) -> optuna.Trial | None:
    """A new trial, or None once counted trials meet the study's target.

    While the rest of the budget is held by trials running elsewhere, wait: one of them
    may be lost with its worker and come back as a retry.
    """
    while True:
        # Trials of workers that stopped sending heartbeats (RDB storages) fail here and
        # are retried; a no-op for storages without heartbeats.
        optuna.storages.fail_stale_trials(ctx.study)
        with budget.local_lock(ctx.lock_dir, ctx.study.study_name):
            target = ctx.study.user_attrs.get("target_trials")
            trials = ctx.study.get_trials(deepcopy=False)
            if target is None or budget.used(trials) < target:
                trial = ctx.study.ask()
                trial.set_user_attr("worker", worker_id())
                _first_beat(ctx, trial)
                return trial
            if budget.done(trials) >= target:
                return None
        if deadline is not None and time.time() >= deadline:
            return None
        time.sleep(WAIT_S)


def _first_beat(ctx: Context, trial: optuna.Trial) -> None:
    """Beat once at once: Optuna never marks a trial stale that has not beaten yet."""
    storage = ctx.study._storage
    if isinstance(storage, BaseHeartbeat) and storage.get_heartbeat_interval():
        storage.record_heartbeat(trial._trial_id)


@contextlib.contextmanager
def _heartbeat(ctx: Context, trial: optuna.Trial) -> Iterator[None]:
    """Beat for the trial while it runs, where the storage supports it (RDB)."""
    storage = ctx.study._storage
    if not isinstance(storage, BaseHeartbeat) or not storage.get_heartbeat_interval():
        yield
        return
    beating: BaseHeartbeat = storage
    interval = storage.get_heartbeat_interval() or 30
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):  # a missed beat only risks a retry
                beating.record_heartbeat(trial._trial_id)
            stop.wait(interval)

    thread = threading.Thread(target=beat, daemon=True, name="automl-heartbeat")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def outcome_of(t: FrozenTrial, direction: str) -> TrialOutcome:
    """The outcome of a finished trial read back from the storage."""
    metrics = dict(t.user_attrs.get("metrics", {}))
    return TrialOutcome(
        t.number,
        t.state,
        list(t.values) if t.values else None,
        str(t.user_attrs.get("fail_reason", "")),
        float(metrics.get("duration_s", 0.0)),
        metrics,
        direction,
    )


def main(
    name: str,
    url: str,
    limits: Limits,
    *,
    slot: int = 0,
    alone: bool = False,
    finalize_only: bool = False,
) -> int:
    """Body of ``automl worker``: run trials until done; the last worker evaluates on test.

    Returns the process exit code: 0 when done or replaced, 130 when interrupted.
    """
    import signal

    from automl import _env
    from automl.context import open_context
    from automl.evaluate import finalize

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    # Data first: a worker that cannot load it fails before paying for the framework.
    ctx = open_context(name, url, parallel=not alone, slot=slot)
    _env.load_keras()
    if finalize_only:
        finalize(ctx)
        return 0
    try:
        reason = work(ctx, limits)
    except KeyboardInterrupt:
        return 130
    if reason in ("budget", "deadline"):
        with budget.local_lock(ctx.lock_dir, name):
            running = ctx.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if not running:
                finalize(ctx)
    return 0


def run_trial(ctx: Context, trial: optuna.Trial) -> TrialOutcome:
    """Train one candidate and tell the study how it ended."""
    import keras

    start = time.perf_counter()
    history: dict[str, list[float]] = {}
    try:
        hp = suggest(trial, ctx.spec)
        keras.backend.clear_session()
        keras.utils.set_random_seed(_seed(ctx, trial.number))
        model, fit, metrics = _train(ctx, trial, hp)
        history = fit.history
        values = [_objective_value(o.metric, fit.val_metrics, metrics) for o in ctx.objectives]
    except KeyboardInterrupt:
        _end(ctx, trial, TrialState.FAIL, start, history, reason="interrupted")
        budget.requeue(ctx.study, trial, int(ctx.study.user_attrs.get("max_retries", 2)))
        raise
    except (DataError, SpecError):
        _end(ctx, trial, TrialState.FAIL, start, history, reason="error")
        raise
    except Exception as exc:  # noqa: BLE001 - every other failure ends this trial only
        return _failed(ctx, trial, start, exc)
    metrics["duration_s"] = round(time.perf_counter() - start, 3)
    _save_if_kept(ctx, trial, model, values, metrics)
    trial.set_user_attr("history", history)
    trial.set_user_attr("metrics", metrics)
    ctx.study.tell(trial, values)
    _drop_unkept(ctx)
    return TrialOutcome(
        trial.number,
        TrialState.COMPLETE,
        values,
        "",
        metrics["duration_s"],
        metrics,
        ctx.directions[0],
    )


def _failed(ctx: Context, trial: optuna.Trial, start: float, exc: Exception) -> TrialOutcome:
    from automl.training import Pruned

    history = getattr(exc, "history", {})
    if isinstance(exc, Pruned):
        return _end(ctx, trial, TrialState.PRUNED, start, history)
    if isinstance(exc, TrialFailed):
        return _end(ctx, trial, TrialState.FAIL, start, history, exc.reason, exc.detail)
    log.debug("trial %d failed:\n%s", trial.number, traceback.format_exc())
    detail = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return _end(ctx, trial, TrialState.FAIL, start, history, "error", detail[:500])


def _end(
    ctx: Context,
    trial: optuna.Trial,
    state: TrialState,
    start: float,
    history: dict[str, list[float]],
    reason: str = "",
    detail: str = "",
) -> TrialOutcome:
    duration = round(time.perf_counter() - start, 3)
    epochs = len(next(iter(history.values()), []))
    metrics = {"duration_s": duration, "epochs": epochs}
    trial.set_user_attr("history", history)
    trial.set_user_attr("metrics", metrics)
    if reason:
        trial.set_user_attr("fail_reason", reason)
        trial.set_user_attr("fail_detail", detail)
    ctx.study.tell(trial, state=state)
    return TrialOutcome(trial.number, state, None, reason, duration, metrics, ctx.directions[0])


def _seed(ctx: Context, number: int) -> int:
    base = ctx.study.user_attrs.get("seed") or ctx.spec.sampler.seed or 0
    return (int(base) * 100_003 + number) % (2**31 - 1)


def _train(
    ctx: Context, trial: optuna.Trial, hp: dict[str, Any]
) -> tuple[Any, Any, dict[str, Any]]:
    from automl import training
    from automl.models import build_model

    data = ctx.splits
    model = build_model(ctx.spec.model.family, hp, data.input_spec)
    training.compile_model(model, data.input_spec, hp)
    first = ctx.objectives[0]
    # Multi-objective studies cannot be pruned, so no per-epoch report goes to the trial.
    reporter = trial if len(ctx.objectives) == 1 else None
    fit = training.fit(
        model,
        data,
        hp,
        max_epochs=ctx.spec.training.max_epochs,
        patience=ctx.spec.training.patience,
        metric=first.metric,
        direction=first.resolved_direction,
        reporter=reporter,
    )
    metrics: dict[str, Any] = {
        "epochs": fit.epochs,
        "best_epoch": fit.best_epoch + 1,
        "params_count": int(model.count_params()),
        "latency_ms": round(fit.latency_ms, 6),
        **{k: round(v, 6) for k, v in fit.val_metrics.items()},
    }
    return model, fit, metrics


def _objective_value(metric: str, val: dict[str, float], metrics: dict[str, Any]) -> float:
    if metric in val:
        return float(val[metric])
    return float(metrics[metric])


def _candidates(ctx: Context) -> list[keep.Candidate]:
    out = []
    for t in ctx.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        m = t.user_attrs.get("metrics", {})
        out.append(
            keep.Candidate(
                t.number, tuple(t.values), m.get("params_count", 0), m.get("latency_ms", 0)
            )
        )
    return out


def _save_if_kept(
    ctx: Context, trial: optuna.Trial, model: Any, values: list[float], metrics: dict[str, Any]
) -> None:
    me = keep.Candidate(trial.number, tuple(values), metrics["params_count"], metrics["latency_ms"])
    if trial.number not in keep.kept([*_candidates(ctx), me], ctx.directions, ctx.spec.keep):
        return
    from optuna.artifacts import upload_artifact

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"trial-{trial.number}.keras"
        model.save(path)
        artifact_id = upload_artifact(
            artifact_store=ctx.store,
            file_path=str(path),
            study_or_trial=trial,
            mimetype="application/octet-stream",
        )
    trial.set_user_attr("artifact_id", artifact_id)


def _drop_unkept(ctx: Context) -> None:
    """Remove the models of trials that fell out of the kept set."""
    wanted = keep.kept(_candidates(ctx), ctx.directions, ctx.spec.keep)
    for t in ctx.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        artifact_id = t.user_attrs.get("artifact_id")
        if t.number not in wanted and artifacts.has(ctx.store, artifact_id):
            artifacts.remove(ctx.store, str(artifact_id))
