"""What an exported model expects and returns: the JSON written beside it.

:func:`card` says, from what the study stored (no data is read): the task and class names,
what the outputs mean, and what the inputs are, raw or preprocessed, and how to preprocess
new samples the way the study did. Export adds the format, the artifact's name and the
inputs and outputs as its runtime reads them (names, shapes, dtypes).
"""

from __future__ import annotations

from typing import Any

from automl._version import __version__
from automl.store import records


def card(
    study: str,
    attrs: dict[str, Any],
    spec: Any,
    about: dict[str, Any],
    files: dict[str, str],
    tokenizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON document of one export (export adds the format and the inputs and outputs).

    Args:
        attrs: the study's stored attributes (task; data facts: kind, classes, rate...).
        spec: the study's SweepSpec.
        about: which model: ``trial`` and ``refit``, or ``ensemble`` (member trials).
        files: the extras written beside the artifact, ``tokenizer`` / ``vocabulary`` ->
            file name; ``tokenizer``: a text study's tokenizer.
    """
    task = str(attrs.get(records.TASK) or "")
    data = dict(attrs.get(records.DATA) or {})
    kind = str(data.get("kind") or "")
    classes = [str(c) for c in data.get("classes") or []]
    doc: dict[str, Any] = {
        "automl_version": __version__,
        "study": study,
        "model": {"family": spec.model.family or "own code", **about},
        "task": task,
    }
    if task == "classification" and classes:
        doc["classes"] = classes
    doc["returns"] = returns(task, kind, classes, spec.model.family)
    doc["preprocessing"] = preprocessing(study, kind, data, spec, files, tokenizer)
    return doc


def returns(task: str, kind: str, classes: list[str], family: str | None) -> str:
    """What the model's output means."""
    if family is None:
        return "what the study's own build function's model returns"
    if kind == "interactions":
        if task == "classification":
            return (
                "(batch, 2): [1 - p, p], where p is the probability that the user "
                "interacts with the item"
            )
        return "(batch, 1): the predicted rating, in the ratings' units"
    if task == "classification":
        return "(batch, classes): the probability of each class, in the order of 'classes'"
    return "(batch, 1): the predicted target, in the target's units"


def preprocessing(
    study: str,
    kind: str,
    data: dict[str, Any],
    spec: Any,
    files: dict[str, str],
    tokenizer: dict[str, Any] | None,
) -> dict[str, Any]:
    """Whether the inputs are raw or preprocessed, and how to make them from new samples."""
    python = f"automl.load({study!r}).preprocess(samples)"
    source = str(getattr(spec.data, "source", ""))
    if kind == "audio":
        rate = int(data.get("sample_rate") or 0)
        return {
            "inputs": "raw",
            "how": f"mono waveforms at {rate} Hz, float32 in [-1, 1], padded with silence or "
            "cut to the study's length (the mel spectrogram is inside the model)",
            "python": f"automl.data.audio.read_wav(path, {rate}, samples)",
        }
    if kind == "text":
        name = files.get("tokenizer", "tokenizer.json")
        tok = tokenizer or {}
        unit = "characters" if tok.get("tokenize") == "chars" else "lower-cased words"
        return {
            "inputs": "token ids",
            "how": f"texts split into {unit}, each replaced by its index in the vocabulary of "
            f"{name} (1: unknown), padded with 0 or cut to {tok.get('max_length')} ids",
            "tokenizer": name,
            "python": f"automl.data.text.encode(texts, automl.data.text.load_tokenizer({name!r}))",
        }
    if kind == "interactions":
        name = files.get("vocabulary", "vocabulary.json")
        return {
            "inputs": "ids",
            "how": "int32 [user, item] pairs: the positions of the ids in the 'users' and "
            f"'items' lists of {name}",
            "vocabulary": name,
            "python": "[[vocab['users'].index(user), vocab['items'].index(item)]]",
        }
    if kind == "arrays":
        return {"inputs": "raw", "how": "arrays as the study was given them", "python": python}
    return {"inputs": "preprocessed", "how": _how(kind, source, spec), "python": python}


def _how(kind: str, source: str, spec: Any) -> str:
    fitted = "with the mean and spread of the study's train split"
    if kind == "image":
        if source == "digits":
            return "the 8x8 images' values (0-16) divided by 16"
        size = getattr(spec.data, "image_size", None)
        mode = getattr(spec.data, "color_mode", "rgb")
        resized = f"resized to {size[0]}x{size[1]} ({mode}), " if size else ""
        return (
            f"images {resized}pixel values divided by 255 (uint8 pixels; float images are "
            f"standardized per value {fitted})"
        )
    if kind == "sequence":
        return f"(steps, features) windows, each feature standardized {fitted}"
    if kind == "tabular":
        return (
            "a table's feature columns: gaps filled, numbers standardized and categories "
            f"one-hot encoded (or coded), {fitted}"
        )
    return f"features standardized {fitted}"
