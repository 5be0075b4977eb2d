"""Features computed once per front-end setting, so a trial trains only its body.

A family may declare a fixed feature front end (:class:`automl.models.Parts`): a part of
the model with no weights and no randomness, such as the audio family's mel spectrogram.
Recomputing it every epoch of every trial is most of an audio trial's time, yet trials
that share its setting (sample rate, frame length and step, mel bins) get the same
output. Here the output is computed once per setting and split, kept in the worker
process (bounded, least recently used first out), and the trial trains the body on it.
The whole model (front end + trained body) is what the trial keeps and saves, so it
still takes the raw inputs. ``data.feature_cache: false`` turns this off.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.models import InputSpec, Parts

if TYPE_CHECKING:
    from automl.data import Splits

MAX_BYTES = 2 << 30  # features kept per worker process, all settings together
EVAL_BATCH = 256  # samples per front-end call

# (setting, data fingerprint) -> (features, seconds per sample); oldest use first.
_CACHE: OrderedDict[tuple[str, str], tuple[np.ndarray, float]] = OrderedDict()
counts = {"computed": 0, "reused": 0}  # front-end passes run and avoided, per process


def parts_of(family: str | None, hp: dict[str, Any], spec: InputSpec) -> Parts | None:
    """The trial's model in parts, when its family declares a feature front end."""
    if not family:
        return None
    from automl.models import build_parts

    return build_parts(family, hp, spec)


def setting(front: Any) -> str:
    """The front end's setting: its whole configuration (layers, rates, sizes, shapes)."""
    return json.dumps(front.get_config(), sort_keys=True, default=str)


def fingerprint(x: np.ndarray) -> str:
    """A digest of an array's shape, type and values."""
    x = np.ascontiguousarray(x)
    h = hashlib.blake2b(f"{x.shape}{x.dtype}".encode(), digest_size=16)
    h.update(x.reshape(-1).view(np.uint8).data)
    return h.hexdigest()


def features(front: Any, x: np.ndarray) -> tuple[np.ndarray, float]:
    """The front end's output for ``x`` and its seconds per sample, computed once."""
    key = (setting(front), fingerprint(x))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        counts["reused"] += 1
        return _CACHE[key]
    import keras

    start = time.perf_counter()
    parts = [
        keras.ops.convert_to_numpy(front(x[i : i + EVAL_BATCH], training=False))
        for i in range(0, len(x), EVAL_BATCH)
    ]
    out = np.concatenate(parts).astype("float32", copy=False)
    entry = (out, (time.perf_counter() - start) / max(len(x), 1))
    counts["computed"] += 1
    _CACHE[key] = entry
    while len(_CACHE) > 1 and sum(v[0].nbytes for v in _CACHE.values()) > MAX_BYTES:
        _CACHE.popitem(last=False)
    return entry


def feed(front: Any, data: Splits) -> tuple[Splits, float]:
    """``data`` with train and validation inputs replaced by the front end's output.

    Returns the new splits and the front end's milliseconds per sample, which the body's
    measured latency lacks.
    """
    x_train, _ = features(front, data.x_train)
    x_val, seconds = features(front, data.x_val)
    return dataclasses.replace(data, x_train=x_train, x_val=x_val), 1000.0 * seconds


def clear() -> None:
    """Forget every cached feature array."""
    _CACHE.clear()
