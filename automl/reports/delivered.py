"""The delivered models' test metrics: the single best, its refit, the ensemble."""

from __future__ import annotations

from automl import ranking
from automl.reports.analysis import Table
from automl.store.records import StudyRecord


def final_models(record: StudyRecord) -> Table | None:
    """One row per model the sweep delivers, with its test metrics; None without extras.

    The report shows it when a refit or an ensemble exists, so a reader sees which model
    ``best_model()`` returns (the refit, when there is one) beside the single best.
    """
    top = ranking.best(record.complete, record.objectives)
    if not top or not (record.refit or record.ensemble):
        return None
    best = top[0]
    rows: list[tuple[str, dict[str, float]]] = [(f"trial {best.number} (single best)", best.test)]
    refit = record.refit or {}
    if refit.get("trial") == best.number:
        what = f"trial {best.number} refit on train + validation, {refit.get('epochs')} epochs"
        rows.append((f"{what} (best_model, export)", dict(refit.get("test") or {})))
    ensemble = record.ensemble or {}
    if ensemble.get("members"):
        members = ", ".join(str(n) for n in ensemble["members"])
        rows.append((f"ensemble of trials {members}", dict(ensemble.get("test") or {})))
    keys = sorted({k for _, metrics in rows for k in metrics})
    return Table(
        ["model", *(f"test {k}" for k in keys)], [[n, *(m.get(k) for k in keys)] for n, m in rows]
    )
