"""References to the user's model code, checked where a spec enters without importing it.

``path/to/file.py:name`` or ``package.module:name`` (see :mod:`automl.usercode.build`); a
build given as a Python object is stored with its study as ``pickle:<artifact id>``.
Importing happens later, in the workers: a module that imports TensorFlow costs seconds.

Where a reference enters from the user (a YAML file, the command line, Python) it is
sealed: the file's (or the pickle's) SHA-256 digest and a signature of both made with
this machine's key (:mod:`automl.store.signing`). A spec read back from the storage is
never checked nor sealed here: nothing it names is looked up, let alone imported.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from automl.store import signing

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
    if not findable(source):
        raise ValueError(
            f"model.build: module {source!r} cannot be imported; every machine that runs "
            "workers must be able to import it (install it, or put its folder on PYTHONPATH)"
        )


def findable(dotted: str) -> bool:
    """Whether module ``dotted`` can be found, importing nothing (not even its parents).

    ``importlib.util.find_spec("a.b")`` imports package ``a`` (runs its ``__init__``);
    here each parent's search locations are looked up on the import system's finders.
    """
    parts = dotted.split(".")
    if not all(p.isidentifier() for p in parts):
        return False
    path: Any = None
    for i in range(len(parts)):
        name = ".".join(parts[: i + 1])
        module = sys.modules.get(name)
        if module is not None:  # imported already: nothing runs by asking it
            path = getattr(module, "__path__", None)
        else:
            found = _find(name, path)
            if found is None:
                return False
            path = found.submodule_search_locations
        if path is None and i < len(parts) - 1:
            return False  # a module, not a package: it has no submodules
    return True


def _find(name: str, path: Any) -> Any:
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        try:
            found = find(name, path)
        except (ImportError, ValueError, TypeError):
            continue
        if found is not None:
            return found
    return None


def seal(ref: str, digest: str | None = None) -> dict[str, str | None]:
    """The digest and signature that let workers trust ``ref`` (see :mod:`automl.store.signing`).

    A file's digest is read now; a pickle's is the one its writer computed (``digest``);
    a module has none (the machine's installed packages and ``PYTHONPATH`` are trusted).

    Raises:
        ValueError: a pickle without its digest, or a file that cannot be read.
        SigningKeyError: no key can be read or made.
    """
    source = ref.rpartition(":")[0]
    if ref.startswith(PICKLED):
        if not digest:
            raise ValueError(
                "model.build: a 'pickle:' reference is made by automl for code given from "
                "Python; name a file (file.py:function) or a module (package.module:function)"
            )
    elif is_file_ref(source):
        try:
            digest = signing.sha256(Path(source).expanduser().read_bytes())
        except OSError as exc:
            raise ValueError(f"model.build: {source}: cannot be read: {exc.strerror}") from None
    else:
        digest = None
    return {"digest": digest, "signature": signing.sign(ref, digest, create=True)}
