"""Models in S3-compatible object storage (``AUTOML_ARTIFACTS=s3://bucket/prefix``), against
a real S3 server on 127.0.0.1: a sweep keeps, evaluates, ensembles and refits its models
there, export and ``best_model()`` read them back, and an object swapped in the bucket is
refused exactly as a swapped file in a folder is."""

from __future__ import annotations

import builtins
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.errors import NoModelError, StorageError
from automl.store.storage import artifact_dir, artifact_store
from tests.helpers import tiny_spec, write_yaml
from tests.helpers.processes import automl as automl_process
from tests.helpers.processes import finish
from tests.helpers.saved_models import (
    add_saved_trial,
    replace_artifact,
    study_with_model,
    tiny_model,
)
from tests.helpers.services import free_port, s3_server

runner = CliRunner()
BUCKET = "automl-models"
PREFIX = "team/sweeps"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """An S3 server with an empty bucket; the AWS settings are this test's environment,
    and models go to ``s3://BUCKET/PREFIX``."""
    with s3_server(BUCKET) as env:
        for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("AUTOML_ARTIFACTS", f"s3://{BUCKET}/{PREFIX}")
        yield env


def _client() -> Any:
    import boto3

    return boto3.client("s3")  # from the environment the fixture set


def _objects() -> dict[str, bytes]:
    client = _client()
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def _replace_object(aid: str, model: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.keras"
        model.save(path)
        _client().put_object(Bucket=BUCKET, Key=f"{PREFIX}/{aid}", Body=path.read_bytes())


def _data(key: str) -> bool:
    """Whether an object holds a study's data (its split, tokenizer...), not a model."""
    return key.split("/")[-1].startswith(("split-", "tokenizer-", "vocabulary-", "arrays-"))


def _export(url: str, out: Path, *more: str) -> tuple[int, str]:
    done = runner.invoke(app, ["export", "s", "--out", str(out), "--storage", url, *more])
    return done.exit_code, done.output


def _swap_and_export(url: str, tmp: Path, read: Any, swap: Any) -> list[tuple[int, str]]:
    """Export a saved model (the stored bytes, as ``read`` gives them), then swap it for
    another and export again; the same for a model with no recorded digest swapped for one
    with a Lambda layer."""
    study, aid = study_with_model(url)
    results = [_export(url, tmp / "good.keras")]
    assert results[0][0] == 0, results[0][1]
    assert (tmp / "good.keras").read_bytes() == read(aid)
    swap(aid, tiny_model(units=10))
    results.append(_export(url, tmp / "swapped.keras"))
    number, other = add_saved_trial(study, url, value=2.0, digest=False)
    swap(other, tiny_model(lambda_layer=True))
    results.append(_export(url, tmp / "code.keras", "--trial", str(number)))
    return results


@pytest.mark.slow  # about 10 s: two stores, six exports
def test_a_swapped_object_is_refused_exactly_as_a_swapped_file(
    tmp_path: Path, s3: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "in_s3" / "journal.log")
    in_bucket = _swap_and_export(
        url, tmp_path / "s3", lambda aid: _objects()[f"{PREFIX}/{aid}"], _replace_object
    )
    assert not (tmp_path / "in_s3" / "artifacts").exists()  # nothing went to a folder
    with pytest.raises(NoModelError, match="refused"):
        automl.load("s", url).best_model()

    monkeypatch.delenv("AUTOML_ARTIFACTS")
    local = str(tmp_path / "local" / "journal.log")
    in_folder = _swap_and_export(
        local,
        tmp_path / "folder",
        lambda aid: (artifact_dir(local) / aid).read_bytes(),
        lambda aid, model: replace_artifact(local, aid, model),
    )
    assert [code for code, _ in in_bucket] == [code for code, _ in in_folder] == [0, 5, 5]
    for (_, bucket_text), (_, folder_text) in zip(in_bucket[1:], in_folder[1:], strict=True):
        assert bucket_text.split(":", 2)[2] == folder_text.split(":", 2)[2]
    assert "changed since it was saved" in in_bucket[1][1]
    assert "does not load in Keras safe mode" in in_bucket[2][1]


@pytest.mark.parametrize(
    ("location", "says"),
    [
        ("s3://automl-test:automl-test-secret@automl-models/p", "holds credentials"),
        ("s3://Not_A_Bucket/p", "is not s3://BUCKET/PREFIX"),
        ("gs://automl-models/p", "unknown scheme 'gs'"),
        ("s3://no-such-bucket/p", "the bucket 'no-such-bucket' does not exist"),
    ],
)
def test_a_bad_location_is_one_line_without_secrets(
    location: str, says: str, tmp_path: Path, s3: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOML_ARTIFACTS", location)
    with pytest.raises(StorageError, match=says) as caught:
        artifact_store(str(tmp_path / "journal.log"))
    assert "automl-test-secret" not in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_an_unreachable_server_is_one_line(
    tmp_path: Path, s3: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StorageError, match=f"artifacts s3://{BUCKET}/{PREFIX}: .*connect"):
        artifact_store(str(tmp_path / "journal.log"))


def test_a_missing_boto3_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_boto3(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "boto3":
            raise ImportError("No module named 'boto3'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setenv("AUTOML_ARTIFACTS", "s3://somewhere/p")
    monkeypatch.setenv("AWS_PROFILE", "a-profile-no-client-was-made-for")
    monkeypatch.delitem(sys.modules, "boto3", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_boto3)
    with pytest.raises(StorageError, match=r"pip install '\.\[s3\]'"):
        artifact_store(str(tmp_path / "journal.log"))


@pytest.mark.slow
def test_a_sweep_keeps_its_models_in_the_bucket(in_tmp: Path, s3: dict[str, str]) -> None:
    raw = tiny_spec()
    raw["training"] = {"max_epochs": 2, "batch_size": 64, "refit": True}
    space = write_yaml(in_tmp / "s.yaml", raw)
    url = str(in_tmp / "studies" / "journal.log")
    args = ["--study", "s", "--storage", url, "--trials", "3", "--workers", "2"]
    out = finish(automl_process("tune", str(space), *args), 600)
    assert "study s in" in out and "3 complete" in out, out
    assert not (in_tmp / "studies" / "artifacts").exists()  # no model went to a folder
    stored = _objects()
    assert all(key.startswith(f"{PREFIX}/") for key in stored)
    sweep = automl.load("s", url)
    record = sweep.record()
    models = {  # .keras files are zip archives (as .npz splits are)
        k.removeprefix(f"{PREFIX}/")
        for k, blob in stored.items()
        if blob[:2] == b"PK" and not _data(k)
    }
    kept = {str(t.artifact_id) for t in record.trials if t.has_model}
    assert kept and record.test_metrics  # kept models, evaluated on the test split
    assert record.ensemble and record.refit  # an ensemble of kept models; the best refitted
    # Every kept model and the refit are in the bucket. (Under a loaded CI machine two
    # extra, unattributed models once stayed beside them: a race between the two workers'
    # finalizers, not an S3 matter, still to be found.)
    assert kept | {record.refit["artifact_id"]} <= models
    assert sweep.best_trial.has_model
    assert sweep.best_model().count_params() > 0
    code, text = _export(url, in_tmp / "best.keras")
    assert code == 0, text
    assert (in_tmp / "best.keras").read_bytes() in stored.values()
    done = runner.invoke(app, ["report", "s", "--storage", url, "-o", str(in_tmp / "r.html")])
    assert done.exit_code == 0, done.output
    # Every model in the bucket swapped for another: every reader refuses them.
    for aid in models:
        _replace_object(aid, tiny_model())
    code, text = _export(url, in_tmp / "swapped.keras")
    assert code == 5 and "changed since it was saved" in text, text
    with pytest.raises(NoModelError, match="changed since it was saved"):
        automl.load("s", url).best_model()
