"""Exported models run in their own runtimes: onnxruntime, the LiteRT interpreter, TensorFlow.

Export checks every artifact it writes here before it hands it out: the artifact loads in
the runtime that serves it, its inputs and outputs are read back from it (names, shapes,
dtypes, as that runtime sees them) and its outputs on a probe batch are compared with the
Keras model's. This is the one module that imports TensorFlow itself (for SavedModels, and
for its LiteRT interpreter when the ``ai-edge-litert`` package is missing).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl._env import native_quiet

SIGNATURE = "serving_default"  # the SavedModel and LiteRT signature Keras writes
ENDPOINT = "serve"  # the SavedModel function Keras writes: loaded.serve(x)

# onnxruntime's element types -> NumPy dtype names.
_ORT_TYPES = {
    "float": "float32",
    "double": "float64",
    "float16": "float16",
    "int32": "int32",
    "int64": "int64",
    "int8": "int8",
    "uint8": "uint8",
    "bool": "bool",
    "string": "str",
}


@dataclass(frozen=True)
class Tensor:
    """One input or output: its name in the runtime, shape (None: any size) and dtype."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "shape": list(self.shape)}


@dataclass(frozen=True)
class Run:
    """What a runtime made of an artifact: its inputs and outputs, and its outputs on a
    batch (in the artifact's output order)."""

    inputs: list[Tensor]
    outputs: list[Tensor]
    values: list[np.ndarray]


def run(path: Path, fmt: str, feeds: Mapping[str, np.ndarray]) -> Run:
    """Load an exported artifact in its runtime and run it on ``feeds``.

    ``feeds`` maps the Keras model's input names to arrays, in the model's input order; a
    runtime whose input names differ gets them by position.
    """
    runners = {"onnx": _onnx, "litert": _litert, "saved_model": _saved_model}
    with native_quiet():
        return runners[fmt](path, feeds)


def _by_name(names: list[str], feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if set(names) == set(feeds):
        return {n: feeds[n] for n in names}
    return dict(zip(names, feeds.values(), strict=True))


def _dims(shape: Any) -> tuple[int | None, ...]:
    """A runtime's dimensions as ints, with None for symbolic or unknown (-1) ones."""
    return tuple(int(d) if isinstance(d, numbers.Integral) and int(d) >= 0 else None for d in shape)


def _onnx(path: Path, feeds: Mapping[str, np.ndarray]) -> Run:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def tensor(arg: Any) -> Tensor:
        kind = str(arg.type).removeprefix("tensor(").removesuffix(")")
        return Tensor(arg.name, _dims(arg.shape), _ORT_TYPES.get(kind, kind))

    inputs = [tensor(a) for a in session.get_inputs()]
    outputs = [tensor(a) for a in session.get_outputs()]
    values = session.run(None, _by_name([t.name for t in inputs], feeds))
    return Run(inputs, outputs, [np.asarray(v) for v in values])


def interpreter(path: str | Path) -> Any:
    """The LiteRT interpreter of a ``.tflite`` file: ``ai_edge_litert``'s, else TensorFlow's."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806 - the class, as its package names it
    return Interpreter(model_path=str(path))


def _litert(path: Path, feeds: Mapping[str, np.ndarray]) -> Run:
    runner = interpreter(path).get_signature_runner(SIGNATURE)

    def tensors(details: dict[str, Any]) -> list[Tensor]:
        return [
            Tensor(name, _dims(d["shape_signature"]), np.dtype(d["dtype"]).name)
            for name, d in sorted(details.items(), key=lambda kv: _order(kv[0]))
        ]

    inputs = tensors(runner.get_input_details())
    outputs = tensors(runner.get_output_details())
    got = runner(**_by_name([t.name for t in inputs], feeds))
    return Run(inputs, outputs, [np.asarray(got[t.name]) for t in outputs])


def _saved_model(path: Path, feeds: Mapping[str, np.ndarray]) -> Run:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    function = loaded.signatures[SIGNATURE]
    _, specs = function.structured_input_signature
    outs = function.structured_outputs

    def tensors(found: Mapping[str, Any]) -> list[Tensor]:
        return [
            Tensor(name, _dims(spec.shape.as_list()), spec.dtype.name)
            for name, spec in sorted(found.items(), key=lambda kv: _order(kv[0]))
        ]

    inputs, outputs = tensors(specs), tensors(outs)
    got = function(
        **{k: tf.constant(v) for k, v in _by_name([t.name for t in inputs], feeds).items()}
    )
    return Run(inputs, outputs, [got[t.name].numpy() for t in outputs])


def _order(name: str) -> tuple[str, int]:
    """``output_10`` after ``output_9``: names sorted with their trailing number as one."""
    found = re.fullmatch(r"(.*?)(\d+)", name)
    return (found.group(1), int(found.group(2))) if found else (name, -1)
