"""The one registry idiom: a dict of plug-in names to lazy factories.

Samplers, pruners, optimizers, data readers and model families are each a
:class:`Registry`. Importing one loads no deep-learning framework: a factory imports what
it builds when it is called. The spec validates names against the registries' keys, so a
name the spec accepts always has a factory.
"""

from __future__ import annotations

from typing import TypeVar

from automl.errors import AutoMLError, unknown_name

T = TypeVar("T")


class Registry(dict[str, T]):
    """Plug-ins of one ``kind`` by name (Optuna's name -> class dicts, Keras' ``get()``).

    Args:
        kind: what the entries are, for messages ("sampler", "optimizer").
        entries: name -> factory (or a description that builds lazily).
    """

    def __init__(self, kind: str, entries: dict[str, T]) -> None:
        super().__init__(entries)
        self.kind = kind

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self)

    def lookup(self, name: object, error: type[AutoMLError] = AutoMLError) -> T:
        """The entry called ``name``; an unknown name raises ``error`` listing the valid ones."""
        if not isinstance(name, str) or name not in self:
            raise error(unknown_name(self.kind, name, self.names))
        return self[name]
