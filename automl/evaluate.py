"""When a sweep ends: evaluate the kept models on the held-out test split.

Test metrics go into the study (``test_metrics:<trial number>``), apart from the
validation metrics that chose the models; ``best_eval`` holds what a report shows of the
best model (confusion matrix or residuals, per-class scores, layer summary).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna

from automl import records, storage
from automl.context import Context
from automl.ranking import Objective, best, ranked
from automl.records import TrialRecord

MAX_POINTS = 2000  # predicted-vs-actual points stored for regression plots


def _needed(
    study: optuna.Study, trials: Sequence[TrialRecord], objectives: Sequence[Objective], keep: int
) -> tuple[list[int], int | None]:
    """Kept models still to evaluate on test, and the best trial's number.

    The kept top K and the best trial(s) need test metrics once; the best one also needs
    its report data (``best_eval``) again whenever a new trial became the best.
    """
    attrs = study.user_attrs
    tested = records.tests_of(attrs)
    saved = [t for t in trials if t.has_model and t.state == "COMPLETE"]
    order = [t.number for t in ranked(saved, objectives)[:keep]]
    top = best(saved, objectives)
    order += [t.number for t in top if t.number not in order]
    best_number = top[0].number if top else None
    stale_best = (attrs.get(records.BEST_EVAL) or {}).get("trial") != best_number
    needed = [n for n in order if str(n) not in tested or (n == best_number and stale_best)]
    return needed, best_number


def pending(study: optuna.Study, url: str) -> bool:
    """Whether some kept model still lacks test metrics (no Keras needed to tell)."""
    record = records.read_study(study, url)
    return bool(_needed(study, record.trials, record.objectives, record.keep)[0])


def finalize(ctx: Context) -> dict[str, dict[str, float]]:
    """Evaluate every kept model not evaluated yet; store and return all test metrics."""
    from automl import training

    study = ctx.study
    record = records.read_study(study, ctx.url)
    results: dict[str, dict[str, float]] = dict(record.test_metrics)
    needed, best_number = _needed(study, record.trials, ctx.objectives, ctx.spec.keep)
    for number in needed:
        model = storage.load_model(ctx.store, str(record.trial(number).artifact_id))
        out = training.predict(model, ctx.splits.x_test)
        results[str(number)] = training.score(ctx.task, ctx.splits.y_test, out)
        records.write_test(study, number, results[str(number)])
        if number == best_number:
            study.set_user_attr(records.BEST_EVAL, _best_eval(ctx, number, model, out))
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
