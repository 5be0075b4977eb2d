"""The ``overrides`` field of a space holds only what ``--set`` writes: dotted field paths
and JSON-like values, a bounded number of them (shared references, as YAML aliases make,
can stand for billions); a ``--set`` value is YAML held to the loader's alias bound."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import automl
from automl.errors import SpecError
from automl.search import overrides
from automl.search.spec import validate_spec
from tests.helpers import tiny_spec


def test_overrides_hold_only_what_set_writes(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"overrides"):
        validate_spec({**tiny_spec(), "overrides": {"not a key!": 1}})
    with pytest.raises(SpecError, match=r"overrides"):
        validate_spec({**tiny_spec(), "overrides": {"a": object()}})
    shared: Any = ["x"] * 10
    for _ in range(8):
        shared = [shared] * 10  # shared references: 10 ** 9 values to walk
    start = time.monotonic()
    with pytest.raises(SpecError, match=r"overrides: more than \d+ values"):
        validate_spec({**tiny_spec(), "overrides": {"x": shared}})
    with pytest.raises(SpecError):
        automl.tune(validate_spec(tiny_spec()), overrides={"training.patience": shared})
    assert time.monotonic() - start < 2
    spec = validate_spec({**tiny_spec(), "overrides": {"search.units.high": [1, {"a": None}]}})
    assert spec.overrides == {"search.units.high": [1, {"a": None}]}


def test_a_set_value_is_yaml_held_to_the_same_bound() -> None:
    value = "{" + ", ".join(_bomb().splitlines()) + "}"
    with pytest.raises(SpecError, match=r"--set training\.x: refused: aliases expand"):
        overrides.parse([f"training.x={value}"])


def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]")
    return "\n".join(lines)
