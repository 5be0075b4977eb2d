"""Search-space files: pydantic models, validated once where they enter.

A :class:`SweepSpec` is immutable. ``load_spec`` accepts a ready space's name or a path
and raises :class:`~automl.errors.SpecError` with a one-line message that names the file,
the field path and what is allowed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from automl.errors import SpecError
from automl.models import FAMILIES
from automl.models.params import TRAINING_PARAMS, HParam

Scalar = bool | int | float | str
TASKS = ("classification", "regression")
SAMPLERS = ("tpe", "random", "grid", "cmaes", "gp", "qmc", "nsga2")
PRUNERS = ("median", "successive_halving", "hyperband", "none")
METRICS = {
    "classification": ("val_accuracy", "val_loss"),
    "regression": ("val_loss", "val_mae", "val_rmse"),
}
MODEL_METRICS = ("params_count", "latency_ms")
MAXIMIZED = ("val_accuracy",)
DATA_KINDS = ("builtin", "csv", "npz", "images", "audio", "text", "sequence")


class _Strict(BaseModel):
    """Base of every spec model: frozen, and unknown fields list the allowed ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = set(cls.model_fields)
            unknown = [k for k in data if k not in allowed]
            if unknown:
                raise ValueError(
                    f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}"
                )
        return data


class _Param(_Strict):
    per_layer: bool = False
    when: dict[str, Scalar | list[Scalar]] | None = None


class IntParam(_Param):
    """An integer drawn from [low, high]."""

    type: Literal["int"] = "int"
    low: int
    high: int
    step: int = 1
    log: bool = False

    @model_validator(mode="after")
    def _check(self) -> IntParam:
        _check_bounds(self.low, self.high, self.log)
        if self.step < 1:
            raise ValueError(f"'step' must be >= 1; got {self.step}")
        if self.log and self.step != 1:
            raise ValueError("'log' and 'step' cannot be used together")
        return self


class FloatParam(_Param):
    """A float drawn from [low, high], optionally on a log scale."""

    type: Literal["float"] = "float"
    low: float
    high: float
    log: bool = False
    step: float | None = None

    @model_validator(mode="after")
    def _check(self) -> FloatParam:
        _check_bounds(self.low, self.high, self.log)
        if self.step is not None and self.step <= 0:
            raise ValueError(f"'step' must be > 0; got {self.step}")
        if self.log and self.step is not None:
            raise ValueError("'log' and 'step' cannot be used together")
        return self


class CategoricalParam(_Param):
    """One of a list of choices."""

    type: Literal["categorical"] = "categorical"
    choices: list[Scalar] = Field(min_length=1)


class FixedParam(_Param):
    """A fixed value, not tuned."""

    type: Literal["fixed"] = "fixed"
    value: Scalar | None


def _check_bounds(low: float, high: float, log: bool) -> None:
    if low > high:
        raise ValueError(f"'low' must be <= 'high'; got low={low}, high={high}")
    if log and low <= 0:
        raise ValueError(f"'log: true' needs low > 0; got low={low}")


def _normalize_param(raw: Any) -> Any:
    """Accept the short forms: a list is categorical, a scalar is fixed, types inferred."""
    if isinstance(raw, list):
        return {"type": "categorical", "choices": raw}
    if isinstance(raw, dict):
        if "type" in raw:
            return raw
        if "choices" in raw:
            return {"type": "categorical", **raw}
        if "value" in raw:
            return {"type": "fixed", **raw}
        if "low" in raw or "high" in raw:
            ints = all(
                isinstance(raw.get(k, 1), int) and not isinstance(raw.get(k), bool)
                for k in ("low", "high", "step")
            )
            return {"type": "int" if ints else "float", **raw}
        raise ValueError(
            "a parameter is a value, a list of choices, or a mapping with "
            "low/high (int or float) or choices"
        )
    return {"type": "fixed", "value": raw}


Param = Annotated[
    IntParam | FloatParam | CategoricalParam | FixedParam,
    Field(discriminator="type"),
    BeforeValidator(_normalize_param),
]


