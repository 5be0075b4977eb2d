"""Storage URLs, artifact stores, sampler and pruner registries, study create / load.

The default storage is an Optuna journal file in ``./automl_studies/``: embedded, no server,
and safe for several local processes at once (appends under a file lock), which SQLite is
not. Any Optuna storage URL works too: ``postgresql://``, ``mysql://``, ``sqlite:///``,
``redis://`` (journal on Redis), or a path to a ``.log`` / ``.journal`` file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts import FileSystemArtifactStore

from automl.errors import StorageError, StudyExistsError, StudyNotFoundError, unknown_name
from automl.spec import PrunerSpec, SweepSpec

DEFAULT_DIR = "automl_studies"
ENV_STORAGE = "AUTOML_STORAGE"
ENV_ARTIFACTS = "AUTOML_ARTIFACTS"
HEARTBEAT_S = int(os.environ.get("AUTOML_HEARTBEAT_S", "30"))
GRACE_S = int(os.environ.get("AUTOML_GRACE_S", "120"))
_RDB = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql")


def storage_url(url: str | None = None) -> str:
    """The URL in effect: the argument, else ``$AUTOML_STORAGE``, else the embedded default."""
    return url or os.environ.get(ENV_STORAGE) or str(Path(DEFAULT_DIR) / "journal.log")


def mask(url: str) -> str:
    """The URL with any password replaced by ``***``: safe to print, log and report."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _scheme(url: str) -> str:
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+]*)://", url)
    return m.group(1).split("+")[0].lower() if m else ""


def open_storage(url: str | None = None) -> optuna.storages.BaseStorage:
    """Open (and for a file, create) the storage at ``url``."""
    url = storage_url(url)
    scheme = _scheme(url)
    try:
        if scheme in _RDB:
            return _rdb(url)
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
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(f"cannot open storage {mask(url)}: {mask(reason)}") from None


def _rdb(url: str) -> optuna.storages.BaseStorage:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    import inspect

    from automl.budget import retry_stale

    # Workers beat every 30 s; a trial silent for 2 minutes failed with its machine and
    # is retried by whichever worker notices first.
    params = inspect.signature(optuna.storages.RDBStorage).parameters
    # Optuna 4.9 renamed the callback; older releases only know the first name.
    key = (
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback" in params
        else "failed_trial_callback"
    )
    callback: dict[str, Any] = {key: retry_stale}
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


# Samplers: name -> factory(spec, seed, parallel, space) ---------------------------------


def _tpe(
    spec: SweepSpec, seed: int | None, parallel: bool, space: Any
) -> optuna.samplers.BaseSampler:
    kw: dict[str, Any] = {"seed": seed, "multivariate": True, "constant_liar": parallel}
    if spec.sampler.n_startup_trials is not None:
        kw["n_startup_trials"] = spec.sampler.n_startup_trials
    return optuna.samplers.TPESampler(**kw)


SAMPLERS: dict[str, Callable[..., optuna.samplers.BaseSampler]] = {
    "tpe": _tpe,
    "random": lambda spec, seed, parallel, space: optuna.samplers.RandomSampler(seed=seed),
    "grid": lambda spec, seed, parallel, space: optuna.samplers.GridSampler(space, seed=seed),
    "cmaes": lambda spec, seed, parallel, space: optuna.samplers.CmaEsSampler(
        seed=seed, warn_independent_sampling=False
    ),
    "gp": lambda spec, seed, parallel, space: optuna.samplers.GPSampler(seed=seed),
    "qmc": lambda spec, seed, parallel, space: optuna.samplers.QMCSampler(
        seed=seed, warn_independent_sampling=False
    ),
    "nsga2": lambda spec, seed, parallel, space: optuna.samplers.NSGAIISampler(seed=seed),
}


def make_sampler(
    spec: SweepSpec, *, seed: int | None = None, n_existing: int = 0, parallel: bool = False
) -> optuna.samplers.BaseSampler:
    """The spec's sampler. A resumed seeded study offsets the seed so draws do not repeat."""
    from automl.space import grid

    name = spec.sampler.name
    if name not in SAMPLERS:
        raise StorageError(unknown_name("sampler", name, list(SAMPLERS)))
    base = seed if seed is not None else spec.sampler.seed
    effective = None if base is None else base + n_existing
    space = grid(spec) if name == "grid" else None
    return SAMPLERS[name](spec, effective, parallel, space)


PRUNERS: dict[str, Callable[[PrunerSpec, int], optuna.pruners.BasePruner]] = {
    "median": lambda p, max_epochs: optuna.pruners.MedianPruner(
        n_startup_trials=p.n_startup_trials, n_warmup_steps=p.min_epochs - 1
    ),
    "successive_halving": lambda p, max_epochs: optuna.pruners.SuccessiveHalvingPruner(
        min_resource=p.min_epochs
    ),
    "hyperband": lambda p, max_epochs: optuna.pruners.HyperbandPruner(
        min_resource=p.min_epochs, max_resource=max_epochs
    ),
    "none": lambda p, max_epochs: optuna.pruners.NopPruner(),
}


def make_pruner(spec: SweepSpec, n_objectives: int) -> optuna.pruners.BasePruner:
    """The spec's pruner; multi-objective studies are never pruned (Optuna cannot)."""
    if n_objectives > 1:
        return optuna.pruners.NopPruner()
    return PRUNERS[spec.pruner.name](spec.pruner, spec.training.max_epochs)


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
