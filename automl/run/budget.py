"""How many trials a sweep still owes, and a lock so local workers never overshoot.

A trial counts toward ``--trials`` when it completed, was pruned (by the pruner, or with
reason ``no_progress``), or failed on its own (``nan``, ``error``, ...). A trial lost to a
crash, a kill or an interrupt does not count: it is retried, and the retry counts instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path

import optuna
from filelock import FileLock
from optuna.trial import FrozenTrial, TrialState

from automl.store import placement, records, storage

log = logging.getLogger("automl")

# no_progress trials are PRUNED now; studies made before stored them as FAIL.
OWN_FAILURES = ("nan", "error", "no_progress", "oom", "disk_full")
RETRIED = ("interrupted", "worker_died", "lost")


def counts(trial: FrozenTrial) -> bool:
    """Whether a finished trial counts toward the budget."""
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return (
        trial.state == TrialState.FAIL and trial.user_attrs.get(records.FAIL_REASON) in OWN_FAILURES
    )


def used(trials: Sequence[FrozenTrial]) -> int:
    """Trials that count, plus those running now (they will count when they end)."""
    return sum(1 for t in trials if counts(t) or t.state == TrialState.RUNNING)


def done(trials: Sequence[FrozenTrial]) -> int:
    return sum(1 for t in trials if counts(t))


@contextlib.contextmanager
def local_lock(folder: Path, study_name: str) -> Iterator[None]:
    """An exclusive lock shared by the worker processes of one machine."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(study_name.encode()).hexdigest()[:16]
    with FileLock(folder / f".{digest}.lock"):
        yield


def set_target(study: optuna.Study, trials: int | None, lock_dir: Path) -> None:
    """Add ``trials`` to the study's target: every conductor's ``--trials`` holds.

    Two ``--resume --trials 2`` at once run 4 trials, not 2: a conductor still alive on
    this machine keeps its share, so the next one adds to the target it set; a target left
    by a conductor that is gone is not carried over (its trials were interrupted, and
    ``--trials`` counts the trials this call runs). The read-and-write holds the lock the
    workers of this machine share.
    """
    me = f"{socket.gethostname()}:{os.getpid()}"
    with local_lock(lock_dir, study.study_name):
        attrs = study.user_attrs
        done_now = done(study.get_trials(deepcopy=False))
        owners = [o for o in attrs.get(records.TARGET_OWNERS) or [] if placement.alive_here(str(o))]
        target = attrs.get(records.TARGET_TRIALS)
        base = max(done_now, int(target)) if owners and target is not None else done_now
        study.set_user_attr(records.TARGET_OWNERS, [*owners, me])
        study.set_user_attr(records.TARGET_TRIALS, None if trials is None else base + trials)


def requeue(study: optuna.Study, trial: FrozenTrial | optuna.Trial) -> bool:
    """Enqueue a trial's parameters again after a crash or interrupt, within the retry cap."""
    attrs = trial.user_attrs
    done_retries = int(attrs.get(records.RETRY, 0))
    if done_retries >= records.max_retries(study) or not trial.params:
        return False
    origin = attrs.get(records.RETRY_OF, trial.number)
    study.enqueue_trial(
        dict(trial.params), user_attrs={records.RETRY_OF: origin, records.RETRY: done_retries + 1}
    )
    return True


def reap(study: optuna.Study, trial: FrozenTrial, reason: str) -> bool:
    """Fail a trial its worker left and queue its retry; False if it had finished after all.

    A storage error leaves the trial as it is (RUNNING): it is neither failed nor retried
    twice, and the next reaping tries again.
    """
    try:
        failed = storage.fail_trial(study, trial, records.lost_attrs(reason))
    except Exception as exc:  # noqa: BLE001 - an outage: try again at the next reaping
        log.warning("could not fail trial %d: %s", trial.number, storage.mask(str(exc)))
        return False
    if failed:
        requeue(study, trial)
    return failed


def fail_stale(study: optuna.Study) -> list[int]:
    """Fail and retry the trials whose worker stopped beating, on any machine or storage."""
    try:
        stale = storage.stale_trials(study)
    except Exception as exc:  # noqa: BLE001 - an outage: the next check tries again
        log.warning("could not check for lost trials: %s", storage.mask(str(exc)))
        return []
    return [t.number for t in stale if reap(study, t, "lost")]
