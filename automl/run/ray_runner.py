"""Trials on a Ray cluster (``--ray ADDRESS``): Ray places the workers, the worker loop runs.

Each worker is a Ray task that runs the worker loop (:func:`automl.run.worker.work`)
against the study's storage, as an ``automl worker`` process does on one machine: it asks
Ray for ``1 / trials_per_gpu`` of a GPU when the cluster has GPUs, and that share of its
node's CPUs (``--workers`` splits a node's CPUs when there is no GPU), so Ray places trials
as the built-in runner places worker processes. Recycling is Ray's own: a task's worker
process serves that task alone (``max_calls=1``: a framework binds its GPU once, and a
process must never meet another GPU), and the task ends after ``max_trials_per_worker``
trials or once past ``max_memory_mb`` (the worker loop's limits); Ray's memory monitor
kills a worker that would run its node out of memory (the trial fails ``oom``).

A task whose worker process or node dies has its running trial failed as ``lost`` and
queued again (within ``max_retries``); Ray never retries a task itself. Ctrl-C cancels
the tasks (their trials fail ``interrupted`` and are queued again): ``--resume`` goes on.

The signing key of the user's code travels to the workers inside the tasks' arguments,
never through the storage, a ``runtime_env`` or a log (docs/architecture.md, threat model).
Ray is imported only by the ``run/ray_*`` modules, and only when a sweep asks for it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from automl import errors
from automl.errors import AutoMLError, ClusterError
from automl.options import RunOptions
from automl.run import budget
from automl.run.ray_connect import connect, disconnect, line
from automl.run.ray_tasks import Job, Key, finalize_task, worker_task
from automl.store import placement, records, signing, storage
from automl.store.records import TrialRecord

log = logging.getLogger("automl")
OnTrial = Callable[[TrialRecord], None]
POLL_S = 0.5
STOP_GRACE_S = 25.0  # after Ctrl-C, tasks get this long to record their trials
MAX_LOST_IN_A_ROW = 3  # tasks lost before finishing a trial, beyond one per parallel slot
PASSED_ENV = ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")  # and AUTOML_* (not the key's)
KEPT_BACK = (signing.ENV_SECRET, signing.ENV_KEY_FILE, storage.ENV_STORAGE)


@dataclass(frozen=True)
class Shape:
    """The resources each worker task asks Ray for, and how many fit at once."""

    gpus: float
    cpus: float
    parallel: int

    def options(self) -> dict[str, Any]:
        return {"num_gpus": self.gpus, "num_cpus": self.cpus}


def run(
    name: str,
    url: str,
    study: optuna.Study,
    opts: RunOptions,
    deadline: float | None,
    on_trial: OnTrial | None,
    on_start: Callable[[str], None] | None,
) -> None:
    """Run the study's trials on the Ray cluster ``opts.ray``, then evaluate the kept models."""
    ray, owned = connect(str(opts.ray))
    try:
        RaySweep(ray, name, url, study, opts, deadline, on_trial).run(on_start)
    finally:
        if owned:
            disconnect(ray)


def plan_shape(nodes: list[dict[str, Any]], opts: RunOptions) -> Shape:
    """Resources per worker task, from the alive nodes' resources (``ray.nodes()``)."""
    alive = [dict(n.get("Resources") or {}) for n in nodes if n.get("Alive", True)]
    use_gpus = opts.gpus.strip().lower() == "auto"
    gpu_nodes = [r for r in alive if r.get("GPU", 0) >= 1] if use_gpus else []
    if gpu_nodes:
        per = opts.trials_per_gpu
        cpus = _share(min(r.get("CPU", 0) / (r["GPU"] * per) for r in gpu_nodes))
        return Shape(_share(1 / per), cpus, sum(int(r["GPU"]) * per for r in gpu_nodes))
    cpu_nodes = [r for r in alive if r.get("CPU", 0) > 0]
    if not cpu_nodes:
        raise ClusterError("the Ray cluster has no node with CPUs to run trials on")
    cpus = _share(min(r["CPU"] for r in cpu_nodes) / (opts.workers or 1))
    return Shape(0.0, cpus, sum(int(r["CPU"] / cpus + 1e-9) for r in cpu_nodes))


