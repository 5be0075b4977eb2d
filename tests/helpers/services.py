"""Services a test starts and stops: servers that demand a password, a storage proxy, S3.

``scram_postgres`` starts a throw-away PostgreSQL cluster (``initdb`` + ``pg_ctl`` as the
``postgres`` OS user) that accepts only scram-sha-256 passwords on a free 127.0.0.1 port;
``redis_with_password`` starts a ``redis-server --requirepass``. ``pg_role`` gives a role
a password on a running server. ``storage_proxy`` serves a storage over gRPC with ``automl
serve-storage``; ``s3_server`` starts an S3 server (moto) with an empty bucket. Each calls
:func:`tests.helpers.missing` when a piece is absent: the test skips, or fails under
``CI=true``.
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
from typing import Any

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


@contextlib.contextmanager
def storage_proxy(url: str, *env_extra: tuple[str, str]) -> Iterator[tuple[str, Any]]:
    """``automl serve-storage`` in front of ``url`` on a free 127.0.0.1 port; yields its
    ``grpc://127.0.0.1:PORT`` URL and the server process (stopped with Ctrl-C after)."""
    import signal

    from tests.helpers.processes import automl

    proc = automl("serve-storage", "--storage", url, "--port", "0", env=dict(env_extra))
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "serving" not in line:
        proc.kill()
        raise AssertionError(f"serve-storage did not start: {line}{proc.stdout.read()}")
    port = int(line.split("grpc://127.0.0.1:")[1].split()[0])
    try:
        yield f"grpc://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@contextlib.contextmanager
def s3_server(bucket: str) -> Iterator[dict[str, str]]:
    """An S3 server (moto's, in this process) on a free 127.0.0.1 port holding an empty
    ``bucket``; yields the AWS settings a client (or a worker process) reaches it with."""
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        missing("an S3 server for tests needs moto[server] and boto3 (the test extra)")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {
        "AWS_ACCESS_KEY_ID": "automl-test",
        "AWS_SECRET_ACCESS_KEY": "automl-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}",
    }
    try:
        client = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL_S3"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_DEFAULT_REGION"],
        )
        client.create_bucket(Bucket=bucket)
        yield env
    finally:
        server.stop()
