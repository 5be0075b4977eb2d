"""How a sweep runs, with every default in one place (the CLI and the API both read it)."""

from __future__ import annotations

from dataclasses import dataclass

from automl.errors import AutoMLError


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
        ray: run the trials on this Ray cluster (an address as ``ray.init`` takes it:
            ``auto``, ``HOST:PORT``, ``ray://HOST:10001``); None: on this machine.
    """

    gpus: str = "auto"
    trials_per_gpu: int = 1
    workers: int | None = None
    max_trials_per_worker: int | None = 25
    max_memory_mb: float | None = None
    max_retries: int = 2
    in_process: bool = False
    report_every: int = 10
    ray: str | None = None

    def __post_init__(self) -> None:
        if self.ray is None:
            return
        if not self.ray.strip():
            raise AutoMLError(
                "--ray: give the cluster's address: auto, HOST:PORT or ray://HOST:PORT"
            )
        if self.in_process:
            raise AutoMLError("--ray and --in-process cannot be combined")
        if self.gpus.strip().lower() not in ("auto", "none", "cpu"):
            raise AutoMLError(
                f"--gpus: with --ray, auto or none (Ray hands out the GPUs); got {self.gpus!r}"
            )


DEFAULTS = RunOptions()
TRIALS = 20  # trials a sweep runs when not told
