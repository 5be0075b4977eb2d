"""Process set-up that must happen before Keras is imported anywhere.

Deep-learning frameworks write log lines to file descriptor 2 from C++ while they are
imported (TensorFlow's absl, oneDNN and CUDA lines), before Python can configure them and
whatever ``TF_CPP_MIN_LOG_LEVEL`` says. :func:`quiet` installs an import hook that points
the descriptor at /dev/null while one of them is imported, wherever the import happens
(automl itself, a user's model file, a saved model being loaded); ``--debug`` shows them.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

# Top-level packages whose import may write native log lines.
FRAMEWORKS = frozenset({"keras", "keras_tuner", "tensorflow", "tf_keras", "jax", "jaxlib", "torch"})
_state = {"debug": False, "capturing": False, "depth": 0}
_lock = threading.RLock()


def quiet() -> None:
    """Silence framework start-up chatter so the CLI prints only what matters."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module="keras")
    warnings.filterwarnings("ignore", category=UserWarning, module="optuna")
    for name in ("absl", "tensorflow", "jax"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def show_framework_logs(on: bool = True) -> None:
    """``--debug``: let framework imports write their log lines."""
    _state["debug"] = on


def capturing(on: bool) -> None:
    """A trial's output goes to its log file now: framework lines belong there too."""
    _state["capturing"] = on


@contextlib.contextmanager
def native_quiet() -> Iterator[None]:
    """File descriptor 2 points at /dev/null inside (the outermost of nested uses only)."""
    with _lock:
        outer = _state["depth"] == 0 and not _state["debug"] and not _state["capturing"]
        _state["depth"] += 1
        saved = devnull = -1
        if outer:
            sys.stderr.flush()
            saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if outer:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                os.close(devnull)


class _QuietLoader(importlib.machinery.SourceFileLoader):
    """The framework's own loader, run with file descriptor 2 quiet."""

    def exec_module(self, module: ModuleType) -> None:
        with native_quiet():
            super().exec_module(module)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds a framework package as the path finder does, and gives it a quiet loader."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in FRAMEWORKS or _state["debug"]:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec is not None else None
        if type(loader) is not importlib.machinery.SourceFileLoader:
            return None  # not a plain source package: the usual finders handle it
        spec.loader = _QuietLoader(loader.name, loader.path)  # type: ignore[union-attr]
        return spec


def load_keras(verbose: bool = False) -> None:
    """Import Keras (and its backend) once, hiding the C++ start-up log lines."""
    if "keras" in sys.modules or verbose or _state["debug"]:
        import keras  # noqa: F401

        return
    with native_quiet():
        import keras  # noqa: F401, F811
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
