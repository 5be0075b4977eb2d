"""Figures of parameters against the objective: parallel coordinates, importances, slices."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from automl.reports.collect import Param, StudyData
from automl.reports.figures import Panel, axis_label, figure, fmt, rnd, txt
from automl.store.records import TrialRecord

MAX_AXES = 12  # parameter axes of the parallel-coordinates plot
MAX_SLICES = 24
LINE_BINS = 6  # colour bands of the parallel-coordinates lines (one trace each)
SCALE = "Viridis"


def param_panels(s: StudyData) -> list[Panel]:
    """Parallel coordinates, importances and one slice plot per parameter."""
    return [parallel_panel(s), importance_panel(s), *slice_panels(s)]


def _position(p: Param, values: list[Any]) -> tuple[list[float], list[tuple[float, str]]]:
    """Values mapped to [0, 1] on an axis, and that axis's labels as (position, text)."""
    if p.kind == "categorical":
        choices = list(p.choices) or sorted({str(v) for v in values})
        for v in values:
            if str(v) not in choices:
                choices.append(str(v))
        span = max(len(choices) - 1, 1)
        pos = {c: (i / span if len(choices) > 1 else 0.5) for i, c in enumerate(choices)}
        labels = [(pos[c], c) for c in choices]
        if len(labels) > 12:
            labels = [labels[0], labels[-1]]
        return [pos[str(v)] for v in values], labels
    nums = [float(v) for v in values]
    log = p.log and all(v > 0 for v in nums)
    scaled = [math.log10(v) for v in nums] if log else nums
    lo, hi = min(scaled), max(scaled)
    if hi == lo:
        return [0.5] * len(nums), [(0.5, fmt(nums[0]))]
    return [(v - lo) / (hi - lo) for v in scaled], [(0.0, fmt(min(nums))), (1.0, fmt(max(nums)))]


def parallel_panel(s: StudyData) -> Panel:
    """Parallel coordinates of parameters and objective, drawn in SVG (no WebGL)."""
    done = s.complete
    title = "Parallel coordinates"
    if len(done) < 2:
        return Panel("parallel", title, note=f"needs 2 completed trials ({len(done)} so far)")
    shared = [
        p
        for p in s.params
        if all(p.name in t.params for t in done) and len({repr(t.params[p.name]) for t in done}) > 1
    ]
    if not shared:
        return Panel("parallel", title, note="no parameter varies across the completed trials")
    axes = shared[:MAX_AXES]
    obj = s.objectives[0]
    values = [t.value or 0.0 for t in done]
    columns = [_position(p, [t.params[p.name] for t in done]) for p in axes]
    columns.append(_position(Param(obj.metric, "float"), values))
    worst_first = sorted(range(len(done)), key=lambda i: obj.sort_key(values[i]), reverse=True)
    fig = figure(height=420)
    _draw_lines(fig, worst_first, columns)
    fig.add_trace(_objective_markers(done, axes, columns[-1][0], obj.direction, obj.metric))
    _draw_axes(fig, columns, [txt(p.name) for p in axes] + [txt(obj.metric)])
    note = "lines coloured by the objective (yellow is best)"
    skipped = [p.name for p in s.params if p not in axes]
    if skipped:
        note += "; not drawn (conditional, constant or beyond 12): " + ", ".join(skipped)
    return Panel("parallel", title, fig, note)


def _draw_lines(fig: go.Figure, order: list[int], columns: list[Any]) -> None:
    """One trace per colour band of trials (few traces draw fast), worst drawn first."""
    colors = sample_colorscale(SCALE, [b / max(LINE_BINS - 1, 1) for b in range(LINE_BINS)])
    for b in range(LINE_BINS):
        rows = order[b * len(order) // LINE_BINS : (b + 1) * len(order) // LINE_BINS]
        xs: list[int | None] = []
        ys: list[float | None] = []
        for i in rows:
            xs += [*range(len(columns)), None]
            ys += [*(rnd(col[0][i], 4) for col in columns), None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                hoverinfo="skip",
                showlegend=False,
                line={"color": colors[b], "width": 1},
                opacity=0.5,
            )
        )


