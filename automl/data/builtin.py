"""scikit-learn's bundled datasets (no download)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from automl.data.raw import RawData


def _digits() -> RawData:
    from sklearn.datasets import load_digits

    from automl.data.raw import RawData

    d = load_digits()
    x = d.images.reshape(-1, 8, 8, 1).astype("float32")
    return RawData(
        x,
        d.target.astype("int32"),
        "classification",
        "image",
        "digits",
        classes=[str(c) for c in d.target_names],
        scale=16.0,
    )


def _table(loader: Callable[..., object], name: str, task: str) -> Callable[[], RawData]:
    def load() -> RawData:
        from automl.data.raw import RawData

        d = loader()
        x = np.asarray(d.data, dtype="float32")  # type: ignore[attr-defined]
        y = np.asarray(d.target)  # type: ignore[attr-defined]
        if task == "regression":
            return RawData(x, y.astype("float32"), task, "array", name)
        names = [str(c) for c in d.target_names]  # type: ignore[attr-defined]
        return RawData(x, y.astype("int32"), task, "array", name, classes=names)

    return load


def _registry() -> dict[str, Callable[[], RawData]]:
    from sklearn import datasets as ds

    return {
        "digits": _digits,
        "wine": _table(ds.load_wine, "wine", "classification"),
        "breast_cancer": _table(ds.load_breast_cancer, "breast_cancer", "classification"),
        "iris": _table(ds.load_iris, "iris", "classification"),
        "diabetes": _table(ds.load_diabetes, "diabetes", "regression"),
    }


DATASETS = ("digits", "wine", "breast_cancer", "iris", "diabetes")


def load(name: str) -> RawData:
    return _registry()[name]()
