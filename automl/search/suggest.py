"""Spec -> Optuna suggestions, including per-layer and conditional parameters.

``suggest(trial, spec)`` returns the resolved hyperparameters a builder takes: every family
and training parameter with a value (defaults for those the space leaves out), per-layer
parameters as lists as long as the trial's layer count, augmentation under ``augmentation``.
Given ``optuna.trial.FixedTrial(params)`` it rebuilds the same values from stored params.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl.errors import SpecError
from automl.models import get_family
from automl.models.params import TRAINING_PARAMS
from automl.search.params import CategoricalParam, FixedParam, FloatParam, IntParam
from automl.search.samplers import PRUNERS, SAMPLERS
from automl.search.spec import SweepSpec

if TYPE_CHECKING:
    import optuna


def suggest(trial: Any, spec: SweepSpec) -> dict[str, Any]:
    family = get_family(str(spec.model.family))
    rules = {**family.params, **TRAINING_PARAMS}
    hp: dict[str, Any] = {name: rule.default for name, rule in rules.items()}
    hp["batch_size"] = spec.training.batch_size
    search = dict(spec.search)
    if "n_layers" in search:
        hp["n_layers"] = _draw(trial, "n_layers", search.pop("n_layers"))
    for name, param in _ordered(search):
        if not _active(param, hp):
            continue
        if param.per_layer:
            hp[name] = [_draw(trial, f"{name}_{i}", param) for i in range(hp["n_layers"])]
        else:
            hp[name] = _draw(trial, name, param)
    for name, rule in rules.items():
        if rule.per_layer and not isinstance(hp[name], list):
            hp[name] = [hp[name]] * hp.get("n_layers", 1)
    aug = {name: rule.default for name, rule in family.augmentation.items()}
    for name, param in _ordered(spec.augmentation):
        if _active(param, {**hp, **aug}):
            aug[name] = _draw(trial, name, param)
    hp["augmentation"] = aug
    return hp


def _ordered(params: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every parameter after those its ``when`` refers to (the spec rejects cycles)."""
    out: list[tuple[str, Any]] = []
    placed: set[str] = set()
    pending = dict(params)
    while pending:
        ready = [
            (name, p)
            for name, p in pending.items()
            if all(dep in placed or dep not in params for dep in (p.when or {}))
        ]
        for name, p in ready or list(pending.items()):  # a cycle cannot pass validation
            out.append((name, p))
            placed.add(name)
            del pending[name]
    return out


def _active(param: Any, hp: dict[str, Any]) -> bool:
    for key, want in (param.when or {}).items():
        allowed = want if isinstance(want, list) else [want]
        if hp.get(key) not in allowed:
            return False
    return True


def _draw(trial: Any, name: str, p: Any) -> Any:
    if isinstance(p, FixedParam):
        return p.value
    if isinstance(p, IntParam):
        return trial.suggest_int(name, p.low, p.high, step=p.step, log=p.log)
    if isinstance(p, FloatParam):
        return trial.suggest_float(name, p.low, p.high, step=p.step, log=p.log)
    if isinstance(p, CategoricalParam):
        return trial.suggest_categorical(name, p.choices)
    raise TypeError(f"unknown parameter type {type(p).__name__}")  # pragma: no cover


def grid(spec: SweepSpec) -> dict[str, list[Any]]:
    """The grid sampler's search space: every value each parameter can take."""
    out: dict[str, list[Any]] = {}
    n_max = _max_layers(spec)
    for section in (spec.search, spec.augmentation):
        for name, p in section.items():
            values = _values(p)
            if values is None:
                continue
            names = [f"{name}_{i}" for i in range(n_max)] if p.per_layer else [name]
            for key in names:
                out[key] = values
    return out


def _max_layers(spec: SweepSpec) -> int:
    p = spec.search.get("n_layers")
    if isinstance(p, IntParam):
        return p.high
    if isinstance(p, CategoricalParam):
        return max(int(c) for c in p.choices)
    if isinstance(p, FixedParam):
        return int(p.value)  # type: ignore[arg-type]
    return int(get_family(str(spec.model.family)).params["n_layers"].default)


def _values(p: Any) -> list[Any] | None:
    if isinstance(p, FixedParam):
        return None
    if isinstance(p, CategoricalParam):
        return list(p.choices)
    if isinstance(p, IntParam):
        return list(range(p.low, p.high + 1, p.step))
    assert isinstance(p, FloatParam) and p.step is not None
    n = int(round((p.high - p.low) / p.step))
    return [round(p.low + i * p.step, 12) for i in range(n + 1)]


def make_sampler(
    spec: SweepSpec, *, seed: int | None = None, n_existing: int = 0, parallel: bool = False
) -> optuna.samplers.BaseSampler:
    """The spec's sampler. A resumed seeded study offsets the seed so draws do not repeat."""
    name = spec.sampler.name
    factory = SAMPLERS.lookup(name, SpecError)
    base = seed if seed is not None else spec.sampler.seed
    effective = None if base is None else base + n_existing
    space = grid(spec) if name == "grid" else None
    return factory(spec.sampler, effective, parallel, space)


def make_pruner(spec: SweepSpec, n_objectives: int) -> optuna.pruners.BasePruner:
    """The spec's pruner; multi-objective studies are never pruned (Optuna cannot)."""
    if n_objectives > 1:
        return PRUNERS["none"](spec.pruner, spec.training.max_epochs)
    return PRUNERS.lookup(spec.pruner.name, SpecError)(spec.pruner, spec.training.max_epochs)
