"""NumPy ``.npz`` files holding arrays ``x`` and ``y`` (images, sequences or features)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from automl.errors import DataError

if TYPE_CHECKING:
    from automl.data.raw import RawData


def load(path: str, task: str | None) -> RawData:
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
    if task == "regression":
        return RawData(x.astype("float32"), y.astype("float32"), task, kind, name, scale=scale)
    codes, classes = encode_labels(y)
    return RawData(x.astype("float32"), codes, task, kind, name, classes=classes, scale=scale)
