"""When a sweep ends: evaluate the kept models on the held-out test split.

Test metrics go into the study (``test_metrics`` by trial number), apart from the
validation metrics that chose the models; ``best_eval`` holds what a report shows of the
best model (confusion matrix or residuals, per-class scores, layer summary).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.trial import FrozenTrial, TrialState

from automl import artifacts, keep
from automl.context import Context

MAX_POINTS = 2000  # predicted-vs-actual points stored for regression plots


def best_trials(ctx_or_study: Any, directions: Sequence[str]) -> list[FrozenTrial]:
    """The best trial (single objective) or the Pareto front, best first by objective 1."""
    study = getattr(ctx_or_study, "study", ctx_or_study)
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        return []
    if len(directions) == 1:
        return [study.best_trial]
    sign = -1 if directions[0] == "maximize" else 1
    return sorted(study.best_trials, key=lambda t: (sign * t.values[0], t.number))


def _needed(
    study: Any, store: Any, directions: Sequence[str], keep_k: int
) -> tuple[list[int], int | None]:
    """Kept models still to evaluate on test, and the best trial's number.

    The kept top K and the best trial(s) need test metrics once; the best one also needs
    its report data (``best_eval``) again whenever a new trial became the best.
    """
    attrs = study.user_attrs
    tested = attrs.get("test_metrics", {})
    saved = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if artifacts.has(store, t.user_attrs.get("artifact_id"))
    ]
    cands = [keep.Candidate(t.number, tuple(t.values), 0, 0) for t in saved]
    order = [c.number for c in keep.ranked(cands, directions)[:keep_k]]
    best = best_trials(study, directions)
    with_model = {t.number for t in saved}
    order += [t.number for t in best if t.number in with_model and t.number not in order]
    best_number = best[0].number if best else None
    stale_best = attrs.get("best_eval", {}).get("trial") != best_number
    needed = [n for n in order if str(n) not in tested or (n == best_number and stale_best)]
    return needed, best_number


def pending(study: Any, url: str) -> bool:
    """Whether some kept model still lacks test metrics (no Keras needed to tell)."""
    from automl.spec import Objective
    from automl.study import artifact_store

    attrs = study.user_attrs
    directions = [Objective.model_validate(o).resolved_direction for o in attrs["objectives"]]
    keep_k = int(attrs.get("spec", {}).get("keep", 5))
    return bool(_needed(study, artifact_store(url, create=False), directions, keep_k)[0])


def finalize(ctx: Context) -> dict[str, dict[str, float]]:
    """Evaluate every kept model not evaluated yet; store and return all test metrics."""
    from automl import training

    study = ctx.study
    results: dict[str, dict[str, float]] = dict(study.user_attrs.get("test_metrics", {}))
    needed, best_number = _needed(study, ctx.store, ctx.directions, ctx.spec.keep)
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    for number in needed:
        model = artifacts.load_model(ctx.store, str(by_number[number].user_attrs["artifact_id"]))
        out = training.predict(model, ctx.splits.x_test)
        results[str(number)] = training.score(ctx.task, ctx.splits.y_test, out)
        if number == best_number:
            study.set_user_attr("best_eval", _best_eval(ctx, number, model, out))
    study.set_user_attr("test_metrics", results)
    return results


def _best_eval(ctx: Context, number: int, model: Any, out: np.ndarray) -> dict[str, Any]:
    from sklearn import metrics as m

    from automl import training

    y = ctx.splits.y_test
    info: dict[str, Any] = {"trial": number, "layers": training.layer_summary(model)}
    if ctx.task == "classification":
        pred = out.argmax(axis=1)
        labels = list(range(len(ctx.splits.classes)))
        info["classes"] = ctx.splits.classes
        info["confusion"] = m.confusion_matrix(y, pred, labels=labels).tolist()
        p, r, f, s = m.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
        info["per_class"] = {
            "precision": p.tolist(),
            "recall": r.tolist(),
            "f1": f.tolist(),
            "support": s.tolist(),
        }
    else:
        pred = out.reshape(-1)
        n = min(len(y), MAX_POINTS)
        info["y_true"] = [float(v) for v in y[:n]]
        info["y_pred"] = [float(v) for v in pred[:n]]
    return info
