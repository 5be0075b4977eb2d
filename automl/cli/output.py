"""What the CLI prints, as data: JSON documents for ``--json`` and rows that fit 80 columns.

The commands stay thin: they pick between a JSON document on stdout (for shell scripts
and CI) and a rich table built here from the same rows.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from rich.table import Table

from automl.cli import tables

# Dropped first when a table is too wide: the least useful columns for a glance.
STUDY_DROP = ("RUNNING", "space", "family", "task", "PRUNED", "FAIL")
BEST_DROP = ("latency_ms", "duration_s", "epochs", "params_count")


def dumps(doc: Any) -> str:
    """One JSON document; NaN and infinities become null (JSON has none)."""
    return json.dumps(_clean(doc), ensure_ascii=False, default=str)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean(value.item())
    return value


def cell(value: Any) -> str:
    """A table cell: ``-`` for missing, integers without ``.0``, 4 significant digits."""
    if value is None or value != value:  # None or NaN
        return "-"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e12 else f"{value:.4g}"
    return str(value)


def studies_doc(frame: Any) -> list[dict[str, Any]]:
    """``automl studies --json``: one object per study."""
    return [dict(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False)]


def studies_table(frame: Any, width: int) -> Table:
    """The studies, one a row; the best value carries its metric's name, so a table cut
    to the width never shows maximised and minimised values side by side unlabelled."""
    columns = [str(c) for c in frame.columns if c != "objective"]
    rows = []
    for row in frame.to_dict("records"):
        best = cell(row["best"])
        if best != "-" and row.get("objective"):
            best = f"{row['objective']} {best}"
        rows.append([best if c == "best" else cell(row[c]) for c in columns])
    return tables.fit(columns, rows, width, STUDY_DROP)


def spaces_table(spaces: list[tuple[str, str, str]]) -> Table:
    """The ready spaces: name and family whole, the description wrapped to the width."""
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column("space", no_wrap=True)
    table.add_column("family", no_wrap=True)
    table.add_column("description", overflow="fold")
    for name, family, description in spaces:
        table.add_row(*(tables.Text(tables.printable(v)) for v in (name, family, description)))
    return table


def best_doc(sweep: Any) -> dict[str, Any]:
    """``automl best --json``: the best trial's parameters, validation and test metrics,
    and the study's baselines."""
    from automl.reports import baselines

    t = sweep.best_trial
    values = dict(zip((o.metric for o in sweep.objectives), t.values or [], strict=False))
    return {
        "study": sweep.study_name,
        "trial": t.number,
        "validation": values,
        "test": dict(sweep.test_metrics),
        "params_count": None if t.params_count is None else int(t.params_count),
        "latency_ms": t.latency_ms,
        "params": dict(t.params),
        "baselines": baselines.entries(sweep.record(models=False)),
    }


def baseline_lines(record: Any) -> list[str]:
    """``automl best``: each baseline's first objective and headline test metric."""
    from automl.reports import baselines

    found = baselines.entries(record)
    if not found:
        return []
    metric = record.objectives[0].metric
    test = baselines.headline(record)
    lines = ["  baselines (fitted once on the same split):"]
    for name, b in found.items():
        parts = []
        if metric in b.get("validation", {}):
            parts.append(f"validation {metric} {b['validation'][metric]:.6g}")
        if test and test in b.get("test", {}):
            parts.append(f"test {test} {b['test'][test]:.6g}")
        lines.append(f"    {name}: {', '.join(parts) or '-'}")
    return lines


def tune_doc(sweep: Any, report: Any) -> dict[str, Any]:
    """``automl tune --json``: trials by state, the best trial as ``best --json`` gives it,
    and the report's path."""
    from automl.store.storage import mask

    states = sweep.leaderboard()["state"].value_counts().to_dict()
    counts = {s: int(states.get(s, 0)) for s in ("COMPLETE", "PRUNED", "FAIL")}
    done = counts["COMPLETE"] > 0
    return {
        "study": sweep.study_name,
        "storage": mask(sweep.storage),
        "trials": counts,
        "best": best_doc(sweep) if done else None,
        "report": None if report is None else str(report),
    }


def best_trials_table(done: Any, metric: str, width: int) -> Table:
    """The tune summary's table of the best trials."""
    tests = [c for c in done.columns if c.startswith("test_")][:2]
    columns = ["number", metric, *tests, "params_count", "latency_ms", "epochs", "duration_s"]
    rows = [[cell(row[c]) for c in columns] for _, row in done.head(5).iterrows()]
    return tables.fit(columns, rows, width, [*tests[1:], *BEST_DROP], title="best trials")


def devices_doc(found: list[Any], slots: list[Any]) -> dict[str, Any]:
    """``automl devices --json``: the GPUs found and the worker plan."""
    return {
        "gpus": [asdict(g) for g in found],
        "plan": [
            {"slot": s.number, "device": "cpu" if s.gpu is None else "gpu", "gpu": s.gpu}
            | {"threads": s.threads}
            for s in slots
        ],
    }


def spaces_doc(ready: dict[str, Any], load: Any) -> list[dict[str, Any]]:
    """``automl spaces --json``: the ready spaces."""
    docs = []
    for name, path in ready.items():
        spec = load(path)
        docs.append(
            {"name": name, "family": spec.model.family, "description": spec.description}
            | {"path": str(path)}
        )
    return docs


def validated_doc(path: Any, spec: Any) -> dict[str, Any]:
    """``automl spaces --validate FILE --json``."""
    return {
        "ok": True,
        "path": str(path),
        "family": spec.model.family,
        "parameters": len(spec.search) + len(spec.augmentation),
        "data": spec.data.source,
        "overrides": spec.overrides,
    }


def print_summary(out: Any, sweep: Any) -> None:
    """The end of ``automl tune``: trial counts, the best trials, the best test metrics."""
    from rich.markup import escape

    from automl.store.storage import mask

    board = sweep.leaderboard()
    done = board[board["state"] == "COMPLETE"]
    counts = board["state"].value_counts().to_dict()
    out.print(
        f"\nstudy [bold]{escape(sweep.study_name)}[/bold] in {escape(mask(sweep.storage))}: "
        f"{counts.get('COMPLETE', 0)} complete, {counts.get('PRUNED', 0)} pruned, "
        f"{counts.get('FAIL', 0)} failed"
    )
    if done.empty:
        out.print("no trial completed")
        return
    metric = sweep.objectives[0].metric
    out.print(best_trials_table(done, metric, out.width))
    out.print(f"best: trial {sweep.best_trial.number}, {metric} = {sweep.best_value:.4f}")
    tests = sweep.test_metrics
    ensemble = tests.pop("ensemble", None) or {}
    for label, values in (("test", tests), ("test, ensemble", ensemble)):
        if values:
            out.print(f"{label}: " + ", ".join(f"{k} = {v:.4f}" for k, v in values.items()))
