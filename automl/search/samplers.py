"""The sampler and pruner registries, and the spec's sampler and pruner.

Factories import Optuna's classes when called. ``make_sampler`` and ``make_pruner`` read a
validated spec; the spec validates ``sampler.name`` and ``pruner.name`` against these keys.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from automl.errors import SpecError, install_hint
from automl.registry import Registry

if TYPE_CHECKING:
    import optuna


class SamplerOptions(Protocol):
    """What a sampler factory reads of ``sampler:`` (``SamplerSpec`` satisfies it)."""

    @property
    def n_startup_trials(self) -> int | None: ...


class PrunerOptions(Protocol):
    """What a pruner factory reads of ``pruner:`` (``PrunerSpec`` satisfies it)."""

    @property
    def n_startup_trials(self) -> int: ...
    @property
    def min_epochs(self) -> int: ...


SamplerFactory = Callable[
    [SamplerOptions, "int | None", bool, "dict[str, Any] | None"], "optuna.samplers.BaseSampler"
]
PrunerFactory = Callable[[PrunerOptions, int], "optuna.pruners.BasePruner"]


def _tpe(
    options: SamplerOptions, seed: int | None, parallel: bool, space: Any
) -> optuna.samplers.BaseSampler:
    import optuna

    # group=True (per-layer parameters sampled jointly) measured no better on digits_mlp and
    # wine_mlp (benchmarks/sampler_defaults.py), so TPE stays multivariate without it.
    kw: dict[str, Any] = {"seed": seed, "multivariate": True, "constant_liar": parallel}
    if options.n_startup_trials is not None:
        kw["n_startup_trials"] = options.n_startup_trials
    return optuna.samplers.TPESampler(**kw)


def _optuna(name: str, **fixed: Any) -> SamplerFactory:
    """A factory of ``optuna.samplers.<name>(seed=..., **fixed)``; grid gets the space."""

    def make(options: SamplerOptions, seed: int | None, parallel: bool, space: Any) -> Any:
        import optuna

        cls = getattr(optuna.samplers, name)
        return cls(space, seed=seed, **fixed) if space is not None else cls(seed=seed, **fixed)

    return make


SAMPLERS: Registry[SamplerFactory] = Registry(
    "sampler",
    {
        "tpe": _tpe,
        "random": _optuna("RandomSampler"),
        "grid": _optuna("GridSampler"),
        "cmaes": _optuna("CmaEsSampler", warn_independent_sampling=False),
        "gp": _optuna("GPSampler"),
        "qmc": _optuna("QMCSampler", warn_independent_sampling=False),
        "nsga2": _optuna("NSGAIISampler"),
    },
)

# Samplers whose Optuna class imports an optional package when it first samples.
SAMPLER_NEEDS = {"cmaes": ("cmaes", "pip install cmaes"), "gp": ("torch", install_hint("gp"))}


def check_sampler_installed(name: str) -> None:
    """A sampler whose optional package is missing fails before the study, in one line."""
    module, fix = SAMPLER_NEEDS.get(name, ("", ""))
    if module and importlib.util.find_spec(module) is None:
        raise SpecError(f"sampler.name: '{name}' needs the '{module}' package: {fix}")


def _first_rung(p: PrunerOptions) -> int:
    """The step of the first rung: steps are 0-based epochs, so epoch ``min_epochs`` is
    step ``min_epochs - 1``; a rung cannot sit at step 0 (Optuna's ``min_resource >= 1``)."""
    return max(1, p.min_epochs - 1)


def _median(p: PrunerOptions, max_epochs: int) -> optuna.pruners.BasePruner:
    import optuna

    return optuna.pruners.MedianPruner(
        n_startup_trials=p.n_startup_trials, n_warmup_steps=p.min_epochs - 1
    )


def _halving(p: PrunerOptions, max_epochs: int) -> optuna.pruners.BasePruner:
    import optuna

    return optuna.pruners.SuccessiveHalvingPruner(min_resource=_first_rung(p))


def _hyperband(p: PrunerOptions, max_epochs: int) -> optuna.pruners.BasePruner:
    import optuna

    return optuna.pruners.HyperbandPruner(
        min_resource=_first_rung(p), max_resource=max(_first_rung(p), max_epochs - 1)
    )


def _none(p: PrunerOptions, max_epochs: int) -> optuna.pruners.BasePruner:
    import optuna

    return optuna.pruners.NopPruner()


PRUNERS: Registry[PrunerFactory] = Registry(
    "pruner",
    {"median": _median, "successive_halving": _halving, "hyperband": _hyperband, "none": _none},
)
