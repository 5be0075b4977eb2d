"""Export: a checked Keras model as ``.keras``, a SavedModel, ONNX or LiteRT, with its JSON.

Every format but ``keras`` goes through Keras' own ``model.export``, on an inference copy
of the model: layers that act only while training (dropout, noise, random augmentation)
become identities, and where a converter needs it, recurrent layers are unrolled (LiteRT:
no TensorFlow ops outside its built-in set) and GELU is written with ``erf`` (tf2onnx has no
``erfc``). The artifact is then loaded in its own runtime (:mod:`automl.study.runtimes`)
and its outputs on a probe batch must match the Keras model's, or nothing is written.

Files: an artifact file ``best.onnx`` gets ``best.onnx.json`` beside it (and a text study's
``best.tokenizer.json``, a recommender's ``best.vocabulary.json``); a SavedModel folder holds
them as ``automl.json``, ``tokenizer.json`` and ``vocabulary.json``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import secrets
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl._env import native_quiet
from automl.errors import AutoMLError, ExportError, install_hint, unknown_name
from automl.store import models
from automl.study import inference, runtimes

FORMATS = ("keras", "saved_model", "onnx", "litert")
SUFFIXES = {".keras": "keras", ".onnx": "onnx", ".tflite": "litert"}
_KERAS_NAMES = {"saved_model": "tf_saved_model", "onnx": "onnx", "litert": "litert"}
# What each Keras backend exports, as automl checks it.
BACKEND_FORMATS = {
    "tensorflow": FORMATS,
    "torch": ("keras", "onnx"),
    "jax": ("keras", "saved_model", "onnx"),
}
# Packages a format needs on a backend, importable under these names: converter, runtime.
NEEDS = {
    ("onnx", "tensorflow"): ("tf2onnx", "onnx", "onnxruntime"),
    ("onnx", "torch"): ("onnx", "onnxruntime"),
    ("onnx", "jax"): ("jax2onnx", "onnxruntime"),
}
SIDECAR = "automl.json"  # inside a SavedModel folder; a file artifact's is <file>.json
ATOL = RTOL = 1e-4  # how far an artifact's outputs may be from the Keras model's

_SPECTROGRAMS = ("MelSpectrogram", "STFTSpectrogram")


def resolve_format(path: Path, fmt: str | None) -> str:
    """The format asked for, or the one the path's suffix names (no suffix, or an existing
    folder: a SavedModel)."""
    suffix = path.suffix.lower()
    if fmt is not None:
        if fmt not in FORMATS:
            raise ExportError(f"--format: {unknown_name('export format', fmt, FORMATS)}")
        implied = SUFFIXES.get(suffix)
        if implied is not None and implied != fmt:
            raise ExportError(
                f"{path}: the suffix {suffix} means format {implied}, not {fmt}; "
                f"use {_suffix_of(fmt)} or no --format"
            )
        return fmt
    if path.is_dir() or not suffix:
        return "saved_model"
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    raise ExportError(
        f"{path}: unknown export suffix {suffix!r}; valid: .keras (keras), .onnx (onnx), "
        ".tflite (litert), or a folder with no suffix (saved_model); or pass --format"
    )


def _suffix_of(fmt: str) -> str:
    return {v: k for k, v in SUFFIXES.items()}.get(fmt, "a folder with no suffix")


def backend() -> str:
    import keras

    return str(keras.backend.backend())


def check_available(fmt: str) -> None:
    """Refuse, in one line, a format the current backend cannot export or whose converter
    or runtime is not installed."""
    name = backend()
    works = BACKEND_FORMATS.get(name, ("keras",))
    if fmt not in works:
        raise ExportError(
            f"format {fmt} cannot be exported with the Keras backend {name} (it needs the "
            f"TensorFlow backend: KERAS_BACKEND=tensorflow); formats that work on {name}: "
            + ", ".join(works)
        )
    for package in NEEDS.get((fmt, name), ()):
        if not _installed(package):
            hint = install_hint("onnx", package) if name != "jax" else f"pip install '{package}'"
            raise ExportError(f"format {fmt} needs {package}, which is not installed; run: {hint}")


def _installed(package: str) -> bool:
    """Whether ``import package`` can work (a ``None`` in sys.modules blocks an import)."""
    if package in sys.modules:
        return sys.modules[package] is not None
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def check_model(model: Any, fmt: str, what: str) -> None:
    """Refuse a format this model cannot take on this backend, naming those it can."""
    name = backend()
    if fmt == "onnx" and name == "tensorflow":
        found = [la.name for la in inference.layers(model) if type(la).__name__ in _SPECTROGRAMS]
        if found:
            works = ", ".join(f for f in BACKEND_FORMATS[name] if f != "onnx")
            raise ExportError(
                f"{what}: a model with a spectrogram layer ({found[0]}) cannot be exported to "
                f"onnx with the TensorFlow backend (tf2onnx cannot convert its FFT); formats "
                f"that work for it: {works}"
            )


@dataclass(frozen=True)
class Plan:
    """The files one export writes: the artifact, its JSON, and the study's extras."""

    out: Path
    fmt: str
    extras: dict[str, Any]  # "tokenizer" / "vocabulary" -> content (JSON-able)

    @property
    def folder(self) -> bool:
        return self.fmt == "saved_model"

    @property
    def sidecar(self) -> Path:
        return self.out / SIDECAR if self.folder else self.out.with_name(self.out.name + ".json")

    def extra_path(self, kind: str) -> Path:
        if self.folder:
            return self.out / f"{kind}.json"
        return self.out.with_name(f"{self.out.stem}.{kind}.json")

    def refuse_existing(self, overwrite: bool) -> None:
        """Nothing is replaced unasked; an empty folder may receive a SavedModel."""
        if self.folder:
            _check_folder(self.out, overwrite)
            return
        paths = [self.out, self.sidecar, *(self.extra_path(k) for k in self.extras)]
        models.refuse_existing(paths, overwrite)