def _share(amount: float) -> float:
    """A resource amount Ray takes: whole above 1, four decimals below (rounded down)."""
    if amount <= 0:
        return 0.0
    return float(int(amount)) if amount >= 1 else max(math.floor(amount * 1e4) / 1e4, 1e-4)


class RaySweep:
    """Keeps the cluster busy with worker tasks until the study's budget is spent."""

    def __init__(
        self,
        ray: Any,
        name: str,
        url: str,
        study: optuna.Study,
        opts: RunOptions,
        deadline: float | None,
        on_trial: OnTrial | None,
    ) -> None:
        self.ray, self.name, self.url, self.study = ray, name, url, study
        self.deadline, self.on_trial = deadline, on_trial
        self.shape = plan_shape(ray.nodes(), opts)
        self.job = _job(name, url, study, opts, deadline, self.shape)
        common = {"max_calls": 1, "max_retries": 0, **self.shape.options()}
        self.task = ray.remote(scheduling_strategy="SPREAD", **common)(worker_task)
        self.last_task = ray.remote(**common)(finalize_task)
        self.inflight: dict[Any, int] = {}
        self.next_slot = 0
        self.stopping = self.forced = False
        self.lost_in_a_row = 0
        self.metric = records.objectives_of(study)[0].metric
        self.seen = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
        log.debug("ray: each worker asks for %s; %d at once", self.shape, self.shape.parallel)

    def run(self, on_start: Callable[[str], None] | None) -> None:
        main = threading.current_thread() is threading.main_thread()
        signals = (signal.SIGINT, signal.SIGTERM) if main else ()
        previous = {s: signal.signal(s, self._stop) for s in signals}
        try:
            if on_start is not None:
                on_start(self.name)
            self._loop()
        except BaseException:
            self.stopping = True
            raise
        finally:
            self._cancel()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self.stopping:
            raise KeyboardInterrupt
        self._finalize()

    def _loop(self) -> None:
        last_check = time.monotonic()
        while not self.stopping:
            self._refill()
            if not self.inflight:
                break
            done, _ = self.ray.wait(list(self.inflight), num_returns=1, timeout=POLL_S)
            for ref in done:
                self._collect(ref)
            self._report()
            if time.monotonic() - last_check > storage.HEARTBEAT_S:
                budget.fail_stale(self.study)  # workers that died with the driver away
                last_check = time.monotonic()
        self._report()

    def _refill(self) -> None:
        """Keep as many worker tasks in flight as fit on the cluster and trials are owed."""
        if self.deadline is not None and time.time() >= self.deadline:
            return
        target = records.target_trials(self.study)
        owed = (
            None if target is None else target - budget.done(self.study.get_trials(deepcopy=False))
        )
        want = self.shape.parallel if owed is None else min(self.shape.parallel, owed)
        while len(self.inflight) < want:
            self.inflight[self.task.remote(self.job, self.next_slot)] = self.next_slot
            self.next_slot += 1

    def _collect(self, ref: Any) -> None:
        """Read how a worker task ended; a lost one fails its trial, to be retried."""
        self.inflight.pop(ref, None)
        ex = self.ray.exceptions
        try:
            self.ray.get(ref)
        except ex.TaskCancelledError:
            self._lose(ref, "interrupted", "worker task cancelled")
        except ex.RayTaskError as exc:  # raised by automl in the task: a broken sweep
            raise _broken(exc) from None
        except ex.OutOfMemoryError:
            self._lose(ref, errors.OOM, "killed by Ray's memory monitor")
        except ex.RayError as exc:  # the worker process or its node died
            if not self._lose(ref, "lost", f"Ray worker lost: {type(exc).__name__}"):
                self._count_lost(exc)
        else:
            self.lost_in_a_row = 0

    def _lose(self, ref: Any, reason: str, detail: str) -> bool:
        """Fail the running trials of a task that died, queue their retries; True if the
        task had finished a trial of its own before."""
        task = ref.task_id().hex()
        attrs = {records.FAIL_REASON: reason, records.FAIL_DETAIL: detail}
        progressed = False
        for t in self.study.get_trials(deepcopy=False):
            if placement.read_placement(t.user_attrs).get("ray_task") != task:
                continue
            if t.state != TrialState.RUNNING:
                progressed = progressed or budget.counts(t)
                continue
            try:
                if storage.fail_trial(self.study, t, attrs) and reason in budget.RETRIED:
                    budget.requeue(self.study, t)
            except Exception as exc:  # noqa: BLE001 - an outage: heartbeats fail it later
                log.warning("could not fail trial %d: %s", t.number, storage.mask(str(exc)))
        return progressed

    def _count_lost(self, exc: BaseException) -> None:
        self.lost_in_a_row += 1
        if self.lost_in_a_row >= MAX_LOST_IN_A_ROW + self.shape.parallel:
            raise ClusterError(
                f"{self.lost_in_a_row} worker tasks in a row died on the Ray cluster before "
                f"finishing a trial (last: {type(exc).__name__}); see `ray status` and the "
                "nodes' logs"
            )

    def _stop(self, signum: int, frame: Any) -> None:
        self.forced = self.stopping
        self.stopping = True

    def _cancel(self) -> None:
        """Interrupt every task, give them time to record their trials, kill the rest."""
        refs = list(self.inflight)
        if not refs:
            return
        for ref in refs:
            with contextlib.suppress(Exception):
                self.ray.cancel(ref)  # a KeyboardInterrupt in the task: trial `interrupted`
        end, pending = time.monotonic() + STOP_GRACE_S, refs
        while pending and time.monotonic() < end and not self.forced:
            _, pending = self.ray.wait(pending, num_returns=len(pending), timeout=POLL_S)
        for ref in pending:
            with contextlib.suppress(Exception):
                self.ray.cancel(ref, force=True)
        for ref in refs:
            self._lose(ref, "interrupted", "interrupted")
        self.inflight.clear()

    def _report(self) -> None:
        if self.on_trial is None:
            return
        for t in self.study.get_trials(deepcopy=False):
            if t.state.is_finished() and t.number not in self.seen:
                self.seen.add(t.number)
                self.on_trial(TrialRecord.from_frozen(t, self.metric, {}))

    def _finalize(self) -> None:
        """Evaluate kept models on the test split, on the cluster, unless the last worker
        task already did (it does when no other trial was running as it stopped)."""
        from automl.study.evaluate import pending

        if not pending(self.study, self.url):
            return
        try:
            self.ray.get(self.last_task.remote(self.job))
        except self.ray.exceptions.RayError as exc:
            log.warning(
                "the test-split evaluation failed on the Ray cluster (%s); run `automl tune "
                "%s --resume --trials 1` to retry it",
                line(getattr(exc, "cause", None) or exc),
                self.name,
            )


