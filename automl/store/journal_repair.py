"""Repairing a journal file whose last line a power loss or a full disk cut in half.

Optuna skips such a line when it reads, but its next append would be glued to it and
make a line no one can read. So before a journal is opened, a cut last line is moved to a
side file and the journal truncated to its last whole line, with a warning that names
what was dropped. The check runs under the journal's own lock: a line another process is
writing at that moment is never mistaken for a cut one.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger("automl")


def repair(path: Path, lock: Any) -> Path | None:
    """Cut a partial last line off ``path``; returns the side file it went to, if any."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    lock.acquire()
    try:
        with open(path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - 1))
            if f.read(1) == b"\n":
                return None
            keep = _last_newline(f, size)
            f.seek(keep)
            cut = f.read()
            side = path.with_name(f"{path.name}.cut-{int(time.time())}")
            side.write_bytes(cut)
            f.truncate(keep)
    finally:
        lock.release()
    found = re.search(rb'"trial_id":\s*(\d+)', cut)
    what = f"a record of trial id {int(found.group(1))}" if found else "a study record"
    log.warning(
        "journal %s: its last line was cut (a crash or a full disk while writing); dropped "
        "%s (%d bytes), kept in %s",
        path,
        what,
        len(cut),
        side.name,
    )
    return side


def _last_newline(f: BinaryIO, size: int) -> int:
    """The offset just after the last newline (0 when there is none)."""
    block = 1 << 16
    end = size
    while end > 0:
        start = max(0, end - block)
        f.seek(start)
        chunk = f.read(end - start)
        at = chunk.rfind(b"\n")
        if at >= 0:
            return start + at + 1
        end = start
    return 0
