"""Storage URLs, opening storages, artifacts, heartbeats: every touch of Optuna's storage.

This is the one module that uses private Optuna API (trial and study ids, the heartbeat
base class, a Redis backend's client), so that an Optuna upgrade changes one file.

The default storage is an Optuna journal file in ``./automl_studies/``: embedded, no server,
and safe for several local processes at once (appends under a file lock), which SQLite is
not. Any Optuna storage URL works too: ``postgresql://``, ``mysql://``, ``sqlite:///``,
``redis://`` (journal on Redis), or a path to a ``.log`` / ``.journal`` file.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts import FileSystemArtifactStore, upload_artifact
from optuna.artifacts.exceptions import ArtifactNotFound
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.trial import FrozenTrial, TrialState

from automl.errors import StorageError, StudyExistsError, StudyNotFoundError

DEFAULT_DIR = "automl_studies"
ENV_STORAGE = "AUTOML_STORAGE"
ENV_ARTIFACTS = "AUTOML_ARTIFACTS"
HEARTBEAT_S = int(os.environ.get("AUTOML_HEARTBEAT_S", "30"))
GRACE_S = int(os.environ.get("AUTOML_GRACE_S", "120"))
_RDB = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql")


def storage_url(url: str | None = None) -> str:
    """The URL in effect: the argument, else ``$AUTOML_STORAGE``, else the embedded default."""
    return url or os.environ.get(ENV_STORAGE) or str(Path(DEFAULT_DIR) / "journal.log")


_SECRET_KEYS = re.compile(r"(?i)^(password|passwd|pwd|secret|token|sslpassword)$")


def mask(url: str) -> str:
    """The URL with every password replaced by ``***``: safe to print, log and report.

    Covers ``user:password@host`` (a password may hold ``@``, ``:`` or ``/``),
    ``:password@host`` (Redis), and ``?password=...`` in the query string; any text
    that contains such URLs is masked the same way.
    """
    return _URL.sub(lambda m: _mask_one(m.group(0)), url)


# A URL inside any text: a scheme, then anything up to white space or a quote.
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]*")


def _mask_one(url: str) -> str:
    scheme, _, rest = url.partition("://")
    rest, sep, query = rest.partition("?")
    at = rest.rfind("@")
    if at >= 0:
        user, colon, _ = rest[:at].partition(":")
        rest = f"{user}:***{rest[at:]}" if colon else rest
    if sep:
        query = "&".join(_mask_pair(pair) for pair in query.split("&"))
    return f"{scheme}://{rest}{sep}{query}"


def _mask_pair(pair: str) -> str:
    key, eq, _ = pair.partition("=")
    return f"{key}=***" if eq and _SECRET_KEYS.match(key) else pair


def _passwords(url: str) -> list[str]:
    """The passwords a URL holds, to scrub them from a driver's error text."""
    found = []
    rest, _, query = url.partition("://")[2].partition("?")
    at = rest.rfind("@")
    if at >= 0 and ":" in rest[:at]:
        found.append(rest[:at].partition(":")[2])
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if eq and _SECRET_KEYS.match(key):
            found.append(value)
    return [p for p in found if p]


def scrub(text: str, url: str) -> str:
    """``text`` with URLs masked and every password of ``url`` removed, however quoted."""
    text = mask(text)
    for secret in _passwords(url):
        variants = {secret, urllib.parse.unquote(secret), urllib.parse.quote(secret, safe="")}
        for v in sorted(variants, key=len, reverse=True):
            if len(v) >= 3:
                text = text.replace(v, "***")
    return text


def _scheme(url: str) -> str:
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+]*)://", url)
    return m.group(1).split("+")[0].lower() if m else ""


StaleCallback = Callable[[optuna.Study, FrozenTrial], None]


