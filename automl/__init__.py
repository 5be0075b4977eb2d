"""automl: tune Keras 3 models from YAML search spaces with Optuna.

The public API is what ``__all__`` names, plus the ``automl`` command. Every subpackage
(``automl.cli``, ``automl.run``, ``automl.study``, ...) is internal and may change between
releases; the layers they form are described in the docs' architecture page.
"""

from __future__ import annotations

from automl import _env
from automl._version import __version__

_env.quiet()

from automl.api import Sweep, load  # noqa: E402
from automl.errors import AutoMLError  # noqa: E402
from automl.search.catalog import load_spec  # noqa: E402
from automl.search.spec import SweepSpec  # noqa: E402
from automl.store.records import StudyRecord, TrialRecord  # noqa: E402
from automl.sweeps import compare, delete_study, studies, tune  # noqa: E402
from automl.tuner import Tuner  # noqa: E402

__all__ = [
    "AutoMLError",
    "StudyRecord",
    "Sweep",
    "SweepSpec",
    "TrialRecord",
    "Tuner",
    "__version__",
    "compare",
    "delete_study",
    "load",
    "load_spec",
    "studies",
    "tune",
]
