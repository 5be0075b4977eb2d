"""One error hierarchy, and why trials fail.

The library raises these; only the CLI turns them into exit codes. A failed trial stores
one of the failure reasons below, named here from what it raised.

Frameworks raise their own types for exhausted memory (TensorFlow's
``ResourceExhaustedError``, PyTorch's ``OutOfMemoryError``, a ``RuntimeError`` saying "out
of memory"), so they are recognized by name and text, without importing any framework.
"""

from __future__ import annotations

import errno

# Failure reasons a trial is stored with.
OOM = "oom"
DISK_FULL = "disk_full"
NAN = "nan"
ERROR = "error"
NO_PROGRESS = "no_progress"
UNTRUSTED_CODE = "untrusted_code"  # the stored code reference or pickle failed verification
REASONS = (OOM, DISK_FULL, NAN, ERROR, NO_PROGRESS, UNTRUSTED_CODE)


# What each extra of pyproject.toml installs, for the one-line hints of a missing package.
# Until the project is on the package index, an extra installs from a checkout
# (``pip install '.[postgres]'``); the packages alone work anywhere.
EXTRAS = {
    "postgres": "psycopg[binary]",
    "mysql": "PyMySQL",
    "redis": "redis",
    "torch": "torch",
    "jax": "jax",
    "gp": "torch",
    "mlflow": "mlflow",
    "tensorboard": "tensorboard",
    "ray": "ray[client]",
    "grpc": "grpcio protobuf",  # grpc:// storages (automl serve-storage)
    "s3": "boto3",  # s3:// artifacts
    "dashboard": "optuna-dashboard",  # automl dashboard
}


def install_hint(extra: str, packages: str | None = None) -> str:
    """The install command for an extra: ``pip install '.[extra]'`` from a checkout of
    automl, or its packages alone."""
    what = packages or EXTRAS.get(extra, extra)
    return f"pip install '.[{extra}]' in the automl checkout, or pip install '{what}'"


class AutoMLError(Exception):
    """Base class of every error automl raises on purpose."""

    exit_code = 1


class SpecError(AutoMLError):
    """A search-space file is missing, unreadable or invalid."""

    exit_code = 2


class UserCodeError(SpecError):
    """The user's model code cannot be found, imported or used."""


class UntrustedCodeError(UserCodeError):
    """Model code named by a study's storage was refused: its signature or digest is wrong.

    ``reason`` (:data:`UNTRUSTED_CODE`) is what the trial that met it is failed with.
    """

    reason = UNTRUSTED_CODE


class SigningKeyError(AutoMLError):
    """The key that signs code references is missing, unreadable or open to others."""

    exit_code = 2


class HyperParameterError(SpecError):
    """A build function declares a hyperparameter automl cannot tune as written."""


class TrackingError(AutoMLError):
    """A ``--track`` value is not allowed, or its package is not installed."""

    exit_code = 2


class DataError(AutoMLError):
    """A data source is missing, unreadable or does not fit the spec."""

    exit_code = 2


class StorageError(AutoMLError):
    """The study storage cannot be reached or opened."""

    exit_code = 3


class ClusterError(AutoMLError):
    """The Ray cluster of ``--ray`` cannot be reached, or cannot run automl's trials."""

    exit_code = 3


class StudyNotFoundError(AutoMLError):
    """No study of that name in the storage."""

    exit_code = 4


class StudyExistsError(AutoMLError):
    """A study of that name exists and resuming was not asked for."""

    exit_code = 4


class StudyBusyError(AutoMLError):
    """The study's workers still run: deleting it would fail their trials midway."""

    exit_code = 4


class NoModelError(AutoMLError):
    """No saved model satisfies the request."""

    exit_code = 5


class ExportError(AutoMLError):
    """A model cannot be exported as asked: an unknown format or suffix, a format this
    model or backend cannot take, a missing converter or runtime, or an artifact whose
    outputs disagree with the Keras model's."""

    exit_code = 2


class TrialFailed(AutoMLError):
    """A trial cannot finish; ``reason`` is stored with the trial (e.g. ``nan``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.history: dict[str, list[float]] = {}


class TrialStopped(TrialFailed):
    """A rule ended the trial early (``no_progress``).

    Recorded PRUNED, not FAIL, with its reason: TPE learns from pruned trials (it ranks
    them by their last reported value) and ignores failed ones.
    """


class Pruned(Exception):
    """Raised inside a fit when the pruner asks to stop; ``history`` is the curve so far.

    Not an :class:`AutoMLError`: it is control flow between a trial's fit and its worker,
    which records the trial PRUNED.
    """

    history: dict[str, list[float]] = {}  # noqa: RUF012 - replaced per instance


def unknown_name(kind: str, name: object, valid: list[str] | tuple[str, ...]) -> str:
    """Message for a lookup of an unknown registry name, listing the valid ones."""
    return f"unknown {kind} {name!r}; valid: {', '.join(sorted(valid))}"


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
    return ERROR


def disk_full(exc: BaseException) -> bool:
    """A write failed for want of space (or past the file-size limit)."""
    return isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS
