"""The conductor: places worker processes on GPUs or CPU cores and supervises them.

It imports no deep-learning framework. Each worker is ``automl worker`` in a process of
its own, with CUDA_VISIBLE_DEVICES set to its GPU, and exits after ``max_trials`` trials or
past ``max_memory_mb`` to be replaced, so memory stays flat over long sweeps. A worker
that dies has its running trial marked failed (``worker_died``) and retried; Ctrl-C or
SIGTERM stops new trials, aborts the running ones (``interrupted``, retried on resume).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.errors import AutoMLError
from automl.options import DEFAULTS, RunOptions
from automl.run import budget, parent_watch, ray_runner
from automl.run.devices import Slot, plan
from automl.store import records, storage
from automl.store.records import TrialRecord

log = logging.getLogger("automl")
OnTrial = Callable[[TrialRecord], None]

STOP_GRACE_S = 25.0  # after Ctrl-C, workers get this long to record their trials
POLL_S = 0.5
OWNERLESS_S = 120.0  # a RUNNING trial with no recorded worker this old is orphaned
MAX_FAILED_STARTS = 3  # workers in a row that die without finishing a trial: a broken sweep
ENV_CREATOR = "AUTOML_CREATOR"  # the token of the study an early worker waits for


def run(
    name: str,
    url: str,
    *,
    trials: int | None,
    timeout: float | None = None,
    on_trial: OnTrial | None = None,
    on_start: Callable[[str], None] | None = None,
    options: RunOptions = DEFAULTS,
    early: dict[int, subprocess.Popen[bytes]] | None = None,
) -> None:
    """Run ``trials`` more trials of study ``name``, then evaluate the kept models.

    Args:
        early: workers :func:`prestart` started before the study existed, by slot.
    """
    opts = options
    try:
        study = storage.load_study(name, storage.open_storage(url), url)
        check_code(study, url)
        study.set_user_attr(records.MAX_RETRIES, opts.max_retries)
        reap_orphans(study, reason="lost")
        budget.fail_stale(study)
        budget.set_target(study, trials, storage.artifact_dir(url))
    except BaseException:
        stop(early or {})
        raise
    deadline = time.time() + timeout if timeout is not None else None
    if opts.ray:  # a Ray cluster places the workers
        ray_runner.run(name, url, study, opts, deadline, on_trial, on_start)
        return
    if opts.in_process:
        _run_here(name, url, deadline, on_trial, on_start)
        return
    Conductor(name, url, study, opts, deadline, on_trial).run(on_start, early or {})


def check_code(study: optuna.Study, url: str) -> None:
    """Refuse, before any worker starts, model code whose seal does not verify here.

    Raises:
        UntrustedCodeError: one line naming the study and the code (nothing is imported).
    """
    from automl.usercode.trust import verified_source

    spec = study.user_attrs.get(records.SPEC)
    model = spec.get("model") if isinstance(spec, dict) else None
    if isinstance(model, dict) and model.get("build"):
        verified_source(model, storage.artifact_store(url, create=False), study.study_name)


def prestart(
    name: str, url: str, opts: RunOptions, timeout: float | None, creator: str
) -> dict[int, subprocess.Popen[bytes]]:
    """Start the workers of a study about to be created: they import the framework (the
    slowest part of their start) while the conductor loads the data and makes the study.

    They wait for the study that carries ``creator`` (see :mod:`automl.study.create`): when
    another sweep made a study of that name first, they never join it.
    """
    if opts.ray:  # a cluster out of reach fails before the study is made
        ray_runner.connect(opts.ray)
    if opts.in_process or opts.ray:
        return {}
    slots = plan(opts.gpus, opts.trials_per_gpu, opts.workers)
    deadline = time.time() + timeout if timeout is not None else None
    return {
        s.number: start_worker(name, url, s, opts, deadline, len(slots), creator=creator)
        for s in slots
    }


def stop(procs: dict[int, subprocess.Popen[bytes]]) -> None:
    """Kill workers that will not be needed (the study could not be made) and reap them."""
    for proc in procs.values():
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    for proc in procs.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def start_worker(
    name: str,
    url: str,
    slot: Slot,
    opts: RunOptions,
    deadline: float | None,
    n_slots: int,
    *,
    creator: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start one ``automl worker`` process on ``slot``; with ``creator``, it waits for the
    study that conductor is making."""
    cmd = [sys.executable, "-m", "automl", "worker", "--slot", str(slot.number)]
    cmd += ["--fast-exit", *(["--wait-study"] if creator else [])]
    if opts.max_trials_per_worker:
        cmd += ["--max-trials", str(opts.max_trials_per_worker)]
    if opts.max_memory_mb:
        cmd += ["--max-memory-mb", str(opts.max_memory_mb)]
    if deadline is not None:
        cmd += ["--deadline", str(deadline)]
    if n_slots == 1:
        cmd += ["--alone"]
    cmd += ["--", name]  # after `--`, a name that starts with `-` is not an option
    # The storage URL travels in the environment, never on a command line that `ps` shows.
    # No preexec_fn (unsafe while the progress thread runs): the worker watches its
    # parent itself (automl.run.parent_watch), given the conductor's pid.
    env = {**os.environ, **slot.env(), "AUTOML_STORAGE": url, parent_watch.ENV: str(os.getpid())}
    if creator:
        env[ENV_CREATOR] = creator
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, start_new_session=True)


