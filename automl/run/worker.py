"""The worker loop: ask a trial -> build -> train -> tell, until told to stop.

A failed trial is recorded with its reason (``nan``, ``error``, ``interrupted``) and the
loop goes on; only a broken sweep (bad data, bad spec) stops it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from automl import errors
from automl.errors import (
    DataError,
    Pruned,
    SpecError,
    TrialFailed,
    TrialStopped,
    UntrustedCodeError,
)
from automl.run import budget, capture
from automl.search.suggest import suggest
from automl.store import placement, records, retry, storage
from automl.store.records import TrialRecord
from automl.study import kept_models
from automl.study.context import Context
from automl.track.trial import TrackedRecorder, TrialTracker

log = logging.getLogger("automl")
WAIT_S = 1.0  # poll interval of a worker waiting for trials held by other workers


@dataclass
class Limits:
    """When a worker stops asking for trials.

    Attributes:
        max_trials: trials this worker runs before it exits to be replaced (memory hygiene).
        max_memory_mb: exit to be replaced once the process's resident memory passes this.
        deadline: wall-clock time (``time.time()``) after which no new trial starts.
        replace_after_oom: exit to be replaced after a trial ran out of memory.
    """

    max_trials: int | None = None
    max_memory_mb: float | None = None
    deadline: float | None = None
    replace_after_oom: bool = False


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def work(
    ctx: Context,
    limits: Limits | None = None,
    *,
    on_trial: Callable[[TrialRecord], None] | None = None,
    logs: bool = False,
    where: dict[str, str] | None = None,
) -> str:
    """Ask, train, tell until the study's budget is spent or a limit is reached.

    With ``logs``, each trial's stdout and stderr go to its log (:mod:`automl.run.capture`).
    ``where``: the placement each trial records (:mod:`automl.store.placement`); by
    default the device that ``CUDA_VISIBLE_DEVICES`` gives.
    Returns why it stopped: ``budget``, ``deadline``, ``max_trials``, ``memory`` or ``oom``.
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
        trial = claim(ctx, limits.deadline, where)
        if trial is None:
            return "budget"
        output = (
            capture.trial_output(ctx.url, ctx.study.study_name, trial.number)
            if logs
            else contextlib.nullcontext()
        )
        with storage.heartbeat(ctx.study, trial), output:
            outcome = run_trial(ctx, trial)
        ran += 1
        if on_trial is not None:
            on_trial(outcome)
        if outcome.fail_reason == errors.OOM and limits.replace_after_oom:
            return "oom"  # a fresh process gets back memory a framework may not free


def claim(
    ctx: Context, deadline: float | None = None, where: dict[str, str] | None = None
) -> optuna.Trial | None:
    """A new trial, or None once counted trials meet the study's target.

    While the rest of the budget is held by trials running elsewhere, wait: one of them
    may be lost with its worker and come back as a retry.
    """
    while True:
        # Trials of workers that stopped beating, on any machine, fail here and are retried.
        budget.fail_stale(ctx.study)
        with budget.local_lock(ctx.lock_dir, ctx.study.study_name):
            target = records.target_trials(ctx.study)
            trials = ctx.study.get_trials(deepcopy=False)
            if target is None or budget.used(trials) < target:
                trial = ctx.study.ask()
                trial.set_user_attr(records.WORKER, worker_id())
                place = where if where is not None else _device()
                if place:
                    trial.set_user_attr(placement.KEY, place)
                storage.first_beat(ctx.study, trial)
                return trial
            if budget.done(trials) >= target:
                return None
        if deadline is not None and time.time() >= deadline:
            return None
        time.sleep(WAIT_S)


def _device() -> dict[str, str]:
    seen = placement.device()
    return {"device": seen} if seen else {}


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def run_trial(ctx: Context, trial: optuna.Trial) -> TrialRecord:
    """Train one candidate and tell the study how it ended (and its trackers)."""
    tracker = TrialTracker(ctx.study, trial.number, worker_id())
    try:
        outcome = _run_trial(ctx, trial, tracker)
    except BaseException as exc:
        why = "interrupted" if isinstance(exc, KeyboardInterrupt) else errors.ERROR
        tracker.end(TrialRecord(trial.number, "FAIL", None, dict(trial.params), fail_reason=why))
        raise
    tracker.end(outcome)
    return outcome


