"""Ready search spaces and YAML files: find a space by name or path, read it, validate it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from automl.errors import SpecError
from automl.search.spec import SweepSpec, validate_spec

# A search space has tens of values, a few thousand at most; aliases that expand past this
# are an alias bomb ("billion laughs"), refused before anything is built from them.
MAX_VALUES = 100_000


class TooLarge(yaml.YAMLError):
    """A YAML document whose aliases expand too far, or refer to themselves."""


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads ``1e-3`` as a string; this loader reads it as a float.

    It also counts the values a document expands to, aliases included, before building
    it: a few lines of aliases can stand for billions of values.
    """

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        expanded_size(node)
        return self.construct_document(node)


def expanded_size(node: yaml.Node, limit: int = MAX_VALUES) -> int:
    """How many values ``node`` stands for once every alias is copied out.

    Raises:
        TooLarge: past ``limit``, or for an alias inside itself (a value without end).
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(n: yaml.Node) -> int:
        if id(n) in sizes:
            return sizes[id(n)]
        if id(n) in open_nodes:
            raise TooLarge("an alias refers to a value that holds it (a value without end)")
        open_nodes.add(id(n))
        children: list[yaml.Node] = []
        if isinstance(n, yaml.MappingNode):
            children = [part for pair in n.value for part in pair]
        elif isinstance(n, yaml.SequenceNode):
            children = list(n.value)
        total = 1 + sum(size(c) for c in children)
        if total > limit:
            raise TooLarge(f"aliases expand to more than {limit} values (an alias bomb?)")
        open_nodes.discard(id(n))
        sizes[id(n)] = total
        return total

    return size(node)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def yaml_loader() -> type[yaml.SafeLoader]:
    """The YAML loader of search-space files (``1e-3`` is a float)."""
    return _Loader


def ready_spaces_dir() -> Path:
    """Folder of the ready search spaces (inside the installed package, or the checkout)."""
    package = Path(__file__).resolve().parents[1]  # automl/
    for candidate in (package / "search_spaces", package.parent / "search_spaces"):
        if candidate.is_dir():
            return candidate
    return package / "search_spaces"


def ready_spaces() -> dict[str, Path]:
    """Ready search spaces by name."""
    folder = ready_spaces_dir()
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def resolve_space(name_or_path: str | Path) -> Path:
    """Path of a ready space's name, or of a YAML file."""
    text = str(name_or_path)
    ready = ready_spaces()
    if text in ready:
        return ready[text]
    path = Path(text).expanduser()
    if path.is_file():
        return path
    if path.suffix in (".yaml", ".yml") or "/" in text:
        raise SpecError(f"{text}: no such file")
    raise SpecError(
        f"{text!r} is neither a file nor a ready search space; ready: {', '.join(ready)}"
    )


def load_spec(name_or_path: str | Path) -> SweepSpec:
    """Read and validate a search space by ready-space name or file path."""
    path = resolve_space(name_or_path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    except (TooLarge, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, TooLarge) else "nested too deeply"
        raise SpecError(f"{path}: refused: {reason}; write the values out") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise SpecError(f"{where}: YAML syntax error: {exc.problem}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())  # a reader error spans lines; errors are one line
        raise SpecError(f"{path}: cannot read: {reason}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a search space is a YAML mapping with data, model and search")
    raw.setdefault("name", path.stem)
    _resolve_data_path(raw, path.parent)
    model = raw.get("model")
    if isinstance(model, dict) and isinstance(model.get("build"), str):
        from automl.search.code_ref import absolute

        model["build"] = absolute(model["build"], path.parent.resolve())
    return validate_spec(raw, origin=str(path))


DATA_PATHS = ("source", "test_source", "validation_source")  # data fields naming files


def _resolve_data_path(raw: dict[str, Any], base: Path) -> None:
    """A relative data path is read relative to the YAML file when it exists there."""
    data = raw.get("data")
    if not isinstance(data, dict):
        return
    for field in DATA_PATHS:
        if not isinstance(data.get(field), str):
            continue
        source = Path(data[field]).expanduser()
        if not source.is_absolute() and (base / source).exists():
            data[field] = str((base / source).resolve())
