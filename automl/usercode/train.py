"""Training the user's own model code in a trial: build, compile if needed, fit, measure.

The build function (or ``HyperModel``) gets an :class:`~automl.usercode.hp.OptunaHyperParameters`
bound to the trial, so its ``hp`` calls are the search space. A model it compiled is
trained as compiled; an uncompiled one gets the task's loss and the ``learning_rate`` /
``optimizer`` it declared (Adam 1e-3 otherwise). automl's per-epoch pruning, NaN checks
and best-epoch weights apply as for its own families; callbacks and ``fit`` keywords given
to ``Tuner.search`` are used too, and a ``HyperModel.fit`` override does the fitting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from automl.errors import Pruned, SpecError, TrialFailed, UserCodeError
from automl.ranking import Objective, best_epoch
from automl.search.code_ref import PICKLED
from automl.store import records
from automl.training import fit as training
from automl.usercode.build import UserBuild, call_build, fit_override, load_build

if TYPE_CHECKING:
    import optuna

    from automl.search.spec import SweepSpec
    from automl.study.context import Context

# fit() keywords automl sets itself; a search() that passes them has them moved elsewhere.
OWN_FIT_KEYS = ("x", "y", "validation_data", "validation_split", "epochs")


@dataclass
class UserCode:
    """A loaded build plus what ``Tuner.search`` gave for ``fit`` (callbacks, keywords)."""

    build: UserBuild
    fit_kwargs: dict[str, Any] = field(default_factory=dict)
    callbacks: list[Any] = field(default_factory=list)


_LOADED: dict[tuple[str, str], UserCode] = {}


def load_code(spec: SweepSpec, store: Any) -> UserCode:
    """The spec's build, imported (a file or module) or unpickled (given from Python) once."""
    ref = str(spec.model.build)
    key = (str(getattr(store, "_base_path", "")), ref)
    if key not in _LOADED:
        if ref.startswith(PICKLED):
            _LOADED[key] = _unpickle(ref, store)
        else:
            _LOADED[key] = UserCode(load_build(ref))
    return _LOADED[key]


def _unpickle(ref: str, store: Any) -> UserCode:
    import cloudpickle

    aid = ref.removeprefix(PICKLED)
    try:
        with store.open_reader(aid) as f:
            payload = cloudpickle.loads(f.read())
    except ImportError as exc:
        raise UserCodeError(
            f"model code {aid}: cannot be loaded here: {exc}; every machine that runs workers "
            "must be able to import the modules the build function uses"
        ) from None
    except Exception as exc:  # noqa: BLE001 - missing artifact, corrupt or foreign pickle
        raise UserCodeError(f"model code {aid}: cannot be loaded: {exc}") from None
    return UserCode(
        UserBuild(payload["name"], payload["target"]),
        dict(payload.get("fit_kwargs") or {}),
        list(payload.get("callbacks") or []),
    )


def check_build(spec: SweepSpec, raw: Any, split: dict[str, Any], store: Any) -> None:
    """A dry build before the study starts: code that cannot work fails in one line.

    Raises:
        UserCodeError: the code cannot be loaded, or it returns no ``keras.Model``.
        HyperParameterError: an hp declaration automl cannot tune (conflict, unsupported).
    Any other exception is left to the trials: it may depend on the values drawn.
    """
    import optuna

    from automl.data import prepare
    from automl.usercode.hp import OptunaHyperParameters

    code = load_code(spec, store)
    input_spec = prepare(raw, split).input_spec
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    try:
        model = call_build(code.build, OptunaHyperParameters(trial), **_build_kwargs(input_spec))
    except TrialFailed as exc:
        raise UserCodeError(exc.detail or str(exc)) from None
    except SpecError:  # UserCodeError, HyperParameterError: already one line
        raise
    except (TypeError, NameError, AttributeError, ImportError) as exc:
        raise UserCodeError(f"{code.build.ref}: {type(exc).__name__}: {exc}") from None
    except Exception:  # noqa: BLE001, S110 - value-dependent failures fail their trial only
        return
    finally:
        keras.backend.clear_session()
    del model


def _build_kwargs(input_spec: Any) -> dict[str, Any]:
    classes = input_spec.n_classes if input_spec.task == "classification" else None
    return {"input_shape": tuple(input_spec.shape), "n_classes": classes}


