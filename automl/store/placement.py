"""Where a trial runs: the device its worker sees, and on a Ray cluster its node and task.

A worker stores it as the trial attribute :data:`KEY` when it takes the trial: ``device``
(``"gpu 0"``, ``"gpu 0,1"`` or ``"cpu"``), and for trials on a Ray cluster ``ray_node`` (the
Ray node id) and ``ray_task`` (the id of the Ray task its worker runs in: if that task dies,
the conductor fails the trial as lost). Readers get plain short strings, whatever the
storage holds.
"""

from __future__ import annotations

import os
from typing import Any

KEY = "placement"
FIELDS = ("device", "ray_node", "ray_task")
MAX_CHARS = 120


def device(visible: str | None = None) -> str | None:
    """``gpu 0`` / ``cpu`` for a ``CUDA_VISIBLE_DEVICES`` value (by default this process's);
    None when it is not set (the worker sees every GPU of its machine)."""
    if visible is None:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return None
    ids = [v.strip() for v in visible.split(",") if v.strip()]
    if not ids or ids[0] == "-1" or ids[0].lower() in ("none", "nodevfiles"):
        return "cpu"
    return "gpu " + ",".join(ids)


def read_placement(attrs: dict[str, Any]) -> dict[str, str]:
    """A trial's placement from its user attributes: known fields, as short strings."""
    stored = attrs.get(KEY)
    if not isinstance(stored, dict):
        return {}
    return {
        k: str(stored[k])[:MAX_CHARS]
        for k in FIELDS
        if isinstance(stored.get(k), str | int) and str(stored[k])
    }


def alive_here(owner: str) -> bool:
    """Whether the process ``host:pid`` runs on this machine (not this process; one on
    another host cannot be told, so it counts as not running)."""
    import socket

    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
