"""Creating a study from a spec: data loaded and split once, everything workers need stored.

A study carries everything its workers need: the spec (as JSON), the task, the objectives,
and the data split (an artifact), so a worker needs only the study name and storage URL.
"""

from __future__ import annotations

import io
import time
from typing import TYPE_CHECKING, Any

import optuna

from automl._version import __version__
from automl.data import load_source, sample_kind, split_raw
from automl.data.split import to_bytes
from automl.errors import DataError, SpecError, StudyExistsError
from automl.models import FAMILIES, get_family
from automl.ranking import at_k
from automl.search.samplers import check_sampler_installed
from automl.search.spec import SweepSpec, check_objectives
from automl.store import records, storage

if TYPE_CHECKING:
    from automl.data.raw import RawData
    from automl.store.artifacts import ArtifactStore


def create(
    spec: SweepSpec,
    name: str,
    url: str | None,
    *,
    seed: int | None = None,
    creator: str | None = None,
) -> None:
    """Create the study: load data once, draw and store the split, store the spec.

    Creation is all or nothing: a failure or an interrupt part-way deletes the study, so
    no half-made study is left for later commands to trip on. The storage makes the name
    atomically: when two sweeps race for one name, the second gets
    :class:`~automl.errors.StudyExistsError` and leaves the first one's study alone.

    Args:
        creator: a token stored with the study: the workers started for it wait for it.
    """
    url = storage.storage_url(url)
    check_sampler_installed(spec.sampler.name)
    opened = storage.open_storage(url)
    raw = load_source(spec.data, spec.task, storage.artifact_store(url))
    user_code = spec.model.build is not None
    if not user_code:
        _check_family_input(spec, raw.x)
    objectives = spec.objectives(raw.task)
    try:
        check_objectives(objectives, raw.task, any_metric=user_code)
        _check_ranking(objectives[0].metric, raw)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    split = raw.options.get("given_split") or split_raw(raw, spec.data)
    sizes = {k: int(len(v)) for k, v in split.items()}
    if user_code:  # a dry build: bad code fails here in one line, before any trial
        from automl.usercode.train import check_build

        check_build(spec, raw, split, storage.artifact_store(url))
    if min(sizes["train"], sizes["validation"]) < 1 or (
        sizes["test"] < 1 and "given_split" not in raw.options
    ):
        raise DataError(f"{spec.data.source}: too few samples to split ({len(raw.y)})")
    try:
        study = optuna.create_study(
            study_name=name, storage=opened, directions=[o.direction for o in objectives]
        )
    except optuna.exceptions.DuplicatedStudyError:
        raise StudyExistsError(
            f"study {name!r} already exists (another sweep made it first); add --resume to "
            "continue it, or pick another --study"
        ) from None
    try:
        if creator:
            study.set_user_attr(records.CREATOR, creator)
        _fill(study, spec, raw, split, sizes, objectives, seed, url)
    except BaseException:
        optuna.delete_study(study_name=name, storage=opened)
        raise


def _fill(
    study: optuna.Study,
    spec: SweepSpec,
    raw: RawData,
    split: dict[str, Any],
    sizes: dict[str, int],
    objectives: list[Any],
    seed: int | None,
    url: str,
) -> None:
    store = storage.artifact_store(url)
    split_id = f"split-{storage.study_id(study)}-{int(time.time() * 1000)}.npz"
    store.write(split_id, io.BytesIO(to_bytes(split)))
    attrs: dict[str, Any] = {
        records.VERSION: __version__,
        records.TASK: raw.task,
        records.OBJECTIVES: [o.as_dict() for o in objectives],
        records.SEED: seed,
        records.SPLIT: split_id,
        records.DATA: {
            "name": raw.name,
            "source": spec.data.source,
            "kind": raw.kind,
            "sizes": sizes,
            "classes": raw.classes,
            "fingerprint": raw.fingerprint(),
        },
        records.CREATED: time.time(),
    }
    if raw.kind == "audio":  # the rate the waveforms (and the models' inputs) are at
        attrs[records.DATA]["sample_rate"] = int(raw.options["sample_rate"])
    if raw.kind == "text":
        attrs[records.TOKENIZER] = _store_tokenizer(store, split_id, raw, split)
    if raw.kind == "interactions":
        attrs[records.VOCAB] = _store_vocabulary(store, split_id, raw, split)
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    for params in spec.enqueue:
        study.enqueue_trial(dict(params), skip_if_exists=True)
    # The spec goes last: a study with a spec is a complete one.
    study.set_user_attr(records.SPEC, spec.model_dump(mode="json"))


def _store_tokenizer(
    store: ArtifactStore, split_id: str, raw: RawData, split: dict[str, Any]
) -> str:
    """Save the train-split tokenizer beside the split: users need it to encode new text."""
    import json

    from automl.data import text

    tokenizer = text.fit(raw.x[split["train"]], raw.options)
    artifact_id = split_id.replace("split-", "tokenizer-").replace(".npz", ".json")
    store.write(artifact_id, io.BytesIO(json.dumps(tokenizer, ensure_ascii=False).encode()))
    return artifact_id


def _store_vocabulary(
    store: ArtifactStore, split_id: str, raw: RawData, split: dict[str, Any]
) -> str:
    """Save the user and item id vocabularies: a model's embeddings are indexed by them."""
    import json

    from automl.data import interactions

    vocabulary = interactions.vocabulary_of(raw, split["train"])
    artifact_id = split_id.replace("split-", "vocabulary-").replace(".npz", ".json")
    store.write(artifact_id, io.BytesIO(json.dumps(vocabulary, ensure_ascii=False).encode()))
    return artifact_id


def _check_ranking(metric: str, raw: RawData) -> None:
    """HitRate / NDCG exist only for implicit interactions, and are all they measure."""
    implicit = raw.kind == "interactions" and raw.options.get("implicit")
    if bool(at_k(metric)) != bool(implicit):
        allowed = "val_hr@K or val_ndcg@K" if implicit else "not val_hr@K or val_ndcg@K"
        raise ValueError(
            f"objective.metric: {metric!r} does not apply to data {raw.name!r}; "
            f"{'implicit-feedback interactions' if implicit else 'this data'} take {allowed}"
        )


def _check_family_input(spec: SweepSpec, x: Any) -> None:
    """Refuse a family that cannot read the data (a cnn on a table, rnn on images...)."""
    family = get_family(str(spec.model.family))
    kind = sample_kind(spec.data, x)
    if kind in family.inputs:
        return
    needs = {
        "image": "images (height, width, channels)",
        "sequence": "sequences (steps, features)",
        "audio": "audio waveforms",
        "text": "text (data.kind: text or data.text_column)",
        "tabular": "tabular features",
        "interactions": "user-item interactions (data.kind: interactions)",
    }
    fits = sorted(name for name, f in FAMILIES.items() if kind in f.inputs)
    shape = tuple(getattr(x, "shape", ()))[1:]
    raise DataError(
        f"model.family {family.name!r} needs {' or '.join(needs[k] for k in family.inputs)}; "
        f"data {spec.data.source!r} gives {kind} samples"
        + (f" of shape {shape}" if shape else "")
        + f"; families for {kind} data: {', '.join(fits) or 'none'}"
    )
