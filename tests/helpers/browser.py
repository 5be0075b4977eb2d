"""A report page opened in headless Chromium: its DOM after the scripts ran, and a check that
every figure was drawn without a script error. The ``chromium`` fixture is in tests/conftest.py.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

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
