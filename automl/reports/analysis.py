"""Pure computations behind a report: importances and plain tables."""

from __future__ import annotations

import math
import os
import pickle
import select
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

    from automl.ranking import Objective

# fANOVA (Optuna's default) fits a random forest: about 2.5 s at 500 completed trials on two
# cores, 18 s at 1,200. Above this many, PED-ANOVA answers in about a second.
FANOVA_MAX_TRIALS = 500
# From this many completed trials, importances are computed in a forked process while the
# report's other parts are drawn (importing scikit-learn alone takes 1-2 s).
FORK_MIN_TRIALS = 200
FORK_TIMEOUT_S = 300.0


@dataclass
class Table:
    """Column names and rows of plain values (str, int, float, bool or None)."""

    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Importance:
    """Parameter importances, or why there are none."""

    values: dict[str, float] = field(default_factory=dict)
    method: str = ""
    message: str = ""


def plain(value: Any) -> Any:
    """A JSON- and template-friendly value: numpy scalars unwrapped, NaN and NA as None."""
    if value is None or isinstance(value, bool | str):
        return value
    if hasattr(value, "item") and not isinstance(value, list | tuple | dict):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int | bool | str):
        return value
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


class Later:
    """An importance being computed in a forked process; reads as an :class:`Importance`."""

    def __init__(self, fd: int, pid: int, inline: Any) -> None:
        self.fd, self.pid, self.inline = fd, pid, inline
        self.value: Importance | None = None

    def result(self) -> Importance:
        if self.value is None:
            self.value = self._receive() or self.inline()
        return self.value

    def _receive(self) -> Importance | None:
        chunks = []
        try:
            while select.select([self.fd], [], [], FORK_TIMEOUT_S)[0]:
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            else:
                os.kill(self.pid, 9)  # stuck: compute it here instead
        finally:
            os.close(self.fd)
            os.waitpid(self.pid, 0)
        try:
            value = pickle.loads(b"".join(chunks)) if chunks else None
        except Exception:  # noqa: BLE001 - a broken answer: compute it here instead
            return None
        return value if isinstance(value, Importance) else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.result(), name)


def importance_soon(
    study: optuna.Study | None, objectives: Sequence[Objective], n_complete: int
) -> Importance | Later:
    """:func:`importance`, in a forked process for large studies (read it as late as you can)."""

    def inline() -> Importance:
        return importance(study, objectives, n_complete)

    if n_complete < FORK_MIN_TRIALS or not hasattr(os, "fork"):
        return inline()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, exit without any clean-up of the parent's
        try:
            os.close(read)
            data = pickle.dumps(inline())
            with os.fdopen(write, "wb") as out:
                out.write(data)
        finally:
            os._exit(0)
    os.close(write)
    return Later(read, pid, inline)


def importance(
    study: optuna.Study | None, objectives: Sequence[Objective], n_complete: int
) -> Importance:
    """Optuna's parameter importances for the first objective, guarded.

    fANOVA (Optuna's default) up to :data:`FANOVA_MAX_TRIALS` completed trials, PED-ANOVA
    above, where fANOVA gets slow. Errors become a message: a report is still written.
    """
    from optuna import importance as imp
    from optuna.trial import TrialState

    if n_complete < 2 or study is None:
        return Importance(message=f"needs at least 2 completed trials ({n_complete} so far)")
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    seen: dict[str, set[str]] = {}
    for t in done:
        for k, v in t.params.items():
            seen.setdefault(k, set()).add(repr(v))
    if not any(len(v) > 1 for v in seen.values()):
        return Importance(message="no parameter varies across the completed trials")
    evaluator: Any
    target: Any = None
    maximize = objectives[0].maximize
    if n_complete <= FANOVA_MAX_TRIALS:
        evaluator, method = imp.FanovaImportanceEvaluator(seed=0), "fANOVA"
        if len(objectives) > 1:
            target = _first_value
    else:
        evaluator = imp.PedAnovaImportanceEvaluator()
        method = f"PED-ANOVA (more than {FANOVA_MAX_TRIALS} completed trials)"
        if len(objectives) > 1:  # PED-ANOVA wants "lower is better" from a target
            target = _neg_first_value if maximize else _first_value
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = imp.get_param_importances(study, evaluator=evaluator, target=target)
    except Exception as exc:  # noqa: BLE001 - any failure is shown, the report goes on
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Importance(method=method, message=f"could not compute: {type(exc).__name__}: {text}")
    if not values:
        return Importance(method=method, message="no parameter is shared by the completed trials")
    return Importance({str(k): float(v) for k, v in values.items()}, method)


def _first_value(t: Any) -> float:
    return float(t.values[0])


def _neg_first_value(t: Any) -> float:
    return -float(t.values[0])
