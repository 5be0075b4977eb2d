"""Plotly figures of a :class:`~automl.reports.collect.ReportData`; no study access here.

Every function returns :class:`Panel` objects: a figure, or ``None`` and a note saying why
there is nothing to draw. Plotly reads text as a small HTML dialect, so every user-derived
string goes through :func:`txt`. Only SVG trace types are used (no WebGL), so a report
draws in any browser, headless ones included.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from automl.ranking import Objective, rank_key
from automl.reports.collect import StudyData
from automl.store.records import TrialRecord

HEIGHT = 360
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")
TOP_CURVES = 10  # completed trials whose learning curves are drawn
MAX_PRUNED_CURVES = 300  # pruned curves drawn at most (evenly sampled beyond)


@dataclass
class Panel:
    """One figure of a report, or the reason there is none.

    Attributes:
        key: what it shows (``history``, ``curves``...); a CSS class and a test hook.
        title: plain text; escaped by the page.
        figure: the figure, or None when there is nothing to draw.
        note: plain text under the title: a detail, or why the figure is missing.
    """

    key: str
    title: str
    figure: go.Figure | None = None
    note: str = ""


def txt(value: Any) -> str:
    """A user-derived string, safe as Plotly text (shown literally, never as markup)."""
    return html.escape(str(value), quote=False)


def rnd(value: float | None, digits: int = 6) -> float | None:
    """Rounded to ``digits`` significant digits: keeps the page small."""
    return None if value is None else float(f"{value:.{digits}g}")


def fmt(value: Any) -> str:
    """A short display form of a value."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def axis_label(obj: Objective) -> str:
    better = "higher" if obj.maximize else "lower"
    return f"{txt(obj.metric)} ({better} is better)"


def figure(title: str = "", height: int = HEIGHT, **layout: Any) -> go.Figure:
    """An empty figure with the report's layout."""
    fig = go.Figure()
    fig.update_layout(
        title={"text": title} if title else None,
        height=height,
        margin={"l": 60, "r": 20, "t": 40 if title else 20, "b": 50},
        hovermode="closest",
        legend={"orientation": "h", "y": -0.2},
        **layout,
    )
    return fig


def history_panels(s: StudyData) -> list[Panel]:
    """Each completed trial and the best so far, over trial number and over wall time."""
    done = s.complete
    if not done:
        return [Panel("history", "Optimization history", note=_no_trials(s))]
    obj = s.objectives[0]
    by_number = figure(xaxis_title="trial number", yaxis_title=axis_label(obj))
    by_number.add_trace(_trial_points(done, [t.number for t in done], obj.metric))
    by_number.add_trace(
        go.Scatter(
            x=[n for n, _ in s.best_so_far],
            y=[rnd(v) for _, v in s.best_so_far],
            mode="lines",
            line={"shape": "hv", "color": COLORS[1]},
            name="best so far",
        )
    )
    timed = [t for t in done if t.complete]
    by_time = figure(xaxis_title="wall time (trial end)", yaxis_title=axis_label(obj))
    by_time.add_trace(_trial_points(timed, [_iso(t) for t in timed], obj.metric))
    by_time.add_trace(
        go.Scatter(
            x=[w for w, _ in s.best_by_time],
            y=[rnd(v) for _, v in s.best_by_time],
            mode="lines",
            line={"shape": "hv", "color": COLORS[1]},
            name="best so far",
        )
    )
    note = _partial_note(s)
    return [
        Panel("history", "Optimization history by trial", by_number, note),
        Panel("history-time", "Optimization history over wall time", by_time, note),
    ]


def _trial_points(trials: Sequence[TrialRecord], x: Sequence[Any], metric: str) -> go.Scatter:
    return go.Scatter(
        x=list(x),
        y=[rnd(t.value) for t in trials],
        mode="markers",
        marker={"color": COLORS[0], "size": 6, "opacity": 0.7},
        name=f"{txt(metric)} of a trial",
        text=[f"trial {t.number}" for t in trials],
        hovertemplate="%{text}<br>%{y}<extra></extra>",
    )


def _iso(t: TrialRecord) -> str:
    return t.complete.strftime("%Y-%m-%d %H:%M:%S") if t.complete else ""


def _no_trials(s: StudyData) -> str:
    failed = s.counts.get("FAIL", 0)
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(s.fail_reasons.items()))
    text = "no completed trial yet"
    if failed:
        text += f"; {failed} failed ({reasons})"
    if s.counts.get("PRUNED"):
        text += f"; {s.counts['PRUNED']} pruned"
        if s.prune_reasons:
            text += f" ({', '.join(f'{k}: {v}' for k, v in sorted(s.prune_reasons.items()))})"
    return text


def _partial_note(s: StudyData) -> str:
    parts = [f"{len(s.complete)} completed trials"]
    for state in ("PRUNED", "FAIL", "RUNNING"):
        if s.counts.get(state):
            parts.append(f"{s.counts[state]} {state.lower()} not shown")
    return "; ".join(parts)


