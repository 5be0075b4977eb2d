"""Storage URLs in every form SQLAlchemy and redis accept, with passwords that hold ``?``,
spaces, quotes, ``<>`` and ``@``: the password never shows in ``repr(Sweep)``,
``record().storage``, the report page, an error, or the CLI's output. Against real servers:
the local PostgreSQL (trust: any password connects, so a misread one would too), a
throw-away PostgreSQL that demands scram-sha-256 passwords, and a Redis that demands one.
"""

from __future__ import annotations

import html
import urllib.parse
import uuid
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

import automl
from automl.cli.main import app
from automl.errors import AutoMLError, StorageError, StudyNotFoundError
from automl.store.storage import open_storage
from tests.helpers.services import pg_role

pytestmark = pytest.mark.slow

ROLE = "automl_url_secret"
SECRET = "pw?leak1 \"q'<x>"  # SQLAlchemy reads it whole, raw or encoded
REDIS_SECRET = "rEd1s-Pw@zz9QkW \"q'<x>"  # redis reads it whole unless it holds ? # or /
Q = urllib.parse.quote


def _leaks(secret: str) -> list[str]:
    """The password, its encodings, its parts, and short parts as a driver quotes them."""
    parts = secret.replace("?", " ").replace("@", " ").split()
    return [secret, Q(secret, safe=""), urllib.parse.quote_plus(secret), html.escape(secret)] + [
        p if len(p) >= 3 else f"'{p}'" for p in parts
    ]


def _assert_clean(text: str, secret: str) -> None:
    for leak in _leaks(secret):
        assert leak not in text, f"{leak!r} leaked in: {text[:300]}"


def pg_forms(host: str, port: int, db: str) -> dict[str, str]:
    """The URL forms of one role and password that SQLAlchemy (with psycopg) reads."""
    enc = Q(SECRET, safe="")
    return {
        "raw": f"postgresql://{ROLE}:{SECRET}@{host}:{port}/{db}",
        "driver-raw": f"postgresql+psycopg://{ROLE}:{SECRET}@{host}:{port}/{db}",
        "encoded": f"postgresql://{ROLE}:{enc}@{host}:{port}/{db}",
        "query-password": f"postgresql://{ROLE}@{host}:{port}/{db}?password={enc}",
        "query-host": f"postgresql://{ROLE}:{enc}@/{db}?host={host}&port={port}",
    }


def _check_everywhere(url: str, secret: str, tmp_path: Path) -> None:
    """Make a small study at ``url``, then read it back every way a user can."""
    name = f"secret-{uuid.uuid4().hex[:8]}"
    opened = open_storage(url)
    study = optuna.create_study(study_name=name, storage=opened)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    try:
        sweep = automl.load(name, url)
        shown = [repr(sweep), sweep.record().storage]
        assert "127.0.0.1" in shown[0] or "localhost" in shown[0]  # still says where
        shown.append(sweep.report(tmp_path / f"{name}.html").read_text(encoding="utf-8"))
        with pytest.raises(StudyNotFoundError) as missing_study:
            automl.load(f"{name}-absent", url)
        shown.append(str(missing_study.value))
        runner = CliRunner()
        for args in (["studies"], ["best", f"{name}-absent"], ["best", name]):
            result = runner.invoke(app, [*args, "--storage", url])
            shown.append(result.output)
        for text in shown:
            _assert_clean(text, secret)
    finally:
        optuna.delete_study(study_name=name, storage=opened)


@pytest.mark.parametrize("form", list(pg_forms("h", 1, "d")))
def test_postgres_url_forms_leak_no_password(
    form: str, postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_role(postgres, ROLE, SECRET)
    monkeypatch.setenv("AUTOML_ARTIFACTS", str(tmp_path / "models"))
    _check_everywhere(pg_forms("127.0.0.1", 5432, "test")[form], SECRET, tmp_path)


@pytest.mark.parametrize("form", list(pg_forms("h", 1, "d")))
def test_a_server_that_demands_the_password_gets_it_whole(
    form: str, scram_pg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_role(scram_pg, ROLE, SECRET)
    port = urllib.parse.urlsplit(scram_pg).port or 0
    monkeypatch.setenv("AUTOML_ARTIFACTS", str(tmp_path / "models"))
    _check_everywhere(pg_forms("127.0.0.1", port, "postgres")[form], SECRET, tmp_path)


def test_a_wrong_password_is_refused_without_showing_it(scram_pg: str) -> None:
    pg_role(scram_pg, ROLE, SECRET)
    port = urllib.parse.urlsplit(scram_pg).port
    wrong = "wr0ng?leak2 \"q'<y>"
    for url in (
        f"postgresql://{ROLE}:{wrong}@127.0.0.1:{port}/postgres",
        f"postgresql://{ROLE}@127.0.0.1:{port}/postgres?password={Q(wrong, safe='')}",
    ):
        with pytest.raises(StorageError, match="cannot open storage") as refused:
            automl.studies(url)
        _assert_clean(str(refused.value), wrong)
        assert "password authentication failed" in str(refused.value)
        result = CliRunner().invoke(app, ["studies", "--storage", url])
        assert result.exit_code == 3
        _assert_clean(result.output, wrong)


def test_an_unencoded_at_sign_is_refused_before_the_driver_sees_a_host(scram_pg: str) -> None:
    port = urllib.parse.urlsplit(scram_pg).port
    url = f"postgresql://{ROLE}:pw@secrethost@127.0.0.1:{port}/postgres"
    with pytest.raises(StorageError, match="%40") as refused:
        open_storage(url)
    assert "secrethost" not in str(refused.value)
    assert "127.0.0.1" in str(refused.value)


def redis_forms(port: int) -> dict[str, str]:
    enc = Q(REDIS_SECRET, safe="")
    return {
        "raw": f"redis://:{REDIS_SECRET}@127.0.0.1:{port}/0",
        "user-encoded": f"redis://default:{enc}@127.0.0.1:{port}/0",
        "query-password": f"redis://127.0.0.1:{port}/0?password={enc}",
    }


@pytest.mark.parametrize("form", list(redis_forms(1)))
def test_redis_url_forms_leak_no_password(
    form: str, redis_auth: tuple[int, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOML_ARTIFACTS", str(tmp_path / "models"))
    _check_everywhere(redis_forms(redis_auth[0])[form], REDIS_SECRET, tmp_path)


def test_redis_urls_it_cannot_read_fail_without_showing_the_password(
    redis_auth: tuple[int, str],
) -> None:
    port = redis_auth[0]
    for url in (
        f"redis://:{SECRET}@127.0.0.1:{port}/0",  # `?` ends redis' netloc: not its password
        f"rediss://:{SECRET}@127.0.0.1:{port}/0",
        f"unix:///tmp/none.sock?password={Q(SECRET, safe='')}",
    ):
        with pytest.raises(AutoMLError) as refused:
            automl.studies(url)
        _assert_clean(str(refused.value), SECRET)
        result = CliRunner().invoke(app, ["studies", "--storage", url])
        assert result.exit_code != 0
        _assert_clean(result.output, SECRET)
