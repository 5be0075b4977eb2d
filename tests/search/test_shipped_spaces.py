"""Every ready search space, exactly as shipped, sweeps 2 trials through worker processes.

The space files are not copied or edited: ``automl tune NAME`` loads them from the package,
the trials run in ``automl worker`` processes (not ``--in-process``), and the stored search
space must equal the shipped one. Only the CLI's own ``--set training.max_epochs=1`` keeps
the time down, and spaces that read files get small generated data.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.data.make_interactions import generate
from automl.search.catalog import load_spec, ready_spaces
from automl.store.records import WORKER
from tests.helpers import make

pytestmark = pytest.mark.slow


def _interactions(implicit: bool) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "interactions.csv"
        generate(40, 60, 800, implicit=implicit, seed=1).to_csv(path, index=False)
        return path

    return write


# The data each space reads (None: a built-in dataset, as shipped).
DATA: dict[str, Callable[[Path], Path] | None] = {
    "audio_cnn": lambda d: make.audio(d / "recordings", per_class=6, seconds=0.5),
    "audio_rnn": lambda d: make.audio_manifest(d / "manifest", per_class=6),
    "breast_cancer_mlp": None,
    "diabetes_mlp": None,
    "digits_cnn": None,
    "digits_mlp": None,
    "image_folder_cnn": lambda d: make.images(d / "photos", per_class=8),
    "implicit_ncf": _interactions(implicit=True),
    "ratings_mf": _interactions(implicit=False),
    "sequence_lstm": lambda d: make.sequences_npz(d / "series.npz", n=60, steps=12),
    "tabular_csv_mlp": lambda d: make.tabular_csv(d / "table.csv", n=90),
    "text_conv1d": lambda d: make.text_csv(d / "reviews.csv", n=60),
    "text_lstm": lambda d: make.text_csv(d / "reviews.csv", n=60),
    "wine_mlp": None,
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_every_ready_space_is_run() -> None:
    assert set(DATA) == set(ready_spaces())


@pytest.mark.parametrize("name", sorted(DATA))
def test_shipped_space_sweeps_through_worker_processes(name: str, tmp_path: Path) -> None:
    maker = DATA[name]
    storage = str(tmp_path / "j.log")
    args = ["tune", name, "--trials", "2", "--workers", "2", "--storage", storage]
    args += ["--set", "training.max_epochs=1", "--no-report"]
    if maker is not None:
        args += ["--data", str(maker(tmp_path))]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    sweep = automl.load(name, storage)
    states = sorted(t.state.name for t in sweep.study.trials)
    assert len(states) == 2 and "COMPLETE" in states, (states, result.output)
    # Trials ran in worker processes, and on the shipped space, not an edited copy.
    workers = {t.user_attrs.get(WORKER, "") for t in sweep.study.trials}
    assert workers and all(w.rsplit(":", 1)[-1] != str(os.getpid()) for w in workers), workers
    assert sweep.spec.search == load_spec(ready_spaces()[name]).search
    assert sweep.spec.training.max_epochs == 1
