"""Deleting a study: its trials in the storage and every file it keeps in the artifact store
(models, split, tokenizer, the best model's evaluation, the trials' logs).

Optuna's ``delete_study`` removes the rows and leaves the models behind, as files named by
UUID that nobody can attribute afterwards. Here the files go first, then the study. What
the storage says a study's files are is not trusted: an id that is not one plain file name
in the artifact folder is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import optuna
from optuna.trial import TrialState

from automl.errors import StudyBusyError
from automl.store import logs, placement, records, storage
from automl.store.models import safe_id

# Optuna's upload_artifact records each artifact as a system attribute of its owner.
_OPTUNA_ARTIFACT = "artifacts:"
# Study attributes that name a file of the study, and those whose dict names one.
_STUDY_FILES = (records.SPLIT, records.TOKENIZER, records.VOCAB)
# attribute -> the key of its dict that names the file
_STUDY_DICT_FILES = {records.REFIT: "artifact_id", records.BEST_EVAL: "artifact"}


@dataclass
class Deleted:
    """What a delete removed (or, before it, would remove)."""

    study: str
    trials: int
    files: list[str] = field(default_factory=list)


def plan(name: str, url: str) -> tuple[optuna.Study, Deleted]:
    """The study and what deleting it removes; refuses while its workers run."""
    opened = storage.open_storage(url)
    study = storage.load_study(name, opened, url)
    busy = running(study)
    if busy:
        raise StudyBusyError(
            f"study {name!r} is in use ({', '.join(busy)}); stop its sweep and workers, "
            "then delete it"
        )
    return study, Deleted(name, len(study.get_trials(deepcopy=False)), files_of(study))


def delete(study: optuna.Study, url: str, deleted: Deleted) -> Deleted:
    """Remove the files of ``deleted``, then the study itself."""
    store = storage.artifact_store(url, create=False)
    for artifact_id in deleted.files:
        storage.remove(store, artifact_id)
    numbers = [t.number for t in study.get_trials(deepcopy=False)]
    logs.remove_study_logs(url, study.study_name, numbers)
    optuna.delete_study(study_name=study.study_name, storage=study._storage)
    return deleted


def running(study: optuna.Study) -> list[str]:
    """What still works on the study: RUNNING trials whose worker beats, and conductors
    on this machine that are alive (one on another machine is seen by its trials)."""
    stale = {t.number for t in storage.stale_trials(study)}
    busy = [
        f"trial {t.number} running on {t.user_attrs.get(records.WORKER, 'a worker')}"
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if t.number not in stale
    ]
    for owner in study.user_attrs.get(records.TARGET_OWNERS) or []:
        if placement.alive_here(str(owner)):
            busy.append(f"sweep {owner}")
    return busy


def files_of(study: optuna.Study) -> list[str]:
    """Every artifact id the study and its trials name, that is a plain file name."""
    ids: set[str] = set()
    owners = [(study.user_attrs, storage.study_system_attrs(study))]
    owners += [(t.user_attrs, t.system_attrs) for t in study.get_trials(deepcopy=False)]
    for user, system in owners:
        ids.update(
            k.removeprefix(_OPTUNA_ARTIFACT) for k in system if k.startswith(_OPTUNA_ARTIFACT)
        )
        ids.update(str(user.get(k)) for k in (*_STUDY_FILES, records.ARTIFACT) if user.get(k))
        for key, inner in _STUDY_DICT_FILES.items():
            value = user.get(key)
            if isinstance(value, dict) and value.get(inner):
                ids.add(str(value[inner]))
    return sorted(i for i in ids if safe_id(i))
