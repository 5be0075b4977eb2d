"""Process set-up that must happen before Keras is imported anywhere."""

from __future__ import annotations

import logging
import os
import sys
import warnings


def quiet() -> None:
    """Silence framework start-up chatter so the CLI prints only what matters."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module="keras")
    warnings.filterwarnings("ignore", category=UserWarning, module="optuna")
    for name in ("absl", "tensorflow"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def load_keras(verbose: bool = False) -> None:
    """Import Keras (and its backend) once, hiding the C++ start-up log lines.

    TensorFlow's native logger writes to file descriptor 2 before Python can configure it,
    so the descriptor is pointed at /dev/null for the import only.
    """
    if "keras" in sys.modules or verbose:
        import keras  # noqa: F401

        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
