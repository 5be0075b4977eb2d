"""A rich progress bar for a sweep: done of total, best so far, pruned and failed, ETA."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from automl.ranking import Objective
from automl.run.budget import RETRIED
from automl.store.records import TrialRecord


class SweepProgress:
    """Context manager; pass ``update`` as the ``on_trial`` callback of ``tune``."""

    def __init__(self, console: Console, total: int | None) -> None:
        self.total = total
        self.objective: Objective | None = None
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

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start(self, study_name: str, objective: Objective) -> None:
        """Show the bar once the study exists (bad input fails before any bar is drawn)."""
        from rich.markup import escape

        self.objective = objective
        self.progress.console.print(f"study [bold]{escape(study_name)}[/bold]", soft_wrap=True)
        self.progress.start()

    def update(self, outcome: TrialRecord) -> None:
        if outcome.fail_reason in RETRIED:
            return  # lost with its worker or interrupted: its retry is the trial that counts
        if outcome.state == "PRUNED":
            self.counts["pruned"] += 1
        elif outcome.state == "FAIL":
            self.counts["failed"] += 1
        elif (
            outcome.values
            and self.objective
            and self.objective.better(outcome.values[0], self.best)
        ):
            self.best = outcome.values[0]
        best = f"{self.best:.4f}" if self.best is not None else "-"
        self.progress.update(
            self.task,
            advance=1,
            best=best,
            pruned=self.counts["pruned"],
            failed=self.counts["failed"],
        )
