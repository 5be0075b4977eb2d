"""Saved models: a digest recorded when saved, loaded in safe mode, exported only verified.

The artifact folder is not trusted: a reader hands out a stored ``.keras`` file only after
its SHA-256 matched the digest recorded when it was saved (when one was) and it loaded in
Keras safe mode, which refuses Python inside a model (``Lambda`` layers). The file handed
out is the copy that was checked, never a second read of the store. Files are written
without following a symbolic link, and an existing one is replaced only when asked.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna.artifacts import upload_artifact
from optuna.artifacts.exceptions import ArtifactNotFound

from automl.errors import AutoMLError, NoModelError
from automl.store import signing

if TYPE_CHECKING:
    import optuna

    from automl.store.artifacts import ArtifactStore

# What automl and Optuna name artifacts: one plain file name, no path, no leading dot.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


def safe_id(artifact_id: object) -> bool:
    """Whether an artifact id read from storage names a file right in the artifact folder.

    Anything else (``../../etc/passwd``, an absolute path) is treated as no artifact.
    """
    return isinstance(artifact_id, str) and _SAFE_ID.fullmatch(artifact_id) is not None


def save(
    store: ArtifactStore, owner: optuna.Study | optuna.Trial, model: Any, name: str
) -> tuple[str, str]:
    """Save a model as an artifact of a trial (or a study: a refit): its id and SHA-256."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.keras"
        model.save(path)
        digest = signing.sha256(path.read_bytes())
        aid = upload_artifact(
            artifact_store=store,
            file_path=str(path),
            study_or_trial=owner,
            mimetype="application/octet-stream",
        )
        return str(aid), digest


def load(store: ArtifactStore, artifact_id: str, digest: str | None = None) -> Any:
    """The saved model, checked (see :func:`checked_copy`) and loaded in safe mode."""
    with tempfile.TemporaryDirectory() as tmp:
        return checked_copy(store, artifact_id, Path(tmp) / "model.keras", digest)


def checked_copy(store: ArtifactStore, artifact_id: str, path: Path, digest: str | None) -> Any:
    """Copy a saved model to ``path``, check it, and return it loaded (safe mode).

    Raises:
        NoModelError: no such artifact, a digest that is not the recorded one, or a file
            that does not load in Keras safe mode (arbitrary code, or not a model at all).
    """
    import keras

    if not safe_id(artifact_id):
        raise NoModelError(f"{artifact_id!r} is not an artifact id")
    try:
        with store.open_reader(artifact_id) as src, open(path, "xb") as out:
            shutil.copyfileobj(src, out)
    except (ArtifactNotFound, FileNotFoundError):
        raise NoModelError(f"model {artifact_id} is not in the artifact folder") from None
    if digest is not None and signing.sha256(path.read_bytes()) != digest:
        raise NoModelError(
            f"model {artifact_id}: refused: it changed since it was saved (its SHA-256 is not "
            "the one recorded then)"
        )
    import automl.models.numeric  # noqa: F401 - registers automl's own layer (Periodic)

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # noqa: BLE001 - any failure: it is not a model to hand out
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        raise NoModelError(
            f"model {artifact_id}: refused: it does not load in Keras safe mode "
            f"({type(exc).__name__}: {reason})"
        ) from None


def export(
    store: ArtifactStore,
    artifact_id: str,
    dest: str | Path,
    digest: str | None,
    *,
    overwrite: bool,
) -> Path:
    """Write a saved model to ``dest`` after :func:`checked_copy` passed on that very copy."""
    dest = Path(dest)
    refuse_existing([dest], overwrite)
    with tempfile.TemporaryDirectory() as tmp:
        checked = Path(tmp) / "model.keras"
        checked_copy(store, artifact_id, checked, digest)
        return write_file(dest, checked.read_bytes(), overwrite=overwrite)


def refuse_existing(paths: list[Path], overwrite: bool) -> None:
    """Raise unless every path is free (or ``overwrite``): nothing is replaced unasked."""
    if overwrite:
        return
    for path in paths:
        if os.path.lexists(path):
            raise AutoMLError(f"{path} exists; not replaced (--force replaces it)")


def write_file(dest: Path, blob: bytes, *, overwrite: bool) -> Path:
    """Write ``blob`` to ``dest``, never through a symbolic link; replace only if asked."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite:
        try:
            with open(dest, "xb") as out:  # O_EXCL: fails on any existing name, links too
                out.write(blob)
        except FileExistsError:
            raise AutoMLError(f"{dest} exists; not replaced (--force replaces it)") from None
        return dest
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(8)}.tmp")
    try:
        with open(tmp, "xb") as out:
            out.write(blob)
        os.replace(tmp, dest)  # replaces a link itself, never the file it points to
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return dest
