"""What a running sweep shows: a bar in a terminal or notebook, a line per trial otherwise.

``automl.tune`` and ``Tuner.search`` (``verbose``) and ``automl tune`` show the same
thing. The bar (rich) gives trials done of the target, the best value so far, pruned and
failed counts, the time and an ETA, and under it each running trial's epoch, read from
the storage as ``automl watch`` reads it (``records.EPOCH``, written at every epoch end).
Without a terminal (a log file, nohup, Slurm, CI) each finished trial is one flushed line::

    trial 3 COMPLETE val_accuracy=0.9512 best=0.9512 12.3s elapsed=40s n_layers=2 ...
    trial 4 FAIL (nan) best=0.9512 2.1s elapsed=42s n_layers=1 learning_rate=0.04
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

from optuna.trial import TrialState
from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from automl.ranking import Objective
from automl.run.budget import RETRIED
from automl.store import records, storage
from automl.store.records import TrialRecord

QUIET, BAR, DETAILED = 0, 1, 2  # verbose levels: nothing; bar (or lines); every parameter
MAIN_PARAMS = 4  # parameters on a line, unless detailed
POLL_S = 1.0  # the bar reads running trials' epochs this often


@dataclass(frozen=True)
class Running:
    """A running trial and the epochs it has finished."""

    trial: int
    epoch: int
    max_epochs: int | None = None


def running(study: Any, max_epochs: int | None = None) -> list[Running]:
    """The study's running trials and their epochs, as the workers recorded them."""
    found = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        epoch = t.user_attrs.get(records.EPOCH)
        found.append(Running(t.number, int(epoch) if records.finite(epoch) else 0, max_epochs))
    return found


def running_line(items: Iterable[Running]) -> str:
    """``trial 3 epoch 4/20, trial 4 epoch 1/20``: what the bar shows under it."""
    return ", ".join(
        f"trial {r.trial} epoch {r.epoch}" + (f"/{r.max_epochs}" if r.max_epochs else "")
        for r in items
    )


def elapsed(seconds: float) -> str:
    """``40s``, ``3m05s``, ``1h02m``."""
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{sec:02d}s" if minutes else f"{sec}s"


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class TrialLog:
    """One flushed line per finished trial, for a stream without a terminal.

    Args:
        stream: where lines go (default: ``sys.stdout`` when each line is written).
        verbose: every parameter and the failure detail, not only the main ones.
        clock: seconds, for the elapsed time (``time.monotonic``).
    """

    def __init__(
        self,
        stream: IO[str] | None = None,
        verbose: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.verbose = verbose
        self.clock = clock
        self.started = clock()
        self.objective: Objective | None = None
        self.best: float | None = None

    def __enter__(self) -> TrialLog:
        return self

    def __exit__(self, *exc: object) -> None:
        (self.stream or sys.stdout).flush()

    def start(self, study_name: str, objective: Objective, url: str | None = None) -> None:
        self.objective = objective
        self.started = self.clock()
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
        parts.append(f"elapsed={elapsed(self.clock() - self.started)}")
        params = list(trial.params.items())
        shown = params if self.verbose else params[:MAIN_PARAMS]
        parts += [f"{k}={_fmt(v)}" for k, v in shown]
        if len(shown) < len(params):
            parts.append(f"(+{len(params) - len(shown)} more)")
        if self.verbose and trial.fail_detail:
            parts.append(f"detail: {trial.fail_detail}")
        return " ".join(parts)

    def _write(self, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(text + "\n")
        stream.flush()


class _Bar(Progress):
    """rich's progress bar, with the running trials' epochs on a line under it."""

    below = ""

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        if self.below:
            yield Text(self.below, no_wrap=True, overflow="ellipsis")


class SweepProgress:
    """A rich progress bar; with ``url`` given to :meth:`start`, running trials' epochs."""

    def __init__(self, console: Console, total: int | None, poll_s: float = POLL_S) -> None:
        self.total = total
        self.poll_s = poll_s
        self.objective: Objective | None = None
        self.best: float | None = None
        self.max_epochs: int | None = None
        self.counts = {"pruned": 0, "failed": 0}
        self.progress = _Bar(
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
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    def __enter__(self) -> SweepProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
        self.progress.below = ""
        self.progress.stop()

    def start(self, study_name: str, objective: Objective, url: str | None = None) -> None:
        """Show the bar once the study exists (bad input fails before any bar is drawn)."""
        from rich.markup import escape

        self.objective = objective
        self.progress.console.print(f"study [bold]{escape(study_name)}[/bold]", soft_wrap=True)
        self.progress.start()
        if url is not None:
            study = storage.load_study(study_name, storage.open_storage(url), url)
            spec = study.user_attrs.get(records.SPEC)
            training = (spec.get("training") if isinstance(spec, dict) else None) or {}
            max_epochs = training.get("max_epochs") if isinstance(training, dict) else None
            self.max_epochs = max_epochs if isinstance(max_epochs, int) else None
            self._poller = threading.Thread(
                target=self._poll_loop, args=(study,), name="automl-progress", daemon=True
            )
            self._poller.start()

    def poll(self, study: Any) -> None:
        """Read the running trials' epochs once and show them under the bar."""
        self.progress.below = running_line(running(study, self.max_epochs))
        self.progress.refresh()

    def _poll_loop(self, study: Any) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):  # a missed reading only delays the epochs
                self.poll(study)
            self._stop.wait(self.poll_s)

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


class Silent:
    """``verbose=0`` (``--quiet``): no per-trial output at all."""

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def start(self, study_name: str, objective: Objective, url: str | None = None) -> None:
        return None

    def update(self, trial: TrialRecord) -> None:
        return None


Display = TrialLog | SweepProgress | Silent


def display(verbose: int | bool, trials: int | None, console: Console | None = None) -> Display:
    """What a sweep shows at ``verbose``: 0 nothing; 1 a bar in a terminal or a notebook,
    else a line per trial; 2 a line per trial with every parameter and fail detail."""
    level = int(verbose)
    if level <= QUIET:
        return Silent()
    console = console or Console(highlight=False)
    if level >= DETAILED or not (console.is_terminal or console.is_jupyter):
        return TrialLog(verbose=level >= DETAILED)
    return SweepProgress(console, trials)
