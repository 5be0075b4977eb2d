"""Where a sweep is tracked: ``--track`` values, checked where they enter and again where a
worker reads them back from the study.

The settings travel with the study (a study attribute), so that workers on any machine log
to the same places. The storage is not trusted: what is read back names only ``mlflow`` or
``tensorboard``, a plain tracking URI (a scheme of :data:`SCHEMES`) or an absolute folder,
and never a password. A URI that holds one is refused on the command line; in
``MLFLOW_TRACKING_URI`` it is stored without it, and each worker takes it back from its own
environment.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl.errors import TrackingError
from automl.store.redact import mask, passwords

TRACKERS = ("mlflow", "tensorboard")
# MLflow tracking stores a URI may name; anything else could pick a plug-in by its scheme.
SCHEMES = ("http", "https", "file", "sqlite", "postgresql", "mysql", "mssql")
ENV_URI = "MLFLOW_TRACKING_URI"
_ID = re.compile(r"^[\w-]{1,64}$")
_MAX = 2000


@dataclass(frozen=True)
class Tracking:
    """Where one sweep's trials are tracked.

    Attributes:
        mlflow: the MLflow tracking URI (without a password), or None.
        tensorboard: the TensorBoard log folder (absolute), or None.
        experiment_id, parent_run_id: the sweep's MLflow experiment and parent run, once
            made (workers nest their trial runs under it).
        sweep: a token of the sweep, so a warning is printed once per sweep.
    """

    mlflow: str | None = None
    tensorboard: str | None = None
    experiment_id: str | None = None
    parent_run_id: str | None = None
    sweep: str = ""

    def __bool__(self) -> bool:
        return bool(self.mlflow or self.tensorboard)

    def to_attr(self) -> dict[str, Any]:
        """The study attribute: plain data, no secret."""
        out: dict[str, Any] = {"sweep": self.sweep}
        if self.mlflow and self.parent_run_id:
            out["mlflow"] = {
                "uri": self.mlflow,
                "experiment_id": self.experiment_id,
                "parent_run_id": self.parent_run_id,
            }
        if self.tensorboard:
            out["tensorboard"] = {"dir": self.tensorboard}
        return out


def parse(values: str | Iterable[str] | None) -> Tracking:
    """``--track`` values (``mlflow``, ``mlflow=URI``, ``tensorboard=DIR``) as settings.

    Raises:
        TrackingError: one line naming the value and what is allowed.
    """
    if values is None:
        return Tracking()
    found: dict[str, str] = {}
    for value in [values] if isinstance(values, str) else list(values):
        name, eq, where = str(value).partition("=")
        name = name.strip().lower()
        if name not in TRACKERS:
            raise TrackingError(
                f"--track {mask(str(value))!r}: unknown tracker; allowed: mlflow, mlflow=URI, "
                "tensorboard=DIR"
            )
        if name in found:
            raise TrackingError(f"--track {name}: given twice")
        if name == "tensorboard":
            found[name] = _log_dir(where)
        else:
            found[name] = _given_uri(where) if eq else _env_uri()
    return Tracking(mlflow=found.get("mlflow"), tensorboard=found.get("tensorboard"))


def _log_dir(where: str) -> str:
    if not where.strip():
        raise TrackingError("--track tensorboard: give a folder, --track tensorboard=DIR")
    if "\0" in where or len(where) > _MAX:
        raise TrackingError("--track tensorboard=DIR: not a folder name")
    return str(Path(where).expanduser().resolve())


def _given_uri(uri: str) -> str:
    if not uri.strip():
        raise TrackingError("--track mlflow=URI: the URI is empty")
    if passwords(uri):
        raise TrackingError(
            f"--track mlflow={mask(uri)}: the URI holds a password; set "
            "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_URI) "
            "instead: a password is never stored with the study"
        )
    return check_uri(_absolute(uri), "--track mlflow=URI")


def _env_uri() -> str:
    """``MLFLOW_TRACKING_URI`` without its password, or MLflow's own default."""
    uri = os.environ.get(ENV_URI, "").strip()
    if not uri:
        uri = _default_uri()
    return check_uri(_absolute(without_password(uri)), ENV_URI)


