"""A rich progress bar for a sweep: done of total, best so far, pruned and failed, ETA."""

from __future__ import annotations

from typing import Any

from optuna.trial import TrialState
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from automl.budget import RETRIED


class SweepProgress:
    """Context manager; pass ``update`` as the ``on_trial`` callback of ``tune``."""

    def __init__(self, console: Console, total: int | None) -> None:
        self.total = total
        self.best: float | None = None
        self.counts = {"pruned": 0, "failed": 0}
        self.progress = Progress(
            TextColumn("[bold]trials"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("best {task.fields[best]}"),
            TextColumn("pruned {task.fields[pruned]} failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task("trials", total=total, best="-", pruned=0, failed=0)

    def __enter__(self) -> SweepProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def start(self, study_name: str) -> None:
        """Show the bar once the study exists (bad input fails before any bar is drawn)."""
        from rich.markup import escape

        self.progress.console.print(f"study [bold]{escape(study_name)}[/bold]", soft_wrap=True)
        self.progress.start()

    def update(self, outcome: Any) -> None:
        if outcome.reason in RETRIED:
            return  # lost with its worker or interrupted: its retry is the trial that counts
        if outcome.state == TrialState.PRUNED:
            self.counts["pruned"] += 1
        elif outcome.state == TrialState.FAIL:
            self.counts["failed"] += 1
        elif outcome.values:
            value = outcome.values[0]
            maximize = outcome.direction == "maximize"
            if self.best is None or (value > self.best if maximize else value < self.best):
                self.best = value
        best = f"{self.best:.4f}" if self.best is not None else "-"
        self.progress.update(
            self.task,
            advance=1,
            best=best,
            pruned=self.counts["pruned"],
            failed=self.counts["failed"],
        )
