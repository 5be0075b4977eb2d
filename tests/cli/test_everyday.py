"""Everyday use: batch logs, --set, --json, watch, driver hints, optuna-dashboard."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import optuna
import pytest
from typer.testing import CliRunner

from automl.cli.main import app
from automl.errors import StorageError
from automl.ranking import Objective
from automl.run.progress import TrialLog
from automl.store.records import EPOCH, WORKER, TrialRecord
from automl.store.storage import open_storage
from tests.helpers import STARTED, tiny_spec, write_yaml

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One tiny sweep through the CLI, without a TTY, with two --set overrides."""
    root = tmp_path_factory.mktemp("everyday")
    space = write_yaml(root / "s.yaml", tiny_spec(name="tiny"))
    storage = str(root / "studies" / "journal.log")
    code, out = run(
        "tune", str(space), "--trials", "3", "--storage", storage, "--in-process",
        "--set", "training.max_epochs=2", "--set", "search.learning_rate.high=0.009",
        "--study", "a-rather-long-study-name-never-cut", "--no-report",
    )  # fmt: skip
    assert code == 0, out
    return {"storage": storage, "out": out, "name": "a-rather-long-study-name-never-cut"}


@pytest.mark.slow  # the swept fixture trains a 3-trial sweep
def test_batch_log_prints_one_line_per_trial(swept: dict[str, Any]) -> None:
    lines = [line for line in swept["out"].splitlines() if line.startswith("trial ")]
    assert [line.split()[1] for line in lines] == ["0", "1", "2"]
    assert all("COMPLETE val_accuracy=" in line and " best=" in line for line in lines)
    assert all("n_layers=" in line and "learning_rate=" in line for line in lines)


def test_trial_log_line_of_a_failure_and_flush() -> None:
    class Stream(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    stream = Stream()
    log = TrialLog(stream, verbose=True, clock=lambda: 0.0)
    log.start("s", Objective.of("val_accuracy"))
    done = TrialRecord(1, "COMPLETE", [0.9], {"units": 8}, duration_s=2.0)
    failed = TrialRecord(2, "FAIL", None, {"units": 9}, duration_s=1.25, fail_reason="nan")
    failed.fail_detail = "loss became nan at epoch 2"
    log.update(done)
    log.update(failed)
    lines = stream.getvalue().splitlines()
    assert lines[1] == "trial 1 COMPLETE val_accuracy=0.9 best=0.9 2.0s elapsed=0s units=8"
    assert lines[2].startswith("trial 2 FAIL (nan) best=0.9 1.2s elapsed=0s units=9")
    assert lines[2].endswith("detail: loss became nan at epoch 2")
    assert stream.flushes == 3  # every line at once, for tail -f


def test_quiet_prints_no_trial_lines(in_tmp: Path) -> None:
    space = write_yaml(in_tmp / "s.yaml", tiny_spec(training={"max_epochs": 1}))
    code, out = run("tune", str(space), "--trials", "1", "--in-process", "--quiet", "--no-report")
    assert code == 0, out
    assert not [line for line in out.splitlines() if line.startswith("trial ")]


@pytest.mark.slow  # the swept fixture trains a 3-trial sweep
def test_set_changes_the_stored_spec_and_the_report_shows_it(
    swept: dict[str, Any], tmp_path: Path
) -> None:
    study = optuna.load_study(study_name=swept["name"], storage=open_storage(swept["storage"]))
    spec = study.user_attrs["spec"]
    assert spec["training"]["max_epochs"] == 2
    assert spec["search"]["learning_rate"]["high"] == 0.009
    assert spec["overrides"] == {"training.max_epochs": 2, "search.learning_rate.high": 0.009}
    assert all(t.user_attrs["metrics"]["epochs"] <= 2 for t in study.trials)
    out = tmp_path / "r.html"
    code, text = run("report", swept["name"], "--storage", swept["storage"], "-o", str(out))
    assert code == 0, text
    assert "--set training.max_epochs=2 --set search.learning_rate.high=0.009" in out.read_text()


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("training.max_epochs=ten", "training.max_epochs"),
        ("data.text_colum=SMS", "unknown field 'text_colum'"),
        ("data.source.x=1", "--set data.source.x: data.source is a single value"),
        ("max_epochs", "expected KEY=VALUE"),
        ("search.dropout.high=1.5", "search.dropout"),
    ],
)
def test_bad_set_is_one_line_naming_the_key(item: str, expected: str, in_tmp: Path) -> None:
    spec = tiny_spec(search={"dropout": {"low": 0.0, "high": 0.3}})
    space = write_yaml(in_tmp / "s.yaml", spec)
    code, out = run("spaces", "--validate", str(space), "--set", item)
    assert code == 2 and expected in out, out
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out