def _draw_axes(fig: go.Figure, columns: list[Any], names: list[str]) -> None:
    for i, (_, labels) in enumerate(columns):
        fig.add_shape(type="line", x0=i, x1=i, y0=0, y1=1, line={"color": "#444", "width": 1})
        for y, text in labels:
            fig.add_annotation(
                x=i,
                y=y,
                text=txt(text),
                showarrow=False,
                xanchor="right",
                xshift=-4,
                font={"size": 10},
                bgcolor="rgba(255,255,255,0.7)",
            )
    fig.update_layout(
        xaxis={
            "tickvals": list(range(len(names))),
            "ticktext": names,
            "showgrid": False,
            "zeroline": False,
            "range": [-0.6, len(names) - 0.6],
        },
        yaxis={"visible": False, "range": [-0.05, 1.05]},
    )


def _objective_markers(
    done: list[TrialRecord], axes: list[Param], ys: list[float], direction: str, metric: str
) -> go.Scatter:
    hover = [
        f"trial {t.number}: {txt(fmt(t.value))}<br>"
        + "<br>".join(f"{txt(p.name)} = {txt(fmt(t.params[p.name]))}" for p in axes)
        for t in done
    ]
    return go.Scatter(
        x=[len(axes)] * len(done),
        y=[rnd(y, 4) for y in ys],
        mode="markers",
        showlegend=False,
        marker={
            "color": [rnd(t.value) for t in done],
            "colorscale": SCALE,
            "size": 7,
            "reversescale": direction == "minimize",
            "showscale": True,
            "colorbar": {"title": {"text": txt(metric)}, "thickness": 12},
        },
        hovertext=hover,
        hoverinfo="text",
    )


def importance_panel(s: StudyData) -> Panel:
    """Optuna's parameter importances (or the reason there are none)."""
    imp = s.importance
    title = f"Parameter importance for {s.objectives[0].metric}"
    if not imp.values:
        return Panel("importance", title, note=imp.message or "not computed")
    items = sorted(imp.values.items(), key=lambda kv: kv[1])
    fig = figure(height=max(220, 60 + 28 * len(items)), xaxis_title="importance")
    fig.add_trace(
        go.Bar(
            x=[rnd(v, 4) for _, v in items],
            y=[txt(k) for k, _ in items],
            orientation="h",
            marker={"color": "#1f77b4"},
            text=[f"{v:.3f}" for _, v in items],
            textposition="auto",
        )
    )
    fig.update_layout(margin={"l": 140})
    return Panel("importance", title, fig, f"method: {imp.method}")


def slice_panels(s: StudyData) -> list[Panel]:
    """One plot per parameter: its value against the objective, coloured by trial number."""
    done = s.complete
    if not done or not s.params:
        why = "no completed trial yet" if not done else "no searched parameter"
        return [Panel("slice", "Slice plots", note=why)]
    obj = s.objectives[0]
    panels = []
    for p in s.params[:MAX_SLICES]:
        having = [t for t in done if p.name in t.params]
        if not having:
            continue
        fig = figure(height=300, xaxis_title=txt(p.name), yaxis_title=axis_label(obj))
        if p.kind == "categorical":
            x: list[Any] = [txt(t.params[p.name]) for t in having]
            order = [txt(c) for c in p.choices]
            fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
        else:
            x = [rnd(float(t.params[p.name])) for t in having]
            if p.log and all(v > 0 for v in x if v is not None):
                fig.update_xaxes(type="log")
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[rnd(t.value) for t in having],
                mode="markers",
                showlegend=False,
                marker={
                    "color": [t.number for t in having],
                    "colorscale": "Blues",
                    "size": 6,
                    "showscale": False,
                    "line": {"width": 0.5, "color": "#333"},
                },
                text=[f"trial {t.number}" for t in having],
                hovertemplate="%{text}<br>%{x}: %{y}<extra></extra>",
            )
        )
        panels.append(Panel("slice", f"Slice: {p.name}", fig, f"{len(having)} trials"))
    if len(s.params) > MAX_SLICES:
        panels.append(Panel("slice", "More slices", note=f"first {MAX_SLICES} parameters shown"))
    return panels
