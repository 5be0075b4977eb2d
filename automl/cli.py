"""The ``automl`` command: thin Typer commands over the API.

The library raises :class:`~automl.errors.AutoMLError`; only this module turns errors into
one-line messages and exit codes (a traceback only with ``--debug``).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from automl.errors import AutoMLError
from automl.options import DEFAULTS as D
from automl.options import TRIALS

app = typer.Typer(
    name="automl",
    help="Tune Keras models from YAML search spaces (Optuna inside).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)
STATE = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])

StorageOpt = typer.Option(
    None,
    "--storage",
    envvar="AUTOML_STORAGE",
    show_envvar=True,
    help="Optuna storage URL (default: ./automl_studies/journal.log).",
)
JsonOpt = typer.Option(False, "--json", help="Print one JSON document on stdout, nothing else.")
SetOpt = typer.Option(
    [], "--set", help="Replace a spec field: KEY=VALUE, dotted KEY, YAML VALUE (repeatable)."
)


def _json(doc: Any) -> None:
    from automl.views import dumps

    typer.echo(dumps(doc))


def command(fn: F) -> F:
    """Register a command whose AutoMLErrors become one line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except AutoMLError as exc:
            if STATE["debug"]:
                raise
            err.print(f"[red]error:[/red] {_escape(str(exc))}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/yellow]")
            raise typer.Exit(130) from None
        except Exception as exc:
            if STATE["debug"]:
                raise
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            err.print(
                f"[red]error:[/red] {type(exc).__name__}: {_escape(text)} "
                "(run with --debug for the traceback)"
            )
            raise typer.Exit(1) from None

    app.command()(wrapper)
    return wrapper  # type: ignore[return-value]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and framework logs."),
) -> None:
    STATE["debug"] = debug
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        logging.getLogger("automl").setLevel(logging.DEBUG)