def test_set_validates_and_json(in_tmp: Path) -> None:
    space = write_yaml(in_tmp / "s.yaml", tiny_spec())
    code, out = run("spaces", "--validate", str(space), "--set", "training.max_epochs=9", "--json")
    assert code == 0
    assert json.loads(out)["overrides"] == {"training.max_epochs": 9}


@pytest.mark.slow  # the swept fixture trains a 3-trial sweep
def test_set_refused_on_resume(swept: dict[str, Any]) -> None:
    code, out = run(
        "tune", swept["name"], "--resume", "--storage", swept["storage"], "--set", "keep=1"
    )
    assert code != 0 and "--set cannot change an existing study" in out


@pytest.mark.slow  # the swept fixture trains a 3-trial sweep
def test_json_outputs_are_one_document(swept: dict[str, Any]) -> None:
    code, out = run("studies", "--storage", swept["storage"], "--json")
    assert code == 0
    rows = json.loads(out)
    assert rows[0]["study"] == swept["name"] and rows[0]["COMPLETE"] == 3
    code, out = run("best", swept["name"], "--storage", swept["storage"], "--json")
    best = json.loads(out)
    assert best["trial"] in (0, 1, 2) and "val_accuracy" in best["validation"]
    assert "accuracy" in best["test"] and "n_layers" in best["params"]
    code, out = run("devices", "--gpus", "none", "--workers", "2", "--json")
    assert json.loads(out)["plan"][1] == {"slot": 1, "device": "cpu", "gpu": None, "threads": 1} | {
        "threads": json.loads(out)["plan"][1]["threads"]
    }
    code, out = run("spaces", "--json")
    assert "digits_cnn" in {s["name"] for s in json.loads(out)}


@pytest.mark.slow  # the swept fixture trains a 3-trial sweep
def test_studies_table_fits_80_columns_without_cutting_names(swept: dict[str, Any]) -> None:
    result = runner.invoke(app, ["studies", "--storage", swept["storage"]], env={"COLUMNS": "80"})
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert swept["name"] in result.output
    assert "COMPLETE" in result.output and "best" in result.output


@pytest.mark.slow  # the swept fixture trains a 3-trial sweep
def test_watch_once_shows_done_best_and_running(swept: dict[str, Any]) -> None:
    storage = open_storage(swept["storage"])
    study = optuna.load_study(study_name=swept["name"], storage=storage)
    # Workers record the epoch reached at every epoch end.
    assert all(t.user_attrs[EPOCH] == t.user_attrs["metrics"]["epochs"] for t in study.trials)
    running = study.ask()
    running.set_user_attr(WORKER, "gpu-box:4242")
    running.set_user_attr(EPOCH, 1)
    code, out = run("watch", swept["name"], "--storage", swept["storage"], "--once")
    assert code == 0, out
    assert f"{swept['name']}: 3 of 3 trials done, 1 running" in out
    assert "3 complete, 0 pruned, 0 failed" in out and "best val_accuracy (maximize): 0." in out
    assert "gpu-box:4242" in out and "1/2" in out
    code, out = run("watch", swept["name"], "--storage", swept["storage"], "--json")
    doc = json.loads(out)
    assert doc["running"][0]["worker"] == "gpu-box:4242" and doc["finished"] is False
    study.tell(running, state=optuna.trial.TrialState.FAIL)


