"""Figures comparing models (size, latency, family choices) and of the best model on test."""

from __future__ import annotations

import re

import plotly.graph_objects as go

from automl.reports.collect import StudyData
from automl.reports.figures import COLORS, HEIGHT, Panel, axis_label, figure, rnd, txt
from automl.reports.figures_recommend import at_k_panel, rating_panel

MAX_GROUPS = 6  # grouped box plots at most
GROUP_FIRST = ("family", "activation", "optimizer")  # shown first when they vary
MAX_ANNOTATED_CLASSES = 20


def model_panels(s: StudyData) -> list[Panel]:
    """Objective vs parameter count and vs latency (Pareto fronts), and by choice."""
    return [
        cost_panel(s, "params_count", "parameter count"),
        cost_panel(s, "latency_ms", "latency (ms per sample)"),
        *group_panels(s),
    ]


def cost_panel(s: StudyData, key: str, label: str) -> Panel:
    """The objective against a cost, with the front of trials no other beats on both."""
    obj = s.objectives[0]
    title = f"{obj.metric} vs {label}"
    done = [t for t in s.complete if getattr(t, key) is not None]
    if not done:
        return Panel(f"cost-{key}", title, note=f"no completed trial recorded its {label}")
    costs = [getattr(t, key) for t in done]
    fig = figure(xaxis_title=label, yaxis_title=axis_label(obj))
    if min(costs) > 0 and max(costs) / min(costs) > 20:
        fig.update_xaxes(type="log")
    fig.add_trace(
        go.Scatter(
            x=[rnd(c) for c in costs],
            y=[rnd(t.value) for t in done],
            mode="markers",
            name="trial",
            marker={"color": "#9ecae1", "size": 7},
            text=[f"trial {t.number}" for t in done],
            hovertemplate="%{text}<br>%{x}, %{y}<extra></extra>",
        )
    )
    front = [s.trial(n) for n in s.fronts.get(key, [])]
    fig.add_trace(
        go.Scatter(
            x=[rnd(getattr(t, key)) for t in front],
            y=[rnd(t.value) for t in front],
            mode="lines+markers",
            name="Pareto front",
            line={"shape": "hv", "color": COLORS[1]},
            marker={"size": 9, "color": COLORS[1]},
            text=[f"trial {t.number}" for t in front],
            hovertemplate="%{text}<br>%{x}, %{y}<extra></extra>",
        )
    )
    return Panel(f"cost-{key}", title, fig, f"{len(front)} trials on the front (red)")


def _group_key(name: str) -> tuple[int, str]:
    base = re.sub(r"_\d+$", "", name)
    rank = GROUP_FIRST.index(base) if base in GROUP_FIRST else len(GROUP_FIRST)
    return rank, name


def group_panels(s: StudyData) -> list[Panel]:
    """The objective grouped by each categorical choice that varies (activation...)."""
    done = s.complete
    cats = []
    for p in s.params:
        seen = {str(t.params[p.name]) for t in done if p.name in t.params}
        if p.kind == "categorical" and len(seen) > 1:
            cats.append(p)
    cats.sort(key=lambda p: _group_key(p.name))
    obj = s.objectives[0]
    panels = []
    for p in cats[:MAX_GROUPS]:
        having = [t for t in done if p.name in t.params]
        fig = figure(xaxis_title=txt(p.name), yaxis_title=axis_label(obj), showlegend=False)
        fig.add_trace(
            go.Box(
                x=[txt(t.params[p.name]) for t in having],
                y=[rnd(t.value) for t in having],
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"size": 4},
                line={"color": COLORS[0]},
                text=[f"trial {t.number}" for t in having],
            )
        )
        fig.update_xaxes(
            type="category", categoryorder="array", categoryarray=[txt(c) for c in p.choices]
        )
        panels.append(Panel("group", f"{obj.metric} by {p.name}", fig, f"{len(having)} trials"))
    if len(cats) > MAX_GROUPS:
        rest = ", ".join(p.name for p in cats[MAX_GROUPS:])
        panels.append(Panel("group", "More choices", note=f"not drawn: {rest}"))
    return panels


def best_panels(s: StudyData) -> list[Panel]:
    """The best model on the test split: confusion matrix, or predicted vs actual."""
    ev = s.best_eval
    if ev is None:
        return [Panel("best", "Best model on the test split", note="no test evaluation stored")]
    if ev.at_k:
        return [at_k_panel(ev.at_k)]
    if ev.confusion:
        return [confusion_panel(ev.classes, ev.confusion)]
    if ev.y_true:
        extra = [rating_panel(ev.y_true, ev.y_pred)] if ev.ratings else []
        return [*regression_panels(ev.y_true, ev.y_pred), *extra]
    return []


def confusion_panel(classes: list[str], confusion: list[list[int]]) -> Panel:
    """Counts of true (rows) against predicted (columns) classes."""
    names = [txt(c) for c in classes]
    n = len(names)
    height = max(HEIGHT, min(900, 120 + 22 * n))
    fig = figure(height=height, xaxis_title="predicted", yaxis_title="true")
    fig.add_trace(
        go.Heatmap(
            z=confusion,
            x=names,
            y=names,
            colorscale="Blues",
            texttemplate="%{z}" if n <= MAX_ANNOTATED_CLASSES else None,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    total = sum(map(sum, confusion))
    right = sum(confusion[i][i] for i in range(min(n, len(confusion))))
    note = f"{right} of {total} test samples right" if total else "no test samples"
    return Panel("confusion", "Confusion matrix (test split)", fig, note)


def regression_panels(y_true: list[float], y_pred: list[float]) -> list[Panel]:
    """Predicted against actual values, and residuals against predictions."""
    lo, hi = min(y_true + y_pred), max(y_true + y_pred)
    scatter = figure(xaxis_title="actual", yaxis_title="predicted")
    scatter.add_trace(
        go.Scatter(
            x=[rnd(v, 5) for v in y_true],
            y=[rnd(v, 5) for v in y_pred],
            mode="markers",
            marker={"size": 5, "opacity": 0.6, "color": COLORS[0]},
            name="test sample",
        )
    )
    scatter.add_trace(
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            name="perfect",
            line={"dash": "dash", "color": "#7f7f7f"},
        )
    )
    residual = figure(xaxis_title="predicted", yaxis_title="actual - predicted")
    residual.add_trace(
        go.Scatter(
            x=[rnd(p, 5) for p in y_pred],
            y=[rnd(t - p, 5) for t, p in zip(y_true, y_pred, strict=True)],
            mode="markers",
            marker={"size": 5, "opacity": 0.6, "color": COLORS[2]},
            name="residual",
        )
    )
    residual.add_hline(y=0, line={"dash": "dash", "color": "#7f7f7f"})
    note = f"{len(y_true)} test samples"
    return [
        Panel("predicted", "Predicted vs actual (test split)", scatter, note),
        Panel("residuals", "Residuals (test split)", residual, note),
    ]
