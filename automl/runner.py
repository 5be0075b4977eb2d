"""The conductor: runs a sweep's trials, then evaluates the kept models on the test split."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automl.worker import TrialOutcome


def run(
    name: str,
    url: str,
    *,
    trials: int | None,
    timeout: float | None = None,
    on_trial: Callable[[TrialOutcome], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> None:
    """Run ``trials`` trials of study ``name`` in this process, then finalize."""
    from automl import _env
    from automl.context import open_context
    from automl.evaluate import finalize
    from automl.worker import run_trials

    _env.load_keras()
    ctx = open_context(name, url)
    if on_start is not None:
        on_start(name)
    try:
        run_trials(ctx, trials, timeout=timeout, on_trial=on_trial)
    finally:
        finalize(ctx)
