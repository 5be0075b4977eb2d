"""Search-space files: pydantic models, validated once where they enter.

A :class:`SweepSpec` is immutable. :func:`validate_spec` raises
:class:`~automl.errors.SpecError` with a one-line message that names the origin (a file),
the field path and what is allowed; :mod:`automl.search.catalog` reads the YAML files.
"""

from __future__ import annotations

import reprlib
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from automl.errors import SpecError
from automl.models import FAMILIES
from automl.models.params import TRAINING_PARAMS, HParam
from automl.ranking import Objective, at_k
from automl.search.data_spec import DataSpec
from automl.search.params import (
    CategoricalParam,
    FloatParam,
    IntParam,
    Overrides,
    Param,
    Scalar,
    Strict,
)
from automl.search.samplers import PRUNERS, SAMPLERS

TASKS = ("classification", "regression")
# Names come from the registries, so the spec accepts exactly the names a factory exists for.
if TYPE_CHECKING:
    SamplerName = str
    PrunerName = str
else:
    SamplerName = Literal[SAMPLERS.names]
    PrunerName = Literal[PRUNERS.names]
METRICS = {
    "classification": ("val_accuracy", "val_loss", "val_hr@10", "val_ndcg@10"),
    "regression": ("val_loss", "val_mae", "val_rmse"),
}
MODEL_METRICS = ("params_count", "latency_ms")
STORED = "stored"  # validation context key: the spec is read back from a study's storage


class ModelSpec(Strict):
    """An automl family, or the user's own ``build`` code (``file.py:fn``, ``pkg.mod:fn``).

    ``digest`` and ``signature`` are automl's, set where a spec enters from the user (see
    :mod:`automl.search.code_ref`): workers run the code only if they verify.
    """

    family: str | None = None
    build: str | None = None
    digest: str | None = None  # SHA-256 of the build's file or pickle, when it was sealed
    signature: str | None = None  # of build and digest, with the key of the sweep's machine

    @model_validator(mode="before")
    @classmethod
    def _seal(cls, raw: Any, info: ValidationInfo) -> Any:
        """Check and seal a reference from the user; one read back from storage stays as is."""
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("build"), str)
            or _from_storage(info)
        ):
            return raw
        from automl.search.code_ref import check_ref, seal

        check_ref(raw["build"])
        return {**raw, **seal(raw["build"], raw.get("digest"))}

    @model_validator(mode="after")
    def _one(self) -> ModelSpec:
        if (self.family is None) == (self.build is None):
            raise ValueError("model: give either 'family' or 'build' (file.py:function)")
        return self


def _from_storage(info: ValidationInfo) -> bool:
    """Whether this validation reads a spec back from a study's storage (not trusted)."""
    return bool(info.context and info.context.get(STORED))


class TrainingSpec(Strict):
    max_epochs: int = Field(20, ge=1)
    patience: int | None = Field(5, ge=0)
    batch_size: int = Field(32, ge=1)
    no_progress_epochs: int = Field(5, ge=0, le=1000)  # 0: never end a trial at chance
    refit: bool = False  # retrain the best on train + validation when the sweep ends


class ObjectiveSpec(Strict):
    """An objective as a file states it; the direction defaults to the metric's usual one."""

    metric: str
    direction: Literal["maximize", "minimize"] | None = None
    k: int | None = Field(None, ge=1, le=100)  # the K of val_hr@K / val_ndcg@K

    def resolve(self) -> Objective:
        found = at_k(self.metric)
        metric = f"{found[0]}@{self.k}" if found and self.k else self.metric
        return Objective.of(metric, self.direction)


def _objective_short(raw: Any) -> Any:
    if isinstance(raw, str):
        return {"metric": raw}
    if isinstance(raw, list):
        return [{"metric": r} if isinstance(r, str) else r for r in raw]
    return raw


class SamplerSpec(Strict):
    name: SamplerName = "tpe"
    seed: int | None = None
    n_startup_trials: int | None = Field(None, ge=0)


