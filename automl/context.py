"""A study's working context: created once with its spec and split, loaded by every worker.

The spec (as JSON) and the split indices (an artifact) travel inside the study, so a worker
needs only the study name and the storage URL.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.artifacts.exceptions import ArtifactNotFound

from automl import __version__
from automl.data import Splits, load_source, make_split, prepare
from automl.data.split import from_bytes, to_bytes
from automl.errors import DataError, SpecError
from automl.models import get_family
from automl.spec import Objective, SweepSpec, validate_spec
from automl.study import (
    artifact_dir,
    artifact_store,
    load_study,
    make_pruner,
    make_sampler,
    mask,
    open_storage,
    storage_url,
)


@dataclass
class Context:
    """Everything a worker needs to run trials of one study."""

    study: optuna.Study
    spec: SweepSpec
    task: str
    objectives: list[Objective]
    splits: Splits
    store: FileSystemArtifactStore
    url: str
    lock_dir: Path

    @property
    def directions(self) -> list[str]:
        return [o.resolved_direction for o in self.objectives]


def create(spec: SweepSpec, name: str, url: str | None, *, seed: int | None = None) -> None:
    """Create the study: load data once, draw and store the split, store the spec."""
    url = storage_url(url)
    storage = open_storage(url)
    raw = load_source(spec.data, spec.task)
    _check_family_input(spec, raw.x)
    objectives = spec.objectives(raw.task)
    _check_objectives(objectives, raw.task)
    stratify = spec.data.stratify and raw.task == "classification"
    split = make_split(raw.y, spec.data.validation, spec.data.test, spec.data.split_seed, stratify)
    sizes = {k: int(len(v)) for k, v in split.items()}
    if min(sizes.values()) < 1:
        raise DataError(f"{spec.data.source}: too few samples to split ({len(raw.y)})")
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        directions=[o.resolved_direction for o in objectives],
    )
    store = artifact_store(url)
    split_id = f"split-{study._study_id}-{int(time.time() * 1000)}.npz"
    store.write(split_id, io.BytesIO(to_bytes(split)))
    attrs: dict[str, Any] = {
        "automl_version": __version__,
        "spec": spec.model_dump(mode="json"),
        "task": raw.task,
        "objectives": [o.model_dump(mode="json") for o in objectives],
        "seed": seed,
        "split_artifact": split_id,
        "data": {
            "name": raw.name,
            "source": spec.data.source,
            "kind": raw.kind,
            "sizes": sizes,
            "classes": raw.classes,
            "fingerprint": raw.fingerprint(),
        },
        "created": time.time(),
    }
    if raw.kind == "text":
        attrs["tokenizer_artifact"] = _store_tokenizer(store, split_id, raw, split)
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    for params in spec.enqueue:
        study.enqueue_trial(dict(params), skip_if_exists=True)


def _store_tokenizer(store: Any, split_id: str, raw: Any, split: dict[str, Any]) -> str:
    """Save the train-split tokenizer beside the split: users need it to encode new text."""
    import json

    from automl.data import text

    tokenizer = text.fit(raw.x[split["train"]], raw.options)
    artifact_id = split_id.replace("split-", "tokenizer-").replace(".npz", ".json")
    store.write(artifact_id, io.BytesIO(json.dumps(tokenizer, ensure_ascii=False).encode()))
    return artifact_id


def _check_family_input(spec: SweepSpec, x: Any) -> None:
    """Refuse a family that cannot read the data (a cnn on a table, rnn on images...)."""
    from automl.data import sample_kind
    from automl.models import FAMILIES

    family = get_family(spec.model.family)
    kind = sample_kind(spec.data, x)
    if kind in family.inputs:
        return
    needs = {
        "image": "images (height, width, channels)",
        "sequence": "sequences (steps, features)",
        "audio": "audio waveforms",
        "text": "text (data.kind: text or data.text_column)",
        "tabular": "tabular features",
    }
    fits = sorted(name for name, f in FAMILIES.items() if kind in f.inputs)
    shape = tuple(getattr(x, "shape", ()))[1:]
    raise DataError(
        f"model.family {family.name!r} needs {' or '.join(needs[k] for k in family.inputs)}; "
        f"data {spec.data.source!r} gives {kind} samples"
        + (f" of shape {shape}" if shape else "")
        + f"; families for {kind} data: {', '.join(fits) or 'none'}"
    )


def _check_objectives(objectives: list[Objective], task: str) -> None:
    from automl.spec import METRICS, MODEL_METRICS

    valid = (*METRICS[task], *MODEL_METRICS)
    for o in objectives:
        if o.metric not in valid:
            raise SpecError(
                f"objective.metric: {o.metric!r} does not apply to {task}; "
                f"valid: {', '.join(valid)}"
            )


_SPLITS: dict[tuple[str, str], Splits] = {}


def open_context(name: str, url: str | None, *, parallel: bool = False, slot: int = 0) -> Context:
    """Load a study for running trials: spec, sampler, pruner, the stored split.

    Args:
        parallel: other workers run trials of this study at the same time (TPE then uses
            the constant liar, and each worker's sampler gets its own seed).
        slot: this worker's slot number, to give parallel workers distinct seeds.
    """
    url = storage_url(url)
    storage = open_storage(url)
    study = load_study(name, storage, url)
    attrs = study.user_attrs
    if "spec" not in attrs:
        raise SpecError(f"study {name!r} in {mask(url)} was not made by automl (no spec stored)")
    spec = validate_spec(attrs["spec"], origin=f"study {name!r}")
    objectives = [Objective.model_validate(o) for o in attrs["objectives"]]
    offset = len(study.trials) + (7919 * (slot + 1) + os.getpid() % 7919 if parallel else 0)
    study.sampler = make_sampler(spec, seed=attrs.get("seed"), n_existing=offset, parallel=parallel)
    study.pruner = make_pruner(spec, len(objectives))
    store = artifact_store(url)
    return Context(
        study=study,
        spec=spec,
        task=attrs["task"],
        objectives=objectives,
        splits=_splits(study, spec, store, url),
        store=store,
        url=url,
        lock_dir=artifact_dir(url),
    )


def splits_of(study: optuna.Study, url: str) -> Splits:
    """The study's train / validation / test arrays and fitted preprocessing."""
    spec = validate_spec(study.user_attrs["spec"], origin=f"study {study.study_name!r}")
    return _splits(study, spec, artifact_store(url, create=False), url)


def _splits(study: optuna.Study, spec: SweepSpec, store: Any, url: str) -> Splits:
    key = (url, study.study_name)
    if key not in _SPLITS:
        attrs = study.user_attrs
        raw = load_source(spec.data, attrs["task"])
        if raw.fingerprint() != attrs["data"]["fingerprint"]:
            raise DataError(
                f"{spec.data.source}: the data changed since study {study.study_name!r} "
                "was created; start a new study"
            )
        try:
            with store.open_reader(attrs["split_artifact"]) as f:
                split = from_bytes(f.read())
        except (ArtifactNotFound, FileNotFoundError):
            raise DataError(
                f"study {study.study_name!r}: its data split {attrs['split_artifact']!r} is not "
                f"in the artifact folder {artifact_dir(url)}; on another machine, point "
                "AUTOML_ARTIFACTS at the folder the study was created with (a shared one)"
            ) from None
        _SPLITS[key] = prepare(raw, split)
    return _SPLITS[key]
