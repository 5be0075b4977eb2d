"""Saved models in the artifact store: look up, load (Keras safe mode), remove."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from optuna.artifacts.exceptions import ArtifactNotFound


def has(store: Any, artifact_id: str | None) -> bool:
    if not artifact_id:
        return False
    try:
        store.open_reader(artifact_id).close()
    except (ArtifactNotFound, FileNotFoundError):
        return False
    return True


def remove(store: Any, artifact_id: str) -> None:
    """Remove quietly: another worker may have removed it first."""
    with contextlib.suppress(ArtifactNotFound, FileNotFoundError):
        store.remove(artifact_id)


def copy_to(store: Any, artifact_id: str, dest: str | Path) -> Path:
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with store.open_reader(artifact_id) as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out)
    return dest


def load_model(store: Any, artifact_id: str) -> Any:
    """The saved ``.keras`` model, loaded in Keras safe mode (no arbitrary code)."""
    import keras

    with tempfile.TemporaryDirectory() as tmp:
        path = copy_to(store, artifact_id, Path(tmp) / "model.keras")
        return keras.saving.load_model(path, safe_mode=True, compile=False)
