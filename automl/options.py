"""How a sweep runs, with every default in one place (the CLI and the API both read it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunOptions:
    """Worker placement, recycling, retries and reporting of a sweep.

    Attributes:
        gpus: ``auto`` (one worker per visible GPU, CPU workers when none), ``none``, or
            GPU ids such as ``"0,2"``.
        trials_per_gpu: workers sharing each GPU.
        workers: CPU workers when no GPU is used (None: 1).
        max_trials_per_worker: a worker process is replaced after this many trials.
        max_memory_mb: a worker process is replaced once its memory passes this.
        max_retries: times a trial lost to a crash or an interrupt is tried again.
        in_process: run trials in the calling process (no workers, no recycling).
        report_every: refresh the report after every this many trials (0: at the end).
    """

    gpus: str = "auto"
    trials_per_gpu: int = 1
    workers: int | None = None
    max_trials_per_worker: int | None = 25
    max_memory_mb: float | None = None
    max_retries: int = 2
    in_process: bool = False
    report_every: int = 10


DEFAULTS = RunOptions()
TRIALS = 20  # trials a sweep runs when not told
