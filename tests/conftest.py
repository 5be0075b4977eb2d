"""Fixtures shared by several test folders: isolated storage, services, the browser.

Plain helpers live in ``tests.helpers``; test modules import those, never each other.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import PG_URL, REDIS_URL, STARTED, missing

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Code references are signed with a key (automl.store.signing): this run's own, never the
# user's ~/.config/automl/key. The processes a test starts inherit it.
os.environ.setdefault(
    "AUTOML_KEY_FILE", str(Path(tempfile.mkdtemp(prefix="automl-test-key-")) / "key")
)


@pytest.fixture
def storage(tmp_path: Path) -> str:
    """A fresh embedded journal storage in a temporary folder."""
    return str(tmp_path / "studies" / "journal.log")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty working directory with no storage override."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOML_STORAGE", raising=False)
    monkeypatch.delenv("AUTOML_ARTIFACTS", raising=False)
    return tmp_path


@pytest.fixture
def redis_url() -> str:
    """The Redis server at 127.0.0.1:6379; missing, it skips, or fails with ``CI=true``."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        missing(f"Redis at {REDIS_URL} is not reachable: {exc}")
    return REDIS_URL


@pytest.fixture
def postgres() -> str:
    """The PostgreSQL server at 127.0.0.1:5432 (database ``test``); missing, it skips, or
    fails with ``CI=true``."""
    import sqlalchemy

    try:
        sqlalchemy.create_engine(PG_URL).connect().close()
    except Exception as exc:  # noqa: BLE001
        missing(f"PostgreSQL at {PG_URL} is not reachable: {exc}")
    return PG_URL


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium (``/usr/bin/chromium`` or ``$AUTOML_CHROMIUM``); missing, it skips, or fails
    with ``CI=true``."""
    path = os.environ.get("AUTOML_CHROMIUM", "/usr/bin/chromium")
    if Path(path).is_file():
        return path
    missing(f"no Chromium at {path} (set AUTOML_CHROMIUM to test reports in a browser)")


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test() -> Iterator[None]:
    """Kill what a test started and left running (a failed assertion, a timeout): its
    workers notice their conductor is gone and stop too (automl.run.parent_watch)."""
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