class _Tracker(training.EpochReporter):
    """automl's per-epoch reporter that also says when the objective is not logged."""

    def __init__(self, metric: str, reporter: Any, limit: float, check: bool) -> None:
        super().__init__(metric, reporter, limit)
        self.check = check

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.check and self.metric not in (logs or {}):
            raise TrialFailed(
                "error",
                f"objective {self.metric!r} is not in the model's logs "
                f"({', '.join(sorted(logs or {}))}); compile the model with that metric",
            )
        super().on_epoch_end(epoch, logs)

    def spared(self, epoch: int) -> bool:
        """A trial whose training side learns at least as well as the median completed
        trial's at this epoch is not pruned for its validation side alone.

        The user's model runs unchanged: with Keras' BatchNormalization momentum 0.99, say,
        validation sits near chance for 5-8 epochs while training accuracy is already
        0.95, and such trials were the best ones on digits (docs/design/findings.md §7). A
        trial that is not learning is still pruned.
        """
        train_key = self.metric.removeprefix("val_")
        mine = self.history.get(train_key)
        study = getattr(self.reporter, "study", None)
        if train_key == self.metric or not mine or study is None:
            return False
        import optuna

        done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        theirs = records.history_at(done, train_key, epoch)
        if not theirs:
            return False
        side = Objective.of(train_key)
        best = min(mine, key=side.sort_key)
        return not side.better(float(np.median(theirs)), best)


def train(ctx: Context, trial: optuna.Trial) -> tuple[keras.Model, training.FitResult, dict]:
    """Build, compile when needed, fit and measure one trial of a build-function study."""
    from automl.usercode.hp import OptunaHyperParameters, compile_options

    code = load_code(ctx.spec, ctx.store)
    data = ctx.splits
    hp = OptunaHyperParameters(trial)
    model = call_build(code.build, hp, **_build_kwargs(data.input_spec))
    compiled = bool(getattr(model, "compiled", False))
    if not compiled:
        options = compile_options(hp)
        options.pop("asked")
        training.compile_model(model, data.input_spec, options)
    objective = ctx.objectives[0]
    custom_fit = fit_override(code.build)
    # The user's loss may be on any scale: then only NaN/inf fails a trial as diverged.
    limit = math.inf if compiled else training.divergence_limit(data.input_spec)
    reporter = trial if len(ctx.objectives) == 1 else None
    tracker = _Tracker(objective.metric, reporter, limit, check=custom_fit is None)
    kwargs = _fit_kwargs(ctx, code, tracker, objective)
    try:
        if custom_fit is not None:
            returned = custom_fit(hp, model, data.x_train, data.y_train, **kwargs)
        else:
            kwargs.setdefault("batch_size", _batch_size(ctx, hp))
            kwargs.setdefault("validation_batch_size", training.EVAL_BATCH)
            returned = model.fit(data.x_train, data.y_train, **kwargs)
    except (Pruned, TrialFailed) as exc:
        exc.history = tracker.history
        raise
    fit = _result(tracker, returned, objective)
    if not all(math.isfinite(v) for v in fit.val_metrics.values()):
        raise TrialFailed("nan", f"the fit ended with {fit.val_metrics}")
    if tracker.val_seconds:
        fit.latency_ms = 1000.0 * min(tracker.val_seconds) / max(len(data.y_val), 1)
    metrics = training.trial_metrics(model, fit)
    return model, fit, metrics


def _fit_kwargs(ctx: Context, code: UserCode, tracker: Any, objective: Objective) -> dict:
    max_epochs = ctx.spec.training.max_epochs
    patience = ctx.spec.training.patience
    # Last, so that whoever stops training, the model ends with its best epoch's weights.
    best = training.BestWeights(objective, max_epochs if patience is None else patience)
    data = ctx.splits
    kwargs = {k: v for k, v in code.fit_kwargs.items() if k not in OWN_FIT_KEYS}
    kwargs.setdefault("verbose", 0)
    kwargs.update(
        validation_data=(data.x_val, data.y_val),
        epochs=max_epochs,
        callbacks=[tracker, *code.callbacks, best],
    )
    return kwargs


def _batch_size(ctx: Context, hp: Any) -> int:
    return int(hp.values.get("batch_size") or ctx.spec.training.batch_size)


def _result(tracker: _Tracker, returned: Any, objective: Objective) -> training.FitResult:
    """The trial's result from the epochs seen, or what a custom ``fit`` returned."""
    history = tracker.history
    if not history.get(objective.metric) and isinstance(returned, keras.callbacks.History):
        history = {k: [float(v) for v in vs] for k, vs in returned.history.items()}
    if history.get(objective.metric):
        best = best_epoch(history, objective)
        val = {k: v[best] for k, v in history.items() if k.startswith("val_")}
        return training.FitResult(history, best, val)
    if isinstance(returned, dict) and objective.metric in returned:
        val = {str(k): float(v) for k, v in returned.items()}
        return training.FitResult({k: [v] for k, v in val.items()}, 0, val)
    if isinstance(returned, int | float) and not isinstance(returned, bool):
        return training.FitResult(
            {objective.metric: [float(returned)]}, 0, {objective.metric: float(returned)}
        )
    raise TrialFailed(
        "error",
        f"objective {objective.metric!r} was not computed: the fit returned "
        f"{type(returned).__name__} and the logs have {', '.join(sorted(history)) or 'nothing'}",
    )
