"""Commands that read studies and spaces: ``spaces``, ``studies``, ``best``, ``logs``,
``export``, ``recommend``, ``devices``, ``report``; and ``delete``, which removes a study."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from automl.cli.app import (
    JsonOpt,
    SetOpt,
    StorageOpt,
    _escape,
    _json,
    command,
    out,
)
from automl.options import DEFAULTS as D

ForceOpt = typer.Option(False, "--force", help="Replace the output file if it exists.")
StudyArg = typer.Argument(..., help="The study's name (see: automl studies).")


@command
def spaces(
    validate: Path | None = typer.Option(
        None, "--validate", help="Validate a search-space file and exit."
    ),
    sets: list[str] = SetOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List the ready search spaces, or validate a file."""
    from automl.cli import output as views
    from automl.search import overrides
    from automl.search.catalog import load_spec, ready_spaces

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
    rows = []
    for name, path in ready_spaces().items():
        spec = load_spec(path)
        rows.append((name, spec.model.family or "", spec.description or ""))
    with out.capture() as shown:  # rich pads each cell to its column: strip line ends
        out.print(views.spaces_table(rows))
    typer.echo("\n".join(line.rstrip() for line in shown.get().splitlines()))


def _cell(value: Any) -> str:
    from automl.cli.output import cell

    return cell(value)


@command
def studies(storage: str | None = StorageOpt, as_json: bool = JsonOpt) -> None:
    """List the studies in the storage: name, space, trials done, best value."""
    import automl
    from automl.cli import output as views

    frame = automl.studies(storage)
    if as_json:
        return _json(views.studies_doc(frame))
    if frame.empty:
        out.print("no studies yet; run: automl tune digits_cnn")
        return
    out.print(views.studies_table(frame, out.width))


@command
def best(
    study: str = StudyArg,
    storage: str | None = StorageOpt,
    as_json: bool = JsonOpt,
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Also each failed trial: why, and the end of its log."
    ),
) -> None:
    """Best parameters, validation metric and test metrics of a study."""
    import automl
    from automl.cli.output import baseline_lines, best_doc

    sweep = automl.load(study, storage)
    if as_json:
        return _json(best_doc(sweep))
    t = _best_or_failures(sweep, verbose)
    out.print(f"study {_escape(study)}: best trial {t.number}")
    for obj, value in zip(sweep.objectives, t.values or [], strict=False):
        out.print(f"  validation {obj.metric}: {value:.6g}")
    tests = sweep.test_metrics
    ensemble = tests.pop("ensemble", None)
    record = sweep.record(models=False)
    refit = record.refit or {}
    label = " (refit on train + validation)" if refit.get("trial") == t.number else ""
    for key, value in tests.items():
        out.print(f"  test {key}{label}: {value:.6g}")
    for key, value in (ensemble or {}).items():
        out.print(f"  test {key} (ensemble): {value:.6g}")
    for line in baseline_lines(record):
        out.print(_escape(line), soft_wrap=True)
    out.print(f"  params_count: {_cell(t.params_count)}, latency_ms: {_cell(t.latency_ms)}")
    out.print("  params:")
    for key, value in t.params.items():
        out.print(f"    {_escape(key)}: {_escape(_cell(value))}")
    if verbose:
        _failures(sweep)


def _best_or_failures(sweep: Any, verbose: bool) -> Any:
    """The best trial; with none, and ``verbose``, the failures are shown before the error."""
    from automl.errors import NoModelError

    try:
        return sweep.best_trial
    except NoModelError:
        if verbose:
            _failures(sweep)
        raise


def _plain(text: str) -> None:
    """Print text read from storage or a log as it is: no markup, no emoji codes."""
    out.print(text, markup=False, emoji=False, highlight=False, soft_wrap=True)


def _failures(sweep: Any) -> None:
    """Each failed trial: its reason and detail, and the last lines of its log."""
    record = sweep.record()
    failed = [t for t in record.trials if t.state == "FAIL"]
    tails = record.logs.tails if record.logs else {}
    out.print(f"  failed trials: {len(failed) or 'none'}")
    for t in failed:
        detail = f": {t.fail_detail}" if t.fail_detail else ""
        _plain(f"    trial {t.number} ({t.fail_reason or 'lost'}){detail}")
        lines = tails.get(t.number) or []
        if lines:
            _plain(f"      last lines of its log (automl logs {sweep.study_name} {t.number}):")
        for line in lines:
            _plain(f"      | {line}")