def test_watch_unknown_study_is_one_line(in_tmp: Path) -> None:
    code, out = run("watch", "nope", "--once")
    assert code == 4 and "nope" in out and "Traceback" not in out


@pytest.mark.slow  # the swept fixture trains a 3-trial sweep
def test_automl_dashboard_serves_the_study_until_ctrl_c(swept: dict[str, Any]) -> None:
    pytest.importorskip("optuna_dashboard")
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl", "dashboard", swept["name"], "--storage",
         swept["storage"], "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip  # started with SIGINT ignored, as pytest-xdist's workers and nohup do
    STARTED.append(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("optuna-dashboard at http://127.0.0.1:"), line
    page = line.split()[2]
    root = page.split("/dashboard/")[0]
    with urllib.request.urlopen(page, timeout=30) as response:
        assert response.status == 200 and "<html" in response.read().decode().lower()
    study_id = page.rsplit("/", 1)[1]
    with urllib.request.urlopen(f"{root}/api/studies/{study_id}", timeout=30) as response:
        detail = json.loads(response.read())
    assert detail["name"] == swept["name"]
    assert sum(t["state"] == "Complete" for t in detail["trials"]) == 3
    # Ctrl-C while requests keep it busy: one caught mid-request must still stop it.
    busy = threading.Event()
    pollers = [
        threading.Thread(target=_poll, args=(f"{root}/api/studies/{study_id}", busy))
        for _ in range(4)
    ]
    for poller in pollers:
        poller.start()
    assert busy.wait(30)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    for poller in pollers:
        poller.join(timeout=30)
    assert proc.returncode == 0 and not err.strip(), err  # no line per request, no traceback


def _poll(url: str, busy: threading.Event) -> None:
    """Fetch ``url`` again and again until the server is gone."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()
        except OSError:
            return
        busy.set()


def test_automl_dashboard_of_a_missing_study_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("optuna_dashboard")
    code, out = run("dashboard", "nope", "--storage", str(tmp_path / "journal.log"))
    assert code == 4 and out.startswith("error: no study 'nope'") and out.count("\n") == 1, out


def test_automl_dashboard_without_its_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "optuna_dashboard", None)  # importing it now fails
    code, out = run("dashboard", "nope", "--storage", str(tmp_path / "journal.log"))
    assert code == 1 and "pip install '.[dashboard]'" in out and out.count("\n") == 1, out


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("mysql://user:s3cret@db/automl", "MySQLdb", ".[mysql]"),
        ("postgresql://user:s3cret@db/automl", "psycopg", ".[postgres]"),
    ],
)
def test_missing_driver_names_the_extra(
    url: str, module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (module, "psycopg2", "pymysql"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it now fails
    with pytest.raises(StorageError) as info:
        open_storage(url)
    message = str(info.value)
    assert f"pip install '{extra}'" in message and "s3cret" not in message


def test_missing_redis_driver_names_the_extra() -> None:
    # Optuna imports redis when it is first imported: block it in a fresh process.
    import subprocess

    code = (
        "import sys; sys.modules['redis'] = None\n"
        "from automl.store.storage import open_storage\n"
        "open_storage('redis://:s3cret@127.0.0.1:6379')\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=False
    )
    assert "pip install '.[redis]'" in done.stderr and "s3cret" not in done.stderr


@pytest.mark.slow  # the swept fixture trains a 3-trial sweep
def test_watch_follows_until_the_sweep_ends(swept: dict[str, Any]) -> None:
    code, out = run("watch", swept["name"], "--storage", swept["storage"], "--interval", "0.2")
    assert code == 0 and "(finished)" in out
