"""What runs on the Ray workers of a sweep with ``--ray``: a worker's life as one Ray task.

A task sets its process up as the conductor sets up a worker process (the devices Ray gave
it, threads, the driver's working folder and ``AUTOML_*`` settings, the signing key),
opens the study and runs the worker loop (:func:`automl.run.worker.work`); the last task
to stop evaluates the kept models on test, as a worker process does, and a task of its
own does so when none did. The key arrives in the task's arguments, held by :class:`Key`,
whose repr shows nothing; it is never stored, logged or put in a ``runtime_env``.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from automl.errors import StudyNotFoundError
from automl.run.devices import Slot
from automl.store import placement, signing


class Key:
    """The signing key on its way to the workers: its repr shows nothing."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Key(<hidden>)"

    def reveal(self) -> str:
        return self._value.decode("utf-8")


@dataclass(frozen=True)
class Job:
    """What a worker task needs: the study, its limits, and the driver's surroundings."""

    name: str
    url: str
    deadline: float | None
    max_trials: int | None
    max_memory_mb: float | None
    parallel: bool
    threads: int
    cwd: str
    env: dict[str, str] = field(repr=False)
    key: Key | None = field(default=None, repr=False)


def worker_task(job: Job, slot: int) -> str:
    """A worker's life on a Ray node: the worker loop until the budget or a limit."""
    import ray

    from automl.run.worker import Limits, finish, work

    context = ray.get_runtime_context()
    ctx = _enter(job, slot, ray.get_gpu_ids())
    seen = placement.device() or "cpu"
    where = {"device": seen, "ray_node": str(context.get_node_id())}
    where["ray_task"] = str(context.get_task_id() or "")
    limits = Limits(job.max_trials, job.max_memory_mb, job.deadline, replace_after_oom=True)
    reason = work(ctx, limits, where=where, logs=True)
    finish(ctx, reason)  # the last task evaluates on test: no new worker process for it
    return reason


def finalize_task(job: Job) -> None:
    """Evaluate the kept models on the test split (the conductor's last step)."""
    import ray

    from automl.study.evaluate import finalize

    finalize(_enter(job, 0, ray.get_gpu_ids()))


def _enter(job: Job, slot: int, gpu_ids: list[Any]) -> Any:
    """Set this worker process up as the conductor sets up its own workers; open the study."""
    from automl import _env
    from automl.study.context import open_context

    os.environ.update(job.env)
    if job.key is not None:
        os.environ[signing.ENV_SECRET] = job.key.reveal()
    gpu = ",".join(str(i) for i in gpu_ids) if gpu_ids else None
    os.environ.update(Slot(slot, gpu, job.threads).env())  # "-1" hides GPUs from CPU tasks
    with contextlib.suppress(OSError):
        os.chdir(job.cwd)  # relative paths mean what they mean to the driver (shared folders)
    try:
        ctx = open_context(job.name, job.url, parallel=job.parallel, slot=slot)
    except StudyNotFoundError as exc:
        raise StudyNotFoundError(
            f"{exc} (on Ray node {socket.gethostname()}: every node must reach the study's "
            "storage, a database or a journal file on a shared file system)"
        ) from None
    _env.load_keras()
    return ctx