class DataSpec(_Strict):
    """Where the data comes from, how it is read and how it is split.

    ``kind`` picks the reader; when left out it is inferred from ``source``: a built-in
    name, a folder of class subfolders (images or WAV audio by the files' extensions), a
    ``.csv/.tsv`` (tabular; text when ``text_column`` is set; sequence windows when
    ``window`` is set; audio when a column lists ``.wav`` paths) or an ``.npz``.
    """

    source: str
    kind: Literal["builtin", "csv", "npz", "images", "audio", "text", "sequence"] | None = None
    target: str | None = None
    validation: float = Field(0.15, gt=0, lt=1)
    test: float = Field(0.15, gt=0, lt=1)
    split_seed: int = 0
    stratify: bool = True
    # Files: CSV reading, unreadable images or recordings.
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    encoding: str | None = None
    skip_bad_files: bool = False
    # Images: resized to image_size (height, width), pixels scaled to [0, 1].
    image_size: tuple[
        Annotated[int, Field(ge=1, le=4096)], Annotated[int, Field(ge=1, le=4096)]
    ] = (64, 64)
    color_mode: Literal["rgb", "grayscale"] = "rgb"
    # Audio: resampled to sample_rate, padded or trimmed to duration seconds.
    sample_rate: int = Field(16000, ge=100, le=384000)
    duration: float = Field(1.0, gt=0, le=600)
    # Text: a text column tokenized into ids (0 padding, 1 out of vocabulary).
    text_column: str | None = None
    tokenize: Literal["words", "chars"] = "words"
    max_length: int | None = Field(None, ge=1, le=100000)
    max_vocab: int = Field(20000, ge=3)
    # Sequences from a CSV time series: windows of `window` rows, target `horizon` rows on.
    window: int | None = Field(None, ge=1)
    horizon: int = Field(1, ge=0)
    stride: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _fractions(self) -> DataSpec:
        if self.validation + self.test >= 0.9:
            raise ValueError(
                f"'validation' + 'test' must be < 0.9; got {self.validation} + {self.test}"
            )
        return self


class ModelSpec(_Strict):
    family: str


class TrainingSpec(_Strict):
    max_epochs: int = Field(20, ge=1)
    patience: int | None = Field(5, ge=0)
    batch_size: int = Field(32, ge=1)


class Objective(_Strict):
    metric: str
    direction: Literal["maximize", "minimize"] | None = None

    @property
    def resolved_direction(self) -> Literal["maximize", "minimize"]:
        if self.direction:
            return self.direction
        return "maximize" if self.metric in MAXIMIZED else "minimize"


def _objective_short(raw: Any) -> Any:
    if isinstance(raw, str):
        return {"metric": raw}
    if isinstance(raw, list):
        return [{"metric": r} if isinstance(r, str) else r for r in raw]
    return raw


class SamplerSpec(_Strict):
    name: Literal["tpe", "random", "grid", "cmaes", "gp", "qmc", "nsga2"] = "tpe"
    seed: int | None = None
    n_startup_trials: int | None = Field(None, ge=0)


class PrunerSpec(_Strict):
    name: Literal["median", "successive_halving", "hyperband", "none"] = "median"
    min_epochs: int = Field(2, ge=1)
    n_startup_trials: int = Field(4, ge=0)


class SweepSpec(_Strict):
    """A validated search-space file."""

    name: str | None = None
    description: str = ""
    data: DataSpec
    task: Literal["classification", "regression"] | None = None
    model: ModelSpec
    search: dict[str, Param] = Field(default_factory=dict)
    augmentation: dict[str, Param] = Field(default_factory=dict)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    objective: Annotated[Objective | list[Objective] | None, BeforeValidator(_objective_short)] = (
        None
    )
    sampler: SamplerSpec = Field(default_factory=SamplerSpec)
    pruner: PrunerSpec = Field(default_factory=PrunerSpec)
    keep: int = Field(5, ge=1)
    enqueue: list[dict[str, Scalar]] = Field(default_factory=list)

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
            default = "val_accuracy" if task == "classification" else "val_loss"
            return [Objective(metric=default)]
        if isinstance(self.objective, list):
            return list(self.objective)
        return [self.objective]

    def replace(self, **changes: Any) -> SweepSpec:
        """A validated copy with top-level or dotted fields replaced (``data.source``)."""
        raw = self.model_dump(mode="json", exclude_none=True)
        for key, value in changes.items():
            node = raw
            *parents, leaf = key.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = value
        return validate_spec(raw, origin="<override>")


