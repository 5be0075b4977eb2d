"""A study's working context: everything a worker needs to run its trials.

:func:`open_context` loads the study, its spec, sampler, pruner and the stored split;
:func:`splits_of` gives the preprocessed arrays, cached per process for the study.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts.exceptions import ArtifactNotFound

from automl.data import Splits, load_source, prepare, tabular
from automl.data.split import from_bytes
from automl.errors import DataError, SpecError
from automl.ranking import Objective
from automl.search.spec import SweepSpec, validate_spec
from automl.search.suggest import make_pruner, make_sampler
from automl.store import records, storage
from automl.store.artifacts import ArtifactStore


@dataclass
class Context:
    """Everything a worker needs to run trials of one study."""

    study: optuna.Study
    spec: SweepSpec
    task: str
    objectives: list[Objective]
    splits: Splits
    store: ArtifactStore
    url: str
    lock_dir: Path


def open_context(name: str, url: str | None, *, parallel: bool = False, slot: int = 0) -> Context:
    """Load a study for running trials: spec, sampler, pruner, the stored split.

    Args:
        parallel: other workers run trials of this study at the same time (TPE then uses
            the constant liar, and each worker's sampler gets its own seed).
        slot: this worker's slot number, to give parallel workers distinct seeds.
    """
    url = storage.storage_url(url)
    opened = storage.open_storage(url)
    study = storage.load_study(name, opened, url)
    spec = spec_of(study, url)
    objectives = records.objectives_of(study)
    offset = len(study.trials) + (7919 * (slot + 1) + os.getpid() % 7919 if parallel else 0)
    seed = study.user_attrs.get(records.SEED)
    study.sampler = make_sampler(spec, seed=seed, n_existing=offset, parallel=parallel)
    study.pruner = make_pruner(spec, len(objectives))
    store = storage.artifact_store(url)
    return Context(
        study=study,
        spec=spec,
        task=study.user_attrs[records.TASK],
        objectives=objectives,
        splits=splits_of(study, url),
        store=store,
        url=url,
        lock_dir=storage.artifact_dir(url),
    )


def spec_of(study: optuna.Study, url: str) -> SweepSpec:
    """The study's validated spec; an error for a study automl did not make."""
    raw = study.user_attrs.get(records.SPEC)
    if raw is None:
        raise SpecError(
            f"study {study.study_name!r} in {storage.mask(url)} was not made by automl "
            "(no spec stored)"
        )
    # Read back from storage: nothing it names is looked up or sealed (workers verify).
    return validate_spec(raw, origin=f"study {study.study_name!r}", stored=True)


# One entry per study this process worked on; the key holds the study's id and creation
# time, so a study recreated under the same name never gets the old split.
_SPLITS: dict[tuple[str, int, Any], Splits] = {}
_SPLITS_MAX = 2


def splits_of(study: optuna.Study, url: str) -> Splits:
    """The study's train / validation / test arrays and fitted preprocessing."""
    key = (url, storage.study_id(study), study.user_attrs.get(records.CREATED))
    if key not in _SPLITS:
        while len(_SPLITS) >= _SPLITS_MAX:
            _SPLITS.pop(next(iter(_SPLITS)))
        _SPLITS[key] = _load_splits(study, spec_of(study, url), url)
    return _SPLITS[key]


def _load_splits(study: optuna.Study, spec: SweepSpec, url: str) -> Splits:
    attrs = study.user_attrs
    raw = load_source(spec.data, attrs[records.TASK], storage.artifact_store(url, create=False))
    if raw.fingerprint() != attrs[records.DATA]["fingerprint"]:
        raise DataError(
            f"{spec.data.source}: the data changed since study {study.study_name!r} "
            "was created; start a new study"
        )
    if "categorical_encoding" in spec.search and raw.kind == "tabular":
        raw.options[tabular.CODES] = True  # the model encodes category columns per trial
    split_id = attrs[records.SPLIT]
    try:
        with storage.artifact_store(url, create=False).open_reader(split_id) as f:
            split = from_bytes(f.read())
    except (ArtifactNotFound, FileNotFoundError):
        raise DataError(
            f"study {study.study_name!r}: its data split {split_id!r} is not in the artifact "
            f"store {storage.artifact_location(url)}; on another machine, point AUTOML_ARTIFACTS "
            "at the folder the study was created with (a shared one)"
        ) from None
    return prepare(raw, split)
