"""The leaderboard table: one row per trial, as a pandas DataFrame."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from automl import artifacts
from automl.study import artifact_store

if TYPE_CHECKING:
    from automl.api import Sweep

COST = ("epochs", "duration_s", "params_count", "latency_ms")


def leaderboard(sweep: Sweep) -> pd.DataFrame:
    """Rows sorted best first (completed trials), then pruned, failed and running ones."""
    study = sweep.study
    tests = study.user_attrs.get("test_metrics", {})
    objectives = sweep.objectives
    store = artifact_store(sweep.storage, create=False)
    rows: list[dict[str, Any]] = []
    for t in study.get_trials(deepcopy=False):
        m = t.user_attrs.get("metrics", {})
        row: dict[str, Any] = {"number": t.number, "state": t.state.name}
        for i, o in enumerate(objectives):
            row[o.metric] = t.values[i] if t.values and i < len(t.values) else m.get(o.metric)
        for k, v in m.items():
            if k.startswith("val_") and k not in row:
                row[k] = v
        for k, v in tests.get(str(t.number), {}).items():
            row[f"test_{k}"] = v
        for k in COST:
            row[k] = m.get(k)
        row["fail_reason"] = t.user_attrs.get("fail_reason", "")
        row["model_saved"] = artifacts.has(store, t.user_attrs.get("artifact_id"))
        row.update({f"param_{k}": v for k, v in t.params.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["number", "state", *[o.metric for o in objectives], *COST])
    if not objectives:  # a study not made by automl
        return frame.sort_values("number").reset_index(drop=True)
    first = objectives[0]
    order = {"COMPLETE": 0, "PRUNED": 1, "FAIL": 2, "RUNNING": 3, "WAITING": 4}
    frame["_state"] = frame["state"].map(order)
    ascending = first.resolved_direction == "minimize"
    frame = frame.sort_values(["_state", first.metric, "number"], ascending=[True, ascending, True])
    return frame.drop(columns="_state").reset_index(drop=True)