@command
def logs(
    study: str = StudyArg,
    trial: int = typer.Argument(..., min=0, help="The trial's number."),
    storage: str | None = StorageOpt,
    tail: int | None = typer.Option(None, "--tail", "-n", min=1, help="Only the last N lines."),
) -> None:
    """What a trial printed while it ran: its worker's stdout and stderr (the build code's
    print(), framework warnings, a failure's traceback)."""
    import automl

    text = automl.load(study, storage).trial_log(trial, tail=tail)
    if text.strip():
        _plain(text.rstrip("\n"))


@command
def export(
    study: str = StudyArg,
    out_path: Path = typer.Option(
        ..., "--out", "-o", help="Where to write: .keras, .onnx, .tflite, or a folder."
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        help="keras, saved_model, onnx or litert (default: from the --out suffix).",
    ),
    trial: int | None = typer.Option(None, "--trial", help="A trial number (default: best)."),
    ensemble: int | None = typer.Option(
        None, "--ensemble", min=0, help="Average the top N kept models (0: the sweep's choice)."
    ),
    storage: str | None = StorageOpt,
    force: bool = ForceOpt,
) -> None:
    """Write the best (or a given) trained model, or an ensemble, for serving.

    Formats: keras (.keras), saved_model (a folder: no suffix), onnx (.onnx), litert
    (.tflite). A JSON beside it (best.onnx.json; automl.json in a SavedModel folder) says
    what it takes and returns and how to preprocess. The model is written only if it is
    the file saved by its trial (SHA-256) and loads in Keras safe mode (no code inside),
    and an exported artifact only if its runtime gives the Keras model's outputs.
    """
    import automl

    sweep = automl.load(study, storage)
    path = sweep.export(out_path, trial, ensemble=ensemble, format=fmt, overwrite=force)
    out.print(f"wrote {_escape(str(path))}", soft_wrap=True)


@command
def recommend(
    study: str = StudyArg,
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
def devices(
    gpus: str = typer.Option(D.gpus, "--gpus", help="auto, none, or ids like 0,2."),
    trials_per_gpu: int = typer.Option(1, "--trials-per-gpu", min=1),
    workers: int | None = typer.Option(None, "--workers", min=1),
    as_json: bool = JsonOpt,
) -> None:
    """GPUs found, and the worker plan that these flags give."""
    from automl.cli.output import devices_doc
    from automl.run.devices import detect_gpus, plan

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
def report(
    studies: list[str] = typer.Argument(..., help="One study, or several to compare."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="HTML file (default: reports/<study>.html)."
    ),
    storage: str | None = StorageOpt,
    force: bool = ForceOpt,
) -> None:
    """Write a self-contained HTML report of one study, or comparing several."""
    import automl
    from automl.reports import write_report

    records = [automl.load(name, storage).record() for name in studies]
    # The default file is this report's own (tune rewrites it too); -o names any file.
    path = write_report(records, output, overwrite=force or output is None)
    out.print(f"wrote {_escape(str(path))}", soft_wrap=True)


@command
def delete(
    study: str = StudyArg,
    storage: str | None = StorageOpt,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a study and all its files (models, splits); refused while its workers run."""
    from automl.store.storage import storage_url
    from automl.study import delete as deleting

    url = storage_url(storage)
    found, plan = deleting.plan(study, url)
    question = f"delete study {study!r}: {plan.trials} trial(s), {len(plan.files)} file(s)?"
    if not yes and not _confirm(question):
        out.print("nothing deleted (--yes deletes without asking)")
        raise typer.Exit(1)
    deleting.delete(found, url, plan)
    out.print(f"deleted study {_escape(study)}: {plan.trials} trial(s), {len(plan.files)} file(s)")


def _confirm(question: str) -> bool:
    import click

    try:
        return typer.confirm(question, default=False)
    except click.exceptions.Abort:  # no answer: stdin closed
        return False
