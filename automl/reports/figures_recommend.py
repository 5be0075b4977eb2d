"""Figures of a recommender's best model: metric@K against K, predicted by actual rating."""

from __future__ import annotations

import plotly.graph_objects as go

from automl.reports.figures import COLORS, Panel, figure, rnd


def at_k_panel(at_k: dict[str, list[float]]) -> Panel:
    """Test HitRate@K and NDCG@K of the best implicit-feedback model for K = 1..20."""
    ks = at_k.get("k", [])
    fig = figure(xaxis_title="K", yaxis_title="test metric")
    for i, name in enumerate(("hr", "ndcg")):
        label = {"hr": "HitRate@K", "ndcg": "NDCG@K"}[name]
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=[rnd(v, 5) for v in at_k.get(name, [])],
                mode="lines+markers",
                name=label,
                line={"color": COLORS[i]},
            )
        )
    fig.update_yaxes(range=[0, 1])
    note = "each held-out item ranked among 100 items its user never interacted with"
    return Panel("at-k", "HitRate@K and NDCG@K against K (test split)", fig, note)


def rating_panel(y_true: list[float], y_pred: list[float]) -> Panel:
    """The distribution of predicted ratings for each actual rating."""
    fig = figure(xaxis_title="actual rating", yaxis_title="predicted rating", showlegend=False)
    fig.add_trace(
        go.Box(
            x=[rnd(v, 3) for v in y_true],
            y=[rnd(v, 4) for v in y_pred],
            boxpoints=False,
            line={"color": COLORS[0]},
        )
    )
    fig.update_xaxes(type="category", categoryorder="category ascending")
    note = f"{len(y_true)} test ratings; a good model's boxes climb with the actual rating"
    return Panel("ratings", "Predicted against actual ratings (test split)", fig, note)
