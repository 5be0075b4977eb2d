"""The study's baselines beside its best model: one row each, the study's metrics.

A pure function of a :class:`~automl.store.records.StudyRecord` (the baselines were fitted
once, when the sweep ended: :mod:`automl.study.baselines`), so ``Sweep.baselines``,
``automl best`` and the report show the same numbers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from automl import ranking
from automl.reports.analysis import Table
from automl.store.records import StudyRecord, finite

# What each baseline is, for people (the stored names are short keys).
LABELS = {
    "majority": "majority class",
    "mean": "mean of the train targets",
    "logistic": "logistic regression",
    "ridge": "ridge regression",
    "gradient_boosting": "gradient boosting (scikit-learn, defaults)",
    "biases": "global mean + user and item biases",
    "popularity": "most popular items",
}


def entries(record: StudyRecord) -> dict[str, dict[str, Any]]:
    """The stored baselines as plain data (the storage is not trusted): name ->
    ``validation`` and ``test`` metrics (finite numbers) and ``seconds``."""
    out: dict[str, dict[str, Any]] = {}
    for name, entry in record.baselines.items():
        if not isinstance(entry, dict):
            continue
        parts = {part: _numbers(entry.get(part)) for part in ("validation", "test")}
        seconds = _numbers({"s": entry.get("seconds")}).get("s")
        out[str(name)] = {**parts, "seconds": seconds}
    return out


def _numbers(values: Any) -> dict[str, float]:
    if not isinstance(values, dict):
        return {}
    return {str(k): float(v) for k, v in values.items() if finite(v)}


def columns(record: StudyRecord) -> tuple[list[str], list[str]]:
    """Validation metrics (the objectives' first, then ``val_loss``) and test metrics that
    the baselines hold."""
    found = entries(record).values()
    val_keys = {k for b in found for k in b.get("validation", {})}
    names = [o.metric for o in record.objectives if o.metric in val_keys]
    names += ["val_loss"] if "val_loss" in val_keys and "val_loss" not in names else []
    tests = list(dict.fromkeys(k for b in found for k in b.get("test", {})))
    return names, tests


def frame(record: StudyRecord) -> pd.DataFrame:
    """One row per baseline: ``baseline``, validation metrics, ``test_*``, ``seconds``."""
    val_names, tests = columns(record)
    rows = []
    for name, b in entries(record).items():
        row: dict[str, Any] = {"baseline": name}
        row.update({k: b.get("validation", {}).get(k) for k in val_names})
        row.update({f"test_{k}": b.get("test", {}).get(k) for k in tests})
        rows.append({**row, "seconds": b.get("seconds")})
    titles = ["baseline", *val_names, *(f"test_{k}" for k in tests), "seconds"]
    return pd.DataFrame(rows, columns=titles)


def table(record: StudyRecord) -> Table | None:
    """The report's table: the best trial first, then each baseline; None without any."""
    found = entries(record)
    if not found:
        return None
    val_names, tests = columns(record)
    rows: list[list[Any]] = []
    top = ranking.best(record.complete, record.objectives)
    if top:
        best = top[0]
        values = dict(zip((o.metric for o in record.objectives), best.values or [], strict=False))
        val = {**best.metrics, **values}
        rows.append([f"best model (trial {best.number})", *(val.get(k) for k in val_names)])
        rows[-1] += [best.test.get(k) for k in tests]
    for name, b in found.items():
        row = [LABELS.get(name, name), *(b.get("validation", {}).get(k) for k in val_names)]
        rows.append(row + [b.get("test", {}).get(k) for k in tests])
    return Table(["model", *val_names, *(f"test {k}" for k in tests)], rows)


def headline(record: StudyRecord) -> str | None:
    """The test metric a one-line summary shows: the first objective's, else RMSE or
    accuracy, else the first one."""
    _, tests = columns(record)
    bare = record.objectives[0].metric.removeprefix("val_") if record.objectives else ""
    for key in (bare, "rmse", "accuracy", "hr@10"):
        if key in tests:
            return key
    return tests[0] if tests else None
