"""Verifying a study's code reference before anything it names is imported or unpickled.

A study's storage and artifact folder are not trusted. Its spec carries the reference the
sweep's machine sealed (:mod:`automl.search.code_ref`): a signature made with a key that
never enters the storage, over the reference and the SHA-256 digest of the file or pickle.
A worker (and the conductor, before it starts any) verifies both; what fails is refused
with :class:`~automl.errors.UntrustedCodeError`, one line naming the study and the code.
Imports no deep-learning framework.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.errors import SigningKeyError, UntrustedCodeError
from automl.search.code_ref import PICKLED, is_file_ref
from automl.store import models, signing

if TYPE_CHECKING:
    from automl.store.artifacts import ArtifactStore


def verified_source(model: dict[str, Any], store: ArtifactStore, study: str = "") -> bytes | None:
    """The verified bytes of a study's build: a file's source or a pickle (None: a module).

    Args:
        model: the spec's ``model`` section (``build``, ``digest``, ``signature``).
        store: the artifact store that holds a pickled build.
        study: the study's name, for the message.

    Raises:
        UntrustedCodeError: no or a wrong signature, no key here, or content whose digest
            is not the sealed one.
    """
    ref = str(model.get("build") or "")
    digest, signature = model.get("digest"), model.get("signature")
    where = f"study {study!r}: " if study else ""

    def refuse(why: str) -> UntrustedCodeError:
        return UntrustedCodeError(f"{where}refused model code {ref!r}: {why}")

    if not signature:
        raise refuse(
            "it is not signed (the study was made before automl signed code, or its storage "
            "was changed); start a new study"
        )
    try:
        good = signing.verify(ref, digest if isinstance(digest, str) else None, signature)
    except SigningKeyError as exc:
        raise refuse(str(exc)) from None
    if not good:
        raise refuse(
            f"its signature does not match the key {signing.where()} (the study's storage was "
            "changed, or the sweep was started on a machine with another key)"
        )
    source = ref.rpartition(":")[0]
    if ref.startswith(PICKLED):
        blob = _artifact(store, ref.removeprefix(PICKLED), refuse)
    elif is_file_ref(source):
        blob = _file(source, refuse)
    else:
        return None  # a module: found on this machine's own path, signed by name
    if signing.sha256(blob) != digest:
        what = "the pickle" if ref.startswith(PICKLED) else "the file"
        raise refuse(f"{what} changed since the sweep started (its SHA-256 is not the signed one)")
    return blob


def _artifact(store: ArtifactStore, aid: str, refuse: Any) -> bytes:
    if not models.safe_id(aid):
        raise refuse(f"{aid!r} is not an artifact id")
    try:
        with store.open_reader(aid) as f:
            return bytes(f.read())
    except Exception as exc:  # noqa: BLE001 - missing, unreadable: refused either way
        raise refuse(f"the pickle cannot be read: {type(exc).__name__}") from None


def _file(source: str, refuse: Any) -> bytes:
    try:
        return Path(source).expanduser().read_bytes()
    except OSError as exc:
        raise refuse(f"the file cannot be read: {exc.strerror or type(exc).__name__}") from None
