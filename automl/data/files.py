"""Folders with one subfolder per class, and what to do with a file that cannot be read."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from automl.errors import DataError

log = logging.getLogger("automl")
T = TypeVar("T")

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
AUDIO_EXTENSIONS = (".wav",)


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def class_folders(root: Path) -> list[Path]:
    """The class subfolders of ``root``, sorted by name."""
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found")
    return sorted(p for p in root.iterdir() if p.is_dir() and _visible(p))


def folder_kind(root: Path) -> str:
    """``images`` or ``audio``, by the extensions of the files in the class subfolders."""
    counts = {"images": 0, "audio": 0}
    for folder in class_folders(root):
        for f in folder.rglob("*"):
            suffix = f.suffix.lower()
            if suffix in IMAGE_EXTENSIONS:
                counts["images"] += 1
            elif suffix in AUDIO_EXTENSIONS:
                counts["audio"] += 1
    if not any(counts.values()):
        raise DataError(
            f"{root}: a data folder needs one subfolder per class holding images "
            f"({', '.join(IMAGE_EXTENSIONS)}) or recordings ({', '.join(AUDIO_EXTENSIONS)})"
        )
    return max(counts, key=lambda k: counts[k])


def list_class_files(root: Path, extensions: tuple[str, ...]) -> tuple[list[Path], list[str]]:
    """Files with one of ``extensions`` under each class subfolder, and their class names.

    Files with other extensions (notes, thumbnails databases) are ignored.
    """
    paths: list[Path] = []
    labels: list[str] = []
    folders = class_folders(root)
    for folder in folders:
        found = sorted(
            f
            for f in folder.rglob("*")
            if f.is_file() and _visible(f) and f.suffix.lower() in extensions
        )
        paths += found
        labels += [folder.name] * len(found)
    if not paths:
        raise DataError(
            f"{root}: no {' / '.join(extensions)} files in class subfolders "
            f"(found folders: {', '.join(f.name for f in folders) or 'none'})"
        )
    return paths, labels


def read_all(
    paths: Iterable[Path],
    read: Callable[[Path], T],
    *,
    skip_bad: bool,
    what: str,
    source: str,
) -> tuple[list[T], list[int], int]:
    """Read every file; a bad one stops with a DataError, or is skipped when asked.

    Returns:
        The values read, the indices of the files they came from, and the skipped count.
    """
    values: list[T] = []
    kept: list[int] = []
    skipped = 0
    for i, path in enumerate(paths):
        try:
            values.append(read(path))
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - any decoder error means an unreadable file
            if not skip_bad:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise DataError(
                    f"{path}: cannot read {what}: {type(exc).__name__}: {reason} "
                    "(set data.skip_bad_files: true to skip unreadable files)"
                ) from None
            log.debug("skipping %s: %s", path, exc)
            skipped += 1
            continue
        kept.append(i)
    if skipped:
        log.warning("skipped %d unreadable %s file(s) (data.skip_bad_files)", skipped, what)
    if not values:
        raise DataError(f"{source}: no readable {what} files (all {skipped} failed to read)")
    return values, kept, skipped


def labels_to_raw(
    x: Any, labels: list[str], task: str | None, kind: str, name: str, **extra: Any
) -> Any:
    """A RawData of classified samples (folder names or manifest labels as classes)."""
    import numpy as np

    from automl.data.raw import RawData, encode_labels

    if task == "regression":
        try:
            y = np.asarray([float(v) for v in labels], dtype="float32")
        except ValueError:
            raise DataError(f"{name}: labels are not numeric; cannot do regression") from None
        return RawData(x, y, "regression", kind, name, **extra)
    codes, classes = encode_labels(np.asarray(labels))
    return RawData(x, codes, "classification", kind, name, classes=classes, **extra)
