"""Storage URLs, opening storages, artifacts, heartbeats: every touch of Optuna's storage.

This is the one module that uses private Optuna API (trial and study ids, the heartbeat
base class, a Redis backend's client), so that an Optuna upgrade changes one file.

The default storage is an Optuna journal file in ``./automl_studies/``: embedded, no server,
and safe for several local processes at once (appends under a file lock), which SQLite is
not. Any Optuna storage URL works too: ``postgresql://``, ``mysql://``, ``sqlite:///``,
``redis://`` (journal on Redis), ``grpc://HOST:PORT`` (a storage served by ``automl
serve-storage``: see :mod:`automl.store.proxy`), or a path to a ``.log`` / ``.journal`` file.
Models go to the artifact store (:mod:`automl.store.artifacts`): a folder or a bucket.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts.exceptions import ArtifactNotFound
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.trial import FrozenTrial, TrialState

from automl.errors import StorageError, StudyExistsError, StudyNotFoundError
from automl.store import artifacts, journal_repair, models, proxy
from automl.store.artifacts import ArtifactStore
from automl.store.redact import mask, remember, scrub

DEFAULT_DIR = "automl_studies"
ENV_STORAGE = "AUTOML_STORAGE"
ENV_ARTIFACTS = "AUTOML_ARTIFACTS"
# Workers beat every HEARTBEAT_S; a RUNNING trial silent for GRACE_S failed with its worker.
HEARTBEAT_S = float(os.environ.get("AUTOML_HEARTBEAT_S", "30"))
GRACE_S = float(os.environ.get("AUTOML_GRACE_S", "120"))
_RDB = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql")


def storage_url(url: str | None = None) -> str:
    """The URL in effect: the argument, else ``$AUTOML_STORAGE``, else the embedded default.

    Its passwords are remembered, to be scrubbed from every message that leaves the process.
    """
    found = url or os.environ.get(ENV_STORAGE) or str(Path(DEFAULT_DIR) / "journal.log")
    remember(found)
    return found


def _scheme(url: str) -> str:
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+]*)://", url)
    return m.group(1).split("+")[0].lower() if m else ""


def open_storage(url: str | None = None) -> optuna.storages.BaseStorage:
    """Open (and for a file, create) the storage at ``url``."""
    url = storage_url(url)
    scheme = _scheme(url)
    try:
        if scheme in _RDB:
            _check_host(url)
            return _rdb(url)
        if scheme == "redis":
            from optuna.storages.journal import JournalRedisBackend

            backend = JournalRedisBackend(url)
            backend._redis.ping()  # fail now, with a clear message, when it is unreachable
            return optuna.storages.JournalStorage(backend)
        if scheme == proxy.SCHEME:
            return proxy.connect(url)
        if scheme and scheme != "file":
            raise StorageError(
                f"--storage: unknown storage URL scheme {scheme!r} in {mask(url)}; valid: "
                "a journal file path, sqlite:///, postgresql://, mysql://, redis://, grpc://"
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
    "grpc": ("grpc", "grpc://HOST:PORT"),
}


def missing_driver(url: str) -> str:
    """What to install when the database driver of ``url`` is not importable."""
    extra, form = DRIVER_EXTRAS.get(_scheme(url), ("", ""))
    if not extra:
        return "its database driver is not installed"
    from automl.errors import install_hint

    return f"its database driver is not installed; run: {install_hint(extra)} (URL: {form}...)"


def _check_host(url: str) -> None:
    """Refuse a host that holds an ``@``: the password's ``@`` was not encoded, and the
    driver would try to reach a part of the password as a host (and say its name)."""
    from sqlalchemy.engine import make_url

    try:
        host = make_url(url).host or ""
    except Exception:  # noqa: BLE001 - the driver says what is wrong, scrubbed
        return
    if "@" in host:
        raise StorageError(
            f"cannot open storage {mask(url)}: its host part holds '@'; write an '@' of "
            "the password as %40 (percent-encode every special character of a password)"
        )


def _rdb(url: str) -> optuna.storages.BaseStorage:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.RDBStorage(
        url,
        engine_kwargs={"pool_pre_ping": True} if not url.startswith("sqlite") else None,
        heartbeat_interval=max(1, round(HEARTBEAT_S)),
        grace_period=max(1, round(GRACE_S)),
    )


def _journal_file(path: str) -> optuna.storages.BaseStorage:
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "journal.log"
    p.parent.mkdir(parents=True, exist_ok=True)
    lock = JournalFileOpenLock(str(p))
    journal_repair.repair(p, lock)
    return optuna.storages.JournalStorage(JournalFileBackend(str(p), lock_obj=lock))


def artifact_location(url: str | None = None) -> str:
    """Where trained models go: ``$AUTOML_ARTIFACTS`` (a folder or ``s3://bucket/prefix``),
    else beside a journal file or SQLite database, else ``./automl_studies/artifacts``."""
    env = os.environ.get(ENV_ARTIFACTS)
    if env:
        return env
    url = storage_url(url)
    scheme = _scheme(url)
    if not scheme or scheme == "file":
        p = Path(url.removeprefix("file://")).expanduser()
        return str((p if p.is_dir() else p.parent) / "artifacts")
    if url.startswith("sqlite:///"):
        return str(Path(url.removeprefix("sqlite:///")).expanduser().parent / "artifacts")
    return str(Path(DEFAULT_DIR) / "artifacts")


def artifact_dir(url: str | None = None) -> Path:
    """The folder of the artifacts, where this machine's workers also keep their locks;
    when models go to a bucket, a local folder for those locks (see ``artifacts.lock_dir``)."""
    location = artifact_location(url)
    if artifacts.remote(location):
        return artifacts.lock_dir()
    return Path(location.removeprefix("file://"))


def artifact_store(url: str | None = None, create: bool = True) -> ArtifactStore:
    """The artifact store of a storage URL (a folder or a bucket); ``create=False`` for
    read-only use."""
    return artifacts.open_store(artifact_location(url), create)


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


def study_system_attrs(study: optuna.Study) -> dict[str, Any]:
    """The study's system attributes (Optuna records its artifacts there)."""
    return dict(study._storage.get_study_system_attrs(study._study_id))


# Artifacts: saved models, splits, tokenizers -----------------------------------------------


def has(store: ArtifactStore, artifact_id: str | None) -> bool:
    """Whether the artifact exists; an id that is no plain file name never does."""
    return models.safe_id(artifact_id) and artifacts.exists(store, str(artifact_id))


def remove(store: ArtifactStore, artifact_id: str) -> None:
    """Remove quietly: another worker may have removed it first."""
    with contextlib.suppress(ArtifactNotFound, FileNotFoundError):
        store.remove(artifact_id)


def load_model(store: ArtifactStore, artifact_id: str, digest: str | None = None) -> Any:
    """The saved ``.keras`` model, checked and loaded in Keras safe mode (see ``models``)."""
    return models.load(store, artifact_id, digest)


def save_model(store: ArtifactStore, trial: optuna.Trial, model: Any) -> tuple[str, str]:
    """Save a trial's trained model as an artifact of the trial: its id and SHA-256."""
    return save_study_model(store, trial, model, f"trial-{trial.number}")


def save_study_model(
    store: ArtifactStore, study: optuna.Study | optuna.Trial, model: Any, name: str
) -> tuple[str, str]:
    """Save a model as an artifact of a study (a refit) or a trial: its id and SHA-256."""
    return models.save(store, study, model, name)


# Heartbeats and failing trials that their worker left --------------------------------------


BEAT = "automl_beat"  # system attr: the time.time() of a trial's last heartbeat


def _beating(study: optuna.Study) -> BaseHeartbeat | None:
    storage = study._storage
    if isinstance(storage, BaseHeartbeat) and storage.get_heartbeat_interval():
        return storage
    return None


def beat(study: optuna.Study, trial: optuna.Trial | FrozenTrial) -> None:
    """Record that the trial's worker is alive: Optuna's heartbeat table, else a system attr.

    Journal files and Redis have no heartbeat of their own, so the beat is a trial system
    attribute that any conductor or worker, on any machine, can read.
    """
    storage = _beating(study)
    if storage is not None:
        storage.record_heartbeat(trial._trial_id)
    else:
        study._storage.set_trial_system_attr(trial._trial_id, BEAT, time.time())


def first_beat(study: optuna.Study, trial: optuna.Trial) -> None:
    """Beat once at once: a trial that never beat could never be found stale."""
    beat(study, trial)


@contextlib.contextmanager
def heartbeat(study: optuna.Study, trial: optuna.Trial) -> Iterator[None]:
    """Beat for the trial every ``HEARTBEAT_S`` seconds while it runs, on any storage."""
    storage = _beating(study)
    interval = (storage.get_heartbeat_interval() if storage else None) or HEARTBEAT_S
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            with contextlib.suppress(Exception):  # a missed beat only risks a retry
                beat(study, trial)

    thread = threading.Thread(target=loop, daemon=True, name="automl-heartbeat")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def stale_trials(study: optuna.Study) -> list[FrozenTrial]:
    """RUNNING trials whose worker has not beaten for ``GRACE_S`` seconds, wherever it ran.

    Server storages compare Optuna's heartbeat table with the server's clock; journal and
    Redis storages compare the beat attribute with this machine's clock (keep clocks
    within a fraction of the grace period). A trial that never beat counts from its start.
    """
    storage = _beating(study)
    if storage is not None:
        ids = storage._get_stale_trial_ids(study._study_id)
        return [study._storage.get_trial(i) for i in ids]
    now = time.time()
    stale = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        last = t.system_attrs.get(BEAT)
        if last is None and t.datetime_start is not None:
            last = t.datetime_start.timestamp()
        if last is not None and now - float(last) > GRACE_S:
            stale.append(t)
    return stale


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


def finished_error(exc: BaseException) -> bool:
    """Whether Optuna refused an update because the trial had finished already."""
    return isinstance(exc, optuna.exceptions.UpdateFinishedTrialError)
