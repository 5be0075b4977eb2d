"""Image folders: one subfolder per class of PNG / JPEG / BMP / GIF files (Pillow).

Every image is converted to RGB or grayscale (``data.color_mode``) and resized to
``data.image_size`` (height, width); pixels are kept as uint8 and scaled to [0, 1] in
``prepare`` (``RawData.scale`` = 255).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.data.files import IMAGE_EXTENSIONS, labels_to_raw, list_class_files, read_all
from automl.errors import DataError

if TYPE_CHECKING:
    from automl.data.raw import RawData


def read_image(path: Path, size: tuple[int, int], color_mode: str) -> np.ndarray:
    """One image as a uint8 array of shape (height, width, channels)."""
    from PIL import Image

    with Image.open(path) as src:
        src.seek(0)  # the first frame of an animated GIF
        img = src.convert("L" if color_mode == "grayscale" else "RGB")
    if img.size != (size[1], size[0]):
        img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    arr = np.asarray(img, dtype=np.uint8)
    return arr[..., None] if arr.ndim == 2 else arr


def load(data: Any, task: str | None) -> RawData:
    """Read a folder of class subfolders into uint8 images of one size."""
    try:
        import PIL  # noqa: F401
    except ImportError:  # pragma: no cover - pillow is a dependency
        raise DataError("reading image folders needs Pillow: pip install pillow") from None
    root = Path(data.source)
    paths, labels = list_class_files(root, IMAGE_EXTENSIONS)
    size = (int(data.image_size[0]), int(data.image_size[1]))
    images, kept, skipped = read_all(
        paths,
        lambda p: read_image(p, size, data.color_mode),
        skip_bad=data.skip_bad_files,
        what="image",
        source=str(root),
    )
    x = np.stack(images)
    return labels_to_raw(
        x,
        [labels[i] for i in kept],
        task,
        "image",
        root.name,
        scale=255.0,
        skipped=skipped,
    )