def _run_here(
    name: str,
    url: str,
    deadline: float | None,
    on_trial: OnTrial | None,
    on_start: Callable[[str], None] | None,
) -> None:
    from automl import _env
    from automl.run.worker import Limits, work
    from automl.study.context import open_context
    from automl.study.evaluate import finalize

    _env.load_keras()
    ctx = open_context(name, url)
    if on_start is not None:
        on_start(name)
    work(ctx, Limits(deadline=deadline), on_trial=on_trial)
    finalize(ctx)


class Conductor:
    """Starts, watches and replaces the worker processes of one sweep."""

    def __init__(
        self,
        name: str,
        url: str,
        study: optuna.Study,
        opts: RunOptions,
        deadline: float | None,
        on_trial: OnTrial | None,
    ) -> None:
        self.name, self.url, self.study, self.opts = name, url, study, opts
        self.deadline = deadline
        self.on_trial = on_trial
        self.slots = plan(opts.gpus, opts.trials_per_gpu, opts.workers)
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.seen = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
        self.stopping = False
        self.failed_starts = 0
        self.metric = records.objectives_of(study)[0].metric

    def run(
        self,
        on_start: Callable[[str], None] | None,
        early: dict[int, subprocess.Popen[bytes]] | None = None,
    ) -> None:
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.procs.update(early or {})
            for slot in self.slots:
                if slot.number not in self.procs:
                    self._spawn(slot)
            if on_start is not None:
                on_start(self.name)
            self._supervise()
        except BaseException:
            self._shutdown()
            raise
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self.stopping:
            raise KeyboardInterrupt
        self._finalize()

    # -- supervision ---------------------------------------------------------------------
    def _supervise(self) -> None:
        stop_started: float | None = None
        last_check = time.monotonic()
        while self.procs:
            _wait_any(self.procs, POLL_S)
            self._report()
            if time.monotonic() - last_check > storage.HEARTBEAT_S:
                # A worker elsewhere (another machine, a standalone `automl worker`) that
                # died would hold its trial's budget share for ever: fail and retry it.
                budget.fail_stale(self.study)
                last_check = time.monotonic()
            if self.stopping:
                stop_started = stop_started or time.monotonic()
                if time.monotonic() - stop_started > STOP_GRACE_S:
                    self._kill_all()
            for number, proc in list(self.procs.items()):
                code = proc.poll()
                if code is None:
                    continue
                del self.procs[number]
                # Whatever the exit code, a trial the worker left RUNNING is lost with it.
                reason = "interrupted" if self.stopping else "worker_died"
                reap_orphans(self.study, reason, pid=proc.pid)
                if not self.stopping:
                    self._count_failure(proc, code)
                if self._more_wanted():
                    self._spawn(self.slots[number])
        self._report()

    def _count_failure(self, proc: subprocess.Popen[bytes], code: int) -> None:
        """Stop the sweep when workers keep exiting without finishing a counted trial."""
        owner = f"{socket.gethostname()}:{proc.pid}"
        progressed = any(
            budget.counts(t) and t.user_attrs.get(records.WORKER) == owner
            for t in self.study.get_trials(deepcopy=False)
        )
        if progressed or (code == 0 and not self._more_wanted()):
            self.failed_starts = 0
            return
        self.failed_starts += 1
        if self.failed_starts >= MAX_FAILED_STARTS:
            self._kill_all()
            raise AutoMLError(
                f"{MAX_FAILED_STARTS} worker processes in a row exited with code {code} "
                "without finishing a trial; their error is printed above"
            )

    def _more_wanted(self) -> bool:
        if self.stopping or (self.deadline is not None and time.time() >= self.deadline):
            return False
        target = records.target_trials(self.study)
        return target is None or budget.done(self.study.get_trials(deepcopy=False)) < target

    def _spawn(self, slot: Slot) -> None:
        self.procs[slot.number] = start_worker(
            self.name, self.url, slot, self.opts, self.deadline, len(self.slots)
        )

    def _stop(self, signum: int, frame: Any) -> None:
        if self.stopping:
            self._kill_all()
            return
        self.stopping = True
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)

    def _shutdown(self) -> None:
        """Interrupt every worker, wait for them to record their trials, reap the rest."""
        self.stopping = True
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        end = time.monotonic() + STOP_GRACE_S
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, end - time.monotonic()))
        self._kill_all()
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            reap_orphans(self.study, "interrupted", pid=proc.pid)
        self.procs.clear()

    def _kill_all(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    def _report(self) -> None:
        if self.on_trial is None:
            return
        for t in self.study.get_trials(deepcopy=False):
            if t.state.is_finished() and t.number not in self.seen:
                self.seen.add(t.number)
                self.on_trial(TrialRecord.from_frozen(t, self.metric, {}))

    def _finalize(self) -> None:
        """Evaluate kept models on the test split, unless the last worker already did."""
        from automl.study.evaluate import pending

        if not pending(self.study, self.url):
            return
        cmd = [sys.executable, "-m", "automl", "worker", "--finalize-only", "--fast-exit"]
        cmd += ["--", self.name]
        env = {
            **os.environ,
            "AUTOML_STORAGE": self.url,
            "CUDA_VISIBLE_DEVICES": _first_gpu(self.slots),
        }
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            log.warning(
                "the test-split evaluation failed (exit code %d); run `automl tune %s --resume "
                "--trials 1` to retry it",
                done.returncode,
                self.name,
            )


def _wait_any(procs: dict[int, subprocess.Popen[bytes]], seconds: float) -> None:
    """Sleep up to ``seconds``, waking as soon as the first worker exits."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        next(iter(procs.values())).wait(timeout=seconds)


def _first_gpu(slots: list[Slot]) -> str:
    return next((s.gpu for s in slots if s.gpu is not None), "-1")


def reap_orphans(study: optuna.Study, reason: str, pid: int | None = None) -> list[int]:
    """Fail this machine's RUNNING trials whose worker is gone, and queue their retries.

    With ``pid``, only that worker's trials; otherwise every trial whose worker process on
    this host no longer exists (a crash or a kill -9 of an earlier run).
    """
    host = socket.gethostname()
    reaped = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = str(t.user_attrs.get(records.WORKER, ""))
        owner_host, _, owner_pid = owner.rpartition(":")
        if not owner and pid is None and _older_than(t, OWNERLESS_S):
            # Killed between ask() and recording its owner: nobody will ever finish it.
            if _fail(study, t, reason):
                reaped.append(t.number)
            continue
        if owner_host != host or not owner_pid.isdigit():
            continue
        if pid is not None and int(owner_pid) != pid:
            continue
        if pid is None and _alive(int(owner_pid)):
            continue
        if _fail(study, t, reason):
            reaped.append(t.number)
    return reaped


def _fail(study: optuna.Study, trial: FrozenTrial, reason: str) -> bool:
    """Fail a trial its worker left and queue its retry (see :func:`budget.reap`)."""
    return budget.reap(study, trial, reason)


def _older_than(trial: FrozenTrial, seconds: float) -> bool:
    start = trial.datetime_start
    return start is not None and time.time() - start.timestamp() > seconds


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
