"""The leaderboard table: one row per trial, best first, as a pandas DataFrame.

A pure function of a :class:`~automl.store.records.StudyRecord`: the API returns it and the
report shows it, so both always list the same trials in the same order.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from automl.ranking import rank_key
from automl.store.records import StudyRecord, TrialRecord

COST = ("epochs", "duration_s", "params_count", "latency_ms")
_STATE_ORDER = {"COMPLETE": 0, "PRUNED": 1, "FAIL": 2, "RUNNING": 3, "WAITING": 4}


def leaderboard(record: StudyRecord) -> pd.DataFrame:
    """Completed trials best first (by :func:`automl.ranking.rank_key`), then pruned,
    failed and running ones by number.

    Columns: number, state, one per objective, other ``val_*`` metrics, ``test_*``
    metrics, costs, fail_reason, model_saved, where it ran (worker ``host:pid``, device,
    and ray_node for a sweep on a Ray cluster), ``param_*``. A study automl did not make
    gets number, state, its values and params.
    """
    objectives = record.objectives
    on_ray = any(t.placement.get("ray_node") for t in record.trials)
    ordered = sorted(record.trials, key=lambda t: _order(t, record))
    rows = [_row(t, record, on_ray) for t in ordered]
    names = [o.metric for o in objectives]
    if not rows:
        extra = list(COST) if record.made_by_automl else []
        return pd.DataFrame(columns=["number", "state", *names, *extra])
    return pd.DataFrame(rows)


def _order(t: TrialRecord, record: StudyRecord) -> tuple[Any, ...]:
    if t.state == "COMPLETE" and t.values:
        return (0, *rank_key(t, record.objectives))
    return (_STATE_ORDER.get(t.state, 5), t.number)


def _row(t: TrialRecord, record: StudyRecord, on_ray: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {"number": t.number, "state": t.state}
    for i, o in enumerate(record.objectives):
        row[o.metric] = t.values[i] if t.values and i < len(t.values) else t.metrics.get(o.metric)
    if record.made_by_automl:
        for k, v in t.metrics.items():
            if k.startswith("val_") and k not in row:
                row[k] = v
        for k, v in t.test.items():
            row[f"test_{k}"] = v
        for k in COST:
            row[k] = t.metrics.get(k)
        row["fail_reason"] = t.fail_reason
        row["model_saved"] = t.has_model
        row["worker"] = t.worker
        row["device"] = t.placement.get("device", "")
        if on_ray:
            row["ray_node"] = t.placement.get("ray_node", "")
    row.update({f"param_{k}": v for k, v in t.params.items()})
    return row
