"""Storage writes that must not be lost: a finished trial's result survives an outage.

A worker that trained a model retries telling its result with backoff for up to
``AUTOML_STORE_RETRY_S`` seconds (10 minutes by default), beating for the trial at every
try so that no one fails it as lost once the storage is back. Past that, or when the
trial was failed meanwhile, the result is logged (trial, values) rather than dropped
silently.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from automl import errors
from automl.errors import StorageError
from automl.store import storage

log = logging.getLogger("automl")
RETRY_S = float(os.environ.get("AUTOML_STORE_RETRY_S", "600"))
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 5.0  # short, so the result lands soon after the storage comes back
_BUGS = (TypeError, ValueError, KeyError, AttributeError, AssertionError, NameError)


def persist(write: Callable[[], None], what: str, retry_s: float | None = None) -> bool:
    """Run ``write`` until it succeeds; False when the trial had finished meanwhile.

    Args:
        write: the storage writes (idempotent: they may run more than once).
        what: what is being stored, for the log (never holds a password).
        retry_s: how long to keep trying; ``RETRY_S`` by default.

    Raises:
        StorageError: when the storage stayed unreachable or full for ``retry_s`` seconds.
    """
    end = time.monotonic() + (RETRY_S if retry_s is None else retry_s)
    delay = FIRST_DELAY_S
    while True:
        try:
            write()
            return True
        except Exception as exc:  # noqa: BLE001 - which errors are transient is unknowable
            if storage.finished_error(exc):
                log.warning("%s was not stored: the trial had finished already (%s)", what, exc)
                return False
            if isinstance(exc, _BUGS):
                raise  # a bug, not an outage: retrying cannot help
            reason = storage.mask(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            reason = f"{type(exc).__name__}: {reason}"
            if time.monotonic() + delay > end or errors.disk_full(exc):
                log.error("could not store %s: %s", what, reason)
                raise StorageError(f"could not store {what}: {reason}") from None
            log.warning(
                "storage error while storing %s (%s); retrying in %.1f s", what, reason, delay
            )
            time.sleep(delay)
            delay = min(2 * delay, MAX_DELAY_S)
