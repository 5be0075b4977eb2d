"""Default report file names: one file per study (or comparison), whatever the names."""

from __future__ import annotations

from pathlib import Path

from automl.reports import default_path


def test_names_that_differ_get_different_report_files() -> None:
    names = [["a/b"], ["a b"], ["a_b"], ["é"], ["ü"], ["日本"], ["a", "b"], ["a_vs_b"], [".."]]
    paths = [default_path(n) for n in names]
    assert len(set(paths)) == len(paths), paths
    assert default_path(["a_b"]) == Path("reports/a_b.html")  # a plain name stays as it is
    assert all(p.parent == Path("reports") and not p.name.startswith(".") for p in paths)
    assert default_path(["x" * 300]) != default_path(["x" * 301])
