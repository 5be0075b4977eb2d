"""The optimizer registry: name -> a factory of the Keras optimizer for a trial's values.

Keras is imported when a factory is called, so the names (which the spec and the ``hp``
of build functions validate against) load no framework.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from automl.registry import Registry

if TYPE_CHECKING:
    import keras

Factory = Callable[[float, "float | None", dict[str, Any]], "keras.optimizers.Optimizer"]


def _plain(name: str) -> Factory:
    """``keras.optimizers.<name>(lr, weight_decay=wd)``."""

    def make(lr: float, wd: float | None, hp: dict[str, Any]) -> keras.optimizers.Optimizer:
        import keras

        return getattr(keras.optimizers, name)(lr, weight_decay=wd)

    return make


def _adamw(lr: float, wd: float | None, hp: dict[str, Any]) -> keras.optimizers.Optimizer:
    import keras

    return keras.optimizers.AdamW(lr, weight_decay=wd or 0.004)  # AdamW keeps its default


def _sgd(lr: float, wd: float | None, hp: dict[str, Any]) -> keras.optimizers.Optimizer:
    import keras

    return keras.optimizers.SGD(lr, momentum=float(hp.get("momentum", 0.9)), weight_decay=wd)


def _rmsprop(lr: float, wd: float | None, hp: dict[str, Any]) -> keras.optimizers.Optimizer:
    import keras

    # RMSprop takes the momentum only when the space tunes it: SGD's 0.9 stalls RMSprop
    # (digits: test 0.916 with 0.9, 0.977 with Keras' default 0).
    momentum = float(hp.get("momentum", 0.0))
    return keras.optimizers.RMSprop(lr, momentum=momentum, weight_decay=wd)


OPTIMIZERS: Registry[Factory] = Registry(
    "optimizer",
    {
        "adam": _plain("Adam"),
        "adamw": _adamw,
        "sgd": _sgd,
        "rmsprop": _rmsprop,
        "nadam": _plain("Nadam"),
        "adagrad": _plain("Adagrad"),
    },
)


def make_optimizer(hp: dict[str, Any]) -> keras.optimizers.Optimizer:
    """The optimizer ``hp`` names, at its learning rate and weight decay.

    Keras 3 applies ``weight_decay`` decoupled in every optimizer.
    """
    factory = OPTIMIZERS.lookup(hp["optimizer"])
    return factory(float(hp["learning_rate"]), float(hp.get("weight_decay", 0.0)) or None, hp)
