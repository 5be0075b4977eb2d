"""Audio: a folder with one subfolder per class of WAV files, or a CSV manifest.

A manifest is a CSV with a column of WAV paths (relative to the CSV's folder or absolute)
and a label column (``data.target``, default label / target / class / y, else the last
column). Recordings are mixed to mono, resampled to ``data.sample_rate`` and padded with
silence or trimmed to ``data.duration`` seconds, as float32 in [-1, 1]. Without
``data.sample_rate`` the rate is the lowest native rate among the files, at most
:data:`MAX_AUTO_RATE`: no recording is upsampled unless asked.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.data.files import AUDIO_EXTENSIONS, labels_to_raw, list_class_files, read_all
from automl.data.split import LABELS
from automl.errors import DataError

if TYPE_CHECKING:
    from automl.data.raw import RawData

MAX_AUTO_RATE = 16000  # the rate chosen when data.sample_rate is left out is at most this


def read_wav(path: Path, rate: int, length: int) -> np.ndarray:
    """One recording: mono float32 at ``rate`` Hz, exactly ``length`` samples."""
    return fit_wav(*read_native(path), rate, length)


def read_native(path: Path) -> tuple[int, np.ndarray]:
    """One recording at its own rate: (rate, mono float32 samples)."""
    from scipy.io import wavfile

    src_rate, x = wavfile.read(path)
    x = _to_float(np.asarray(x))
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.size == 0:
        raise ValueError("no samples")
    return int(src_rate), x


def fit_wav(src_rate: int, x: np.ndarray, rate: int, length: int) -> np.ndarray:
    """Samples at ``src_rate`` resampled to ``rate``, padded or cut to ``length``."""
    from scipy.signal import resample_poly

    if src_rate != rate:
        g = gcd(int(src_rate), int(rate))
        # The polyphase filter can overshoot a full-scale signal a little: clip it back.
        x = np.clip(resample_poly(x, rate // g, int(src_rate) // g), -1.0, 1.0)
    if len(x) >= length:
        return np.ascontiguousarray(x[:length], dtype="float32")
    return np.pad(x, (0, length - len(x))).astype("float32")


def auto_rate(rates: list[int]) -> int:
    """The rate used when none is asked: the lowest native one, at most MAX_AUTO_RATE."""
    return min([*rates, MAX_AUTO_RATE])


def _to_float(x: np.ndarray) -> np.ndarray:
    """PCM integers (8-bit unsigned, 16/24/32-bit signed) or floats -> float32 in [-1, 1]."""
    if x.dtype == np.uint8:
        return (x.astype("float32") - 128.0) / 128.0
    if x.dtype.kind == "i":
        return x.astype("float32") / float(np.iinfo(x.dtype).max + 1)
    if x.dtype.kind == "f":
        return x.astype("float32")
    raise ValueError(f"unsupported sample type {x.dtype}")


def is_manifest(source: str, data: Any = None) -> bool:
    """Whether a CSV lists WAV files in one of its columns (first rows only)."""
    return _path_column(_peek(source, data)) is not None


def _peek(source: str, data: Any) -> Any:
    import pandas as pd

    from automl.data.tabular import read_options

    try:
        return pd.read_csv(source, nrows=50, **read_options(data, source))
    except Exception:  # noqa: BLE001 - the real reader reports a broken CSV
        return pd.DataFrame()


def _path_column(frame: Any) -> str | None:
    for col in frame.columns:
        values = frame[col].dropna().astype(str).str.lower()
        if len(values) and values.str.endswith(AUDIO_EXTENSIONS).all():
            return str(col)
    return None


def _manifest(data: Any) -> tuple[list[Path], list[str], np.ndarray | None]:
    from automl.data.split import labels_of, pop_split_column
    from automl.data.tabular import _default_target, read_csv

    frame = read_csv(data.source, data)
    split = pop_split_column(frame, data, data.source)
    column = _path_column(frame)
    if column is None:
        raise DataError(f"{data.source}: an audio manifest needs a column of .wav file paths")
    target = data.target or _default_target(frame.drop(columns=[column]))
    if target not in frame.columns:
        raise DataError(
            f"{data.source}: data.target: no column {target!r}; "
            f"columns: {', '.join(map(str, frame.columns))}"
        )
    frame = frame.dropna(subset=[column, target])
    base = Path(data.source).parent
    paths = [p if p.is_absolute() else base / p for p in map(Path, frame[column].astype(str))]
    return paths, [str(v) for v in frame[target]], labels_of(split, frame.index).get(LABELS)


def load(data: Any, task: str | None) -> RawData:
    """Read every recording of a class folder or manifest into one float32 array."""
    source = Path(data.source)
    split = None
    if source.is_dir():
        paths, labels = list_class_files(source, AUDIO_EXTENSIONS)
    else:
        paths, labels, split = _manifest(data)

    def read(path: Path) -> tuple[int, np.ndarray]:
        if not path.is_file():
            raise FileNotFoundError(f"no such file (listed in {data.source})")
        return read_native(path)

    native, kept, skipped = read_all(
        paths, read, skip_bad=data.skip_bad_files, what="WAV", source=str(data.source)
    )
    rate = int(data.sample_rate or auto_rate([r for r, _ in native]))
    length = max(1, int(round(float(data.duration) * rate)))
    waves = [fit_wav(r, x, rate, length) for r, x in native]
    return labels_to_raw(
        np.stack(waves),
        [labels[i] for i in kept],
        task,
        "audio",
        source.name,
        skipped=skipped,
        options={"sample_rate": rate, **({} if split is None else {LABELS: split[kept]})},
    )
