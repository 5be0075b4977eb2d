"""Lay out a report as one self-contained HTML page (Jinja2, autoescaped).

plotly.js is embedded once; each figure travels as a JSON data block that a small loader
draws. A Content-Security-Policy forbids every request to another host and lets only the
page's own scripts (those carrying its nonce) run, a second wall behind the escaping.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import plotly.graph_objects as go
import plotly.io as pio

from automl.reports.collect import ReportData, StudyData, Table
from automl.reports.figures import Panel, compare_panels, curves_panel, history_panels
from automl.reports.figures import pareto_panel as pareto
from automl.reports.figures_models import best_panels, model_panels
from automl.reports.figures_params import param_panels
from automl.reports.sampling import thin
from automl.store.redact import scrub

TEMPLATES = Path(__file__).parent / "templates"
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
TEMPLATE = "plotly_white"


@dataclass
class Shown:
    """A panel as the page shows it: its figure already turned into safe JSON."""

    key: str
    title: str
    note: str
    fid: str = ""  # element id of its plot; empty when there is no figure
    json: str = ""


@dataclass
class Section:
    """A titled group of panels."""

    anchor: str
    title: str
    panels: list[Panel] = field(default_factory=list)
    shown: list[Shown] = field(default_factory=list)


@dataclass
class StudyView:
    """One study's page part: its data and its sections."""

    anchor: str
    data: StudyData
    sections: list[Section]


def study_sections(s: StudyData, anchor: str) -> list[Section]:
    """The sections of one study, each with its panels."""
    history = [pareto(s), *history_panels(s)[:1]] if s.multi else history_panels(s)
    return [
        Section(f"{anchor}-history", "Optimization history", history),
        Section(f"{anchor}-curves", "Learning curves", [curves_panel(s)]),
        Section(f"{anchor}-params", "Parameters", param_panels(s)),
        Section(f"{anchor}-models", "Model comparison", model_panels(s)),
        Section(f"{anchor}-best", "Best model on the test split", best_panels(s)),
    ]


def figure_json(fig: go.Figure) -> str:
    """A figure as JSON that is safe inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` occur in JSON only inside strings, where their ``\\u`` escapes
    mean the same; so no ``</script>`` or ``<!--`` can end or bend the element.
    """
    spec = fig.to_plotly_json()
    spec.get("layout", {}).pop("template", None)  # one shared template for the whole page
    text = pio.json.to_json_plotly({"data": spec.get("data", []), "layout": spec.get("layout", {})})
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _template_json() -> str:
    spec = pio.templates[TEMPLATE].to_plotly_json()
    text = pio.json.to_json_plotly(spec)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def cell(value: Any) -> str:
    """Display form of a table value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)


def sort_key(value: Any) -> str | None:
    """The exact value of a float cell, for the sortable table (None: sort by the text)."""
    if isinstance(value, float) and math.isfinite(value) and f"{value:.5g}" != repr(value):
        return repr(value)
    return None


def duration(seconds: float) -> str:
    """``3 h 05 min``, ``4 min 12 s`` or ``12.3 s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def when(epoch_seconds: float | None) -> str:
    if not epoch_seconds:
        return ""
    return dt.datetime.fromtimestamp(float(epoch_seconds)).strftime("%Y-%m-%d %H:%M")


def _scrubbed(value: Any) -> Any:
    """Every plain string the page shows, with the passwords this process knows masked
    (a failed trial's detail may quote a driver's error). Figures and scripts, already
    safe markup, are left whole."""
    return scrub(value) if type(value) is str else value


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_scrubbed,
    )
    env.filters.update(cell=cell, sort_key=sort_key, duration=duration, when=when)
    return env


def _plotly_js() -> str:
    """plotly.js itself, unable to end its ``<script>`` element early."""
    import plotly.offline

    return re.sub(r"</(script)", r"<\\/\g<1>", plotly.offline.get_plotlyjs(), flags=re.I)


def render(data: ReportData) -> str:
    """The whole page as text."""
    studies = [thin(s) for s in data.studies]
    views = [
        StudyView(f"study-{i + 1}", s, study_sections(s, f"study-{i + 1}"))
        for i, s in enumerate(studies)
    ]
    compare = Section("compare", "Comparison")
    if len(data.studies) > 1:
        compare.panels = compare_panels(data.studies)
    count = 0
    for sec in [compare, *(sec for v in views for sec in v.sections)]:
        for p in sec.panels:
            shown = Shown(p.key, p.title, p.note)
            if p.figure is not None:
                count += 1
                shown.fid, shown.json = f"fig-{count}", figure_json(p.figure)
            sec.shown.append(shown)
    template = _environment().get_template("report.html.j2")
    return template.render(
        data=data,
        views=views,
        compare=compare.shown,
        compare_table=compare_table(data.studies),
        pareto_tables={v.anchor: pareto_table(v.data) for v in views if v.data.multi},
        nonce=secrets.token_urlsafe(18),
        plotly_js=_plotly_js(),
        plot_config=PLOT_CONFIG,
        template_json=_template_json(),
    )


def compare_table(studies: list[StudyData]) -> Table:
    """One row per study: best validation and test metrics, trials, compute time."""
    tests = sorted({k for s in studies for n in s.best[:1] for k in s.trial(n).test})
    columns = ["study", "space", "family", "objective", "best validation", "best trial"]
    columns += [f"test {k}" for k in tests]
    columns += ["complete", "pruned", "failed", "compute time"]
    rows = []
    for s in studies:
        best = s.trial(s.best[0]) if s.best else None
        row: list[Any] = [s.name, s.space, s.family, s.objectives[0].metric]
        row += [best.value if best else None, best.number if best else None]
        row += [best.test.get(k) if best else None for k in tests]
        row += [s.counts.get(k, 0) for k in ("COMPLETE", "PRUNED", "FAIL")]
        rows.append([*row, duration(s.compute_s)])
    return Table(columns, rows)


def pareto_table(s: StudyData) -> Table:
    """The Pareto front of a multi-objective study: values and test metrics."""
    front = [s.trial(n) for n in s.best]
    tests = sorted({k for t in front for k in t.test})
    columns = ["trial", *(o.metric for o in s.objectives), *(f"test {k}" for k in tests)]
    rows = [[t.number, *(t.values or []), *(t.test.get(k) for k in tests)] for t in front]
    return Table(columns, rows)
