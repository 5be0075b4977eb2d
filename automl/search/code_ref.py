"""References to the user's model code, checked where a spec enters without importing it.

``path/to/file.py:name`` or ``package.module:name`` (see :mod:`automl.usercode.build`); a
build given as a Python object is stored with its study as ``pickle:<artifact id>``.
Importing happens later, in the workers: a module that imports TensorFlow costs seconds.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

PICKLED = "pickle:"  # a build function or HyperModel given from Python, stored by value


def is_file_ref(source: str) -> bool:
    """Whether the part before ``:`` names a file rather than a dotted module."""
    return source.endswith(".py") or "/" in source or "\\" in source


def looks_like_ref(text: str) -> bool:
    """Whether a command-line space argument is a build reference, not a space name/file."""
    source, sep, name = text.rpartition(":")
    return bool(sep and source and name.isidentifier() and not text.endswith((".yaml", ".yml")))


def absolute(ref: str, base: Path) -> str:
    """The reference with a relative file path made absolute against ``base`` (if it exists)."""
    source, _, name = ref.rpartition(":")
    if ref.startswith(PICKLED) or not is_file_ref(source):
        return ref
    path = Path(source).expanduser()
    if not path.is_absolute() and (base / path).is_file():
        return f"{(base / path).resolve()}:{name}"
    return ref


def check_ref(ref: str) -> None:
    """Raise ValueError (one line) unless the file exists or the module can be found."""
    if ref.startswith(PICKLED):
        return
    source, _, name = ref.rpartition(":")
    if not source or not name.isidentifier():
        raise ValueError(
            f"model.build: expected 'path/to/file.py:function' or 'package.module:function'; "
            f"got {ref!r}"
        )
    if is_file_ref(source):
        if not Path(source).expanduser().is_file():
            raise ValueError(f"model.build: {source}: no such file (relative to the YAML file)")
        return
    try:
        found = importlib.util.find_spec(source)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise ValueError(
            f"model.build: module {source!r} cannot be imported; every machine that runs "
            "workers must be able to import it (install it, or put its folder on PYTHONPATH)"
        )
