"""Whoever can write a study's storage or artifact folder cannot choose the code workers run.

Each test makes a study of the user's own code, then tampers with what the storage holds
as an attacker would, and checks that the worker (and the conductor that resumes the
sweep) refuses in one line naming the study, failing the trial with ``untrusted_code``,
and that the attacker's code never ran (its marker file does not exist).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from optuna.trial import TrialState
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.errors import UNTRUSTED_CODE, UntrustedCodeError
from automl.run.worker import Limits, work
from automl.store import signing
from automl.store.storage import artifact_dir, artifact_store
from automl.study.context import open_context
from automl.usercode import train
from tests.helpers import own_code

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return str(tmp_path / "studies" / "journal.log")


def _fresh_worker() -> None:
    """As in a new worker process: nothing loaded yet (the creating process verified it)."""
    train._LOADED.clear()


def _refused_by_the_worker(name: str, url: str) -> str:
    """Run the worker loop; the trial must fail as untrusted code. Returns the message."""
    _fresh_worker()
    ctx = open_context(name, url)
    with pytest.raises(UntrustedCodeError) as raised:
        work(ctx, Limits(max_trials=1))
    [trial] = ctx.study.get_trials()
    assert trial.state == TrialState.FAIL
    assert trial.user_attrs["fail_reason"] == UNTRUSTED_CODE
    assert trial.user_attrs["fail_detail"] == str(raised.value)
    message = str(raised.value)
    assert "\n" not in message and f"study {name!r}: refused model code" in message
    return message


def _refused_on_resume(name: str, url: str) -> str:
    """``automl tune NAME --resume``: one line, before any worker starts."""
    _fresh_worker()
    args = ["tune", name, "--resume", "--trials", "1", "--in-process", "--no-report"]
    done = runner.invoke(app, [*args, "--storage", url])
    assert done.exit_code == 2, done.output
    assert f"study {name!r}: refused model code" in done.output
    return str(done.output)


def test_a_replaced_pickle_is_refused_and_never_unpickled(tmp_path: Path, url: str) -> None:
    study = own_code.make(own_code.build_model, "own", url)
    aid = own_code.stored_model(study)["build"].removeprefix("pickle:")
    marker = tmp_path / "pwned"
    (artifact_dir(url) / aid).write_bytes(own_code.evil_pickle(marker))
    assert "the pickle changed" in _refused_by_the_worker("own", url)
    assert "the pickle changed" in _refused_on_resume("own", url)
    assert not marker.exists()


def test_a_stored_reference_to_another_file_is_refused(tmp_path: Path, url: str) -> None:
    study = own_code.make(str(own_code.models_file(tmp_path / "code")) + ":build_model", "f", url)
    marker = tmp_path / "pwned"
    evil = own_code.evil_file(tmp_path, marker)
    own_code.store_model(study, build=f"{evil}:build_model")  # a database write, nothing else
    assert "signature does not match" in _refused_by_the_worker("f", url)
    assert "signature does not match" in _refused_on_resume("f", url)
    # The digest of the new file recorded too: still not signed with this machine's key.
    own_code.store_model(study, digest=signing.sha256(evil.read_bytes()))
    assert "signature does not match" in _refused_on_resume("f", url)
    assert not marker.exists()


def test_a_build_file_changed_since_the_sweep_started_is_refused(tmp_path: Path, url: str) -> None:
    path = own_code.models_file(tmp_path / "code")
    own_code.make(f"{path}:build_model", "changed", url)
    marker = tmp_path / "pwned"
    path.write_text(f"from pathlib import Path\nPath({str(marker)!r}).touch()\n" + own_code.BUILD)
    assert "the file changed since the sweep started" in _refused_by_the_worker("changed", url)
    assert not marker.exists()


def test_an_unsigned_reference_is_refused(tmp_path: Path, url: str) -> None:
    path = own_code.models_file(tmp_path / "code")
    study = own_code.make(f"{path}:build_model", "unsigned", url)
    own_code.store_model(study, signature=None)
    assert "it is not signed" in _refused_on_resume("unsigned", url)


def test_a_worker_without_the_key_refuses_and_one_with_the_secret_runs(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl.usercode.trust import verified_source

    monkeypatch.setenv(signing.ENV_SECRET, "a-secret-shared-with-workers")
    path = own_code.models_file(tmp_path / "code")
    study = own_code.make(f"{path}:build_model", "remote", url)
    sweep = automl.load("remote", url)  # a reader: fine without any key
    assert sweep.spec.model.signature == own_code.stored_model(study)["signature"]
    # Another machine: its own (missing) key file, the sweep's secret given to it.
    monkeypatch.setenv(signing.ENV_KEY_FILE, str(tmp_path / "elsewhere" / "key"))
    model = own_code.stored_model(study)
    assert verified_source(model, artifact_store(url), "remote") == path.read_bytes()
    monkeypatch.delenv(signing.ENV_SECRET)
    assert "no signing key on this machine" in _refused_by_the_worker("remote", url)


@pytest.mark.slow
def test_a_tuner_resumed_over_a_replaced_pickle_refuses_it(tmp_path: Path) -> None:
    x, y = own_code.digits()
    tuner = automl.Tuner(
        own_code.build_model,
        "val_accuracy",
        1,
        directory=str(tmp_path),
        project_name="p",
        in_process=True,
    )
    tuner.search(x, y, epochs=1)
    model = tuner.sweep.spec.model
    aid = str(model.build).removeprefix("pickle:")
    marker = tmp_path / "pwned"
    (artifact_dir(tuner.storage) / aid).write_bytes(own_code.evil_pickle(marker))
    _fresh_worker()
    again = automl.Tuner(
        own_code.build_model,
        "val_accuracy",
        2,
        directory=str(tmp_path),
        project_name="p",
        in_process=True,
        overwrite=False,
    )
    with pytest.raises(UntrustedCodeError, match="study 'p': refused model code.*pickle changed"):
        again.search(x, y, epochs=1)
    assert not marker.exists()
