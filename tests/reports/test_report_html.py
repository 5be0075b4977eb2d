"""The page: one offline file, every section, escaped text, and the ways to ask for it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.reports import default_path, write_report

MULTI = [{"metric": "val_accuracy"}, {"metric": "params_count", "direction": "minimize"}]
PLOTLY_BANNER = "* plotly.js v"


def _outside_plotly_js(page: str) -> str:
    """The page without the embedded plotly.js (whose code names map-tile hosts)."""
    start = page.index(PLOTLY_BANNER)
    return page[:start] + page[page.index("</script>", start) :]


def test_single_study_page(make_sweep, tmp_path):
    sweep = make_sweep("exp1", n_trials=20)
    path = write_report([sweep.record()], tmp_path / "deep" / "er" / "exp1.html")
    page = path.read_text(encoding="utf-8")
    assert path.parent.is_dir()
    assert page.count(PLOTLY_BANNER) == 1  # plotly.js embedded once
    rest = _outside_plotly_js(page)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", rest)  # nothing to fetch
    assert "http://" not in rest and "https://" not in rest
    assert "default-src 'none'" in page  # the browser refuses any request
    for heading in (
        "Study exp1",
        "Leaderboard",
        "Optimization history",
        "Learning curves",
        "Parameters",
        "Model comparison",
        "Best model on the test split",
        "Per-class scores",
        "Layers of trial",
    ):
        assert heading in page, heading
    assert f"Best validation val_accuracy: <b>{sweep.best_value:.5g}</b>" in page
    assert 'class="sortable leaderboard"' in page
    n_plots = page.count('<div class="plot"')
    assert n_plots >= 14 and page.count('type="application/json"') == n_plots + 1
    assert "Comparison of" not in page


def test_comparison_page(make_sweep, tmp_path):
    a = make_sweep("a", n_trials=10)
    b = make_sweep("b", n_trials=10, task="regression")
    page = write_report([a.record(), b.record()], tmp_path / "cmp.html").read_text(encoding="utf-8")
    assert "Comparison of 2 studies" in page and 'class="sortable compare-table"' in page
    assert "Study a" in page and "Study b" in page
    assert page.count(PLOTLY_BANNER) == 1
    assert "the studies optimize different metrics" in page


def test_multi_objective_page_shows_the_front(make_sweep, tmp_path):
    page = write_report(
        [make_sweep("mo", n_trials=12, objectives=MULTI).record()], tmp_path / "m.html"
    )
    text = page.read_text(encoding="utf-8")
    assert "Pareto front:" in text and 'class="sortable pareto-table"' in text
    assert "Best validation" not in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_trials": 0}, "no completed trial yet"),
        ({"n_trials": 3, "states": ["FAIL"] * 3}, "No completed trial yet: every trial failed"),
        ({"n_trials": 1}, "needs at least 2 completed trials (1 so far)"),
    ],
    ids=["empty", "failed", "one-trial"],
)
def test_small_studies_render_with_a_message(make_sweep, tmp_path, kwargs, message):
    page = write_report([make_sweep("small", **kwargs).record()], tmp_path / "s.html")
    assert message in page.read_text(encoding="utf-8")


def test_user_strings_are_escaped(make_sweep, tmp_path):
    evil = "<script>alert(1)</script>"
    choice = "</script><img src=x onerror=alert(2)>"
    sweep = make_sweep(evil, n_trials=12, activations=["relu", choice], classes=[choice, "b"])
    page = write_report([sweep.record()], tmp_path / "x.html").read_text(encoding="utf-8")
    assert evil not in page and choice not in page and "<img" not in page
    assert "Study &lt;script&gt;alert(1)&lt;/script&gt;" in page
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S):
        assert "<" not in block and ">" not in block
    # Parsed as a browser tokenizes it: the hostile names add no element and no handler.
    plain = make_sweep("plain", n_trials=12, activations=["relu", "tanh"], classes=["a", "b"])
    same = write_report([plain.record()], tmp_path / "p.html").read_text(encoding="utf-8")
    assert _tags(page) == _tags(same)
    assert not [a for _, attrs in _elements(page) for a, _ in attrs if a.startswith("on")]


def _elements(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Parser().feed(page)
    return found


def _tags(page: str) -> dict[str, int]:
    from collections import Counter

    return dict(Counter(tag for tag, _ in _elements(page)))


def test_two_hundred_trials_stay_small(make_sweep, tmp_path):
    path = write_report(
        [make_sweep("big", n_trials=200, max_epochs=20).record()], tmp_path / "b.html"
    )
    assert path.stat().st_size < 8_000_000


def test_default_path_and_folder_target(make_sweep, tmp_path, monkeypatch):
    sweep = make_sweep("exp/1", n_trials=3)
    monkeypatch.chdir(tmp_path)
    # "exp/1" is no file name: "exp_1" plus a hash of the real name, so "exp 1" differs.
    path = default_path(["exp/1"])
    assert path.parent == Path("reports") and path.name.startswith("exp_1-")
    assert write_report([sweep.record()]) == path
    assert path.is_file()
    (tmp_path / "out").mkdir()
    assert write_report([sweep.record()], tmp_path / "out") == tmp_path / "out" / path.name


def test_api_entry_points(make_sweep, tmp_path):
    a, b = make_sweep("a", n_trials=4), make_sweep("b", n_trials=4)
    assert a.report(tmp_path / "a.html").is_file()
    path = automl.compare([a, b], tmp_path / "ab.html")
    assert "Comparison of 2 studies" in path.read_text(encoding="utf-8")
    with pytest.raises(automl.AutoMLError, match="at least one study"):
        write_report([], tmp_path / "none.html")


def test_cli_report(make_sweep, journal, tmp_path, monkeypatch):
    make_sweep("exp1", n_trials=4)
    make_sweep("exp2", n_trials=4)
    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    done = cli.invoke(app, ["report", "exp1", "--storage", journal])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "reports" / "exp1.html").is_file()
    done = cli.invoke(app, ["report", "exp1", "exp2", "--storage", journal, "-o", "c/cmp.html"])
    assert done.exit_code == 0 and "c/cmp.html" in done.output
    assert "Comparison of 2 studies" in (tmp_path / "c" / "cmp.html").read_text(encoding="utf-8")
    done = cli.invoke(app, ["report", "nope", "--storage", journal])
    assert done.exit_code == 4 and "no study 'nope'" in done.output


@pytest.mark.slow
def test_report_of_a_real_sweep(tmp_path):
    """The tuning code's own attributes (not the synthetic ones) make a full report."""
    from automl.search.spec import validate_spec

    spec = validate_spec(
        {
            "name": "t",
            "data": {"source": "digits"},
            "model": {"family": "mlp"},
            "search": {"units": {"low": 8, "high": 32}},
            "training": {"max_epochs": 2},
        }
    )
    sweep = automl.tune(spec, trials=3, storage=str(tmp_path / "j.log"), seed=0)
    page = sweep.report(tmp_path / "t.html").read_text(encoding="utf-8")
    assert "3 complete" in page and "Confusion matrix (test split)" in page
    assert "Layers of trial" in page and "no test evaluation stored" not in page
    assert f"(trial {sweep.best_trial.number})" in page


def test_page_helpers(monkeypatch):
    import plotly.offline

    from automl.reports import html

    monkeypatch.setattr(plotly.offline, "get_plotlyjs", lambda: "a='</SCRIPT>'")
    assert html._plotly_js() == "a='<\\/SCRIPT>'"
    assert [html.cell(v) for v in (None, float("nan"), True, 0.123456789, 7, "x")] == [
        "",
        "",
        "yes",
        "0.12346",
        "7",
        "x",
    ]
    assert html.sort_key(0.123456789) == "0.123456789" and html.sort_key(0.5) is None
    assert [html.duration(s) for s in (12.34, 252, 11100)] == ["12.3 s", "4 min 12 s", "3 h 05 min"]
