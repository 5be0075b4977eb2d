"""The worker loop: ask a trial -> build -> train -> tell, until told to stop.

A failed trial is recorded with its reason (``nan``, ``error``, ``interrupted``) and the
loop goes on; only a broken sweep (bad data, bad spec) stops it.
"""

from __future__ import annotations

import logging
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from automl import artifacts, keep
from automl.context import Context
from automl.errors import DataError, SpecError, TrialFailed
from automl.space import suggest

log = logging.getLogger("automl")


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


def run_trials(
    ctx: Context,
    n_trials: int | None,
    *,
    timeout: float | None = None,
    on_trial: Callable[[TrialOutcome], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[TrialOutcome]:
    """Run trials until ``n_trials`` have finished here, ``timeout`` passed, or a stop."""
    start = time.monotonic()
    outcomes: list[TrialOutcome] = []
    while n_trials is None or len(outcomes) < n_trials:
        if timeout is not None and time.monotonic() - start >= timeout:
            break
        if should_stop is not None and should_stop():
            break
        outcome = run_trial(ctx, ctx.study.ask())
        outcomes.append(outcome)
        if on_trial is not None:
            on_trial(outcome)
    return outcomes


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
