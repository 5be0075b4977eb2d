"""The user's own model code: a KerasTuner build function or ``keras_tuner.HyperModel``.

A reference is ``path/to/file.py:name`` (relative to ``base_dir``, e.g. the search-space
file's folder, or absolute) or ``package.module:name``. ``name`` is a function
``build(hp)``, a ``HyperModel`` subclass (made with no arguments) or a ``HyperModel``
instance. Files are imported, not run: code under ``if __name__ == "__main__":`` (such as
``tuner.search(...)``) does not execute.

Loading problems raise :class:`UserCodeError` (a ``SpecError``: the whole sweep stops);
a build that returns no ``keras.Model`` raises ``TrialFailed`` (that trial fails).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import keras
import keras_tuner

from automl.errors import TrialFailed, UserCodeError

__all__ = ["UserBuild", "call_build", "fit_override", "load_build"]

BUILD_KWARGS = ("input_shape", "n_classes")  # passed only to builds that name them


@dataclass(frozen=True)
class UserBuild:
    """A loaded build: call it as ``build(hp)`` (or use :func:`call_build`).

    Attributes:
        ref: the reference it was loaded from, used in messages.
        target: the user's function (any callable) or ``HyperModel`` instance.
    """

    ref: str
    target: Any

    def __call__(self, hp: keras_tuner.HyperParameters, **kwargs: Any) -> Any:
        """Runs the function, or ``HyperModel.build(hp)``."""
        return self._function()(hp, **kwargs)

    @property
    def hypermodel(self) -> keras_tuner.HyperModel | None:
        """The ``HyperModel`` instance, or None for a plain function."""
        return self.target if isinstance(self.target, keras_tuner.HyperModel) else None

    def parameters(self) -> set[str]:
        """The keyword names the build function declares (besides ``hp``)."""
        fn = self.target
        if isinstance(fn, keras_tuner.HyperModel):
            method = type(fn).build
            fn = method.__get__(fn) if method is not keras_tuner.HyperModel.build else fn.build
        return _parameter_names(fn)

    def _function(self) -> Callable[..., Any]:
        hm = self.hypermodel
        return hm.build if hm is not None else self.target


def load_build(ref: str, base_dir: Path | None = None, *, source: bytes | None = None) -> UserBuild:
    """Imports the user's build function or HyperModel named by ``ref``.

    Args:
        ref: ``path/to/file.py:name`` or ``package.module:name``.
        base_dir: folder for a relative file path, also searched (last) for a module;
            default the working directory. A file's folder is added to the end of
            ``sys.path`` so the file can import modules beside it.
        source: the file's content, verified by the caller: it is run instead of a
            second read of the file, which may have changed since.

    Raises:
        UserCodeError: bad reference, missing file, failing import, missing or unusable name.
    """
    text, _, name = ref.rpartition(":")
    if not text or not name.isidentifier():
        raise UserCodeError(
            f"model {ref!r}: expected 'path/to/file.py:name' or 'package.module:name'"
        )
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if text.endswith(".py") or "/" in text or "\\" in text:
        module, where = _import_file(text, base, ref, source)
    else:
        module, where = _import_module(text, base), f"module {text!r}"
    if not hasattr(module, name):
        found = _candidates(module)
        listing = ", ".join(found) or "no functions or classes"
        raise UserCodeError(f"{where}: no {name!r} in it; it defines {listing}")
    return UserBuild(ref, _as_target(getattr(module, name), f"{where}: {name!r}"))


def _import_file(
    text: str, base: Path, ref: str, source: bytes | None = None
) -> tuple[ModuleType, str]:
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise UserCodeError(f"{path}: no such file (model {ref!r}, relative to {base})")
    path = path.resolve()
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    mod_name = f"automl_user_{path.stem if path.stem.isidentifier() else 'model'}_{digest}"
    if mod_name in sys.modules:  # once per process, whoever asks
        return sys.modules[mod_name], str(path)
    _add_to_path(path.parent)
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise UserCodeError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        if source is None:
            spec.loader.exec_module(module)
        else:  # the verified bytes, not a second read of a file that may have changed
            exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102
    except (Exception, SystemExit) as exc:
        del sys.modules[mod_name]
        raise UserCodeError(f"{path}: importing it failed: {_one_line(exc)}{_hint(exc)}") from None
    return module, str(path)


def _import_module(dotted: str, base: Path) -> ModuleType:
    _add_to_path(base)
    try:
        return importlib.import_module(dotted)
    except (Exception, SystemExit) as exc:
        raise UserCodeError(
            f"module {dotted!r} cannot be imported: {_one_line(exc)}; every machine that runs "
            "workers must be able to import it (install it, or put its folder on PYTHONPATH)"
        ) from None


def _add_to_path(folder: Path) -> None:
    text = str(folder.resolve())
    if text not in sys.path:
        sys.path.append(text)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _hint(exc: BaseException) -> str:
    if isinstance(exc, ImportError):
        return "; every machine that runs workers must be able to import what the file imports"
    return ""


def _candidates(module: ModuleType) -> list[str]:
    """Public functions, classes and HyperModel instances of the module, in definition order."""
    out = []
    for key, value in vars(module).items():
        if key.startswith("_"):
            continue
        own = callable(value) and getattr(value, "__module__", None) == module.__name__
        if own or isinstance(value, keras_tuner.HyperModel):
            out.append(key)
    return out


def _as_target(obj: Any, where: str) -> Any:
    """A function or HyperModel instance; a HyperModel class is made with no arguments."""
    if isinstance(obj, type) and issubclass(obj, keras_tuner.HyperModel):
        if getattr(obj, "build", None) is keras_tuner.HyperModel.build:
            raise UserCodeError(f"{where}: the HyperModel defines no build(self, hp)")
        try:
            return obj()
        except Exception as exc:
            raise UserCodeError(
                f"{where}: {obj.__name__}() failed: {_one_line(exc)}; make an instance in the "
                f"module (model = {obj.__name__}(...)) and name that instead"
            ) from None
    if isinstance(obj, keras_tuner.HyperModel) or callable(obj):
        return obj
    raise UserCodeError(
        f"{where} is a {type(obj).__name__}, not a build function or a keras_tuner.HyperModel"
    )


def _parameter_names(fn: Callable[..., Any]) -> set[str]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # some builtins and C callables have no signature
        return set()
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {name for name, p in params.items() if p.kind in kinds}


def call_build(
    build: Callable[..., Any],
    hp: keras_tuner.HyperParameters,
    *,
    input_shape: tuple[int | None, ...] | None = None,
    n_classes: int | None = None,
) -> keras.Model:
    """Builds one model: ``build(hp)``, plus ``input_shape``/``n_classes`` if it names them.

    A keyword is passed only when the function declares a parameter of that name and the
    value is not None.

    Raises:
        TrialFailed: the build returned something other than a ``keras.Model``, or raised
            ``keras_tuner.errors.FailedTrialError`` (reason ``error``).
        UserCodeError: the build raised ``keras_tuner.errors.FatalError``.
    """
    names = build.parameters() if isinstance(build, UserBuild) else _parameter_names(build)
    given = {"input_shape": input_shape, "n_classes": n_classes}
    kwargs = {k: v for k, v in given.items() if k in names and v is not None}
    where = build.ref if isinstance(build, UserBuild) else getattr(build, "__qualname__", "build")
    try:
        model = build(hp, **kwargs)
    except keras_tuner.errors.FailedTrialError as exc:
        raise TrialFailed("error", f"{where}: {_one_line(exc)}") from None
    except keras_tuner.errors.FatalError as exc:
        raise UserCodeError(f"{where}: {_one_line(exc)}") from None
    if not isinstance(model, keras.Model):
        kind = f"{type(model).__module__}.{type(model).__qualname__}"
        raise TrialFailed("error", f"{where} returned {kind}, not a keras.Model (Keras 3)")
    return model


def fit_override(obj: Any) -> Callable[..., Any] | None:
    """The HyperModel's own ``fit(hp, model, *args, **kwargs)``, if it overrides KerasTuner's.

    Args:
        obj: a :class:`UserBuild`, a ``HyperModel`` instance, or anything else (-> None).
    """
    hm = obj.hypermodel if isinstance(obj, UserBuild) else obj
    if isinstance(hm, keras_tuner.HyperModel) and type(hm).fit is not keras_tuner.HyperModel.fit:
        fit: Callable[..., Any] = hm.fit
        return fit
    return None
