"""Servers that demand a password, for the tests of secrets in storage URLs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.services import redis_with_password, scram_postgres

SCRAM_ADMIN_PASSWORD = "adm1n-pw"


@pytest.fixture(scope="module")
def scram_pg() -> Iterator[str]:
    """The admin URL of a throw-away PostgreSQL that accepts only scram-sha-256 passwords."""
    with scram_postgres(SCRAM_ADMIN_PASSWORD) as url:
        yield url


@pytest.fixture(scope="module")
def redis_auth(request: pytest.FixtureRequest) -> Iterator[tuple[int, str]]:
    """(port, password) of a redis-server on 127.0.0.1 that demands the module's
    ``REDIS_SECRET``."""
    password = request.module.REDIS_SECRET
    with redis_with_password(password) as port:
        yield port, password
