"""``mask`` reads a URL's password as its driver does (SQLAlchemy, redis) and as a person
meant it; ``scrub`` removes every password this process has seen from any message.
No server here: tests/store/test_url_secrets.py runs the same forms against real ones."""

from __future__ import annotations

import logging
import urllib.parse

import pytest
from typer.testing import CliRunner

from automl.api import Sweep
from automl.cli.main import app
from automl.store.redact import mask, remember, scrub

Q = urllib.parse.quote
HOSTILE = ["pw?leak1", "p w\"q'<x>", "a#b/c:d", "s3cr@t-Pw", "x&password=y"]

# (URL, password parts that must not show)
FORMS = (
    [(f"postgresql://u:{p}@db.example:5432/test", p) for p in HOSTILE if "@" not in p]
    + [(f"postgresql+psycopg://u:{Q(p, safe='')}@db.example:5432/test", p) for p in HOSTILE]
    + [
        (f"postgresql://u@db.example/test?password={Q(p, safe='')}&sslmode=disable", p)
        for p in HOSTILE
    ]
    + [(f"postgresql://u:{Q(p, safe='')}@/test?host=db.example&port=5432", p) for p in HOSTILE]
    + [
        ("postgresql://u:pw@secrethost@db.example/test", "pw@secrethost"),
        ("mysql+pymysql://u:my?sq l@db.example/test", "my?sq l"),
        ("redis://:r3d@is \"q'<x>@db.example:6379/0", "r3d@is \"q'<x>"),
        (f"redis://default:{Q('pw?leak1', safe='')}@db.example:6379/0", "pw?leak1"),
        (f"redis://db.example:6379/0?password={Q('pw?leak1', safe='')}", "pw?leak1"),
        ("redis://:pw?leak1@db.example:6379/0", "pw?leak1"),
        ("rediss://:pw?leak1@db.example:6379/0", "pw?leak1"),
        (f"unix:///run/redis.sock?password={Q('pw?leak1', safe='')}", "pw?leak1"),
    ]
)


def _parts(secret: str) -> list[str]:
    pieces = [p for p in secret.replace("?", " ").replace("@", " ").split() if len(p) >= 4]
    return [secret, Q(secret, safe=""), urllib.parse.quote_plus(secret), *pieces]


@pytest.mark.parametrize(("url", "secret"), FORMS)
def test_mask_hides_every_reading_of_the_password(url: str, secret: str) -> None:
    shown = mask(url)
    for leak in _parts(secret):
        assert leak not in shown, f"{leak!r} in {shown!r}"
    assert "db.example" in shown or "/run/redis.sock" in shown
    assert "***" in shown


@pytest.mark.parametrize(("url", "secret"), FORMS)
def test_a_message_that_quotes_the_password_is_scrubbed(url: str, secret: str) -> None:
    remember(url)
    for message in (
        f"no study 'x' in {url}; the storage has no study",
        f'connection to server failed: password "{secret}" rejected',
        f"FATAL: {Q(secret, safe='')} is wrong",
    ):
        scrubbed = mask(message)
        for leak in _parts(secret):
            assert leak not in scrubbed, f"{leak!r} in {scrubbed!r}"


def test_a_driver_that_quotes_a_fragment_leaks_nothing() -> None:
    remember("redis://:pw?leak1@127.0.0.1:6379/0")
    text = scrub("Port could not be cast to integer value as 'pw'; near leak1")
    assert "'pw'" not in text and "leak1" not in text
    remember("postgresql://u:pw@secrethost@127.0.0.1/db")
    assert "secrethost" not in scrub("failed to resolve host 'secrethost'")


def test_scrubbing_leaves_ordinary_words_alone() -> None:
    remember("postgresql://u:is@127.0.0.1/db")  # a two-letter password
    assert scrub("this is fine") == "this is fine"


def test_sweep_repr_hides_a_raw_password() -> None:
    shown = repr(Sweep("s", "postgresql://u:pw?leak1 \"q'<x>@127.0.0.1:5432/test"))
    assert "leak1" not in shown and "<x>" not in shown
    assert "127.0.0.1:5432/test" in shown


def test_log_lines_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    remember("postgresql://u:logged-s3cret@127.0.0.1/db")
    with caplog.at_level(logging.WARNING, logger="automl"):
        logging.getLogger("automl").warning("could not fail trial 1: %s", "logged-s3cret")
    assert "logged-s3cret" not in caplog.text
    assert "could not fail trial 1" in caplog.text


def test_cli_errors_show_no_raw_password() -> None:
    url = "postgresql://u:pw?leak1@127.0.0.1:1/test"  # nothing listens on port 1
    result = CliRunner().invoke(app, ["studies", "--storage", url])
    assert result.exit_code == 3
    assert "leak1" not in result.output
    assert "127.0.0.1:1/test" in result.output
