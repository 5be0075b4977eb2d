"""Ensembles of kept models: greedy selection on validation, one averaging Keras model.

Choosing one model among many trials on a small validation split overfits the choice;
averaging several good ones is steadier. Members are chosen by greedy ensemble selection
(Caruana et al. 2004): start empty, repeatedly add the kept model (with replacement)
whose addition gives the lowest validation loss of the average (log loss for
classification, MSE for regression), and keep the best prefix. The chosen members are
stored in the study (:data:`automl.store.records.ENSEMBLE`) with their test metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.errors import AutoMLError
from automl.ranking import ranked
from automl.store import records

if TYPE_CHECKING:
    import keras

    from automl.study.context import Context

EPS = 1e-7  # probabilities are clipped as Keras does before taking the log


def build(models: Sequence[keras.Model], name: str = "ensemble") -> keras.Model:
    """One model whose output is the mean of ``models``' outputs (a repeated one counts twice).

    Built functionally on one shared input, each distinct member a nested model renamed
    ``member_i``, so it saves and loads as ``.keras`` in safe mode on any backend.
    """
    import keras

    if not models:
        raise AutoMLError("an ensemble needs at least one model")
    if any(len(m.inputs) != 1 for m in models):
        raise AutoMLError("ensembles take models with one input only")
    first = models[0].inputs[0]
    inp = keras.Input(shape=tuple(first.shape[1:]), dtype=first.dtype, name="ensemble_input")
    called: dict[int, Any] = {}
    outputs = []
    for model in models:
        if id(model) not in called:
            model.name = f"member_{len(called)}"
            called[id(model)] = model(inp)
        outputs.append(called[id(model)])
    out = keras.layers.Average(name="average")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(inp, out, name=name)


def loss(task: str, y: np.ndarray, out: np.ndarray) -> float:
    """Validation loss of outputs: log loss (classification) or MSE (regression)."""
    if task == "classification":
        if out.ndim == 2 and out.shape[1] == 1:  # one sigmoid unit: P(class 1)
            out = np.concatenate([1.0 - out, out], axis=1)
        p = np.clip(out[np.arange(len(y)), np.asarray(y, dtype=int).reshape(-1)], EPS, 1.0)
        return float(-np.mean(np.log(p)))
    return float(np.mean((out.reshape(-1) - np.asarray(y).reshape(-1)) ** 2))


def greedy(outputs: Sequence[np.ndarray], y: np.ndarray, task: str, rounds: int) -> list[int]:
    """Indices into ``outputs`` (repeats allowed) whose mean has the lowest loss.

    ``rounds`` picks are made; the returned list is the prefix that scored best, so it
    never scores worse than the single best output.
    """
    picks: list[int] = []
    best: list[int] = []
    best_loss = np.inf
    total = np.zeros_like(np.asarray(outputs[0], dtype="float64"))
    for _ in range(max(rounds, 1)):
        scores = [loss(task, y, (total + o) / (len(picks) + 1)) for o in outputs]
        j = int(np.argmin(scores))
        picks.append(j)
        total += outputs[j]
        if scores[j] < best_loss - 1e-12:
            best_loss, best = scores[j], list(picks)
    return best


def candidates(record: records.StudyRecord, keep: int) -> list[int]:
    """Trial numbers an ensemble may use: the kept models ranked on the first objective."""
    saved = [t for t in record.trials if t.has_model and t.state == "COMPLETE"]
    return [t.number for t in ranked(saved, record.objectives)[:keep]]


def stale(record: records.StudyRecord, size: int) -> bool:
    """Whether the stored ensemble is missing or was chosen from other kept models."""
    found = candidates(record, record.keep)
    if size < 1 or len(found) < 2:
        return False
    return (record.ensemble or {}).get("candidates") != found


def selection_split(ctx: Context) -> Any:
    """The split members are chosen on: validation, or the last fold's with ``folds``."""
    if not ctx.spec.data.folds:
        return ctx.splits
    from automl.training.folds import fold_splits

    return list(fold_splits(ctx.splits, ctx.spec.data.folds, ctx.spec.data.split_seed))[-1]


def finalize(ctx: Context, record: records.StudyRecord, outputs: Any) -> None:
    """Choose members greedily on validation, evaluate their average on test, store both.

    Without a test split (``Tuner.search(validation_data=...)`` with no ``test_data``)
    the members are still chosen and stored, with no test metrics.

    Args:
        outputs: an :class:`automl.study.evaluate.Outputs` (kept models' outputs, cached or not).
    """
    from automl.training import measure

    if not stale(record, ctx.spec.ensemble):
        return
    info = ctx.splits.interactions
    if info is not None and info.implicit:  # ranked on candidate lists, not averaged outputs
        return
    found = candidates(record, record.keep)
    split = selection_split(ctx)
    val = [outputs.predict(n, split.x_val) for n in found]
    picks = greedy(val, split.y_val, ctx.task, ctx.spec.ensemble)
    members = [found[i] for i in picks]
    chosen: dict[str, Any] = {
        "candidates": found,
        "members": members,
        "val_loss": loss(ctx.task, split.y_val, np.mean([val[i] for i in picks], axis=0)),
        "single_val_loss": loss(ctx.task, split.y_val, val[0]),
    }
    if len(ctx.splits.y_test):
        tests = {n: outputs.test(n) for n in set(members)}
        out = np.mean([tests[n] for n in members], axis=0)
        chosen["test"] = measure.score(ctx.task, ctx.splits.y_test, out)
    ctx.study.set_user_attr(records.ENSEMBLE, chosen)
