"""Hostile search-space files: ``automl spaces --validate`` answers ok or one line, never a
traceback. 1,000 files: random edits of the shipped spaces and of a schema-shaped spec
(values of every type in every field, unknown and deleted keys), and raw text damage."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from automl.cli import app
from tests.conftest import tiny_spec

SPACES = sorted((Path(__file__).parents[2] / "search_spaces").glob("*.yaml"))
BASES = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in SPACES] + [tiny_spec()]
KEYS = sorted(
    {
        "low",
        "high",
        "log",
        "step",
        "choices",
        "per_layer",
        "when",
        "name",
        "source",
        "target",
        "family",
        "max_epochs",
        "patience",
        "batch_size",
        "seed",
        "objectives",
        "metric",
        "direction",
        "keep",
        "enqueue",
        "augment",
        "kind",
        "validation",
        "test",
        "search",
    }
)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(KEYS),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=8,
)
runner = CliRunner()
FILE = Path(tempfile.mkdtemp(prefix="automl-fuzz-")) / "space.yaml"


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _edit(doc: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = value


@st.composite
def documents(draw: st.DrawFn) -> str:
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        if not paths or draw(st.booleans()) and isinstance(doc, dict):
            doc[draw(st.sampled_from(KEYS))] = draw(values)  # a new or replaced top key
            continue
        _edit(doc, draw(st.sampled_from(paths)), draw(values), draw(st.booleans()))
    text = yaml.safe_dump(doc, allow_unicode=True)
    if draw(st.integers(0, 4)) == 0:  # damage the text itself
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.sampled_from(["\t", ": [", "{", "\x00", "- -", "&a *b", '"', "é"]))
            + text[at:]
        )
    return text


@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(documents())
def test_validate_never_shows_a_traceback(text: str) -> None:
    FILE.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["spaces", "--validate", str(FILE)])
    assert result.exception is None or isinstance(result.exception, SystemExit), text
    out = result.output.strip()
    assert "Traceback" not in out
    if result.exit_code == 0:
        assert out.startswith("ok: ")
    else:
        assert len(out.splitlines()) == 1 and out.startswith("error: "), out
