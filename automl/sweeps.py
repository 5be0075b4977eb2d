"""Running sweeps: ``tune()`` creates or resumes a study and runs it; ``studies()`` lists them.

Reports written during a sweep are scheduled here, so that neither the runner nor the
reports know of each other.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from automl import ranking
from automl.api import Sweep
from automl.errors import AutoMLError, SpecError
from automl.options import DEFAULTS, TRIALS, RunOptions
from automl.reports import write_report
from automl.run import conductor, progress
from automl.run.devices import plan
from automl.search.catalog import load_spec
from automl.search.overrides import apply as apply_overrides
from automl.search.spec import SweepSpec
from automl.store import records
from automl.store.records import TrialRecord
from automl.store.storage import check_new, free_name, open_storage, storage_url
from automl.study.create import create
from automl.track import sweep as track_sweep
from automl.usercode.spec import is_user_code, spec_for

log = logging.getLogger("automl")


# long: one keyword per option, documented; the body is short.
def tune(
    space: Any,
    *,
    trials: int | None = TRIALS,
    study: str | None = None,
    storage: str | None = None,
    timeout: float | None = None,
    seed: int | None = None,
    data: Any = None,
    target: str | None = None,
    overrides: dict[str, Any] | None = None,
    resume: bool = False,
    on_trial: Callable[[TrialRecord], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    verbose: int | bool = progress.BAR,
    gpus: str = DEFAULTS.gpus,
    trials_per_gpu: int = DEFAULTS.trials_per_gpu,
    workers: int | None = DEFAULTS.workers,
    max_trials_per_worker: int | None = DEFAULTS.max_trials_per_worker,
    max_memory_mb: float | None = DEFAULTS.max_memory_mb,
    max_retries: int = DEFAULTS.max_retries,
    in_process: bool = DEFAULTS.in_process,
    report: bool | str | Path = False,
    report_every: int = DEFAULTS.report_every,
    track: str | Iterable[str] | None = None,
    ray: str | None = None,
) -> Sweep:
    """Run a sweep and return it.

    Args:
        space: a ready space's name, a YAML path, or a :class:`SweepSpec`; with ``resume``,
            the name of the study to continue. Or your own model code: a KerasTuner build
            function or HyperModel, or ``"file.py:fn"`` (see :mod:`automl.usercode.spec`).
        trials: trials to run in this call (``None``: until ``timeout``).
        study: the study name; by default the space's name (``-2``, ``-3``... if taken).
        storage: an Optuna storage URL; default ``$AUTOML_STORAGE`` or the embedded file.
        timeout: stop starting new trials after this many seconds.
        seed: sampler seed (overrides the space's ``sampler.seed``).
        data: a data path that replaces the space's ``data.source``; for model code also
            ``(x, y)`` arrays or a DataFrame (with ``target``).
        target: the target column of a CSV (replaces ``data.target``).
        overrides: dotted spec fields to replace, ``{"training.max_epochs": 10}``
            (``--set``); validated like the file and shown in the report.
        resume: continue the existing study; trial numbers go on.
        on_trial: called after every trial with its :class:`~automl.store.records.TrialRecord`.
        on_start: called with the study name once the study is ready, before any trial.
        verbose: 1 (default): a progress bar in a terminal or a notebook (each running
            trial's epoch under it), else one line per finished trial (state, value, best
            so far, time, main parameters); 2: a line per trial with every parameter and
            the failure's detail; 0: nothing. A trial's own output is in its log
            (``automl logs``), not here.
        report: write an HTML report when the sweep ends: True for
            ``reports/<study>.html``, or a path.
        gpus, trials_per_gpu, workers, max_trials_per_worker, max_memory_mb, max_retries,
        in_process, report_every: see :class:`~automl.options.RunOptions`.
        ray: run the trials on this Ray cluster: ``"auto"``, ``"HOST:PORT"`` or
            ``"ray://HOST:10001"`` (docs/scaling.md).
        track: where to track this sweep's trials: ``"mlflow"`` (``MLFLOW_TRACKING_URI``),
            ``"mlflow=URI"``, ``"tensorboard=DIR"``, or a list of them (docs/tracking.md).
    """
    opts = RunOptions(
        gpus=gpus,
        trials_per_gpu=trials_per_gpu,
        workers=workers,
        max_trials_per_worker=max_trials_per_worker,
        max_memory_mb=max_memory_mb,
        max_retries=max_retries,
        in_process=in_process,
        report_every=report_every,
        ray=ray,
    )
    plan(gpus, trials_per_gpu, workers)  # a bad --gpus fails before any study is made
    tracking = track_sweep.check(track)  # so does a bad --track
    url = storage_url(storage)
    early: dict[int, Any] = {}  # workers started while the study is made
    if resume:
        if data or target or overrides:
            raise AutoMLError("--data, --target and --set cannot change an existing study")
        if seed is not None:
            raise AutoMLError("--seed cannot change the seed of an existing study")
        name = str(space) if study is None else study
        if not name:
            raise SpecError("--study: a study name cannot be empty")
    else:
        if study is not None:
            check_study_name(study)
        if is_user_code(space):
            space, data, target = spec_for(space, data=data, target=target, url=url), None, None
        spec = apply_overrides(_with_overrides(space, data=data, target=target), overrides or {})
        name, early = _new_study(
            spec, study, url, seed, lambda n, c: conductor.prestart(n, url, opts, timeout, c)
        )
    shown = progress.display(verbose, trials)
    on_trial, on_start = _showing(shown, url, on_trial, on_start)
    if report:
        on_trial = _reporting(name, url, report, report_every, on_trial)
    tracking = _begin_tracking(name, url, tracking, early)
    on_trial = track_sweep.relaying(name, url, tracking, on_trial)  # workers' warnings
    try:
        with shown:
            conductor.run(
                name,
                url,
                trials=trials,
                timeout=timeout,
                on_trial=on_trial,
                on_start=on_start,
                options=opts,
                early=early,
            )
    except BaseException as exc:
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        track_sweep.end(name, url, tracking, status=status)
        raise
    sweep = Sweep(name, url)
    path = _write_report(sweep, report) if report else None
    track_sweep.end(name, url, tracking, report=path, load_model=sweep.model)
    return sweep


def _begin_tracking(name: str, url: str, tracking: Any, early: dict[int, Any]) -> Any:
    """The sweep's tracking stored with the study before any worker asks for a trial."""
    try:
        return track_sweep.begin(name, url, tracking)
    except BaseException:
        conductor.stop(early)
        raise


def _showing(
    shown: progress.Display,
    url: str,
    on_trial: Callable[[TrialRecord], None] | None,
    on_start: Callable[[str], None] | None,
) -> tuple[Callable[[TrialRecord], None] | None, Callable[[str], None] | None]:
    """``on_trial`` and ``on_start`` that also show the sweep's progress."""
    if isinstance(shown, progress.Silent):
        return on_trial, on_start

    def trial_done(outcome: TrialRecord) -> None:
        shown.update(outcome)
        if on_trial is not None:
            on_trial(outcome)

    def started(name: str) -> None:
        shown.start(name, Sweep(name, url).objectives[0], url)
        if on_start is not None:
            on_start(name)

    return trial_done, started


def _new_study(
    spec: SweepSpec,
    name: str | None,
    url: str,
    seed: int | None,
    prestart: Callable[[str, str], Any],
) -> tuple[str, Any]:
    """Create the study, with its workers started first (they wait for it, by a token)."""
    opened = open_storage(url)
    if name is not None:
        check_new(opened, name)
    name = name or free_name(opened, default_study_name(spec.name))
    creator = secrets.token_hex(8)
    early = prestart(name, creator)
    try:
        create(spec, name, url, seed=seed, creator=creator)
    except BaseException:
        conductor.stop(early)
        raise
    return name, early


# Letters and digits of any script, `_`, then also `.`, `-`, `+`: safe in a file name, on a
# command line (never an option: no leading `-`) and in a terminal (no control character).
STUDY_NAME = re.compile(r"^\w[\w.+-]{0,127}$")


def check_study_name(name: str) -> str:
    """``name`` if it can name a new study, else a one-line SpecError that says why."""
    if STUDY_NAME.fullmatch(name):
        return name
    why = "cannot be empty" if not name else f"{name!r} is not allowed"
    raise SpecError(
        f"--study: {why}; a study name is 1 to 128 letters, digits, '_', '.', '-' or '+', "
        "starting with a letter, digit or '_'"
    )


def default_study_name(space_name: str | None) -> str:
    """A space's name made fit for a study: every other character becomes ``-``."""
    name = re.sub(r"[^\w.+-]", "-", space_name or "")[:128].lstrip(".+-")
    return name or "study"


def _with_overrides(space: str | Path | SweepSpec, **changes: Any) -> SweepSpec:
    spec = space if isinstance(space, SweepSpec) else load_spec(space)
    if changes.get("data"):
        source = Path(str(changes["data"])).expanduser()
        changes["data"] = str(source.resolve()) if source.exists() else str(changes["data"])
    updates = {f"data.{'source' if k == 'data' else k}": v for k, v in changes.items() if v}
    if updates.get("data.source"):
        updates["data.kind"] = None
    return spec.replace(**updates) if updates else spec


def _reporting(
    name: str,
    url: str,
    report: bool | str | Path,
    every: int,
    on_trial: Callable[[TrialRecord], None] | None,
) -> Callable[[TrialRecord], None]:
    """Wrap ``on_trial`` so the report is refreshed every ``every`` trials."""
    seen = [0]

    def callback(outcome: TrialRecord) -> None:
        if on_trial is not None:
            on_trial(outcome)
        seen[0] += 1
        if every and seen[0] % every == 0:
            _write_report(Sweep(name, url), report)

    return callback


def _write_report(sweep: Sweep, report: bool | str | Path) -> Path | None:
    """Write the report; a failure is logged, never allowed to stop a sweep."""
    try:
        return sweep.report(None if report is True else Path(str(report)))
    except Exception as exc:  # noqa: BLE001 - a report must not break the sweep
        log.warning("report not written: %s", exc)
        return None


def compare(sweeps: list[Sweep], path: str | Path | None = None) -> Path:
    """Write one HTML report comparing several sweeps."""
    return write_report([s.record() for s in sweeps], path)


STUDY_COLUMNS = ["study", "space", "family", "task", "objective"]
STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING")


def delete_study(name: str, storage: str | None = None) -> list[str]:
    """Delete a study and every file it keeps (models, splits, tokenizers): the files'
    ids. Refuses (:class:`~automl.errors.StudyBusyError`) while its sweep or workers run."""
    from automl.study import delete

    url = storage_url(storage)
    study, plan = delete.plan(name, url)
    return delete.delete(study, url, plan).files


def studies(storage: str | None = None) -> pd.DataFrame:
    """One row per study in the storage: name, space, task, trials by state, best value."""
    url = storage_url(storage)
    opened = open_storage(url)  # one storage (one connection pool) for every study
    rows = []
    for summary in opened.get_all_studies():
        st = optuna.load_study(study_name=summary.study_name, storage=opened)
        rows.append(_study_row(records.read_study(st, url, models=False)))
    return pd.DataFrame(rows, columns=[*STUDY_COLUMNS, *STATES, "best"])


def _study_row(record: records.StudyRecord) -> dict[str, Any]:
    found = ranking.best(record.complete, record.objectives)
    return {
        "study": record.name,
        "space": record.space,
        "family": record.family,
        "task": record.task,
        "objective": ", ".join(o.metric for o in record.objectives)
        if record.made_by_automl
        else "",
        **{state: sum(t.state == state for t in record.trials) for state in STATES},
        "best": found[0].value if found and len(record.objectives) == 1 else None,
    }
