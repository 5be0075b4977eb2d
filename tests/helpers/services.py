"""Services that demand a password, started for a test and stopped after it.

``scram_postgres`` starts a throw-away PostgreSQL cluster (``initdb`` + ``pg_ctl`` as the
``postgres`` OS user) that accepts only scram-sha-256 passwords on a free 127.0.0.1 port;
``redis_with_password`` starts a ``redis-server --requirepass``. ``pg_role`` gives a role
a password on a running server. Each calls :func:`tests.helpers.missing` when a piece is
absent: the test skips, or fails under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_role(admin_url: str, role: str, password: str) -> None:
    """Create (or reset) a superuser ``role`` with ``password`` on the server at ``admin_url``."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as db:
            exists = db.execute(
                sqlalchemy.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
            ).first()
            verb = "ALTER" if exists else "CREATE"
            quoted = password.replace("'", "''")
            db.execute(sqlalchemy.text(f"{verb} ROLE {role} LOGIN SUPERUSER PASSWORD '{quoted}'"))
    finally:
        engine.dispose()


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found or os.geteuid() != 0 or not shutil.which("runuser"):
        missing("a password-only PostgreSQL needs /usr/lib/postgresql/*/bin/initdb, runuser, root")
    return Path(found[-1]).parent


@contextlib.contextmanager
def scram_postgres(superuser_password: str) -> Iterator[str]:
    """A PostgreSQL cluster that demands scram-sha-256 passwords; yields its admin URL
    (``postgres`` with ``superuser_password``, database ``postgres``)."""
    import urllib.parse

    bin_dir = _pg_bin()
    home = Path(tempfile.mkdtemp(prefix="automl-pg-"))
    shutil.chown(home, "postgres", "postgres")
    (home / "pw").write_text(superuser_password + "\n", encoding="utf-8")
    shutil.chown(home / "pw", "postgres", "postgres")
    port = free_port()
    as_pg = ["runuser", "-u", "postgres", "--"]
    data = home / "data"
    try:
        subprocess.run(
            [*as_pg, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres"]
            + ["--auth=scram-sha-256", f"--pwfile={home / 'pw'}"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1"
        subprocess.run(
            [*as_pg, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options]
            + ["-l", str(home / "log"), "-w", "-t", "60", "start"],
            check=True,
            capture_output=True,
            timeout=90,
        )
        quoted = urllib.parse.quote(superuser_password, safe="")
        yield f"postgresql://postgres:{quoted}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_pg, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def redis_with_password(password: str) -> Iterator[int]:
    """A ``redis-server`` on 127.0.0.1 that demands ``password``; yields its port."""
    server = shutil.which("redis-server")
    if not server:
        missing("no redis-server on PATH (needed for a Redis that demands a password)")
    port = free_port()
    home = tempfile.mkdtemp(prefix="automl-redis-")
    # The password goes in a config file read from stdin, not on a command line `ps` shows.
    conf = f'port {port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir {home}\n'
    conf += 'requirepass "' + password.replace("\\", "\\\\").replace('"', '\\"') + '"\n'
    proc = subprocess.Popen(
        [server, "-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write(conf)
        proc.stdin.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        else:
            missing(f"redis-server did not start on port {port}")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)