def open_storage(
    url: str | None = None, on_stale: StaleCallback | None = None
) -> optuna.storages.BaseStorage:
    """Open (and for a file, create) the storage at ``url``.

    Args:
        on_stale: called for a trial that a server storage fails because its worker
            stopped sending heartbeats (workers pass the retry rule here).
    """
    url = storage_url(url)
    scheme = _scheme(url)
    try:
        if scheme in _RDB:
            return _rdb(url, on_stale)
        if scheme == "redis":
            from optuna.storages.journal import JournalRedisBackend

            backend = JournalRedisBackend(url)
            backend._redis.ping()  # fail now, with a clear message, when it is unreachable
            return optuna.storages.JournalStorage(backend)
        if scheme and scheme != "file":
            raise StorageError(
                f"--storage: unknown storage URL scheme {scheme!r} in {mask(url)}; valid: "
                "a journal file path, sqlite:///, postgresql://, mysql://, redis://"
            )
        return _journal_file(url.removeprefix("file://"))
    except StorageError:
        raise
    except Exception as exc:  # any driver's connection error: one line, password masked
        if isinstance(exc, ImportError) or "Failed to import DB access module" in str(exc):
            raise StorageError(f"cannot open storage {mask(url)}: {missing_driver(url)}") from None
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(f"cannot open storage {mask(url)}: {scrub(reason, url)}") from None


# The extra that installs each scheme's driver, and the URL form that driver takes.
DRIVER_EXTRAS = {
    "postgresql": ("postgres", "postgresql://"),
    "postgres": ("postgres", "postgresql://"),
    "mysql": ("mysql", "mysql+pymysql://"),
    "mariadb": ("mysql", "mysql+pymysql://"),
    "redis": ("redis", "redis://"),
}


def missing_driver(url: str) -> str:
    """What to install when the database driver of ``url`` is not importable."""
    extra, form = DRIVER_EXTRAS.get(_scheme(url), ("", ""))
    if not extra:
        return "its database driver is not installed"
    return (
        f"its database driver is not installed; run: pip install 'automl[{extra}]' (URL: {form}...)"
    )


def _rdb(url: str, on_stale: StaleCallback | None) -> optuna.storages.BaseStorage:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    import inspect

    # Workers beat every 30 s; a trial silent for 2 minutes failed with its machine and
    # is retried by whichever worker notices first.
    params = inspect.signature(optuna.storages.RDBStorage).parameters
    # Optuna 4.9 renamed the callback; older releases only know the first name.
    key = (
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback" in params
        else "failed_trial_callback"
    )
    callback: dict[str, Any] = {key: on_stale} if on_stale is not None else {}
    return optuna.storages.RDBStorage(
        url,
        engine_kwargs={"pool_pre_ping": True} if not url.startswith("sqlite") else None,
        heartbeat_interval=HEARTBEAT_S,
        grace_period=GRACE_S,
        **callback,
    )


def _journal_file(path: str) -> optuna.storages.BaseStorage:
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "journal.log"
    p.parent.mkdir(parents=True, exist_ok=True)
    lock = JournalFileOpenLock(str(p))
    return optuna.storages.JournalStorage(JournalFileBackend(str(p), lock_obj=lock))


def artifact_dir(url: str | None = None) -> Path:
    """Where trained models go: beside a file storage, else ``$AUTOML_ARTIFACTS``."""
    env = os.environ.get(ENV_ARTIFACTS)
    if env:
        return Path(env)
    url = storage_url(url)
    scheme = _scheme(url)
    if not scheme or scheme == "file":
        p = Path(url.removeprefix("file://")).expanduser()
        return (p if p.is_dir() else p.parent) / "artifacts"
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).expanduser().parent / "artifacts"
    return Path(DEFAULT_DIR) / "artifacts"


def artifact_store(url: str | None = None, create: bool = True) -> FileSystemArtifactStore:
    """The artifact store of a storage URL; ``create=False`` for read-only use."""
    path = artifact_dir(url)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return FileSystemArtifactStore(str(path))


