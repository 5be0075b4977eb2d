"""Studies of the user's own model code, and the tampering that their storage must survive.

A study is made as ``automl tune`` makes it (spec sealed where it enters, data split,
one dry build) but runs no trial, so a test costs a model build, not a fit.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import optuna

BUILD = """
import keras


def build_model(hp, input_shape, n_classes):
    model = keras.Sequential([keras.Input(input_shape)])
    model.add(keras.layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu"))
    model.add(keras.layers.Dense(n_classes, activation="softmax"))
    return model
"""


def build_model(hp: Any, input_shape: Any, n_classes: int) -> Any:
    """A build function given from Python (stored by value, as a pickle)."""
    import keras

    model = keras.Sequential([keras.Input(input_shape)])
    model.add(keras.layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu"))
    model.add(keras.layers.Dense(n_classes, activation="softmax"))
    return model


def digits(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return (x[:n] / 16.0).astype("float32"), y[:n]


def make(build: Any, name: str, url: str) -> optuna.Study:
    """Create study ``name`` of ``build`` (``file.py:fn`` or a function) on digits."""
    from automl.store.storage import load_study, open_storage
    from automl.study.create import create
    from automl.usercode.spec import spec_for

    spec = spec_for(build, data=digits(), url=url, training={"max_epochs": 1})
    create(spec, name, url)
    return load_study(name, open_storage(url), url)


def models_file(folder: Path) -> Path:
    """A build file, ``models.py``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "models.py"
    path.write_text(BUILD, encoding="utf-8")
    return path


def evil_file(folder: Path, marker: Path) -> Path:
    """A build file that creates ``marker`` when it is imported."""
    path = folder / "evil.py"
    path.write_text(f"from pathlib import Path\nPath({str(marker)!r}).touch()\n" + BUILD)
    return path


class _Touch:
    """Unpickled, it creates a file: what a pickle can do to whoever loads it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (Path.touch, (self.marker,))


def evil_pickle(marker: Path) -> bytes:
    """A pickle whose loading creates ``marker`` (a stand-in for any command)."""
    return pickle.dumps({"name": "build_model", "target": _Touch(marker)})


def stored_model(study: optuna.Study) -> dict[str, Any]:
    """The ``model`` section of the study's stored spec."""
    return dict(study.user_attrs["spec"]["model"])


def store_model(study: optuna.Study, **changes: Any) -> None:
    """Change the stored spec's ``model`` section, as anyone who can write the storage can."""
    spec = dict(study.user_attrs["spec"])
    spec["model"] = {**spec["model"], **changes}
    study.set_user_attr("spec", spec)