def _default_uri() -> str:
    try:
        import mlflow
    except ImportError:
        raise TrackingError(missing("mlflow")) from None
    return str(mlflow.get_tracking_uri())


def missing(tracker: str) -> str:
    """The one line for a tracker whose package is not installed."""
    from automl.errors import install_hint

    return f"--track {tracker}: the {tracker} package is not installed; {install_hint(tracker)}"


def _absolute(uri: str) -> str:
    """A local store's path made absolute: workers run in other folders."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).resolve())
    if _is_path(uri):
        return str(Path(uri).expanduser().resolve())
    return uri


def _is_path(uri: str) -> bool:
    return "://" not in uri and not uri.startswith("file:")


def without_password(uri: str) -> str:
    """``uri`` with the password of its user part taken out (``user@host`` stays)."""
    if _is_path(uri):
        return uri
    parts = urllib.parse.urlsplit(uri)
    if parts.password is None and "@" not in parts.netloc:
        return uri
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    netloc = f"{name}@{host}" if name else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def check_uri(uri: str, where: str) -> str:
    """``uri`` if it is a plain tracking URI or path with no password, else TrackingError."""
    bad = ""
    if len(uri) > _MAX or any(ord(c) < 32 for c in uri):
        bad = "not a URI"
    elif passwords(uri):
        bad = "it holds a password"
    elif not _is_path(uri):
        scheme = uri.partition(":")[0].split("+")[0].lower()
        if scheme not in SCHEMES:
            bad = f"scheme {scheme!r} is not one of {', '.join(SCHEMES)}"
    elif not os.path.isabs(uri):
        bad = "a path must be absolute"
    if bad:
        raise TrackingError(f"{where} {mask(uri)!r}: {bad}")
    return uri


def from_attr(raw: Any) -> Tracking:
    """The settings a study holds, each checked; what does not pass is left out.

    Raises:
        TrackingError: a value is not plain data of the expected form (the storage is not
            trusted), naming what was wrong.
    """
    if not isinstance(raw, dict) or not raw:
        return Tracking()
    sweep = str(raw.get("sweep") or "")
    if sweep and not _ID.match(sweep):
        raise TrackingError("stored tracking: bad sweep token")
    found: dict[str, Any] = {"sweep": sweep}
    ml = raw.get("mlflow")
    if isinstance(ml, dict):
        ids = [ml.get("experiment_id"), ml.get("parent_run_id")]
        if not all(isinstance(i, str) and _ID.match(i) for i in ids):
            raise TrackingError("stored tracking: bad MLflow experiment or run id")
        found["mlflow"] = check_uri(str(ml.get("uri") or ""), "stored MLflow URI")
        found["experiment_id"], found["parent_run_id"] = ids
    tb = raw.get("tensorboard")
    if isinstance(tb, dict):
        found["tensorboard"] = check_uri(str(tb.get("dir") or ""), "stored TensorBoard folder")
        if not _is_path(found["tensorboard"]):
            raise TrackingError("stored TensorBoard folder: not a folder")
    return Tracking(**found)


def plain_id(value: Any) -> bool:
    """An id or token as automl makes them (letters, digits, ``_``, ``-``)."""
    return isinstance(value, str) and bool(_ID.match(value))


def worker_uri(stored: str) -> str:
    """The URI a worker uses: its own ``MLFLOW_TRACKING_URI`` when that is the stored one
    with a password (credentials come from the worker's environment, never the study)."""
    env = os.environ.get(ENV_URI, "").strip()
    if env and env != stored and _absolute(without_password(env)) == stored:
        return env
    return stored


def safe_name(name: str) -> str:
    """A study name fit for a folder: as it is when it is one, else cleaned and hashed."""
    if re.fullmatch(r"\w[\w.+-]{0,127}", name):
        return name
    import hashlib

    clean = re.sub(r"[^\w.+-]", "_", name)[:64].lstrip(".+-") or "study"
    return f"{clean}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