def study_names(storage: optuna.storages.BaseStorage) -> list[str]:
    return [s.study_name for s in storage.get_all_studies()]


def free_name(storage: optuna.storages.BaseStorage, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not taken yet."""
    taken = set(study_names(storage))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def check_new(storage: optuna.storages.BaseStorage, name: str) -> None:
    if name in study_names(storage):
        raise StudyExistsError(
            f"study {name!r} already exists; add --resume to continue it, or pick another --study"
        )


def delete_study_if_exists(name: str, url: str) -> bool:
    """Delete a study by name (its artifacts stay); whether there was one."""
    opened = open_storage(storage_url(url))
    if name not in study_names(opened):
        return False
    optuna.delete_study(study_name=name, storage=opened)
    return True


def load_study(
    name: str,
    storage: optuna.storages.BaseStorage,
    url: str,
    sampler: optuna.samplers.BaseSampler | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
) -> optuna.Study:
    try:
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    except KeyError:
        names = study_names(storage)
        listing = f"; studies: {', '.join(names)}" if names else "; the storage has no study"
        raise StudyNotFoundError(f"no study {name!r} in {mask(url)}{listing}") from None


def study_id(study: optuna.Study) -> int:
    """The storage's id of a study (unique, unlike a name reused after a delete)."""
    return int(study._study_id)


# Artifacts: saved models, splits, tokenizers -----------------------------------------------


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


def save_model(store: Any, trial: optuna.Trial, model: Any) -> str:
    """Save a trial's trained model as an artifact of the trial; returns its id."""
    return save_study_model(store, trial, model, f"trial-{trial.number}")


def save_study_model(store: Any, study: optuna.Study | optuna.Trial, model: Any, name: str) -> str:
    """Save a model as an artifact of a study (a refit) or a trial; returns its id."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.keras"
        model.save(path)
        return str(
            upload_artifact(
                artifact_store=store,
                file_path=str(path),
                study_or_trial=study,
                mimetype="application/octet-stream",
            )
        )


# Heartbeats and failing trials that their worker left --------------------------------------


def _beating(study: optuna.Study) -> BaseHeartbeat | None:
    storage = study._storage
    if isinstance(storage, BaseHeartbeat) and storage.get_heartbeat_interval():
        return storage
    return None


def first_beat(study: optuna.Study, trial: optuna.Trial) -> None:
    """Beat once at once: Optuna never marks a trial stale that has not beaten yet."""
    storage = _beating(study)
    if storage is not None:
        storage.record_heartbeat(trial._trial_id)


@contextlib.contextmanager
def heartbeat(study: optuna.Study, trial: optuna.Trial) -> Iterator[None]:
    """Beat for the trial while it runs, where the storage supports it (RDB)."""
    storage = _beating(study)
    if storage is None:
        yield
        return
    beating: BaseHeartbeat = storage
    interval = storage.get_heartbeat_interval() or HEARTBEAT_S
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):  # a missed beat only risks a retry
                beating.record_heartbeat(trial._trial_id)
            stop.wait(interval)

    thread = threading.Thread(target=beat, daemon=True, name="automl-heartbeat")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def fail_stale(study: optuna.Study) -> None:
    """Fail trials whose worker stopped beating (server storages; a no-op elsewhere)."""
    optuna.storages.fail_stale_trials(study)


def fail_trial(study: optuna.Study, trial: FrozenTrial, attrs: dict[str, Any]) -> bool:
    """Fail a RUNNING trial that its worker left, with ``attrs`` stored first.

    Returns False when the trial had finished meanwhile (its worker told it after all).
    """
    storage = study._storage
    try:
        for key, value in attrs.items():
            storage.set_trial_user_attr(trial._trial_id, key, value)
        study.tell(trial.number, state=TrialState.FAIL)
    except (RuntimeError, ValueError):  # finished meanwhile: Optuna refuses the update
        return False
    return True
