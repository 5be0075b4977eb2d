"""Reports opened in a real headless browser: every figure drawn, no script error.

Needs Chromium (``/usr/bin/chromium``, or ``$AUTOML_CHROMIUM``). Outside CI a missing
browser skips these tests; with ``CI=true`` it fails them, so CI cannot pass silently.
"""

from __future__ import annotations

import html
import re

import pytest

from automl.reports import write_report
from tests.helpers.browser import check_page, dump_dom

pytestmark = pytest.mark.slow  # needs Chromium

MULTI = [{"metric": "val_accuracy"}, {"metric": "params_count", "direction": "minimize"}]
PWN = "<script>document.body.setAttribute('data-pwned','1')</script>"
PWN_IMG = "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">"


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
