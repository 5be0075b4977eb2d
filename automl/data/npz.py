"""NumPy ``.npz`` files holding arrays ``x`` and ``y`` (images, sequences or features)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl.data.split import check_split_labels, labels_of
from automl.errors import DataError

if TYPE_CHECKING:
    from automl.data.raw import RawData


def load(path: str, task: str | None, split_column: str | None = None) -> RawData:
    """Read ``x`` and ``y``; ``split_column`` names an array of train / validation / test."""
    from automl.data.raw import RawData, encode_labels
    from automl.data.tabular import infer_task

    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("x", "y") if k not in z.files]
            if missing:
                raise DataError(
                    f"{path}: npz needs arrays 'x' and 'y'; missing {', '.join(missing)} "
                    f"(has: {', '.join(z.files) or 'nothing'})"
                )
            x, y = z["x"], z["y"]
            split = _split_labels(z, path, split_column, len(y))
    except FileNotFoundError:
        raise DataError(f"{path}: data file not found") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read npz: {exc}") from None
    if len(x) != len(y):
        raise DataError(f"{path}: 'x' has {len(x)} samples but 'y' has {len(y)}")
    task = task or infer_task(y)
    # 4-D x: images (samples, height, width, channels); 3-D: sequences (samples, steps,
    # features), standardized per feature; otherwise per-position features.
    kind = {4: "image", 3: "sequence"}.get(x.ndim, "array")
    scale = 255.0 if x.dtype == np.uint8 and kind == "image" else None
    name = path.rsplit("/", 1)[-1]
    options = labels_of(split, split.index) if split is not None else {}
    if task == "regression":
        y = y.astype("float32")
        return RawData(x.astype("float32"), y, task, kind, name, scale=scale, options=options)
    codes, classes = encode_labels(y)
    return RawData(
        x.astype("float32"), codes, task, kind, name, classes=classes, scale=scale, options=options
    )


def _split_labels(z: Any, path: str, column: str | None, n: int) -> pd.Series | None:
    """The split array named by ``data.split_column``: one label per sample."""
    if not column:
        return None
    if column not in z.files:
        raise DataError(
            f"{path}: data.split_column: no array {column!r}; arrays: {', '.join(z.files)}"
        )
    values = np.asarray(z[column])
    if values.ndim != 1 or len(values) != n:
        raise DataError(
            f"{path}: data.split_column: array {column!r} must hold one label per sample "
            f"({n}); got shape {values.shape}"
        )
    return check_split_labels(pd.Series(values.astype(str)), path, column)