def curves_panel(s: StudyData) -> Panel:
    """Per-epoch validation metric of the top trials (solid) and pruned ones (dashed)."""
    obj = s.objectives[0]
    top = sorted((t for t in s.complete if t.curve), key=lambda t: rank_key(t, s.objectives))
    pruned = [t for t in s.trials if t.state == "PRUNED" and t.curve]
    if not top and not pruned:
        return Panel("curves", "Learning curves", note="no trial recorded per-epoch values")
    fig = figure(xaxis_title="epoch", yaxis_title=axis_label(obj))
    shown = pruned
    if len(pruned) > MAX_PRUNED_CURVES:
        step = len(pruned) / MAX_PRUNED_CURVES
        shown = [pruned[int(i * step)] for i in range(MAX_PRUNED_CURVES)]
    if shown:
        xs: list[int | None] = []
        ys: list[float | None] = []
        for t in shown:
            xs += [*range(1, len(t.curve) + 1), None]
            ys += [*(rnd(v, 5) for v in t.curve), None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name="pruned",
                opacity=0.35,
                line={"dash": "dash", "color": "#7f7f7f", "width": 1},
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[len(t.curve) for t in shown],
                y=[rnd(t.curve[-1], 5) for t in shown],
                mode="markers",
                name="pruned here",
                marker={"symbol": "x", "color": "#7f7f7f", "size": 7},
                text=[f"trial {t.number} pruned after epoch {len(t.curve)}" for t in shown],
                hovertemplate="%{text}<br>%{y}<extra></extra>",
            )
        )
    for i, t in enumerate(top[:TOP_CURVES]):
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(t.curve) + 1)),
                y=[rnd(v, 5) for v in t.curve],
                mode="lines+markers",
                name=f"trial {t.number}",
                line={"color": COLORS[i % len(COLORS)], "width": 2},
                marker={"size": 4},
            )
        )
    note = f"top {min(len(top), TOP_CURVES)} completed trials solid; pruned trials dashed"
    if len(shown) < len(pruned):
        note += f" ({len(shown)} of {len(pruned)} pruned shown)"
    return Panel("curves", "Learning curves", fig, note)


def pareto_panel(s: StudyData) -> Panel:
    """Multi-objective: the completed trials and the Pareto front of the first two."""
    done = s.complete
    if not done:
        return Panel("pareto", "Pareto front", note=_no_trials(s))
    o1, o2 = s.objectives[0], s.objectives[1]
    front = [s.trial(n) for n in s.best]
    front.sort(key=lambda t: (t.values or [0, 0])[1])
    fig = figure(xaxis_title=axis_label(o2), yaxis_title=axis_label(o1))
    fig.add_trace(_pair(done, "trial", {"color": "#9ecae1", "size": 7}, "markers"))
    fig.add_trace(_pair(front, "Pareto front", {"color": COLORS[1], "size": 9}, "lines+markers"))
    note = f"{len(front)} trials on the front"
    if len(s.objectives) > 2:
        note += f"; front over all {len(s.objectives)} objectives, drawn on the first two"
    return Panel("pareto", "Pareto front", fig, note)


def _pair(trials: Sequence[TrialRecord], name: str, marker: dict, mode: str) -> go.Scatter:
    return go.Scatter(
        x=[rnd((t.values or [0, 0])[1]) for t in trials],
        y=[rnd(t.value) for t in trials],
        mode=mode,
        name=name,
        marker=marker,
        line={"shape": "hv", "color": marker["color"]},
        text=[f"trial {t.number}" for t in trials],
        hovertemplate="%{text}<br>%{x}, %{y}<extra></extra>",
    )


def compare_panels(studies: Sequence[StudyData]) -> list[Panel]:
    """Several studies: best-so-far curves overlaid, and the objective by family."""
    fig = figure(xaxis_title="trial number", yaxis_title="best so far")
    metrics = {s.objectives[0].metric for s in studies}
    for i, s in enumerate(studies):
        if not s.best_so_far:
            continue
        fig.add_trace(
            go.Scatter(
                x=[n for n, _ in s.best_so_far],
                y=[rnd(v) for _, v in s.best_so_far],
                mode="lines",
                line={"shape": "hv", "color": COLORS[i % len(COLORS)]},
                name=f"{txt(s.name)} ({txt(s.objectives[0].metric)})",
            )
        )
    if not fig.data:
        return [Panel("compare", "Best so far", note="no study has a completed trial")]
    note = "" if len(metrics) == 1 else "the studies optimize different metrics"
    if len(metrics) == 1:
        fig.update_layout(yaxis_title=f"best {axis_label(studies[0].objectives[0])}")
    panels = [Panel("compare", "Best so far, all studies", fig, note)]
    families = {s.family for s in studies if s.complete}
    if len(families) > 1 and len(metrics) == 1:
        box = figure(xaxis_title="family", yaxis_title=axis_label(studies[0].objectives[0]))
        for i, s in enumerate(studies):
            box.add_trace(
                go.Box(
                    x=[txt(s.family)] * len(s.complete),
                    y=[rnd(t.value) for t in s.complete],
                    name=txt(s.name),
                    boxpoints="all",
                    jitter=0.4,
                    pointpos=0,
                    marker={"color": COLORS[i % len(COLORS)], "size": 4},
                )
            )
        box.update_layout(boxmode="group")
        panels.append(Panel("compare-family", "Objective by model family", box))
    return panels
