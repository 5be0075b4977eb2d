"""automl: tune Keras 3 models from YAML search spaces with Optuna."""

from __future__ import annotations

__version__ = "0.1.0"

from automl import _env

_env.quiet()

from automl.api import Sweep, compare, load, studies, tune  # noqa: E402
from automl.errors import AutoMLError  # noqa: E402
from automl.spec import SweepSpec, load_spec  # noqa: E402

__all__ = [
    "AutoMLError",
    "Sweep",
    "SweepSpec",
    "__version__",
    "compare",
    "load",
    "load_spec",
    "studies",
    "tune",
]
