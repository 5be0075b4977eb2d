"""A full disk end to end: a process whose files cannot grow (RLIMIT_FSIZE, as a full disk
answers EFBIG/ENOSPC) fails the trial that saves a model, and stops with one line when the
study itself cannot be written. Nothing stored before is touched."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import automl
from tests.helpers import tiny_spec, write_yaml

pytestmark = pytest.mark.slow


def _tune_limited(limit: int, url: str) -> subprocess.CompletedProcess[str]:
    def cap() -> None:  # runs in the child: files past `limit` bytes fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    args = ["tune", "full", "--resume", "--trials", "1", "--in-process", "--no-report"]
    return subprocess.run(
        [sys.executable, "-m", "automl", *args, "--storage", url],
        preexec_fn=cap,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_full_disk_fails_the_saving_trial_and_stops_a_study_that_cannot_be_written(
    tmp_path: Path,
) -> None:
    raw = tiny_spec(ensemble=0, search={"n_layers": 1, "units": 256, "learning_rate": 3e-3})
    raw["training"] = {"max_epochs": 1, "batch_size": 64}
    url = str(tmp_path / "j.log")
    space = write_yaml(tmp_path / "s.yaml", raw)
    automl.tune(space, study="full", trials=1, storage=url, in_process=True)
    (saved,) = [p for p in (tmp_path / "artifacts").iterdir() if p.stat().st_size > 100_000]
    model_bytes = saved.read_bytes()
    journal = Path(url)

    # Room for the study's records, none for a model (a model here is over 100 kB).
    done = _tune_limited(journal.stat().st_size + 30_000, url)
    assert done.returncode == 0, done.stdout + done.stderr
    trials = automl.load("full", url).record().trials
    assert [(t.state, t.fail_reason) for t in trials] == [("COMPLETE", ""), ("FAIL", "disk_full")]
    assert saved.read_bytes() == model_bytes
    assert automl.load("full", url).model(0).count_params() == trials[0].params_count

    # No room at all: the study cannot be written. One line, a non-zero exit, no traceback.
    before = journal.read_bytes()
    stopped = _tune_limited(100, url)
    lines = stopped.stderr.strip().splitlines()
    assert stopped.returncode != 0 and len(lines) == 1, stopped.stdout + stopped.stderr
    assert lines[0].startswith("error: cannot write") and "disk is full" in lines[0]
    assert journal.read_bytes() == before
    assert [t.state for t in automl.load("full", url).record().trials] == ["COMPLETE", "FAIL"]
