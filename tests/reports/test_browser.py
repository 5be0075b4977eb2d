"""Reports opened in a real headless browser: every figure drawn, no script error.

Needs Chromium (``/usr/bin/chromium``, or ``$AUTOML_CHROMIUM``). Outside CI a missing
browser skips these tests; with ``CI=true`` it fails them, so CI cannot pass silently.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from automl.reports import write_report
from tests.conftest import missing

MULTI = [{"metric": "val_accuracy"}, {"metric": "params_count", "direction": "minimize"}]
PWN = "<script>document.body.setAttribute('data-pwned','1')</script>"
PWN_IMG = "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">"
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


@pytest.fixture(scope="module")
def chromium() -> str:
    path = os.environ.get("AUTOML_CHROMIUM", "/usr/bin/chromium")
    if Path(path).is_file():
        return path
    missing(f"no Chromium at {path} (set AUTOML_CHROMIUM to test reports in a browser)")


def dump_dom(chromium: str, page: Path, profile: Path) -> str:
    """The page's DOM after its scripts ran (10 s of virtual time), as Chromium serializes it."""
    args = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "</html>" in done.stdout, done.stderr[-2000:]
    return done.stdout


@dataclass
class Scan(HTMLParser):
    """What a test needs of a dumped DOM: plots and whether they hold an SVG, errors."""

    plots: dict[str, bool] = field(default_factory=dict)
    drawn: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    errors_hidden: bool = False
    body: dict[str, str | None] = field(default_factory=dict)
    stack: list[tuple[str, str, bool]] = field(default_factory=list)  # tag, plot id, in errors

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "svg" and "main-svg" in classes:
            for _, plot, _ in self.stack:
                if plot:
                    self.plots[plot] = True
        if tag == "body":
            self.body = a
        if tag in VOID:
            return
        plot = a.get("id") or "" if tag == "div" and "plot" in classes else ""
        if plot:
            self.plots.setdefault(plot, False)
            if a.get("data-drawn") == "1":
                self.drawn.add(plot)
        if a.get("id") == "automl-errors":
            self.errors_hidden = "hidden" in a
        in_errors = a.get("id") == "automl-errors" or bool(self.stack and self.stack[-1][2])
        self.stack.append((tag, plot, in_errors))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] == "li" and self.stack[-1][2]:
            self.errors.append(data)


def check_page(chromium: str, page: Path, tmp_path: Path) -> Scan:
    """Open ``page`` and assert that it drew every figure without a script error."""
    scan = Scan()
    scan.feed(dump_dom(chromium, page, tmp_path / "profile"))
    assert scan.errors == [] and scan.errors_hidden, scan.errors
    assert scan.body.get("data-automl-done") == "1"  # the loader got through every figure
    assert "data-pwned" not in scan.body
    missing = sorted(p for p, has_svg in scan.plots.items() if not has_svg)
    assert not missing, f"figures without <svg class='main-svg'>: {missing}"
    assert scan.drawn == set(scan.plots)
    return scan


def test_reports_draw_every_figure(chromium, make_sweep, tmp_path):
    sweeps = [
        make_sweep("classification", n_trials=25),
        make_sweep("regression", n_trials=15, task="regression"),
        make_sweep("multi", n_trials=12, objectives=MULTI),
        make_sweep(PWN, n_trials=10, activations=["relu", PWN_IMG], classes=[PWN_IMG, "b&c"]),
    ]
    page = write_report([s.record() for s in sweeps], tmp_path / "all.html")
    scan = check_page(chromium, page, tmp_path)
    assert len(scan.plots) >= 50


def test_small_studies_open_cleanly(chromium, make_sweep, tmp_path):
    sweeps = [
        make_sweep("empty", n_trials=0),
        make_sweep("failed", n_trials=3, states=["FAIL"] * 3),
        make_sweep("pruned", n_trials=2, states=["PRUNED"] * 2),
        make_sweep("one", n_trials=1),
    ]
    check_page(
        chromium, write_report([s.record() for s in sweeps], tmp_path / "small.html"), tmp_path
    )
    check_page(
        chromium,
        write_report([s.record() for s in sweeps[1:2]], tmp_path / "failed.html"),
        tmp_path,
    )


SORT_PROBE = """
<script nonce="%s">
(function () {
  var table = document.querySelector("table.leaderboard");
  var heads = table.tHead.rows[0].cells, out = [];
  function col(name) {
    for (var i = 0; i < heads.length; i++) { if (heads[i].textContent.trim() === name) return i; }
  }
  function column(i) {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
      return r.cells[i].textContent.trim();
    });
  }
  [["number", 1], ["number", 2], ["duration_s", 1], ["val_accuracy", 1], ["activation", 1]]
    .forEach(function (step) {
      var i = col(step[0]);
      for (var k = 0; k < step[1]; k++) { heads[i].click(); }
      heads[0].removeAttribute("aria-sort");
      out.push(column(i));
      if (step[0] !== "number") { heads[i].removeAttribute("aria-sort"); }
    });
  var pre = document.createElement("pre");
  pre.id = "sort-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def test_leaderboard_sorts_in_the_page(chromium, make_sweep, tmp_path):
    import json

    states = ["COMPLETE"] * 8 + ["FAIL"] * 2 + ["COMPLETE"] * 4
    page = write_report(
        [make_sweep("sort", n_trials=len(states), states=states).record()], tmp_path / "s.html"
    )
    text = page.read_text(encoding="utf-8")
    nonce = re.search(r'<script nonce="([^"]+)"', text).group(1)  # the page's policy needs it
    page.write_text(text.replace("</body>", SORT_PROBE % nonce + "</body>"), encoding="utf-8")
    dom = dump_dom(chromium, page, tmp_path / "profile")
    probe = re.search(r'<pre id="sort-probe">(.*?)</pre>', dom, re.S)
    assert probe, "the probe script did not run"
    number_up, number_down, duration, accuracy, activation = json.loads(html.unescape(probe[1]))
    assert [int(v) for v in number_up] == list(range(len(states)))
    assert [int(v) for v in number_down] == list(range(len(states)))[::-1]
    assert [float(v) for v in duration] == sorted(float(v) for v in duration)
    filled = [float(v) for v in accuracy if v]
    assert filled == sorted(filled) and accuracy[-2:] == ["", ""]  # failed trials last
    assert activation == sorted(activation)