def _job(
    name: str,
    url: str,
    study: optuna.Study,
    opts: RunOptions,
    deadline: float | None,
    shape: Shape,
) -> Job:
    spec = study.user_attrs.get(records.SPEC)
    model = spec.get("model") if isinstance(spec, dict) else None
    # The conductor verified the user's code with this key; the workers verify it again.
    own_code = isinstance(model, dict) and bool(model.get("build"))
    env = {
        k: v
        for k, v in os.environ.items()
        if (k.startswith("AUTOML_") or k in PASSED_ENV) and k not in KEPT_BACK
    }
    return Job(
        name=name,
        url=url,
        deadline=deadline,
        max_trials=opts.max_trials_per_worker,
        max_memory_mb=opts.max_memory_mb,
        parallel=shape.parallel > 1,
        threads=max(1, int(shape.cpus)),
        cwd=os.getcwd(),
        env=env,
        key=Key(signing.key(create=False)) if own_code else None,
    )


def _broken(exc: BaseException) -> AutoMLError:
    """The one-line error of a task that raised: automl's own, or what stopped it."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, AutoMLError):
        return cause
    if isinstance(cause, ImportError):
        return ClusterError(
            f"a Ray worker cannot import automl ({line(cause)}); install the same automl "
            "on every node"
        )
    what = cause if isinstance(cause, BaseException) else exc
    return ClusterError(f"a worker failed on the Ray cluster: {type(what).__name__}: {line(what)}")
