"""Baselines: the simple models a careful person fits first, once per study, on its split.

Majority class or mean; logistic or ridge regression on the preprocessed features
(flattened, images pooled, texts as bags of words, audio as log band energies); for
tables scikit-learn's ``HistGradientBoosting`` at its defaults on the raw table; for
ratings the global mean plus damped user and item biases; for implicit feedback the most
popular items. Each is fitted on the train split and scored on the validation and test
splits with the study's metrics, so a report shows how far the tuned model is ahead.

They stay cheap beside one trial: the linear models see at most :data:`MAX_ROWS` rows
and :data:`MAX_FEATURES` features, gradient boosting :data:`MAX_TREE_ROWS` rows, and no
baseline starts after :data:`TIME_CAP_S` seconds. The result is a small dict stored once
under :data:`automl.store.records.BASELINES`; one that fails is left out, never the study.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.store import records
from automl.study import baseline_models as fits

if TYPE_CHECKING:
    from automl.study.context import Context

log = logging.getLogger("automl")

TIME_CAP_S = 60.0  # no baseline starts after this many seconds


def due(study: Any) -> bool:
    """Whether the study has no baselines yet (no Keras needed to tell)."""
    return records.BASELINES not in study.user_attrs


def finalize(ctx: Context) -> dict[str, dict[str, Any]]:
    """Fit the study's baselines unless stored already; store and return them."""
    stored = ctx.study.user_attrs.get(records.BASELINES)
    if isinstance(stored, dict):
        return stored
    found = compute(ctx)
    ctx.study.set_user_attr(records.BASELINES, found)
    return found


def compute(ctx: Context) -> dict[str, dict[str, Any]]:
    """``{name: {"validation": {metric: v}, "test": {metric: v}, "seconds": s}}``."""
    kind = str((ctx.study.user_attrs.get(records.DATA) or {}).get("kind") or "")
    start = time.perf_counter()
    out: dict[str, dict[str, Any]] = {}
    for name, fit in candidates(ctx, kind):
        if time.perf_counter() - start > TIME_CAP_S:
            log.info("baseline %s skipped: the baselines' time is spent", name)
            continue
        began = time.perf_counter()
        try:
            outputs = fit()
            if outputs is None:
                continue
            scored = _scored(ctx, *outputs) if not isinstance(outputs, dict) else outputs
        except Exception as exc:  # noqa: BLE001 - a baseline never fails the study
            log.warning("baseline %s failed: %s", name, str(exc).splitlines()[0][:200])
            continue
        scored["seconds"] = round(time.perf_counter() - began, 3)
        out[name] = scored
    return out


def candidates(ctx: Context, kind: str) -> list[tuple[str, Callable[[], Any]]]:
    """The baselines that fit this study's data, cheapest first."""
    splits = ctx.splits
    info = splits.interactions
    if info is not None and info.implicit:
        return [("popularity", lambda: _popularity(ctx))]
    found: list[tuple[str, Callable[[], Any]]]
    if ctx.task == "regression":
        found = [("mean", lambda: fits.constant(splits, "regression"))]
        if info is not None:
            return [*found, ("biases", lambda: fits.biases(splits))]
        found.append(("ridge", lambda: fits.linear(splits, "regression", kind)))
    else:
        found = [("majority", lambda: fits.constant(splits, "classification"))]
        found.append(("logistic", lambda: fits.linear(splits, "classification", kind)))
    if kind in ("tabular", "array"):
        found.append(("gradient_boosting", lambda: fits.boosting(ctx, kind)))
    return found


def _scored(ctx: Context, val_out: np.ndarray, test_out: np.ndarray) -> dict[str, Any]:
    """The study's metrics of a baseline's outputs: validation (``val_...``) and test."""
    from automl.training import measure

    s = ctx.splits
    val = {f"val_{k}": v for k, v in measure.score(ctx.task, s.y_val, val_out).items()}
    val["val_loss"] = _loss(ctx, val_out)
    test = measure.score(ctx.task, s.y_test, test_out) if len(s.y_test) else {}
    return {"validation": _rounded(val), "test": _rounded(test)}


def _loss(ctx: Context, out: np.ndarray) -> float:
    """What Keras logs as ``val_loss``: cross-entropy, or the MSE over the target's
    variance (the trainer weighs the regression loss so)."""
    y = ctx.splits.y_val
    if ctx.task == "classification":
        p = np.clip(out[np.arange(len(y)), y.astype("int64")], 1e-7, 1.0)
        return float(-np.mean(np.log(p)))
    std = ctx.splits.input_spec.target_std or 1.0
    return float(np.mean((out.reshape(-1) - y) ** 2) / std**2)


def _popularity(ctx: Context) -> dict[str, Any] | None:
    """Implicit feedback: items ranked by their train interactions, for every user."""
    from automl.ranking import at_k
    from automl.training import recommend

    s = ctx.splits
    info = s.interactions
    if info is None or info.val_candidates is None:
        return None
    found = [k for o in ctx.objectives if (k := at_k(o.metric))]
    ks = tuple(sorted({10, *(k for _, k in found)}))

    def ranks(x: np.ndarray, cands: np.ndarray) -> np.ndarray:
        items = np.concatenate([x[:, 1:2], cands], axis=1)
        return recommend.ranks(info.popularity[items].astype("float64"))

    val = recommend.ranking_metrics(ranks(s.x_val, info.val_candidates), ks, prefix="val_")
    test: dict[str, float] = {}
    if info.test_candidates is not None and len(s.x_test):
        test = recommend.ranking_metrics(ranks(s.x_test, info.test_candidates), (5, 10, 20))
    return {"validation": _rounded(val), "test": _rounded(test)}


def _rounded(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(float(v), 6) for k, v in metrics.items() if math.isfinite(float(v))}
