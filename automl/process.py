"""The body of an ``automl worker`` process: signals, the trial loop, the last evaluation."""

from __future__ import annotations

import dataclasses
import signal
from typing import Any

from optuna.trial import TrialState

from automl import _env, budget, parent
from automl.context import open_context
from automl.evaluate import finalize
from automl.worker import Limits, work


def main(
    name: str,
    url: str,
    limits: Limits,
    *,
    slot: int = 0,
    alone: bool = False,
    finalize_only: bool = False,
) -> int:
    """Run trials until done; the last worker to finish evaluates the kept models on test.

    Returns the process exit code: 0 when done or replaced, 130 when interrupted.
    """

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    parent.watch()
    # Data first: a worker that cannot load it fails before paying for the framework.
    ctx = open_context(name, url, parallel=not alone, slot=slot)
    _env.load_keras()
    if finalize_only:
        finalize(ctx)
        return 0
    try:
        reason = work(ctx, dataclasses.replace(limits, replace_after_oom=True))
    except KeyboardInterrupt:
        return 130
    if reason in ("budget", "deadline"):
        with budget.local_lock(ctx.lock_dir, name):
            running = ctx.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if not running:
                finalize(ctx)
    return 0
