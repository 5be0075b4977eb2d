"""Hostile search-space files: ``automl spaces --validate`` answers ok or one line, never a
traceback. 1,000 files: half generated from ``SweepSpec``'s JSON schema (every section and
field, within and beyond its bounds), half random edits of the shipped spaces (values of
every type in every field the schema names, unknown and deleted keys) and raw text damage."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from automl.cli.main import app
from automl.search.spec import SweepSpec
from tests.helpers import tiny_spec

SPACES = sorted((Path(__file__).parents[2] / "search_spaces").glob("*.yaml"))
BASES = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in SPACES] + [tiny_spec()]
SCHEMA = SweepSpec.model_json_schema()
DEFS = SCHEMA["$defs"]


def _names(node: Any) -> set[str]:
    """Every property name the schema declares, at any depth."""
    if isinstance(node, list):
        return set().union(*(_names(v) for v in node))
    if not isinstance(node, dict):
        return set()
    own = set(node["properties"]) if isinstance(node.get("properties"), dict) else set()
    return own.union(*(_names(v) for v in node.values()))


KEYS = sorted(_names(SCHEMA))
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


def from_schema(node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values the JSON schema allows (bounds, enums, required and optional keys), with a
    stray value of any type now and then. With many optional fields each drawn at random,
    nearly every document breaks some rule, so these exercise the error path."""
    if "$ref" in node:
        return from_schema(DEFS[node["$ref"].rsplit("/", 1)[-1]], depth)
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    options = node.get("anyOf") or node.get("oneOf")
    if options:
        return st.one_of([from_schema(o, depth) for o in options])
    kind = node.get("type")
    if kind == "object" and depth < 4:
        props = node.get("properties") or {}
        if props:
            required = set(node.get("required", ()))
            return st.fixed_dictionaries(
                {k: from_schema(v, depth + 1) for k, v in props.items() if k in required},
                optional={
                    k: from_schema(v, depth + 1) for k, v in props.items() if k not in required
                },
            )
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            names = st.sampled_from(["n_layers", "units", "learning_rate", "x"]) | st.text(
                max_size=6
            )
            return st.dictionaries(names, from_schema(extra, depth + 1), max_size=3)
        return st.dictionaries(st.text(max_size=6), values, max_size=2)
    if kind == "array" and depth < 5:
        if "prefixItems" in node:
            return st.tuples(*(from_schema(i, depth + 1) for i in node["prefixItems"])).map(list)
        item = from_schema(node.get("items") or {}, depth + 1)
        return st.lists(item, min_size=node.get("minItems", 0), max_size=4)
    if kind in ("integer", "number"):
        lo, hi = node.get("minimum"), node.get("maximum")
        if kind == "integer":
            return st.integers(lo, hi) | st.integers()
        return st.floats(lo, hi, allow_nan=False) | st.floats()
    simple = {"string": st.text(max_size=12), "boolean": st.booleans(), "null": st.none()}
    return simple.get(kind, values) if isinstance(kind, str) else values


SCHEMA_DOCS = from_schema(SCHEMA)


@st.composite
def documents(draw: st.DrawFn) -> str:
    if draw(st.booleans()):  # half the files come from the schema itself
        doc = draw(SCHEMA_DOCS)
        return yaml.safe_dump(doc, allow_unicode=True)
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


@pytest.mark.slow
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
