"""Two sweeps that make one study name at once: the storage gives the name to one, the
other gets automl's own one-line error, and its early workers never join the winner's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from automl.errors import StudyExistsError
from automl.run import worker_process
from automl.search.spec import validate_spec
from automl.store import records, storage
from automl.study.create import create
from tests.helpers import tiny_spec


def test_the_second_creation_of_a_name_is_automls_error(tmp_path: Path) -> None:
    url = str(tmp_path / "studies" / "journal.log")
    spec = validate_spec(tiny_spec())
    create(spec, "same", url, creator="first")
    with pytest.raises(StudyExistsError, match=r"study 'same' already exists.*--resume"):
        create(spec, "same", url, creator="second")  # as if check_new had passed for both
    study = storage.load_study("same", storage.open_storage(url), url)
    assert study.user_attrs[records.CREATOR] == "first"  # the winner's study is whole


class _Waited(Exception):
    pass


def test_an_early_worker_waits_only_for_its_own_conductors_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "studies" / "journal.log")
    create(validate_spec(tiny_spec()), "same", url, creator="winner")
    study = storage.load_study("same", storage.open_storage(url), url)
    study.set_user_attr(records.TARGET_TRIALS, 2)
    worker_process.wait_for_study("same", url, "winner")  # returns at once

    def no_more_waiting(seconds: float) -> None:
        raise _Waited

    monkeypatch.setattr(time, "sleep", no_more_waiting)
    with pytest.raises(_Waited):
        worker_process.wait_for_study("same", url, "loser")
