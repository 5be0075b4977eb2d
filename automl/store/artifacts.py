"""Where models go: a folder every node reaches, or S3-compatible object storage.

``$AUTOML_ARTIFACTS`` names the place: a folder (one that every machine running workers
mounts, for a sweep on several machines) or ``s3://bucket/prefix``, kept through Optuna's
``Boto3ArtifactStore``. S3 credentials, region and endpoint come from boto3's own settings
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, ``AWS_ENDPOINT_URL_S3``
or ``AWS_ENDPOINT_URL`` for MinIO, Ceph and other S3-compatible servers, an instance role):
the location holds a bucket and a prefix only, and no study stores it.

What a bucket holds is as untrusted as a folder: models are checked against the SHA-256
their worker recorded (:mod:`automl.store.models`) whichever store they come from.
"""

from __future__ import annotations

import contextlib
import os
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from optuna.artifacts import FileSystemArtifactStore
from optuna.artifacts._protocol import ArtifactStore
from optuna.artifacts.exceptions import ArtifactNotFound

from automl.errors import StorageError, install_hint
from automl.store.redact import mask

if TYPE_CHECKING:
    from optuna.artifacts import Boto3ArtifactStore

__all__ = ["ArtifactStore", "S3ArtifactStore", "exists", "lock_dir", "open_store", "remote"]

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
# S3's rule for bucket names: 3-63 lower-case letters, digits, dots and hyphens.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_FORM = "a folder, or s3://BUCKET/PREFIX (credentials in AWS_ACCESS_KEY_ID and friends)"
# The settings a boto3 client is made from: another value, another client.
_AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
)
_CLIENTS: dict[tuple[str | None, ...], Any] = {}
_CHECKED: set[tuple[str, tuple[str | None, ...]]] = set()


def remote(location: str) -> bool:
    """Whether ``location`` names object storage rather than a folder."""
    m = _SCHEME.match(location)
    if m is None or m.group(1).lower() == "file":
        return False
    if m.group(1).lower() == "s3":
        return True
    raise StorageError(
        f"AUTOML_ARTIFACTS: unknown scheme {m.group(1)!r} in {mask(location)}; valid: {_FORM}"
    )


def lock_dir() -> Path:
    """This machine's folder for the locks its workers share, when models go to a bucket."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "automl" / "locks"


def open_store(location: str, create: bool = True) -> ArtifactStore:
    """The artifact store at ``location``; ``create=False`` for read-only use.

    A folder is made when ``create``; a bucket is never made, but checked to answer then.
    """
    if not remote(location):
        path = Path(location.removeprefix("file://"))
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return FileSystemArtifactStore(str(path))
    bucket, prefix = bucket_and_prefix(location)
    store = S3ArtifactStore(location, bucket, prefix, _client())
    key = (location, _settings())
    if create and key not in _CHECKED:
        store.check()
        _CHECKED.add(key)
    return store


def bucket_and_prefix(location: str) -> tuple[str, str]:
    """The bucket and the key prefix (empty, or ending in ``/``) of ``s3://bucket/prefix``."""
    parsed = urllib.parse.urlsplit(location)
    if "@" in parsed.netloc:
        raise StorageError(
            f"AUTOML_ARTIFACTS: {mask(location)} holds credentials; give them in "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), never in the location"
        )
    if not _BUCKET.fullmatch(parsed.netloc) or parsed.query or parsed.fragment:
        raise StorageError(
            f"AUTOML_ARTIFACTS: {location!r} is not s3://BUCKET/PREFIX (a bucket name is 3-63 "
            "lower-case letters, digits, dots and hyphens)"
        )
    prefix = parsed.path.strip("/")
    return parsed.netloc, f"{prefix}/" if prefix else ""


def _settings() -> tuple[str | None, ...]:
    return tuple(os.environ.get(k) for k in _AWS_ENV)


def _client() -> Any:
    """One boto3 client per process and settings (made in ~0.1 s; thread-safe)."""
    key = _settings()
    if key not in _CLIENTS:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise StorageError(f"s3:// artifacts need boto3: {install_hint('s3')}") from None
        config = Config(connect_timeout=10, read_timeout=120, retries={"mode": "standard"})
        _CLIENTS[key] = boto3.client("s3", config=config)
    return _CLIENTS[key]


class S3ArtifactStore:
    """Optuna's ``Boto3ArtifactStore`` under a key prefix; failures other than a missing
    object become one-line :class:`~automl.errors.StorageError` s naming the location."""

    def __init__(self, location: str, bucket: str, prefix: str, client: Any) -> None:
        from optuna.artifacts import Boto3ArtifactStore

        self.location = location
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        self._store: Boto3ArtifactStore = Boto3ArtifactStore(bucket, client=client)

    def open_reader(self, artifact_id: str) -> BinaryIO:
        with self._errors():
            return self._store.open_reader(self.prefix + artifact_id)

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        with self._errors():
            self._store.write(self.prefix + artifact_id, content_body)

    def remove(self, artifact_id: str) -> None:
        with self._errors():
            self._store.remove(self.prefix + artifact_id)

    def exists(self, artifact_id: str) -> bool:
        """Whether the object is there (one HEAD request, nothing downloaded)."""
        from botocore.exceptions import ClientError

        with self._errors():
            try:
                self.client.head_object(Bucket=self.bucket, Key=self.prefix + artifact_id)
            except ClientError as exc:
                if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
        return True

    def check(self) -> None:
        """Raise a one-line error unless the bucket answers with these credentials."""
        with self._errors():
            self.client.head_bucket(Bucket=self.bucket)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ArtifactNotFound:
            raise
        except ClientError as exc:
            raise StorageError(f"artifacts {self.location}: {_reason(exc, self.bucket)}") from None
        except BotoCoreError as exc:
            hint = ""
            if type(exc).__name__ == "NoCredentialsError":
                hint = "; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"
            raise StorageError(
                f"artifacts {self.location}: {type(exc).__name__}: {mask(str(exc))}{hint}"
            ) from None


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _reason(exc: Any, bucket: str) -> str:
    code = _code(exc)
    if code in ("404", "NoSuchBucket"):
        return f"the bucket {bucket!r} does not exist (automl never creates one)"
    if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return f"access denied ({code}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    message = str(exc.response.get("Error", {}).get("Message", "")).strip()
    return mask(f"{code}: {message}" if message else str(exc).splitlines()[0])


def exists(store: ArtifactStore, artifact_id: str) -> bool:
    """Whether the store holds ``artifact_id`` (a checked id: see ``models.safe_id``)."""
    if isinstance(store, S3ArtifactStore):
        return store.exists(artifact_id)
    try:
        store.open_reader(artifact_id).close()
    except (ArtifactNotFound, FileNotFoundError):
        return False
    return True
