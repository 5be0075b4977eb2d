"""Pydantic models of one searched parameter, and the frozen base of every spec model."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    model_validator,
)

Scalar = bool | int | float | str
MAX_OVERRIDE_VALUES = 10_000


def bounded(raw: Any) -> Any:
    """Refuse ``overrides`` that stand for too many values before pydantic walks them: shared
    references (YAML aliases, or Python objects) can stand for billions."""
    todo, seen = [raw], 0
    while todo:
        value = todo.pop()
        seen += 1
        if seen > MAX_OVERRIDE_VALUES:
            raise ValueError(f"more than {MAX_OVERRIDE_VALUES} values; --set writes a few")
        if isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, list | tuple):
            todo.extend(value)
    return raw


# What `--set KEY=VALUE` records: a dotted field path, and a JSON-like value.
OverrideKey = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_@-]+(\.[A-Za-z0-9_@-]+)*$", max_length=200)
]
Overrides = Annotated[dict[OverrideKey, JsonValue], BeforeValidator(bounded)]


class Strict(BaseModel):
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


class _Param(Strict):
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
