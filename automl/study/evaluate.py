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

from automl.ranking import Objective, best, ranked
from automl.store import records, storage
from automl.store.records import TrialRecord
from automl.study.context import Context, spec_of

MAX_POINTS = 2000  # predicted-vs-actual points stored for regression plots
CACHE_MAX_SAMPLES = 50_000  # test splits up to this size are predicted while models are hot
# (study, trial number) -> test outputs and layer summary of a model this process saved,
# so the last worker's evaluation loads no model back from disk. A study is its storage
# URL, id and creation time: ids repeat across storages and after a study is recreated.
_OUTPUTS: dict[tuple[Any, int], tuple[np.ndarray, list[dict[str, Any]], np.ndarray]] = {}


def _study_key(study: optuna.Study, url: str) -> tuple[str, int, Any]:
    return (url, storage.study_id(study), study.user_attrs.get(records.CREATED))


def remember(ctx: Context, number: int, model: Any) -> None:
    """Predict the test and validation splits with a model just saved, while in memory."""
    from automl.training import measure

    if len(ctx.splits.y_test) + len(ctx.splits.y_val) > CACHE_MAX_SAMPLES:
        return
    _OUTPUTS[(_study_key(ctx.study, ctx.url), number)] = (
        measure.predict(model, ctx.splits.x_test),
        measure.layer_summary(model),
        measure.predict(model, ctx.splits.x_val),
    )


class Outputs:
    """Kept models' outputs for the last evaluation: from memory when this process trained
    them (:func:`remember`), else from the model loaded back once."""

    def __init__(self, ctx: Context, record: records.StudyRecord) -> None:
        self.ctx, self.record = ctx, record
        self.sid = _study_key(ctx.study, ctx.url)
        self.models: dict[int, Any] = {}

    def model(self, number: int) -> Any:
        if number not in self.models:
            trial = self.record.trial(number)
            aid = str(trial.artifact_id)
            self.models[number] = storage.load_model(self.ctx.store, aid, trial.model_sha256)
        return self.models[number]

    def _cached(self, number: int, part: int) -> Any:
        cached = _OUTPUTS.get((self.sid, number))
        return None if cached is None else cached[part]

    def test(self, number: int) -> np.ndarray:
        from automl.training import measure

        out = self._cached(number, 0)
        return (
            out if out is not None else measure.predict(self.model(number), self.ctx.splits.x_test)
        )

    def layers(self, number: int) -> list[dict[str, Any]]:
        from automl.training import measure

        out = self._cached(number, 1)
        return out if out is not None else measure.layer_summary(self.model(number))

    def predict(self, number: int, x: np.ndarray) -> np.ndarray:
        """Outputs on ``x``: the cached validation outputs when ``x`` is the validation split."""
        from automl.training import measure

        if x is self.ctx.splits.x_val and (out := self._cached(number, 2)) is not None:
            return out
        return measure.predict(self.model(number), x)


def forget(ctx: Context, numbers: set[int]) -> None:
    """Drop the cached outputs of models no longer kept."""
    sid = _study_key(ctx.study, ctx.url)
    for key in [k for k in _OUTPUTS if k[0] == sid and k[1] in numbers]:
        del _OUTPUTS[key]


def _needed(
    study: optuna.Study, trials: Sequence[TrialRecord], objectives: Sequence[Objective]
) -> tuple[list[int], int | None]:
    """Kept models still to evaluate on test, and the best trial's number.

    Every kept model (the top K and the cost front ``pick()`` chooses from) needs test
    metrics once; the best one also needs its report data (``best_eval``) again whenever
    a new trial became the best.
    """
    attrs = study.user_attrs
    tested = records.tests_of(attrs)
    saved = [t for t in trials if t.has_model and t.state == "COMPLETE"]
    order = [t.number for t in ranked(saved, objectives)]
    top = best(saved, objectives)
    order += [t.number for t in top if t.number not in order]
    best_number = top[0].number if top else None
    stale_best = (attrs.get(records.BEST_EVAL) or {}).get("trial") != best_number
    needed = [n for n in order if str(n) not in tested or (n == best_number and stale_best)]
    return needed, best_number


def pending(study: optuna.Study, url: str) -> bool:
    """Whether some kept model lacks test metrics, or the ensemble or the refit is due.

    No Keras is needed to tell.
    """
    from automl.study import baselines, ensemble, refit

    sizes = (study.user_attrs.get(records.DATA) or {}).get("sizes") or {}
    record = records.read_study(study, url)
    spec = spec_of(study, url)
    if sizes.get("test", 1) == 0:  # search(validation_data=...) without test_data
        return ensemble.stale(record, spec.ensemble)  # chosen on validation alone
    return (
        bool(_needed(study, record.trials, record.objectives)[0])
        or ensemble.stale(record, spec.ensemble)
        or refit.target(record, spec.training.refit) is not None
        or baselines.due(study)
    )


def finalize(ctx: Context) -> dict[str, dict[str, float]]:
    """Evaluate every kept model not evaluated yet; store and return all test metrics.

    Then choose and evaluate the ensemble of kept models, refit the best if asked, and
    fit the study's baselines once (:mod:`automl.study.baselines`).
    """
    from automl.study import baselines, ensemble, refit
    from automl.training import measure

    study = ctx.study
    record = records.read_study(study, ctx.url)
    results: dict[str, dict[str, float]] = dict(record.test_metrics)
    needed, best_number = _needed(study, record.trials, ctx.objectives)
    outputs = Outputs(ctx, record)
    if not len(ctx.splits.y_test):  # search(validation_data=...) without test_data
        ensemble.finalize(ctx, record, outputs)  # members chosen on validation, no test
        return results
    for number in needed:
        info = ctx.splits.interactions
        if info is not None and info.implicit:
            results[str(number)], curve = _ranking(outputs.model(number), ctx.splits)
            records.write_test(study, number, results[str(number)])
            if number == best_number:
                best_eval = {"trial": number, "layers": outputs.layers(number)}
                records.store_best_eval(study, ctx.store, {**best_eval, "at_k": curve})
            continue
        out, layers = outputs.test(number), outputs.layers(number)
        results[str(number)] = measure.score(ctx.task, ctx.splits.y_test, out)
        records.write_test(study, number, results[str(number)])
        if number == best_number:
            records.store_best_eval(study, ctx.store, _best_eval(ctx, number, layers, out))
    ensemble.finalize(ctx, record, outputs)
    refit.finalize(ctx, record)
    baselines.finalize(ctx)
    return results


def _ranking(model: Any, splits: Any) -> tuple[dict[str, float], dict[str, Any]]:
    """Implicit feedback: test HitRate / NDCG at K, and their curve over K."""
    from automl.training import recommend

    return recommend.test_scores(model, splits)


def _best_eval(
    ctx: Context, number: int, layers: list[dict[str, Any]], out: np.ndarray
) -> dict[str, Any]:
    from sklearn import metrics as m

    y = ctx.splits.y_test
    info: dict[str, Any] = {"trial": number, "layers": layers}
    if ctx.task == "classification":
        pred = out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0.5).astype("int64")
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
        info["ratings"] = ctx.splits.interactions is not None
    return info