@command
def spaces(
    validate: Path | None = typer.Option(
        None, "--validate", help="Validate a search-space file and exit."
    ),
    sets: list[str] = SetOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List the ready search spaces, or validate a file."""
    from automl import overrides, views
    from automl.spaces import load_spec, ready_spaces

    if validate is not None:
        spec = overrides.apply(load_spec(validate), overrides.parse(sets), origin=str(validate))
        if as_json:
            return _json(views.validated_doc(validate, spec))
        n = len(spec.search) + len(spec.augmentation)
        out.print(
            f"ok: {validate} ({spec.model.family or spec.model.build}, {n} parameters, "
            f"data {spec.data.source})",
            soft_wrap=True,
        )
        return
    if as_json:
        return _json(views.spaces_doc(ready_spaces(), load_spec))
    for name, path in ready_spaces().items():
        spec = load_spec(path)
        out.print(f"{name:<20} {spec.model.family:<6} {spec.description}", soft_wrap=True)


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
) -> None:
    """Run a sweep: train, prune, keep the best models, evaluate them on the test split."""
    import automl
    from automl.overrides import parse
    from automl.trial_log import display

    changes = parse(sets)
    with display(out, trials, quiet=quiet, verbose=verbose) as progress:
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
            on_start=lambda name: progress.start(name, automl.load(name, storage).objectives[0]),
            gpus=gpus,
            trials_per_gpu=trials_per_gpu,
            workers=workers,
            max_trials_per_worker=max_trials_per_worker,
            max_memory_mb=max_memory_mb,
            max_retries=max_retries,
            in_process=in_process or STATE["debug"],
            report=not no_report,
            report_every=report_every,
        )
    _summary(sweep)
    if not no_report:
        from automl.reports import default_path

        path = default_path([sweep.study_name])
        if path.exists():
            out.print(f"report: {path}", soft_wrap=True)


def _summary(sweep: Any) -> None:
    from automl.views import print_summary

    print_summary(out, sweep)


def _cell(value: Any) -> str:
    from automl.views import cell

    return cell(value)


@command
def studies(storage: str | None = StorageOpt, as_json: bool = JsonOpt) -> None:
    """List the studies in the storage: name, space, trials done, best value."""
    import automl
    from automl import views

    frame = automl.studies(storage)
    if as_json:
        return _json(views.studies_doc(frame))
    if frame.empty:
        out.print("no studies yet; run: automl tune digits_cnn")
        return
    out.print(views.studies_table(frame, out.width))


@command
def best(
    study: str = typer.Argument(...), storage: str | None = StorageOpt, as_json: bool = JsonOpt
) -> None:
    """Best parameters, validation metric and test metrics of a study."""
    import automl
    from automl.views import best_doc

    sweep = automl.load(study, storage)
    if as_json:
        return _json(best_doc(sweep))
    t = sweep.best_trial
    out.print(f"study {_escape(study)}: best trial {t.number}")
    for obj, value in zip(sweep.objectives, t.values or [], strict=False):
        out.print(f"  validation {obj.metric}: {value:.6g}")
    tests = sweep.test_metrics
    ensemble = tests.pop("ensemble", None)
    refit = sweep.record(models=False).refit or {}
    label = " (refit on train + validation)" if refit.get("trial") == t.number else ""
    for key, value in tests.items():
        out.print(f"  test {key}{label}: {value:.6g}")
    for key, value in (ensemble or {}).items():
        out.print(f"  test {key} (ensemble): {value:.6g}")
    out.print(f"  params_count: {_cell(t.params_count)}, latency_ms: {_cell(t.latency_ms)}")
    out.print("  params:")
    for key, value in t.params.items():
        out.print(f"    {_escape(key)}: {_escape(_cell(value))}")


@command
def export(
    study: str = typer.Argument(...),
    out_path: Path = typer.Option(..., "--out", "-o", help="Where to write the .keras file."),
    trial: int | None = typer.Option(None, "--trial", help="A trial number (default: best)."),
    ensemble: int | None = typer.Option(
        None, "--ensemble", min=0, help="Average the top N kept models (0: the sweep's choice)."
    ),
    storage: str | None = StorageOpt,
) -> None:
    """Write the best (or a given) trained model, or an ensemble, as a .keras file."""
    import automl

    path = automl.load(study, storage).export(out_path, trial, ensemble=ensemble)
    out.print(f"wrote {path}")


@command
def recommend(
    study: str = typer.Argument(...),
    user: list[str] = typer.Option(..., "--user", "-u", help="A user id (repeat for more)."),
    k: int = typer.Option(10, "--k", min=1, help="Items per user."),
    include_seen: bool = typer.Option(False, "--include-seen", help="Keep items already seen."),
    storage: str | None = StorageOpt,
) -> None:
    """Top-K items per user from a recommender study's best model."""
    import automl

    frame = automl.load(study, storage).recommend(user, k=k, exclude_seen=not include_seen)
    for row in frame.itertuples(index=False):
        score = "cold start" if row.score != row.score else f"{row.score:.4f}"
        out.print(f"{_escape(str(row.user))}\t{_escape(str(row.item))}\t{score}")


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
    """Run trials of an existing study until its budget is spent (any machine)."""
    from automl.process import main
    from automl.storage import storage_url
    from automl.worker import Limits

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
def devices(
    gpus: str = typer.Option(D.gpus, "--gpus", help="auto, none, or ids like 0,2."),
    trials_per_gpu: int = typer.Option(1, "--trials-per-gpu", min=1),
    workers: int | None = typer.Option(None, "--workers", min=1),
    as_json: bool = JsonOpt,
) -> None:
    """GPUs found, and the worker plan that these flags give."""
    from automl.devices import detect_gpus, plan
    from automl.views import devices_doc

    found = detect_gpus()
    if as_json:
        return _json(devices_doc(found, plan(gpus, trials_per_gpu, workers)))
    if found:
        for g in found:
            memory = f", {g.memory_mb} MiB" if g.memory_mb else ""
            out.print(f"GPU {g.index}: {_escape(g.name) or 'unknown'}{memory}", soft_wrap=True)
    else:
        out.print("no GPU found: workers run on the CPU")
    slots = plan(gpus, trials_per_gpu, workers)
    table = Table(title=f"worker plan: {len(slots)} slot(s)")
    for col in ("slot", "device", "CPU threads"):
        table.add_column(col)
    for s in slots:
        table.add_row(str(s.number), f"GPU {s.gpu}" if s.gpu is not None else "CPU", str(s.threads))
    out.print(table)


@command
def watch(
    study: str = typer.Argument(..., help="The study to watch."),
    storage: str | None = StorageOpt,
    once: bool = typer.Option(False, "--once", help="Print one snapshot and exit."),
    interval: float = typer.Option(2.0, "--interval", min=0.2, help="Seconds between refreshes."),
    as_json: bool = JsonOpt,
) -> None:
    """Live view of a running sweep: done, running (worker, epoch), best, failures, ETA."""
    from automl import live
    from automl.storage import storage_url

    url = storage_url(storage)
    if as_json:
        return _json(live.as_doc(live.snapshot(study, url)))
    if once:
        out.print(live.render(live.snapshot(study, url)), soft_wrap=True)
        return
    live.follow(out, study, url, interval)


@command
def report(
    studies: list[str] = typer.Argument(..., help="One study, or several to compare."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="HTML file (default: reports/<study>.html)."
    ),
    storage: str | None = StorageOpt,
) -> None:
    """Write a self-contained HTML report of one study, or comparing several."""
    import automl

    path = automl.compare([automl.load(name, storage) for name in studies], output)
    out.print(f"wrote {path}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/yellow]")
        sys.exit(130)
