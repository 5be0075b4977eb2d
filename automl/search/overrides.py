"""``--set KEY=VALUE``: change one field of a search space from the command line.

Keys are dotted paths into the spec (``training.max_epochs``,
``search.learning_rate.high``); values are parsed as YAML, so ``10`` is an int, ``[a, b]``
a list and ``null`` clears a field. A relative ``data.source``, ``data.test_source`` or
``data.validation_source`` that exists in the working folder becomes absolute, as
``--data`` does. The result is validated like the file, and the spec records its
overrides (``overrides``) so reports can show them.
"""

from __future__ import annotations

from typing import Any

import yaml

from automl.errors import SpecError
from automl.search.params import bounded
from automl.search.spec import SweepSpec, validate_spec


def parse(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["a.b=1", ...]`` -> ``{"a.b": 1}``; a malformed item raises a one-line SpecError."""
    from automl.search.catalog import TooLarge, yaml_loader

    parsed: dict[str, Any] = {}
    for item in items:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key or any(not part for part in key.split(".")):
            raise SpecError(f"--set {item!r}: expected KEY=VALUE with a dotted KEY, e.g. a.b=1")
        try:
            parsed[key] = yaml.load(text, Loader=yaml_loader()) if text.strip() else ""  # noqa: S506
        except (TooLarge, RecursionError) as exc:
            reason = str(exc) if isinstance(exc, TooLarge) else "nested too deeply"
            raise SpecError(f"--set {key}: refused: {reason}") from None
        except yaml.YAMLError:
            shown = text if len(text) <= 80 else text[:77] + "..."
            raise SpecError(f"--set {key}: the value {shown!r} is not valid YAML") from None
    return parsed


def apply(spec: SweepSpec, changes: dict[str, Any], origin: str = "--set") -> SweepSpec:
    """A validated copy of ``spec`` with ``changes`` applied and recorded in ``overrides``.

    Raises:
        SpecError: naming the key and what is wrong (unknown field, wrong type, range).
    """
    if not changes:
        return spec
    try:
        bounded(changes)  # before anything walks or prints them
    except ValueError as exc:
        raise SpecError(f"{origin} {', '.join(changes)}: refused: {exc}") from None
    raw = spec.model_dump(mode="json", exclude_none=True)
    for key, value in changes.items():
        _assign(raw, key, _data_path(key, value))
    raw["overrides"] = {**spec.overrides, **changes}
    try:
        return validate_spec(raw, origin=origin, stored=spec._stored)
    except SpecError as exc:
        keys = ", ".join(changes)
        raise SpecError(f"{exc} (after --set {keys})") from None


def _data_path(key: str, value: Any) -> Any:
    """A relative data path given here is read from the working folder (as ``--data``)."""
    from pathlib import Path

    from automl.search.catalog import DATA_PATHS

    if not key.startswith("data.") or key[5:] not in DATA_PATHS or not isinstance(value, str):
        return value
    path = Path(value).expanduser()
    return str(path.resolve()) if path.exists() else value


def _assign(raw: dict[str, Any], key: str, value: Any) -> None:
    node: Any = raw
    *parents, leaf = key.split(".")
    for depth, part in enumerate(parents):
        child = node.get(part) if isinstance(node, dict) else None
        if child is None:
            child = node.setdefault(part, {}) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            where = ".".join(parents[: depth + 1])
            raise SpecError(f"--set {key}: {where} is a single value, not a section")
        node = child
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value
