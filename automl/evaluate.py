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


def _to_evaluate(study: Any, store: Any, directions: Sequence[str], keep_k: int) -> list[int]:
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    cands = [
        keep.Candidate(t.number, tuple(t.values), 0, 0)
        for t in done
        if artifacts.has(store, t.user_attrs.get("artifact_id"))
    ]
    todo = [c.number for c in keep.ranked(cands, directions)[:keep_k]]
    best = best_trials(study, directions)
    return todo + [t.number for t in best if t.number not in todo]


def pending(study: Any, url: str) -> bool:
    """Whether some kept model still lacks test metrics (no Keras needed to tell)."""
    from automl.spec import Objective
    from automl.study import artifact_store

    attrs = study.user_attrs
    directions = [Objective.model_validate(o).resolved_direction for o in attrs["objectives"]]
    store = artifact_store(url)
    keep_k = int(attrs.get("spec", {}).get("keep", 5))
    tested = attrs.get("test_metrics", {})
    best = best_trials(study, directions)
    stale_best = best and attrs.get("best_eval", {}).get("trial") != best[0].number
    if stale_best and artifacts.has(store, best[0].user_attrs.get("artifact_id")):
        return True
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    return any(
        str(n) not in tested and artifacts.has(store, by_number[n].user_attrs.get("artifact_id"))
        for n in _to_evaluate(study, store, directions, keep_k)
    )


def finalize(ctx: Context) -> dict[str, dict[str, float]]:
    """Evaluate every kept model not evaluated yet; store and return all test metrics."""
    from automl import training

    study = ctx.study
    results: dict[str, dict[str, float]] = dict(study.user_attrs.get("test_metrics", {}))
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    todo = _to_evaluate(study, ctx.store, ctx.directions, ctx.spec.keep)
    best = best_trials(study, ctx.directions)
    by_number = {t.number: t for t in done}
    data = ctx.splits
    best_number = best[0].number if best else None
    stored_best = study.user_attrs.get("best_eval", {}).get("trial")
    for number in todo:
        t = by_number[number]
        aid = t.user_attrs.get("artifact_id")
        if not artifacts.has(ctx.store, aid):
            continue
        if str(number) in results and not (number == best_number and stored_best != number):
            continue
        model = artifacts.load_model(ctx.store, str(aid))
        out = training.predict(model, data.x_test)
        results[str(number)] = training.score(ctx.task, data.y_test, out)
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
