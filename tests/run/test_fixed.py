"""Fixes that each had no test: masking, atomic creation, data fingerprint, split cache,
unique report temp files, workers that end with their conductor."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
from typer.testing import CliRunner

from automl.cli.main import app
from automl.store import storage
from tests.helpers import tiny_spec, write_yaml

SECRET = "pA5s-w0rd"
URLS = [
    f"postgresql://alice:{SECRET}@db.example:5432/studies",
    f"postgresql+psycopg2://alice:{SECRET}@db.example/studies?sslmode=require",
    f"postgresql://alice:{SECRET}@extra@db.example/studies",  # '@' inside the password
    "postgresql://alice:pA5s%40w0rd@db.example/studies",  # percent-encoded '@'
    f"postgresql://db.example/studies?user=alice&password={SECRET}",
    f"mysql+pymysql://alice:{SECRET}@db.example/studies",
    f"redis://:{SECRET}@cache.example:6379/0",
    f"rediss://alice:{SECRET}@cache.example:6380",
    f"redis://cache.example:6379?password={SECRET}",
]


@pytest.mark.parametrize("url", URLS)
def test_every_url_form_is_masked_and_scrubbed(url: str) -> None:
    masked = storage.mask(url)
    assert "pA5s" not in masked and "***" in masked
    assert masked.split("://")[0] == url.split("://")[0]
    # A driver may echo the URL and the password itself, decoded.
    said = "pA5s@w0rd" if "%40" in url else f"{SECRET}@extra" if "@extra" in url else SECRET
    echoed = f'connection to "{url}" failed: FATAL password "{said}" rejected'
    assert "pA5s" not in storage.scrub(echoed, url)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://alice:{SECRET}@127.0.0.1:1/test",
        f"postgresql://alice:{SECRET}@x@127.0.0.1:1/test",
        f"postgresql://127.0.0.1:1/test?user=alice&password={SECRET}",
        f"redis://:{SECRET}@127.0.0.1:1/0",
    ],
)
def test_cli_error_for_an_unreachable_storage_shows_no_password(url: str, in_tmp: Path) -> None:
    result = CliRunner().invoke(app, ["studies", "--storage", url])
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot open storage")
    assert "pA5s" not in result.output


def test_sweep_repr_and_record_show_no_password() -> None:
    from automl.api import Sweep

    sweep = Sweep("s", f"postgresql://alice:{SECRET}@db.example/studies")
    assert SECRET not in repr(sweep) and "alice:***@db.example" in repr(sweep)


def test_a_half_made_study_is_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from automl.search.catalog import load_spec
    from automl.study import create as study_module

    url = str(tmp_path / "journal.log")
    real = study_module._fill

    def interrupted(study: optuna.Study, *args: Any) -> None:
        study.set_user_attr("task", "classification")  # part of it was written...
        raise KeyboardInterrupt  # ...then Ctrl-C

    monkeypatch.setattr(study_module, "_fill", interrupted)
    spec = load_spec(write_yaml(tmp_path / "s.yaml", tiny_spec()))
    with pytest.raises(KeyboardInterrupt):
        study_module.create(spec, "half", url)
    assert storage.study_names(storage.open_storage(url)) == []
    monkeypatch.setattr(study_module, "_fill", real)
    study_module.create(spec, "half", url)  # the name is free again
    assert storage.study_names(storage.open_storage(url)) == ["half"]


def test_resume_after_one_feature_value_changed_says_the_data_changed(in_tmp: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.random(60), "b": rng.random(60), "label": [0, 1] * 30})
    csv = in_tmp / "t.csv"
    frame.to_csv(csv, index=False)
    spec = write_yaml(in_tmp / "t.yaml", tiny_spec(data={"source": str(csv), "target": "label"}))
    from automl.search.catalog import load_spec
    from automl.study import create as study_module

    study_module.create(load_spec(spec), "t", None)
    frame.loc[17, "a"] = 0.123456  # one feature value; same labels and shape
    frame.to_csv(csv, index=False)
    result = CliRunner().invoke(app, ["tune", "t", "--resume", "--trials", "1", "--in-process"])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "the data changed" in lines[0] and "Traceback" not in result.output


def test_a_study_recreated_under_the_same_name_gets_its_new_split(tmp_path: Path) -> None:
    from automl.search.catalog import load_spec
    from automl.study import context
    from automl.study import create as study_module

    url = str(tmp_path / "journal.log")
    opened = storage.open_storage(url)
    spec = load_spec(write_yaml(tmp_path / "s.yaml", tiny_spec()))
    study_module.create(spec, "same", url)
    first = context.splits_of(storage.load_study("same", opened, url), url)
    optuna.delete_study(study_name="same", storage=opened)
    study_module.create(spec.replace(**{"data.split_seed": 7}), "same", url)
    second = context.splits_of(storage.load_study("same", opened, url), url)
    assert not np.array_equal(first.y_val, second.y_val)
    fresh = context._load_splits(storage.load_study("same", opened, url), spec, url)
    assert np.array_equal(second.y_val, fresh.y_val)


def test_writers_of_one_report_use_their_own_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl import reports
    from automl.reports import collect, html

    barrier = threading.Barrier(4)
    temps: list[str] = []
    real_write = Path.write_text

    def render(data: Any) -> str:
        barrier.wait(timeout=10)  # all four write at the same moment
        return f"<html>{threading.get_ident()}</html>" + "x" * 200_000

    def write_text(self: Path, text: str, **kwargs: Any) -> int:
        temps.append(self.name)
        return real_write(self, text, **kwargs)

    monkeypatch.setattr(html, "render", render)
    monkeypatch.setattr(collect, "collect", lambda studies: None)
    monkeypatch.setattr(Path, "write_text", write_text)
    out = tmp_path / "r.html"
    errors: list[BaseException] = []

    def write() -> None:
        try:
            reports.write_report([SimpleNamespace(name="r")], out)  # type: ignore[list-item]
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(temps)) == 4
    page = out.read_text()
    assert page.startswith("<html>") and len(page) == len(page.split("</html>")[0]) + 200_007
    assert not list(tmp_path.glob(".*.tmp"))


CHILD = textwrap.dedent(
    """
    import sys, time
    from automl.run import parent_watch as parent
    if sys.argv[1] == "thread":
        parent._deathsig = lambda: False
        parent.POLL_S = 0.2
    print(parent.watch(), flush=True)
    time.sleep(60)
    """
)
PARENT = textwrap.dedent(
    """
    import os, subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]],
        env={**os.environ, "AUTOML_PARENT_PID": str(os.getpid())}, stdout=subprocess.PIPE,
        text=True)
    print(child.pid, child.stdout.readline().strip(), flush=True)
    os._exit(0)  # the conductor dies without stopping its worker
    """
)


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


@pytest.mark.parametrize("how", ["kernel", "thread"])
def test_a_worker_ends_when_its_conductor_dies(how: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    out = subprocess.run(
        [sys.executable, "-c", PARENT, CHILD, how],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    pid, watched = int(out[0]), out[1]
    try:
        assert watched == how
        end = time.monotonic() + 10
        while not _gone(pid) and time.monotonic() < end:
            time.sleep(0.1)
        assert _gone(pid), "the worker outlived its conductor"
    finally:
        if not _gone(pid):
            os.kill(pid, 9)


def test_a_worker_whose_conductor_is_already_gone_stops_at_once() -> None:
    code = "from automl.run import parent_watch; import time; parent_watch.watch(1); time.sleep(30)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run([sys.executable, "-c", code], env=env, timeout=30, check=False)
    assert done.returncode == -15  # SIGTERM: the worker's handler records its trial