class PrunerSpec(Strict):
    name: PrunerName = "median"
    min_epochs: int = Field(2, ge=1)
    n_startup_trials: int = Field(4, ge=0)


class SweepSpec(Strict):
    """A validated search-space file."""

    name: str | None = None
    description: str = ""
    data: DataSpec
    task: Literal["classification", "regression"] | None = None
    model: ModelSpec
    search: dict[str, Param] = Field(default_factory=dict)
    augmentation: dict[str, Param] = Field(default_factory=dict)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    objective: Annotated[
        ObjectiveSpec | list[ObjectiveSpec] | None, BeforeValidator(_objective_short)
    ] = None
    sampler: SamplerSpec = Field(default_factory=SamplerSpec)
    pruner: PrunerSpec = Field(default_factory=PrunerSpec)
    keep: int = Field(5, ge=1)
    ensemble: int = Field(5, ge=0, le=50)  # greedy picks among kept models; 0: no ensemble
    enqueue: list[dict[str, Scalar]] = Field(default_factory=list)
    overrides: Overrides = Field(default_factory=dict)  # --set KEY=VALUE, for reports
    _stored: bool = PrivateAttr(False)  # read back from storage: replace() must not seal it

    @model_validator(mode="after")
    def _semantics(self) -> SweepSpec:
        _check_family(self)
        _check_when_cycles(self)
        _check_objectives(self)
        if self.sampler.name == "grid":
            _check_grid(self)
        return self

    def objectives(self, task: str) -> list[Objective]:
        """The objectives, with the task's default when the file gives none."""
        if self.objective is None:
            if self.data.kind == "interactions" or self.model.family == "recommender":
                return [Objective.of("val_hr@10" if task == "classification" else "val_rmse")]
            return [Objective.of("val_accuracy" if task == "classification" else "val_loss")]
        given = self.objective if isinstance(self.objective, list) else [self.objective]
        return [o.resolve() for o in given]

    def replace(self, **changes: Any) -> SweepSpec:
        """A validated copy with top-level or dotted fields replaced (``data.source``)."""
        raw = self.model_dump(mode="json", exclude_none=True)
        for key, value in changes.items():
            node = raw
            *parents, leaf = key.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = value
        return validate_spec(raw, origin="<override>", stored=self._stored)


def _check_family(spec: SweepSpec) -> None:
    if spec.model.build is not None:
        for section in ("search", "augmentation"):
            if getattr(spec, section):
                raise ValueError(
                    f"{section}: not used with model.build; the build function's hp calls "
                    "define the search space"
                )
        return
    family = FAMILIES.get(spec.model.family or "")
    if family is None:
        raise ValueError(
            f"model.family: unknown family {spec.model.family!r}; "
            f"valid: {', '.join(sorted(FAMILIES))}"
        )
    allowed = {**family.params, **TRAINING_PARAMS}
    for name, param in spec.search.items():
        _check_param("search", name, param, allowed, family.name)
    for name, param in spec.augmentation.items():
        if not family.augmentation:
            raise ValueError(f"augmentation.{name}: family {family.name!r} takes no augmentation")
        _check_param("augmentation", name, param, family.augmentation, family.name)


