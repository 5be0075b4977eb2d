"""Sweeps on a real Ray cluster of two nodes on this machine (``--ray``).

One cluster serves the whole module (``ray start`` is heavy on two cores): a head and a
second node, one CPU and one (declared) GPU each, on loopback addresses. Its nodes run
with no signing key of their own, so a study of the user's code that trains there proves
the key came from the driver. Sweeps run as ``automl tune`` processes, as a user runs them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest

from tests.helpers import STARTED, missing, tiny_spec, write_yaml
from tests.helpers.processes import trials_of, wait_for

pytestmark = pytest.mark.xdist_group("ray")
SECRET = "ray-sweep-secret-0123456789abcdef"  # the driver's key: the nodes have none
BUILD = """
import keras


def build_model(hp, input_shape, n_classes):
    model = keras.Sequential([keras.Input(input_shape), keras.layers.Flatten()])
    model.add(keras.layers.Dense(hp.Int("units", 8, 32, step=8), activation="relu"))
    model.add(keras.layers.Dense(n_classes, activation="softmax"))
    return model
"""


@pytest.fixture(scope="session")
def cluster() -> Iterator[Any]:
    try:
        import ray  # noqa: F401
    except ImportError:
        missing("ray is not installed (pip install '.[ray]')")
    from tests.helpers.ray_cluster import LocalCluster

    local = LocalCluster(env={"AUTOML_KEY_FILE": "/nonexistent/automl/key"})
    local.env.pop("AUTOML_SECRET", None)
    local.start()
    yield local
    local.stop()
    assert not local.processes(), "Ray processes outlived the cluster"


def tune(
    folder: Path, space: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl", "tune", space, *args],
        cwd=folder,
        env={**_without(os.environ, "AUTOML_STORAGE"), "AUTOML_SECRET": SECRET, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    STARTED.append(proc)
    return proc


def _without(env: Any, *names: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in names}


def storage_of(folder: Path) -> str:
    return str(folder / "automl_studies" / "journal.log")


def placed(t: optuna.trial.FrozenTrial) -> dict[str, str]:
    return dict(t.user_attrs.get("placement") or {})


def test_an_unreachable_cluster_is_one_line_and_makes_no_study(tmp_path: Path) -> None:
    from tests.helpers.ray_cluster import free_port

    pytest.importorskip("ray")
    write_yaml(tmp_path / "tiny.yaml", tiny_spec())
    port = free_port()  # nothing listens on it
    proc = tune(tmp_path, "tiny.yaml", "--trials", "1", "--ray", f"127.0.0.1:{port}")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --ray 127.0.0.1:"), err
    assert "cannot reach the Ray cluster" in lines[0] and "Traceback" not in err
    journal = Path(storage_of(tmp_path))
    assert not journal.exists() or not optuna.get_all_study_names(storage=_open(str(journal)))


def _open(url: str) -> Any:
    from automl.store.storage import open_storage

    return open_storage(url)


@pytest.mark.slow
def test_own_code_sweep_places_half_gpu_trials_on_both_nodes_with_report_and_test(
    cluster: Any, tmp_path: Path
) -> None:
    (tmp_path / "models.py").write_text(BUILD, encoding="utf-8")
    space = {
        "data": {"source": "digits"},
        "model": {"build": "models.py:build_model"},
        "training": {"max_epochs": 6, "patience": 6, "batch_size": 32},
        "sampler": {"name": "random", "seed": 0},
        "keep": 2,
    }
    write_yaml(tmp_path / "own.yaml", space)
    # One trial per worker task: Ray's placement (two half-GPU tasks per node) decides
    # where each trial runs, not which node's worker happened to start first.
    args = ["--study", "own", "--trials", "4", "--trials-per-gpu", "2", "--ray", cluster.address]
    args += ["--max-trials-per-worker", "1"]
    proc = tune(tmp_path, "own.yaml", *args)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    assert "Traceback" not in err and "(raylet)" not in out + err

    import automl

    sweep = automl.load("own", storage_of(tmp_path))
    trials = sweep.study.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4
    nodes = {placed(t)["ray_node"] for t in trials}
    assert len(nodes) == 2  # Ray spread the trials over both nodes
    assert {placed(t)["device"] for t in trials} == {"gpu 0"}  # each node's one GPU
    # Half a GPU each: two trials trained at the same time on one node.
    assert any(_overlap([t for t in trials if placed(t)["ray_node"] == n]) for n in nodes)
    board = sweep.leaderboard()
    assert set(board["ray_node"]) == nodes and set(board["device"]) == {"gpu 0"}
    assert "accuracy" in sweep.test_metrics  # evaluated on the test split, on the cluster
    html = (tmp_path / "reports" / "own.html").read_text(encoding="utf-8")
    assert next(iter(nodes)) in html and "ray_node" in html
    # The key reached the workers without entering the storage, the artifacts or Ray's logs.
    for folder in (tmp_path / "automl_studies", cluster.temp_dir):
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                with open(path, "rb") as f:
                    assert SECRET.encode() not in f.read(), path


def _overlap(trials: list[optuna.trial.FrozenTrial]) -> bool:
    spans = sorted((t.datetime_start, t.datetime_complete) for t in trials)
    return any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))


def _training(url: str, name: str) -> optuna.trial.FrozenTrial | None:
    """A running trial on the cluster that has finished an epoch."""
    for t in trials_of(name, url):
        if t.state.name == "RUNNING" and placed(t).get("ray_task") and t.user_attrs.get("epoch"):
            return t
    return None


def _slow_space(folder: Path) -> None:
    training = {"max_epochs": 40, "patience": 40, "batch_size": 32}
    write_yaml(folder / "slow.yaml", tiny_spec(name="slow", training=training))


@pytest.mark.slow
def test_a_killed_ray_worker_fails_its_trial_as_lost_and_the_retry_completes(
    cluster: Any, tmp_path: Path
) -> None:
    _slow_space(tmp_path)
    url = storage_of(tmp_path)
    proc = tune(tmp_path, "slow.yaml", "--trials", "1", "--no-report", "--ray", cluster.address)
    victim = wait_for(lambda: _training(url, "slow"), 180, "a trial training on Ray")
    assert isinstance(victim, optuna.trial.FrozenTrial)
    from automl.cli import watch

    running = watch.as_doc(watch.snapshot("slow", url))["running"]
    mine = next(r for r in running if r["trial"] == victim.number)
    assert mine["device"] == "gpu 0" and mine["ray_node"] == placed(victim)["ray_node"]
    pid = int(str(victim.user_attrs["worker"]).rpartition(":")[2])
    os.kill(pid, signal.SIGKILL)  # the Ray worker process, in the middle of the trial
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    assert "(raylet)" not in out + err  # Ray's message of the death stays in --debug
    trials = {t.number: t for t in trials_of("slow", url)}
    lost = trials[victim.number]
    assert lost.state.name == "FAIL" and lost.user_attrs["fail_reason"] == "lost"
    assert "Ray" in lost.user_attrs["fail_detail"]
    retry = [t for t in trials.values() if t.user_attrs.get("retry_of") == victim.number]
    assert len(retry) == 1 and retry[0].state.name == "COMPLETE"
    assert retry[0].params == lost.params
    assert not [t for t in trials.values() if t.state.name in ("RUNNING", "WAITING")]
    assert sum(t.state.name == "COMPLETE" for t in trials.values()) == 1


@pytest.mark.slow
def test_ctrl_c_cancels_the_ray_work_and_the_study_resumes(cluster: Any, tmp_path: Path) -> None:
    _slow_space(tmp_path)
    url = storage_of(tmp_path)
    proc = tune(tmp_path, "slow.yaml", "--trials", "1", "--no-report", "--ray", cluster.address)
    victim = wait_for(lambda: _training(url, "slow"), 180, "a trial training on Ray")
    assert isinstance(victim, optuna.trial.FrozenTrial)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert time.monotonic() - started < 40
    assert "interrupted" in err and "Traceback" not in err
    trials = trials_of("slow", url)
    assert not [t for t in trials if t.state.name == "RUNNING"]
    cut = next(t for t in trials if t.number == victim.number)
    assert cut.state.name == "FAIL" and cut.user_attrs["fail_reason"] == "interrupted"
    queued = [t for t in trials if t.state.name == "WAITING"]
    assert any(t.user_attrs.get("retry_of") == victim.number for t in queued)
    # --resume goes on where it stopped, the queued retry first.
    done = tune(
        tmp_path, "slow", "--resume", "--trials", "1", "--no-report", "--ray", cluster.address
    )
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, out + err
    trials = trials_of("slow", url)
    again = [t for t in trials if t.user_attrs.get("retry_of") == victim.number]
    assert [t.state.name for t in again] == ["COMPLETE"]
    assert not [t for t in trials if t.state.name == "RUNNING"]


@pytest.mark.slow
def test_a_sweep_through_ray_client_runs_to_the_end(cluster: Any, tmp_path: Path) -> None:
    # ray://HOST:PORT: the driver talks to the cluster only through Ray Client's server,
    # as from a machine outside the cluster.
    write_yaml(tmp_path / "tiny.yaml", tiny_spec())
    address = f"ray://{cluster.address.rpartition(':')[0]}:{cluster.client_port}"
    proc = tune(tmp_path, "tiny.yaml", "--trials", "2", "--no-report", "--ray", address)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err + cluster.client_server_log()
    assert "Traceback" not in err
    trials = trials_of("tiny", storage_of(tmp_path))
    assert [t.state.name for t in trials] == ["COMPLETE"] * 2
    assert all(placed(t).get("ray_node") for t in trials)  # trained on the cluster


def test_a_ray_client_server_failure_says_what_failed() -> None:
    # Ray Client reports a failure on the head as one line and then the head's traceback:
    # the one line a user sees keeps the traceback's last line, the cause.
    from automl.run.ray_connect import line

    exc = ConnectionAbortedError(
        "Initialization failure from server:\nTraceback (most recent call last):\n"
        '  File "proxier.py", line 776, in Datapath\n'
        "RuntimeError: Proxy failed to Connect to backend! Check `ray_client_server.err`\n"
    )
    said = line(exc)
    assert said.startswith("Initialization failure from server")
    assert said.endswith(
        "RuntimeError: Proxy failed to Connect to backend! Check `ray_client_server.err`"
    )
    assert line(ValueError("first\nsecond")) == "first" and line(ValueError()) == "ValueError"


def _node(cpus: float, gpus: float = 0, alive: bool = True) -> dict[str, Any]:
    return {"Alive": alive, "Resources": {"CPU": cpus, "GPU": gpus}}


def test_each_worker_asks_for_its_share_of_a_gpu_and_of_its_nodes_cpus() -> None:
    from automl.options import RunOptions
    from automl.run.ray_runner import Shape, plan_shape

    two_gpu_nodes = [_node(1, 1), _node(1, 1), _node(64, 0, alive=False)]
    halves = plan_shape(two_gpu_nodes, RunOptions(trials_per_gpu=2, ray="auto"))
    assert halves == Shape(gpus=0.5, cpus=0.5, parallel=4)  # two at once on each node
    thirds = plan_shape([_node(12, 4)], RunOptions(trials_per_gpu=3, ray="auto"))
    assert thirds == Shape(gpus=0.3333, cpus=1.0, parallel=12)
    cpu_only = plan_shape([_node(8, 2), _node(4)], RunOptions(gpus="none", workers=2, ray="auto"))
    assert cpu_only == Shape(gpus=0.0, cpus=2.0, parallel=6)  # --gpus none leaves GPUs alone
    assert plan_shape([_node(8)], RunOptions(ray="auto")) == Shape(0.0, 8.0, 1)


def test_ray_options_that_cannot_work_are_refused_in_one_line() -> None:
    from automl.errors import AutoMLError
    from automl.options import RunOptions

    for bad, says in (
        ({"gpus": "0,2"}, "--gpus: with --ray, auto or none"),
        ({"in_process": True}, "--ray and --in-process"),
    ):
        with pytest.raises(AutoMLError, match=says):
            RunOptions(ray="auto", **bad)
    with pytest.raises(AutoMLError, match="--ray: give the cluster's address"):
        RunOptions(ray=" ")
