"""One error hierarchy: the library raises these, only the CLI turns them into exit codes."""

from __future__ import annotations


class AutoMLError(Exception):
    """Base class of every error automl raises on purpose."""

    exit_code = 1


class SpecError(AutoMLError):
    """A search-space file is missing, unreadable or invalid."""

    exit_code = 2


class DataError(AutoMLError):
    """A data source is missing, unreadable or does not fit the spec."""

    exit_code = 2


class StorageError(AutoMLError):
    """The study storage cannot be reached or opened."""

    exit_code = 3


class StudyNotFoundError(AutoMLError):
    """No study of that name in the storage."""

    exit_code = 4


class StudyExistsError(AutoMLError):
    """A study of that name exists and resuming was not asked for."""

    exit_code = 4


class NoModelError(AutoMLError):
    """No saved model satisfies the request."""

    exit_code = 5


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


def unknown_name(kind: str, name: object, valid: list[str] | tuple[str, ...]) -> str:
    """Message for a lookup of an unknown registry name, listing the valid ones."""
    return f"unknown {kind} {name!r}; valid: {', '.join(sorted(valid))}"
