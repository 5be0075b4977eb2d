"""Plain per-trial lines for batch logs (nohup, Slurm, Kubernetes): no TTY, no bar.

One line per finished trial, flushed at once so ``tail -f`` and log collectors see it::

    trial 3 COMPLETE val_accuracy=0.9512 best=0.9512 12.3s n_layers=2 learning_rate=0.003
    trial 4 FAIL (nan) best=0.9512 2.1s n_layers=1 learning_rate=0.04
"""

from __future__ import annotations

import sys
from typing import IO, Any

from rich.console import Console

from automl.ranking import Objective
from automl.store.records import TrialRecord

MAIN_PARAMS = 4  # parameters on a line, unless verbose


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class TrialLog:
    """Same interface as :class:`~automl.cli.progress.SweepProgress`, for a stream without a TTY.

    Args:
        stream: where lines go (stdout).
        verbose: every parameter and the failure detail, not only the main ones.
    """

    def __init__(self, stream: IO[str], verbose: bool = False) -> None:
        self.stream = stream
        self.verbose = verbose
        self.objective: Objective | None = None
        self.best: float | None = None

    def __enter__(self) -> TrialLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.flush()

    def start(self, study_name: str, objective: Objective) -> None:
        self.objective = objective
        self._write(f"study {study_name}: {objective.metric} ({objective.direction})")

    def update(self, trial: TrialRecord) -> None:
        value = trial.value
        if self.objective and value is not None and self.objective.better(value, self.best):
            self.best = value
        self._write(self.line(trial))

    def line(self, trial: TrialRecord) -> str:
        """The log line of one finished trial."""
        parts = [f"trial {trial.number} {trial.state}"]
        if trial.fail_reason:
            parts[0] += f" ({trial.fail_reason})"
        if trial.value is not None and self.objective is not None:
            parts.append(f"{self.objective.metric}={trial.value:.4g}")
        parts.append(f"best={'-' if self.best is None else f'{self.best:.4g}'}")
        parts.append(f"{trial.duration_s:.1f}s")
        params = list(trial.params.items())
        shown = params if self.verbose else params[:MAIN_PARAMS]
        parts += [f"{k}={_fmt(v)}" for k, v in shown]
        if len(shown) < len(params):
            parts.append(f"(+{len(params) - len(shown)} more)")
        if self.verbose and trial.fail_detail:
            parts.append(f"detail: {trial.fail_detail}")
        return " ".join(parts)

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


class Silent:
    """``--quiet``: no per-trial output at all."""

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def start(self, study_name: str, objective: Objective) -> None:
        return None

    def update(self, trial: TrialRecord) -> None:
        return None


def display(console: Console, trials: int | None, *, quiet: bool, verbose: bool) -> Any:
    """A progress bar on a terminal; plain flushed lines in batch logs (no TTY)."""
    from automl.cli.progress import SweepProgress

    if quiet:
        return Silent()
    if verbose or not console.is_terminal:
        return TrialLog(sys.stdout, verbose=verbose)
    return SweepProgress(console, trials)