def _check_param(
    section: str, name: str, param: Any, allowed: dict[str, HParam], family: str
) -> None:
    where = f"{section}.{name}"
    rule = allowed.get(name)
    if rule is None:
        raise ValueError(
            f"{where}: unknown parameter for family {family!r}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    if param.per_layer and not rule.per_layer:
        per = sorted(k for k, v in allowed.items() if v.per_layer)
        raise ValueError(f"{where}: cannot be per_layer; per-layer parameters: {', '.join(per)}")
    if isinstance(param, IntParam | FloatParam):
        values: list[Any] = [param.low, param.high]
    elif isinstance(param, CategoricalParam):
        values = list(param.choices)
    else:
        values = [param.value]
    for value in values:
        problem = rule.check(value)
        if problem:
            raise ValueError(f"{where}: {name!r} {problem}")
    for cond in param.when or {}:
        if cond not in allowed:
            raise ValueError(f"{where}.when: unknown parameter {cond!r}")
        if cond == name:
            raise ValueError(f"{where}.when: a parameter cannot depend on itself")


def _check_when_cycles(spec: SweepSpec) -> None:
    for section in ("search", "augmentation"):
        params = getattr(spec, section)
        for start in params:
            seen, todo = set(), [start]
            while todo:
                name = todo.pop()
                for dep in params[name].when or {} if name in params else {}:
                    if dep == start:
                        raise ValueError(f"{section}.{start}.when: conditions form a cycle")
                    if dep not in seen:
                        seen.add(dep)
                        todo.append(dep)


def _check_objectives(spec: SweepSpec) -> None:
    if isinstance(spec.objective, list) and not spec.objective:
        raise ValueError("objective: give at least one metric, e.g. val_accuracy")
    if spec.objective:
        objectives = spec.objectives(spec.task or "classification")
        check_objectives(objectives, spec.task, any_metric=spec.model.build is not None)


def check_objectives(
    objectives: list[Objective], task: str | None, any_metric: bool = False
) -> None:
    """Each metric must exist (for ``task``, once it is known); the first one is validated.

    With ``any_metric`` (the user's own model code) any name of the model's Keras logs is
    accepted (``val_auc``); a trial whose logs lack it fails and says so.

    Raises:
        ValueError: naming the metric and the valid ones (callers wrap it with the origin).
    """
    tasks = [task] if task else list(TASKS)
    valid = sorted({m for t in tasks for m in METRICS[t]} | set(MODEL_METRICS))
    for obj in objectives:
        found = at_k(obj.metric)
        metric = f"{found[0]}@10" if found else obj.metric  # any K, checked as K = 10
        if metric not in valid and not any_metric:
            known = any(metric in METRICS[t] for t in TASKS)
            problem = f"{obj.metric!r} does not apply to {task}" if known else "unknown metric"
            name = "" if known else f" {obj.metric!r}"
            raise ValueError(f"objective.metric: {problem}{name}; valid: {', '.join(valid)}")
    if objectives and objectives[0].metric in MODEL_METRICS:
        raise ValueError("objective: the first objective must be a validation metric")


def _check_grid(spec: SweepSpec) -> None:
    for section in ("search", "augmentation"):
        for name, p in getattr(spec, section).items():
            if isinstance(p, FloatParam) and p.step is None:
                raise ValueError(
                    f"{section}.{name}: the grid sampler needs 'choices' or a float 'step'"
                )


def validate_spec(
    raw: dict[str, Any], origin: str = "<spec>", *, stored: bool = False
) -> SweepSpec:
    """Validate a mapping into a :class:`SweepSpec`, naming ``origin`` in errors.

    Args:
        stored: ``raw`` was read back from a study's storage: its code reference is neither
            looked up nor sealed (workers verify the seal it carries before they use it).
    """
    try:
        spec = SweepSpec.model_validate(raw, context={STORED: True} if stored else None)
    except ValidationError as exc:
        raise SpecError(f"{origin}: {format_validation_error(exc)}") from None
    spec._stored = stored
    return spec


def format_validation_error(exc: ValidationError) -> str:
    """One line per pydantic error list: ``field.path: message`` (first error, and a count)."""
    errors = exc.errors()
    parts = []
    for err in errors[:1]:
        loc = [str(x) for x in err["loc"] if x not in ("int", "float", "categorical", "fixed")]
        loc = [x for x in loc if not x.startswith(("function-", "list[", "Objective"))]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "literal_error" or err["type"].endswith(("_type", "_parsing")):
            msg = f"{msg}; got {reprlib.repr(err.get('input'))}"  # bounded: inputs may be huge
        field = ".".join(loc)
        parts.append(f"{field}: {msg}" if field and not msg.startswith(field) else msg)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return "; ".join(parts) + more
