"""KerasTuner hyperparameters whose values come from a live Optuna trial (define-by-run).

:class:`OptunaHyperParameters` is a real ``keras_tuner.HyperParameters``. keras-tuner's own
``Int``, ``Float``, ``Choice``, ``Boolean``, ``Fixed``, ``conditional_scope``, ``name_scope``,
``values`` and ``get`` do the bookkeeping; only the value of a newly declared *active*
hyperparameter is asked of the Optuna trial (see :func:`optuna_param`):

- ``Int``/``Float`` linear -> ``suggest_int``/``suggest_float`` with ``step``; the upper
  bound is the last point of the step grid, which KerasTuner can reach too.
- ``sampling="log"`` without a step -> ``suggest_int``/``suggest_float(log=True)``.
- ``log``/``reverse_log`` with a step (KerasTuner's step is then a factor) ->
  ``suggest_categorical`` over KerasTuner's own grid of values.
- ``reverse_log`` without a step: the mirror ``min + max - value`` is log-uniform, so
  Optuna draws it as ``suggest_*("mirror(NAME)", min, max, log=True)``; the trial's params
  hold ``mirror(NAME)``, ``hp.values`` holds ``NAME`` with the value the model used.
- ``Choice`` -> ``suggest_categorical(values)`` (``ordered`` is ignored);
  ``Boolean`` -> ``suggest_categorical([False, True])``; ``Fixed`` asks nothing.

As in KerasTuner, a hyperparameter declared where its conditions fail (inside an inactive
``conditional_scope``, or with unmet ``parent_name``/``parent_values``) returns ``None``; it
is never suggested, so it is absent from the trial's params. ``default=`` does not apply
while tuning: Optuna picks every active value. Declaring a name again with the same
definition returns the same value; a different definition raises :class:`HyperParameterError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import keras_tuner
import optuna
from keras_tuner.engine import hyperparameters as kt_hps
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from automl.errors import HyperParameterError
from automl.models.params import OPTIMIZERS

__all__ = [
    "DEFAULT_LEARNING_RATE",
    "DEFAULT_OPTIMIZER",
    "OptunaHyperParameters",
    "compile_options",
    "describe",
    "optuna_param",
    "space_summary",
]

DEFAULT_OPTIMIZER = "adam"
DEFAULT_LEARNING_RATE = 1e-3
LEARNING_RATE_NAMES = ("learning_rate", "lr")  # learning_rate wins when both are declared
_SUPPORTED = (kt_hps.Int, kt_hps.Float, kt_hps.Choice, kt_hps.Boolean, kt_hps.Fixed)


class OptunaHyperParameters(keras_tuner.HyperParameters):
    """KerasTuner ``hp`` whose active values are drawn from an Optuna trial.

    Args:
        trial: a live ``optuna.Trial`` (from ``study.ask()``), or an
            ``optuna.trial.FixedTrial`` to replay stored params (see :meth:`from_params`).
    """

    def __init__(self, trial: optuna.trial.BaseTrial) -> None:
        super().__init__()
        self._trial = trial
        self._stored: dict[str, Any] | None = None  # the params being replayed

    @property
    def trial(self) -> optuna.trial.BaseTrial:
        """The Optuna trial the values come from."""
        return self._trial

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> OptunaHyperParameters:
        """Replays a finished trial's ``params``.

        ``values`` and ``get()`` return the stored params at once; calling the build
        function with this ``hp`` rebuilds the same model and adds ``Fixed`` values and
        ``reverse_log`` values (stored as ``mirror(NAME)``).
        """
        hp = cls(optuna.trial.FixedTrial(dict(params)))
        hp._stored = dict(params)
        hp.values = {k: v for k, v in params.items() if not _is_mirror(k)}
        return hp

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> keras_tuner.HyperParameters:
        """A plain, trial-less ``keras_tuner.HyperParameters`` snapshot (as ``copy()``)."""
        return keras_tuner.HyperParameters.from_config(config)

    # Declarations: keras-tuner's methods, with its ValueError/TypeError made automl errors.
    def Int(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with _declaring("Int", name):
            return super().Int(name, *args, **kwargs)

    def Float(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with _declaring("Float", name):
            return super().Float(name, *args, **kwargs)

    def Choice(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with _declaring("Choice", name):
            return super().Choice(name, *args, **kwargs)

    def Boolean(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with _declaring("Boolean", name):
            return super().Boolean(name, *args, **kwargs)

    def Fixed(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with _declaring("Fixed", name):
            return super().Fixed(name, *args, **kwargs)

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """KerasTuner's scope; an undeclared parent raises :class:`HyperParameterError`."""
        with contextlib.ExitStack() as stack:
            with _declaring("conditional_scope", parent_name):
                stack.enter_context(super().conditional_scope(parent_name, parent_values))
            yield

    def merge(self, hps: Any, overwrite: bool = True) -> None:
        """Not supported: the space is whatever the build function declares."""
        raise HyperParameterError(
            "hp.merge() is not supported: automl's search space is what the build function "
            "declares while it runs"
        )

    def _retrieve(self, hp: Any) -> Any:
        """Checks the declaration against earlier ones of the name, then KerasTuner's lookup."""
        if type(hp) not in _SUPPORTED:
            raise HyperParameterError(
                f"hyperparameter {hp.name!r}: type {type(hp).__name__} is not supported; "
                "use Int, Float, Choice, Boolean or Fixed"
            )
        earlier = self._hps.get(hp.name)
        if earlier and _signature(earlier[0]) != _signature(hp):
            raise HyperParameterError(
                f"hyperparameter {hp.name!r} is declared twice with different definitions: "
                f"{describe(earlier[0])} and {describe(hp)}; give each its own name"
            )
        return super()._retrieve(hp)

    def _register(self, hyperparameter: Any, overwrite: bool = False) -> Any:
        """Registers as KerasTuner does, with an active value drawn from the trial."""
        hp = hyperparameter
        self._validate_name(hp.name)
        if self.is_active(hp):
            self.values[hp.name] = self._draw(hp)
        return super()._register(hp, overwrite=False)

    def _draw(self, hp: Any) -> Any:
        planned = optuna_param(hp)
        if planned is None:
            return hp.value  # Fixed: nothing to suggest
        name, dist = planned
        if self._stored is not None and name not in self._stored:
            raise HyperParameterError(
                f"hyperparameter {name!r}: the stored params have no value for it (they hold "
                f"{', '.join(sorted(self._stored)) or 'nothing'}); did the build code change?"
            )
        value = _suggest(self._trial, name, dist)
        if _is_mirror(name):
            value = min(max(hp.min_value + hp.max_value - value, hp.min_value), hp.max_value)
            value = int(round(value)) if isinstance(hp, kt_hps.Int) else float(value)
        return value