def _check_folder(out: Path, overwrite: bool) -> None:
    if not os.path.lexists(out) or (out.is_dir() and not out.is_symlink() and _empty(out)):
        return
    if not overwrite:
        raise AutoMLError(f"{out} exists; not replaced (--force replaces it)")
    if out.is_dir() and not out.is_symlink() and not (out / "saved_model.pb").exists():
        raise ExportError(
            f"{out} is a folder that holds other files than a SavedModel; not replaced "
            "(export to a new or empty folder)"
        )


def _empty(folder: Path) -> bool:
    return not any(folder.iterdir())


def write(
    model: Any, plan: Plan, card: dict[str, Any], keras_file: Path | None, *, overwrite: bool
) -> Path:
    """Write the artifact, its JSON and the extras; ``keras_file``: the checked ``.keras``
    file of a stored model (written as is for format keras)."""
    plan.refuse_existing(overwrite)
    with tempfile.TemporaryDirectory() as tmp:
        if plan.fmt == "keras":
            if keras_file is None:
                keras_file = Path(tmp) / "model.keras"
                model.save(keras_file)
            described = _keras_io(model)
            models.write_file(plan.out, keras_file.read_bytes(), overwrite=overwrite)
        elif plan.folder:
            described = _write_folder(model, plan, card, overwrite=overwrite)
            return plan.out
        else:
            artifact = Path(tmp) / ("model.tflite" if plan.fmt == "litert" else "model.onnx")
            described = convert(model, plan.fmt, artifact)
            models.write_file(plan.out, artifact.read_bytes(), overwrite=overwrite)
    models.write_file(plan.sidecar, _json(_doc(card, described, plan)), overwrite=overwrite)
    for kind, content in plan.extras.items():
        models.write_file(plan.extra_path(kind), _json(content), overwrite=overwrite)
    return plan.out


