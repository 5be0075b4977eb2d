"""The key that signs code references, and the signatures: what workers may import or unpickle.

The storage and the artifact folder are not trusted (others may write them), so a study's
code reference is signed by the process that starts the sweep, with a key that never goes
into the storage: ``$AUTOML_SECRET`` when set (give it to workers on other machines), else
a key file, ``$AUTOML_KEY_FILE`` or ``~/.config/automl/key`` (``$XDG_CONFIG_HOME`` if set),
made with mode 0600 on first use. Workers verify before they import or unpickle anything.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import time
from pathlib import Path

from automl.errors import SigningKeyError

ENV_SECRET = "AUTOML_SECRET"
ENV_KEY_FILE = "AUTOML_KEY_FILE"
MIN_SECRET = 16  # characters of $AUTOML_SECRET
_DOMAIN = b"automl code reference v1\0"


def key_path() -> Path:
    """The key file in effect: ``$AUTOML_KEY_FILE``, else the user's config folder."""
    given = os.environ.get(ENV_KEY_FILE)
    if given:
        return Path(given).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config).expanduser() / "automl" / "key"


def where() -> str:
    """Where the key comes from, for messages: the variable, or the key file's path."""
    return f"${ENV_SECRET}" if os.environ.get(ENV_SECRET) else str(key_path())


def key(*, create: bool = False) -> bytes:
    """The signing key: ``$AUTOML_SECRET``, else the key file (made when ``create``).

    Raises:
        SigningKeyError: no key (and ``create`` is false), a short secret, or a key file
            that others may read or write.
    """
    secret = os.environ.get(ENV_SECRET)
    if secret is not None:
        if len(secret) < MIN_SECRET:
            raise SigningKeyError(
                f"${ENV_SECRET} is too short ({len(secret)} characters; at least {MIN_SECRET})"
            )
        return secret.encode("utf-8")
    path = key_path()
    if not path.exists() and create:
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first: read theirs
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32) + "\n")


def _read(path: Path) -> bytes:
    for _ in range(50):  # a key file another process is writing at this moment
        try:
            info = path.stat()
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            raise SigningKeyError(
                f"no signing key on this machine (no {path}, no ${ENV_SECRET}): set "
                f"${ENV_SECRET} to the secret of the machine that started the sweep, or copy "
                "its key file here (mode 0600)"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SigningKeyError(f"cannot read the signing key {path}: {exc}") from None
        if text:
            break
        time.sleep(0.02)
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(
            f"the signing key {path} is open to other users (mode "
            f"{stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
        )
    if len(text) < MIN_SECRET:
        raise SigningKeyError(f"the signing key {path} is empty or too short")
    return text.encode("ascii")


def sha256(blob: bytes) -> str:
    """The hex SHA-256 digest of ``blob``."""
    return hashlib.sha256(blob).hexdigest()


def sign(ref: str, digest: str | None, *, create: bool = True) -> str:
    """The signature of a code reference and its content's digest (None for a module)."""
    return _mac(key(create=create), ref, digest)


def verify(ref: str, digest: str | None, signature: object) -> bool:
    """Whether ``signature`` is this machine's key's signature of ``ref`` and ``digest``.

    Raises:
        SigningKeyError: this machine has no key to verify with.
    """
    if not isinstance(signature, str):
        return False
    return hmac.compare_digest(_mac(key(create=False), ref, digest), signature)


def _mac(secret: bytes, ref: str, digest: str | None) -> str:
    message = _DOMAIN + ref.encode("utf-8") + b"\0" + (digest or "").encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