@contextlib.contextmanager
def _declaring(kind: str, name: Any) -> Iterator[None]:
    """Turns keras-tuner's and Optuna's ValueError/TypeError into one-line automl errors."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HyperParameterError(f"hp.{kind}({name!r}): {first}") from None


def optuna_param(hp: Any) -> tuple[str, BaseDistribution] | None:
    """The Optuna parameter name and distribution a KerasTuner hyperparameter maps to.

    Returns:
        ``(name, distribution)``, or ``None`` for ``Fixed`` (never suggested).
    """
    if isinstance(hp, kt_hps.Fixed):
        return None
    if isinstance(hp, kt_hps.Boolean):
        return hp.name, CategoricalDistribution([False, True])
    if isinstance(hp, kt_hps.Choice):
        return hp.name, CategoricalDistribution(list(hp.values))
    is_int = isinstance(hp, kt_hps.Int)
    lo, hi, step, sampling = hp.min_value, hp.max_value, hp.step, hp.sampling
    if sampling != "linear" and step is not None:  # step is a factor: KerasTuner's grid
        grid = [int(v) if is_int else float(f"{v:.12g}") for v in hp.values]
        return hp.name, CategoricalDistribution(list(dict.fromkeys(grid)))
    if sampling == "linear" and step is not None:
        hi = _last_on_grid(lo, hi, step)
    name = _mirror(hp.name) if sampling == "reverse_log" else hp.name
    log = sampling != "linear"
    if is_int:
        return name, IntDistribution(int(lo), int(hi), log=log, step=int(step or 1))
    return name, FloatDistribution(float(lo), float(hi), log=log, step=step)


def _suggest(trial: optuna.trial.BaseTrial, name: str, dist: BaseDistribution) -> Any:
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    assert isinstance(dist, CategoricalDistribution)
    return trial.suggest_categorical(name, dist.choices)


def _last_on_grid(lo: float, hi: float, step: float) -> float:
    """The largest ``lo + k * step`` not above ``hi``, in decimal arithmetic as Optuna does."""
    d_lo, d_hi, d_step = (Decimal(str(v)) for v in (lo, hi, step))
    return float(d_lo + ((d_hi - d_lo) // d_step) * d_step)


def _mirror(name: str) -> str:
    return f"mirror({name})"


def _is_mirror(name: str) -> bool:
    return name.startswith("mirror(") and name.endswith(")")


def _signature(hp: Any) -> tuple[str, list[tuple[str, Any]]]:
    """What must match for two declarations of a name to be the same hyperparameter."""
    ignored = {"name", "default", "conditions", "ordered"}
    config = hp.get_config()
    return type(hp).__name__, sorted((k, v) for k, v in config.items() if k not in ignored)


def describe(hp: Any) -> str:
    """One line for a KerasTuner hyperparameter, e.g. ``Int(min_value=32, max_value=512)``."""
    if isinstance(hp, kt_hps.Fixed):
        text = f"Fixed(value={hp.value!r})"
    elif isinstance(hp, kt_hps.Boolean):
        text = "Boolean()"
    elif isinstance(hp, kt_hps.Choice):
        text = f"Choice(values={list(hp.values)!r})"
    else:
        parts = [f"min_value={hp.min_value!r}", f"max_value={hp.max_value!r}"]
        if hp.step is not None and not (isinstance(hp, kt_hps.Int) and hp.step == 1):
            parts.append(f"step={hp.step!r}")
        if hp.sampling != "linear":
            parts.append(f"sampling={hp.sampling!r}")
        text = f"{type(hp).__name__}({', '.join(parts)})"
    for cond in hp.conditions:
        text += f" if {cond.name} in {cond.values!r}"
    return text


def space_summary(hp: keras_tuner.HyperParameters) -> list[dict[str, Any]]:
    """The hyperparameters a build declared, in order, for ``search_space_summary()``.

    Each entry: ``name``, ``type`` (Int, Float, ...), ``param`` (the Optuna param name, or
    None for Fixed), ``active``, ``value`` (None when inactive), ``description`` (one line,
    see :func:`describe`) and ``config`` (keras-tuner's own ``get_config()``).
    """
    out = []
    for item in hp.space:
        planned = optuna_param(item) if isinstance(item, _SUPPORTED) else None
        active = hp.is_active(item)
        out.append(
            {
                "name": item.name,
                "type": type(item).__name__,
                "param": planned[0] if planned else None,
                "active": active,
                "value": hp.values.get(item.name) if active else None,
                "description": describe(item),
                "config": item.get_config(),
            }
        )
    return out


def compile_options(hp: keras_tuner.HyperParameters) -> dict[str, Any]:
    """Optimizer settings for compiling a model the build function left uncompiled.

    Reads the active hyperparameters ``learning_rate`` (or ``lr``), ``optimizer``,
    ``momentum`` and ``weight_decay`` by that convention; the result fits
    ``automl.training.fit.make_optimizer``.

    Returns:
        ``optimizer`` (lower case, default ``adam``), ``learning_rate`` (default 1e-3),
        ``momentum``/``weight_decay`` when declared, and ``asked``: the names found in hp.

    Raises:
        HyperParameterError: ``optimizer`` is not one automl can build.
    """
    values = hp.values
    names = (*LEARNING_RATE_NAMES, "optimizer", "momentum", "weight_decay")
    asked = [n for n in names if values.get(n) is not None]
    lr = next((values[n] for n in LEARNING_RATE_NAMES if n in asked), DEFAULT_LEARNING_RATE)
    optimizer = values.get("optimizer", DEFAULT_OPTIMIZER)
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
        raise HyperParameterError(
            f"hyperparameter 'optimizer' is {optimizer!r}; automl compiles with one of "
            f"{', '.join(OPTIMIZERS)} (or compile the model in the build function)"
        )
    out: dict[str, Any] = {"optimizer": optimizer.lower(), "learning_rate": float(lr)}
    for name in ("momentum", "weight_decay"):
        if name in asked:
            out[name] = float(values[name])
    out["asked"] = asked
    return out