def _doc(card: dict[str, Any], described: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """The JSON beside an artifact: which artifact, its inputs and outputs, then the card."""
    head = {"format": plan.fmt, "artifact": plan.out.name, "keras_backend": backend()}
    return {**head, **described, **card}


def _json(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def _write_folder(
    model: Any, plan: Plan, card: dict[str, Any], *, overwrite: bool
) -> dict[str, Any]:
    """A SavedModel made in a hidden folder beside ``plan.out``, then moved into place."""
    out = plan.out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        described = convert(model, plan.fmt, tmp / "model")
        made = tmp / "model"
        (made / SIDECAR).write_bytes(_json(_doc(card, described, plan)))
        for kind, content in plan.extras.items():
            (made / f"{kind}.json").write_bytes(_json(content))
        _place(made, out, overwrite)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return described


def _place(made: Path, out: Path, overwrite: bool) -> None:
    """Move a finished folder to ``out``: an empty folder or, when asked, an old SavedModel
    or a file or link there is replaced (a link itself, never what it points to)."""
    _check_folder(out, overwrite)
    old = None
    if os.path.lexists(out):
        if out.is_dir() and not out.is_symlink():
            if _empty(out):
                out.rmdir()
            else:
                old = out.with_name(f".{out.name}.{secrets.token_hex(8)}.old")
                os.replace(out, old)
        else:
            os.unlink(out)
    os.replace(made, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def convert(model: Any, fmt: str, path: Path) -> dict[str, Any]:
    """Export ``model`` to ``path`` with Keras, then check the artifact in its runtime.

    Returns the inputs and outputs the runtime reads from it.
    """
    copy = inference.inference_copy(model, fmt, backend())
    x = inference.feeds_list(feeds := inference.probe(model))
    expected = [np.asarray(v) for v in _as_list(model.predict(x, verbose=0))]
    try:
        with _quiet():
            copy.predict(x, verbose=0)  # Keras exports only models that were called
            signature = inference.signature(model)
            copy.export(str(path), _KERAS_NAMES[fmt], verbose=False, input_signature=signature)
    except Exception as exc:  # noqa: BLE001 - the converter's failure, in one line
        raise ExportError(f"Keras cannot export this model to {fmt}: {_first_line(exc)}") from None
    try:
        ran = runtimes.run(path, fmt, feeds)
    except Exception as exc:  # noqa: BLE001 - an artifact its runtime refuses is no export
        raise ExportError(
            f"the exported {fmt} model does not run in its runtime: {_first_line(exc)}"
        ) from None
    _compare(fmt, expected, ran.values)
    return {
        "inputs": [t.as_dict() for t in ran.inputs],
        "outputs": [t.as_dict() for t in ran.outputs],
    }


def _compare(fmt: str, expected: list[np.ndarray], got: list[np.ndarray]) -> None:
    shapes = [e.shape for e in expected], [g.shape for g in got]
    if shapes[0] != shapes[1]:
        raise ExportError(f"the exported {fmt} model returns shapes {shapes[1]}, not {shapes[0]}")
    for e, g in zip(expected, got, strict=True):
        if not np.allclose(g, e, atol=ATOL, rtol=RTOL):
            gap = float(np.max(np.abs(g.astype("float64") - e)))
            raise ExportError(
                f"the exported {fmt} model's outputs differ from the Keras model's by up to "
                f"{gap:.3g}; not written"
            )


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _keras_io(model: Any) -> dict[str, Any]:
    def tensors(items: list[Any], names: list[str]) -> list[dict[str, Any]]:
        return [
            runtimes.Tensor(name, tuple(t.shape), str(t.dtype)).as_dict()
            for name, t in zip(names, items, strict=True)
        ]

    names = [str(t.name) for t in model.inputs]
    return {
        "inputs": tensors(model.inputs, names),
        "outputs": tensors(model.outputs, [f"output_{i}" for i in range(len(model.outputs))]),
    }


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Converters print progress and warnings on their own; users see one line, or none."""
    import logging

    loggers = [logging.getLogger(n) for n in ("tf2onnx", "tensorflow", "absl", "onnx")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with native_quiet(), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:300]}" if text else type(exc).__name__
