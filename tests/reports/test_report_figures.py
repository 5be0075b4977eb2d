"""Figure functions: a panel for every section, SVG only, user text escaped, no crash."""

from __future__ import annotations

import json

import pytest

from automl.reports import figures, figures_models, figures_params
from automl.reports.collect import collect_study
from automl.reports.figures import Panel, compare_panels, curves_panel
from automl.reports.html import figure_json, study_sections

MULTI = [{"metric": "val_accuracy"}, {"metric": "params_count", "direction": "minimize"}]
SVG_TRACES = {"scatter", "bar", "box", "heatmap"}  # no WebGL: draws in any browser


def _panels(s) -> list[Panel]:
    return [p for sec in study_sections(s, "x") for p in sec.panels]


def _keys(panels: list[Panel], *, drawn: bool = True) -> set[str]:
    return {p.key for p in panels if (p.figure is not None) == drawn}


def test_classification_panels(make_sweep):
    s = collect_study(make_sweep("cls", n_trials=25).record())
    panels = _panels(s)
    assert {
        "history",
        "history-time",
        "curves",
        "parallel",
        "importance",
        "slice",
        "cost-params_count",
        "cost-latency_ms",
        "group",
        "confusion",
    } <= _keys(panels)
    for p in panels:
        if p.figure is not None:
            assert {t.type for t in p.figure.data} <= SVG_TRACES, p.key
    slices = [p for p in panels if p.key == "slice"]
    assert len(slices) == len(s.params)  # one slice plot per parameter
    groups = [p.title for p in panels if p.key == "group"]
    assert groups[:2] == ["val_accuracy by activation", "val_accuracy by optimizer"]


def test_learning_curves_show_pruned_trials_dashed(make_sweep, monkeypatch):
    states = ["COMPLETE"] * 12 + ["PRUNED"] * 5
    s = collect_study(make_sweep("cur", n_trials=len(states), states=states).record())
    panel = curves_panel(s)
    names = [t.name for t in panel.figure.data]
    assert names[:2] == ["pruned", "pruned here"]
    assert len(names) == 2 + figures.TOP_CURVES
    assert panel.figure.data[0].line.dash == "dash"
    ends = list(panel.figure.data[1].x)
    assert ends == [len(t.curve) for t in s.trials if t.state == "PRUNED"]

    monkeypatch.setattr(figures, "MAX_PRUNED_CURVES", 2)
    assert "2 of 5 pruned shown" in curves_panel(s).note


def test_regression_panels(make_sweep):
    s = collect_study(make_sweep("reg", n_trials=10, task="regression").record())
    keys = _keys(_panels(s))
    assert {"predicted", "residuals"} <= keys and "confusion" not in keys


def test_multi_objective_has_a_pareto_front(make_sweep):
    s = collect_study(make_sweep("mo", n_trials=12, objectives=MULTI).record())
    panels = _panels(s)
    pareto = next(p for p in panels if p.key == "pareto")
    front = pareto.figure.data[1]
    assert pareto.figure is not None and len(front.x) == len(s.best)
    assert "history-time" not in _keys(panels)  # the Pareto plot stands in its place


@pytest.mark.parametrize(
    "kwargs",
    [{"n_trials": 0}, {"n_trials": 3, "states": ["FAIL"] * 3}, {"n_trials": 1}],
    ids=["empty", "failed", "one-trial"],
)
def test_small_studies_get_messages_not_crashes(make_sweep, kwargs):
    s = collect_study(make_sweep("small", **kwargs).record())
    panels = _panels(s)
    empty = [p for p in panels if p.figure is None]
    assert empty and all(p.note for p in empty)
    notes = " | ".join(p.note for p in empty)
    if not s.complete:
        assert "no completed trial yet" in notes
        assert not _keys(panels) - {"curves"}
    else:
        assert "needs 2 completed trials (1 so far)" in notes
    for p in panels:
        if p.figure is not None:
            json.loads(figure_json(p.figure))


def test_user_text_is_escaped_in_figures(make_sweep):
    evil = "</script><img src=x onerror=alert(1)>"
    sweep = make_sweep(evil, n_trials=12, activations=["relu", evil], classes=[evil, "b&c"])
    s = collect_study(sweep.record())
    texts = [figure_json(p.figure) for p in _panels(s) if p.figure is not None]
    texts += [figure_json(p.figure) for p in compare_panels([s, s]) if p.figure is not None]
    for text in texts:
        assert "<" not in text and ">" not in text and "&" not in text
    # Plotly reads text as HTML: the choice must arrive escaped, so it shows literally
    group = next(p for p in figures_models.group_panels(s) if p.title.endswith("activation"))
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in group.figure.data[0].x
    matrix = figures_models.confusion_panel([evil, "b&c"], [[1, 0], [0, 1]])
    assert list(matrix.figure.data[0].x) == [figures.txt(evil), "b&amp;c"]


def test_figure_json_round_trips():
    fig = figures.figure(title="a </script> b")
    data = json.loads(figure_json(fig))
    assert data["layout"]["title"]["text"] == "a </script> b"
    assert "template" not in data["layout"]  # one shared template per page


def test_compare_panels(make_sweep):
    a = collect_study(make_sweep("a", n_trials=8).record())
    b = collect_study(make_sweep("b", n_trials=8, seed=1).record())
    panels = compare_panels([a, b])
    assert [t.name for t in panels[0].figure.data] == ["a (val_accuracy)", "b (val_accuracy)"]
    empty = collect_study(make_sweep("none", n_trials=0).record())
    assert compare_panels([empty, empty])[0].figure is None


def test_parallel_coordinates_skip_conditional_parameters(make_sweep):
    s = collect_study(make_sweep("par", n_trials=20).record())
    panel = figures_params.parallel_panel(s)
    ticks = list(panel.figure.layout.xaxis.ticktext)
    assert ticks[-1] == "val_accuracy" and "units" in ticks
    assert "momentum" not in ticks and "momentum" in panel.note  # only drawn for sgd