def _check_family(spec: SweepSpec) -> None:
    family = FAMILIES.get(spec.model.family)
    if family is None:
        raise ValueError(
            f"model.family: unknown family {spec.model.family!r}; "
            f"valid: {', '.join(sorted(FAMILIES))}"
        )
    allowed = {**family.params, **TRAINING_PARAMS}
    for name, param in spec.search.items():
        _check_param("search", name, param, allowed, spec.model.family)
    for name, param in spec.augmentation.items():
        if not family.augmentation:
            raise ValueError(f"augmentation.{name}: family {family.name!r} takes no augmentation")
        _check_param("augmentation", name, param, family.augmentation, spec.model.family)


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
    tasks = [spec.task] if spec.task else list(TASKS)
    valid = sorted({m for t in tasks for m in METRICS[t]} | set(MODEL_METRICS))
    if isinstance(spec.objective, list) and not spec.objective:
        raise ValueError("objective: give at least one metric, e.g. val_accuracy")
    objs = spec.objectives(spec.task or "classification") if spec.objective else []
    for obj in objs:
        if obj.metric not in valid:
            raise ValueError(
                f"objective.metric: unknown metric {obj.metric!r}; valid: {', '.join(valid)}"
            )
    if objs and objs[0].metric in MODEL_METRICS:
        raise ValueError("objective: the first objective must be a validation metric")


def _check_grid(spec: SweepSpec) -> None:
    for section in ("search", "augmentation"):
        for name, p in getattr(spec, section).items():
            if isinstance(p, FloatParam) and p.step is None:
                raise ValueError(
                    f"{section}.{name}: the grid sampler needs 'choices' or a float 'step'"
                )


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads ``1e-3`` as a string; this loader reads it as a float."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def ready_spaces_dir() -> Path:
    """Folder of the ready search spaces (inside the installed package, or the checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "search_spaces", here.parent / "search_spaces"):
        if candidate.is_dir():
            return candidate
    return here / "search_spaces"


def ready_spaces() -> dict[str, Path]:
    """Ready search spaces by name."""
    folder = ready_spaces_dir()
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def resolve_space(name_or_path: str | Path) -> Path:
    """Path of a ready space's name, or of a YAML file."""
    text = str(name_or_path)
    ready = ready_spaces()
    if text in ready:
        return ready[text]
    path = Path(text).expanduser()
    if path.is_file():
        return path
    if path.suffix in (".yaml", ".yml") or "/" in text:
        raise SpecError(f"{text}: no such file")
    raise SpecError(
        f"{text!r} is neither a file nor a ready search space; ready: {', '.join(ready)}"
    )


def load_spec(name_or_path: str | Path) -> SweepSpec:
    """Read and validate a search space by ready-space name or file path."""
    path = resolve_space(name_or_path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise SpecError(f"{where}: YAML syntax error: {exc.problem}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a search space is a YAML mapping with data, model and search")
    raw.setdefault("name", path.stem)
    _resolve_data_path(raw, path.parent)
    return validate_spec(raw, origin=str(path))


def _resolve_data_path(raw: dict[str, Any], base: Path) -> None:
    """A relative data path is read relative to the YAML file when it exists there."""
    data = raw.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("source"), str):
        return
    source = Path(data["source"]).expanduser()
    if not source.is_absolute() and (base / source).exists():
        data["source"] = str((base / source).resolve())


def validate_spec(raw: dict[str, Any], origin: str = "<spec>") -> SweepSpec:
    """Validate a mapping into a :class:`SweepSpec`, naming ``origin`` in errors."""
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(f"{origin}: {format_validation_error(exc)}") from None


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
            msg = f"{msg}; got {err.get('input')!r}"
        field = ".".join(loc)
        parts.append(f"{field}: {msg}" if field and not msg.startswith(field) else msg)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return "; ".join(parts) + more
