"""Naming why a trial failed from what it raised: out of memory, disk full, or an error.

Frameworks raise their own types for exhausted memory (TensorFlow's
``ResourceExhaustedError``, PyTorch's ``OutOfMemoryError``, a ``RuntimeError`` saying "out
of memory"), so they are recognized by name and text, without importing any framework.
"""

from __future__ import annotations

import errno

OOM = "oom"
DISK_FULL = "disk_full"
_OOM_TYPES = ("MemoryError", "ResourceExhaustedError", "OutOfMemoryError")
_OOM_TEXT = ("out of memory", "oom when allocating", "resource exhausted", "cannot allocate memory")
_DISK_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def reason_of(exc: BaseException) -> str:
    """``oom``, ``disk_full`` or ``error``, for the exception that ended a trial."""
    if disk_full(exc):
        return DISK_FULL
    names = {t.__name__ for t in type(exc).__mro__}
    text = str(exc).lower()
    if names & set(_OOM_TYPES) or any(t in text for t in _OOM_TEXT):
        return OOM
    return "error"


def disk_full(exc: BaseException) -> bool:
    """A write failed for want of space (or past the file-size limit)."""
    return isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS
