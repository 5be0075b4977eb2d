"""What a sweep shows while it runs: a line per trial without a terminal, a bar with each
running trial's epoch in one, nothing with verbose=0."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import automl
from automl.ranking import Objective
from automl.run import progress
from automl.search.spec import validate_spec
from automl.store import records
from automl.store.storage import load_study, open_storage
from tests.helpers import own_code, tiny_spec
from tests.helpers.sample_study import make_study

LINE = re.compile(
    r"trial (\d) COMPLETE val_accuracy=([\d.]+) best=([\d.]+) [\d.]+s elapsed=\d+s n_layers="
)


def test_tune_prints_a_line_per_trial_with_the_best_so_far_and_verbose_0_nothing(
    storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = validate_spec(tiny_spec(training={"max_epochs": 1, "batch_size": 256}))
    automl.tune(spec, trials=2, storage=storage, study="lines", in_process=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "study lines: val_accuracy (maximize)"
    found = [LINE.match(line) for line in lines[1:]]
    assert all(found) and len(found) == 2, lines
    values = [float(m.group(2)) for m in found if m]
    bests = [float(m.group(3)) for m in found if m]
    assert [int(m.group(1)) for m in found if m] == [0, 1]
    assert bests == [pytest.approx(max(values[: i + 1]), abs=1e-4) for i in range(2)]

    automl.tune("lines", trials=1, storage=storage, resume=True, in_process=True, verbose=0)
    assert capsys.readouterr().out == ""


def test_the_bar_shows_each_running_trials_epoch_from_the_storage(storage: str) -> None:
    study = make_study(storage, "bar", n_trials=2, states=["COMPLETE", "FAIL"], max_epochs=20)
    running = study.ask()
    reporter = records.EpochRecorder(running, prune=False)  # what a worker records
    for epoch in range(4):
        reporter.report(0.5, epoch)
    seen = load_study("bar", open_storage(storage), storage)
    assert progress.running(seen, 20) == [progress.Running(running.number, 4, 20)]

    screen = io.StringIO()
    console = progress.Console(file=screen, force_terminal=True, width=120)
    with progress.SweepProgress(console, total=5, poll_s=60) as bar:
        bar.start("bar", Objective.of("val_accuracy"), storage)
        bar.poll(seen)
    assert f"trial {running.number} epoch 4/20" in screen.getvalue()


def test_display_chooses_by_verbose_and_terminal() -> None:
    terminal = progress.Console(file=io.StringIO(), force_terminal=True)
    pipe = progress.Console(file=io.StringIO(), force_terminal=False, force_jupyter=False)
    assert isinstance(progress.display(0, 5, terminal), progress.Silent)
    assert isinstance(progress.display(1, 5, terminal), progress.SweepProgress)
    assert isinstance(progress.display(True, 5, pipe), progress.TrialLog)
    assert isinstance(progress.display(2, 5, terminal), progress.TrialLog)


@pytest.mark.slow  # two Tuner searches (about 10 s)
def test_tuner_search_shows_progress_unless_verbose_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = own_code.digits()
    shown = automl.Tuner(
        own_code.build_model, "val_accuracy", 1, directory=tmp_path, in_process=True
    )
    shown.search(x, y, epochs=1)
    assert re.search(r"^trial 0 COMPLETE val_accuracy=\S+ best=", capsys.readouterr().out, re.M)
    quiet = automl.Tuner(
        own_code.build_model, "val_accuracy", 1, directory=tmp_path, project_name="q",
        in_process=True,
    )  # fmt: skip
    quiet.search(x, y, epochs=1, verbose=0)  # KerasTuner's keyword, not passed to fit
    assert capsys.readouterr().out == ""
    assert quiet.sweep.record(models=False).trials[0].state == "COMPLETE"
