"""A storage the conductor serves itself: ``automl serve-storage`` runs Optuna's gRPC proxy
in front of a journal file, SQLite or PostgreSQL, and sweeps, workers and readers use
``grpc://HOST:PORT`` with no database driver, password or shared file of their own."""

from __future__ import annotations

import builtins
import sys
import uuid
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState
from typer.testing import CliRunner

from automl.cli.main import app
from automl.errors import StorageError
from automl.store import proxy
from automl.store.storage import open_storage
from tests.helpers import tiny_spec, write_yaml
from tests.helpers.processes import automl, finish, trials_of, wait_for
from tests.helpers.services import free_port, storage_proxy

runner = CliRunner()


@pytest.mark.parametrize(
    "bad", ["grpc://127.0.0.1", "grpc://127.0.0.1:13000/db", "grpc://user:pw@127.0.0.1:13000"]
)
def test_a_bad_grpc_url_is_one_line_naming_the_form(bad: str) -> None:
    done = runner.invoke(app, ["studies", "--storage", bad])
    assert done.exit_code == 3
    assert "is not a gRPC storage URL; write grpc://HOST:PORT" in done.output
    assert len(done.output.strip().splitlines()) == 1 and "pw" not in done.output


def test_no_proxy_at_the_port_is_one_line_saying_how_to_start_one() -> None:
    port = free_port()
    with pytest.raises(StorageError, match=f"no storage proxy answers at 127.0.0.1:{port}"):
        proxy.connect(f"grpc://127.0.0.1:{port}", timeout=0.5)


def test_a_missing_grpcio_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_grpc(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "grpc":
            raise ImportError("No module named 'grpc'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "grpc", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_grpc)
    with pytest.raises(StorageError) as caught:
        open_storage("grpc://127.0.0.1:13000")
    assert "pip install '.[grpc]'" in str(caught.value)


def test_serving_a_proxy_of_a_proxy_is_refused() -> None:
    done = runner.invoke(app, ["serve-storage", "--storage", "grpc://127.0.0.1:13000"])
    assert done.exit_code == 3 and "is a proxy itself" in done.output


def test_the_proxy_keeps_trials_in_the_storage_behind_it_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    journal = str(tmp_path / "j" / "journal.log")
    with storage_proxy(journal) as (url, server):
        study = optuna.create_study(study_name="p", storage=open_storage(url))
        for value in (3.0, 1.0, 2.0):
            trial = study.ask()
            trial.report(value, 0)
            study.tell(trial, value)
        done = runner.invoke(app, ["studies", "--storage", url, "--json"])
        assert done.exit_code == 0 and '"p"' in done.output
    assert server.returncode == 0  # Ctrl-C stops it cleanly
    behind = optuna.load_study(study_name="p", storage=open_storage(journal))
    assert [t.value for t in behind.trials] == [3.0, 1.0, 2.0]
    assert behind.trials[0].intermediate_values == {0: 3.0}


@pytest.mark.slow
@pytest.mark.parametrize("behind", ["journal", "sqlite", "postgres"])
def test_a_sweep_and_an_extra_worker_through_the_proxy(
    behind: str, in_tmp: Path, request: pytest.FixtureRequest
) -> None:
    name = f"grpc-{behind}-{uuid.uuid4().hex[:6]}"
    target = {
        "journal": str(in_tmp / "db" / "journal.log"),
        "sqlite": f"sqlite:///{in_tmp / 'db' / 'studies.db'}",
        "postgres": request.getfixturevalue("postgres") if behind == "postgres" else "",
    }[behind]
    raw = tiny_spec(ensemble=0, keep=1)
    raw["training"] = {"max_epochs": 1, "batch_size": 64}
    space = write_yaml(in_tmp / "s.yaml", raw)
    env = {"AUTOML_ARTIFACTS": str(in_tmp / "models")}  # the folder every node mounts
    with storage_proxy(target) as (url, _):
        args = ["--study", name, "--storage", url, "--trials", "3"]
        conductor = automl("tune", str(space), *args, env=env)
        wait_for(lambda: trials_of(name, url), 300, "the study's first trial")
        extra = automl("worker", name, "--storage", url, env=env)
        out = finish(conductor, 400)
        finish(extra, 200)
        assert f"study {name} in {url}: 3 complete" in out, out
        studies = runner.invoke(app, ["studies", "--storage", url])
        best = runner.invoke(app, ["best", name, "--storage", url])
    assert studies.exit_code == 0 and name in studies.output, studies.output
    assert best.exit_code == 0 and "test accuracy" in best.output, best.output
    # Everything went to the storage behind the proxy.
    stored = trials_of(name, target)
    assert sum(t.state == TrialState.COMPLETE for t in stored) == 3
    if behind == "postgres":
        optuna.delete_study(study_name=name, storage=open_storage(target))
