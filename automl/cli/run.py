"""Commands that run sweeps: ``tune``, ``worker``, ``watch``."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from automl.cli.app import (
    STATE,
    JsonOpt,
    SetOpt,
    StorageOpt,
    _json,
    command,
    out,
)
from automl.options import DEFAULTS as D
from automl.options import TRIALS


# long: one parameter per option, each with its help; the body is short.
@command
def tune(
    space: str = typer.Argument(
        ..., help="A ready space's name or a YAML path; with --resume, the study to continue."
    ),
    study: str | None = typer.Option(None, "--study", help="Study name (default: the space's)."),
    trials: int = typer.Option(TRIALS, "--trials", min=1, help="Trials to run now."),
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds; no new trial after."),
    seed: int | None = typer.Option(None, "--seed", help="Sampler seed."),
    storage: str | None = StorageOpt,
    data: str | None = typer.Option(None, "--data", help="Replace the space's data source."),
    target: str | None = typer.Option(None, "--target", help="Target column of a CSV."),
    sets: list[str] = SetOpt,
    resume: bool = typer.Option(False, "--resume", help="Continue an existing study."),
    gpus: str = typer.Option(
        D.gpus, "--gpus", help="auto (every GPU; CPU when none), none, or ids like 0,2."
    ),
    trials_per_gpu: int = typer.Option(
        D.trials_per_gpu, "--trials-per-gpu", min=1, help="Workers per GPU."
    ),
    workers: int | None = typer.Option(
        D.workers, "--workers", min=1, help="CPU workers when no GPU is used (default 1)."
    ),
    max_trials_per_worker: int = typer.Option(
        D.max_trials_per_worker,
        "--max-trials-per-worker",
        min=1,
        help="Replace a worker after this many trials.",
    ),
    max_memory_mb: float | None = typer.Option(
        D.max_memory_mb,
        "--max-memory-mb",
        min=1,
        help="Replace a worker once its memory passes this.",
    ),
    max_retries: int = typer.Option(
        D.max_retries,
        "--max-retries",
        min=0,
        help="Retries of a trial lost to a crash or interrupt.",
    ),
    in_process: bool = typer.Option(
        False, "--in-process", help="Train in this process (no workers; for debugging)."
    ),
    ray: str | None = typer.Option(
        None,
        "--ray",
        metavar="ADDRESS",
        help="Run the trials on a Ray cluster: auto, HOST:PORT or ray://HOST:10001.",
    ),
    no_report: bool = typer.Option(False, "--no-report", help="Write no HTML report."),
    report_every: int = typer.Option(
        D.report_every,
        "--report-every",
        min=0,
        help="Refresh the report every N trials (0: at the end).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-trial output."),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="A line per trial with every parameter and fail detail."
    ),
    track: list[str] = typer.Option(
        [],
        "--track",
        metavar="TRACKER",
        help="Log trials to mlflow (MLFLOW_TRACKING_URI), mlflow=URI or tensorboard=DIR "
        "(repeatable).",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="No per-trial output; at the end, one JSON summary on stdout."
    ),
) -> None:
    """Run a sweep: train, prune, keep the best models, evaluate them on the test split."""
    import automl
    from automl.run.progress import display
    from automl.search.overrides import parse

    changes = parse(sets)
    level = 0 if quiet or as_json else 2 if verbose else 1
    with display(level, trials, console=out) as progress:
        sweep = automl.tune(
            space,
            trials=trials,
            study=study,
            storage=storage,
            timeout=timeout,
            seed=seed,
            data=data,
            target=target,
            overrides=changes,
            resume=resume,
            on_trial=progress.update,
            on_start=lambda name: _started(progress, name, storage),
            verbose=0,  # this command's own display, on its console
            gpus=gpus,
            trials_per_gpu=trials_per_gpu,
            workers=workers,
            max_trials_per_worker=max_trials_per_worker,
            max_memory_mb=max_memory_mb,
            max_retries=max_retries,
            in_process=in_process or (STATE["debug"] and not ray),
            ray=ray,
            report=not no_report,
            report_every=report_every,
            track=track,
        )
    report_path = None
    if not no_report:
        from automl.reports import default_path

        report_path = default_path([sweep.study_name])
        report_path = report_path if report_path.exists() else None
    if as_json:
        from automl.cli.output import tune_doc

        return _json(tune_doc(sweep, report_path))
    _summary(sweep)
    if report_path is not None:
        out.print(f"report: {report_path}", soft_wrap=True)


def _started(progress: Any, name: str, storage: str | None) -> None:
    import automl

    sweep = automl.load(name, storage)
    progress.start(name, sweep.objectives[0], sweep.storage)


def _summary(sweep: Any) -> None:
    from automl.cli.output import print_summary

    print_summary(out, sweep)


@command
def worker(
    study: str = typer.Argument(..., help="The study to work on."),
    storage: str | None = StorageOpt,
    max_trials: int | None = typer.Option(
        None, "--max-trials", min=1, help="Exit after this many trials (to be replaced)."
    ),
    max_memory_mb: float | None = typer.Option(
        None, "--max-memory-mb", min=1, help="Exit once memory passes this (to be replaced)."
    ),
    deadline: float | None = typer.Option(
        None, "--deadline", help="Unix time; no new trial after."
    ),
    slot: int = typer.Option(0, "--slot", hidden=True),
    alone: bool = typer.Option(False, "--alone", hidden=True),
    finalize_only: bool = typer.Option(False, "--finalize-only", hidden=True),
    fast_exit: bool = typer.Option(False, "--fast-exit", hidden=True),
    wait_study: bool = typer.Option(False, "--wait-study", hidden=True),
) -> None:
    """Run trials of an existing study until its budget is spent (any machine).

    A study of your own model code runs only with the key of the machine that started the
    sweep: set AUTOML_SECRET as it was set there, or copy its ~/.config/automl/key here.
    """
    from automl.run.worker import Limits
    from automl.run.worker_process import main
    from automl.store.storage import storage_url

    limits = Limits(max_trials=max_trials, max_memory_mb=max_memory_mb, deadline=deadline)
    url, only = storage_url(storage), finalize_only
    code = main(
        study, url, limits, slot=slot, alone=alone, finalize_only=only, wait_study=wait_study
    )
    if fast_exit:  # everything is stored; skip the framework's teardown (1-3 s for TF)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise typer.Exit(code)


@command
def watch(
    study: str = typer.Argument(..., help="The study to watch."),
    storage: str | None = StorageOpt,
    once: bool = typer.Option(False, "--once", help="Print one snapshot and exit."),
    interval: float = typer.Option(2.0, "--interval", min=0.2, help="Seconds between refreshes."),
    as_json: bool = JsonOpt,
) -> None:
    """Live view of a running sweep: done, running (worker, epoch), best, failures, ETA."""
    from automl.cli import watch as live
    from automl.store.storage import storage_url

    url = storage_url(storage)
    if as_json:
        return _json(live.as_doc(live.snapshot(study, url)))
    if once:
        out.print(live.render(live.snapshot(study, url)), soft_wrap=True)
        return
    live.follow(out, study, url, interval)
