"""Which trained models stay on disk: save a trial's model when it is kept, drop the rest.

The rule itself (the best K plus the front that ``pick()`` can need) is
:func:`automl.ranking.kept`; this module applies it to the artifact store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from automl.ranking import kept
from automl.store import records, storage
from automl.store.records import TrialRecord
from automl.study import evaluate

if TYPE_CHECKING:
    from automl.study.context import Context


def _completed(ctx: Context) -> list[TrialRecord]:
    metric = ctx.objectives[0].metric
    return [
        TrialRecord.from_frozen(t, metric, {})
        for t in ctx.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    ]


def save_if_kept(ctx: Context, trial: optuna.Trial, model: Any, me: TrialRecord) -> None:
    """Save the model of a trial about to be told, if it belongs to the kept set."""
    if me.number not in kept([*_completed(ctx), me], ctx.objectives, ctx.spec.keep):
        return
    aid, digest = storage.save_model(ctx.store, trial, model)
    trial.set_user_attr(records.MODEL_SHA256, digest)  # first: a reader checks the model by it
    trial.set_user_attr(records.ARTIFACT, aid)
    evaluate.remember(ctx, me.number, model)


def drop_unkept(ctx: Context) -> None:
    """Remove the models of trials that fell out of the kept set."""
    done = _completed(ctx)
    wanted = kept(done, ctx.objectives, ctx.spec.keep)
    evaluate.forget(ctx, {t.number for t in done if t.number not in wanted})
    for t in done:
        if t.number not in wanted and storage.has(ctx.store, t.artifact_id):
            storage.remove(ctx.store, str(t.artifact_id))