def _run_trial(ctx: Context, trial: optuna.Trial, tracker: TrialTracker) -> TrialRecord:
    import keras

    start = time.perf_counter()
    history: dict[str, list[float]] = {}
    try:
        hp = suggest(trial, ctx.spec) if ctx.spec.model.family else {}  # build: hp in code
        keras.backend.clear_session()
        keras.utils.set_random_seed(_seed(ctx, trial.number))
        model, fit, metrics = _train(ctx, trial, hp, tracker)
        history = fit.history
        values = [_objective_value(o.metric, fit.val_metrics, metrics) for o in ctx.objectives]
    except KeyboardInterrupt:
        _end(ctx, trial, TrialState.FAIL, start, history, reason="interrupted")
        budget.requeue(ctx.study, trial)
        raise
    except (DataError, SpecError) as exc:  # a broken sweep: this trial fails, the loop stops
        untrusted = isinstance(exc, UntrustedCodeError)
        reason = errors.UNTRUSTED_CODE if untrusted else errors.ERROR
        _end(
            ctx, trial, TrialState.FAIL, start, history, reason, str(exc)[:500] if untrusted else ""
        )
        raise
    except Exception as exc:  # noqa: BLE001 - every other failure ends this trial only
        return _failed(ctx, trial, start, exc)
    metrics["duration_s"] = round(time.perf_counter() - start, 3)
    me = TrialRecord(
        number=trial.number,
        state=TrialState.COMPLETE.name,
        values=values,
        params=dict(trial.params),
        duration_s=metrics["duration_s"],
        epochs=metrics["epochs"],
        params_count=metrics["params_count"],
        latency_ms=metrics["latency_ms"],
        metrics=metrics,
        history=history,
    )
    try:
        kept_models.save_if_kept(ctx, trial, model, me)
    except OSError as exc:  # a full disk fails this trial; stored ones stay as they were
        if not errors.disk_full(exc):
            raise
        return _failed(ctx, trial, start, exc)

    def tell() -> None:
        storage.beat(ctx.study, trial)
        records.write_result(trial, metrics, history)
        ctx.study.tell(trial, values)

    retry.persist(tell, f"trial {trial.number}'s result {values} (params {me.params})")
    kept_models.drop_unkept(ctx)
    return me


def _failed(ctx: Context, trial: optuna.Trial, start: float, exc: Exception) -> TrialRecord:
    history = getattr(exc, "history", {})
    if isinstance(exc, Pruned):
        return _end(ctx, trial, TrialState.PRUNED, start, history)
    if isinstance(exc, TrialStopped):  # pruned, with its reason: TPE learns from it
        return _end(ctx, trial, TrialState.PRUNED, start, history, exc.reason, exc.detail)
    if isinstance(exc, TrialFailed):
        return _end(ctx, trial, TrialState.FAIL, start, history, exc.reason, exc.detail)
    log.debug("trial %d failed:\n%s", trial.number, traceback.format_exc())
    capture.note_failure()
    detail = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    reason = errors.reason_of(exc)
    return _end(ctx, trial, TrialState.FAIL, start, history, reason, detail[:500])


def _end(
    ctx: Context,
    trial: optuna.Trial,
    state: TrialState,
    start: float,
    history: dict[str, list[float]],
    reason: str = "",
    detail: str = "",
) -> TrialRecord:
    duration = round(time.perf_counter() - start, 3)
    epochs = len(next(iter(history.values()), []))
    metrics = {"duration_s": duration, "epochs": epochs}

    def tell() -> None:
        records.write_failure(trial, metrics, history, reason, detail)
        ctx.study.tell(trial, state=state)

    retry.persist(tell, f"trial {trial.number}'s end ({state.name} {reason})".strip())
    return TrialRecord(
        number=trial.number,
        state=state.name,
        values=None,
        params=dict(trial.params),
        duration_s=duration,
        epochs=epochs,
        fail_reason=reason,
        fail_detail=detail,
        metrics=metrics,
        history=history,
    )


def _seed(ctx: Context, number: int) -> int:
    base = ctx.study.user_attrs.get(records.SEED) or ctx.spec.sampler.seed or 0
    return (int(base) * 100_003 + number) % (2**31 - 1)


def _train(
    ctx: Context, trial: optuna.Trial, hp: dict[str, Any], tracker: TrialTracker
) -> tuple[Any, Any, dict[str, Any]]:
    from automl.training import fit as training
    from automl.training import folds

    # Multi-objective studies cannot be pruned: their epochs are recorded, never reported.
    reporter = TrackedRecorder(trial, prune=len(ctx.objectives) == 1, tracker=tracker)
    objective = ctx.objectives[0]
    if ctx.spec.model.build is not None:  # the user's own model code
        from automl.usercode.train import train as train_user_code

        model, fit = train_user_code(ctx.spec, ctx.splits, trial, objective, reporter, ctx.store)
    else:
        train = folds.train_folds if ctx.spec.data.folds else folds.train_once
        model, fit = train(ctx.spec, ctx.splits, hp, objective, reporter)
    metrics = training.trial_metrics(model, fit)
    if ctx.spec.data.folds:
        metrics["folds"] = ctx.spec.data.folds
    return model, fit, metrics


def _objective_value(metric: str, val: dict[str, float], metrics: dict[str, Any]) -> float:
    if metric in val:
        return float(val[metric])
    return float(metrics[metric])


def finish(ctx: Context, reason: str) -> None:
    """The last worker to stop, its budget spent, evaluates the kept models on test.

    Here, in a process that has its framework and data loaded already, rather than in a
    new process of the conductor's (which still runs one when this did not finish).
    """
    if reason not in ("budget", "deadline"):
        return
    with budget.local_lock(ctx.lock_dir, ctx.study.study_name):
        running = ctx.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if not running:
            from automl.study.evaluate import finalize

            finalize(ctx)
