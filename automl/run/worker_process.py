"""The body of an ``automl worker`` process: signals, the trial loop, the last evaluation."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import time
from typing import Any

from automl import _env
from automl.errors import StudyNotFoundError
from automl.run import parent_watch
from automl.run.conductor import ENV_CREATOR
from automl.run.worker import Limits, finish, work
from automl.store import records, storage
from automl.study.context import open_context
from automl.study.evaluate import finalize

WAIT_STUDY_POLL_S = 0.1


def main(
    name: str,
    url: str,
    limits: Limits,
    *,
    slot: int = 0,
    alone: bool = False,
    finalize_only: bool = False,
    wait_study: bool = False,
) -> int:
    """Run trials until done; the last worker to finish evaluates the kept models on test.

    Returns the process exit code: 0 when done or replaced, 130 when interrupted.
    """

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    parent_watch.watch()
    if wait_study:  # started early: import the framework while the study is being made
        _env.load_keras()
        wait_for_study(name, url, os.environ.get(ENV_CREATOR))
    # Data first: a worker that cannot load it fails before paying for the framework.
    ctx = open_context(name, url, parallel=not alone, slot=slot)
    _env.load_keras()
    if finalize_only:
        finalize(ctx)
        return 0
    try:
        reason = work(ctx, dataclasses.replace(limits, replace_after_oom=True), logs=True)
    except KeyboardInterrupt:
        return 130
    finish(ctx, reason)
    return 0


def wait_for_study(name: str, url: str, creator: str | None = None) -> None:
    """Wait until study ``name`` is complete and its conductor has set the trial target.

    With ``creator``, only the study that token's conductor made will do: a study of the
    same name that another sweep made first is not this worker's. The conductor kills this
    worker if the study cannot be made (and the worker dies with the conductor), so the
    wait needs no limit of its own.
    """
    opened = storage.open_storage(url)
    while True:
        with contextlib.suppress(StudyNotFoundError):
            attrs = storage.load_study(name, opened, url).user_attrs
            mine = creator is None or attrs.get(records.CREATOR) == creator
            if mine and records.SPEC in attrs and records.TARGET_TRIALS in attrs:
                return
        time.sleep(WAIT_STUDY_POLL_S)
