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

from automl.errors import SpecError, TrialFailed, UserCodeError
from automl.ranking import Objective
from automl.search.code_ref import PICKLED
from automl.track.callbacks import per_trial
from automl.training import fit as training
from automl.usercode.build import UserBuild, call_build, fit_override, load_build
from automl.usercode.trust import verified_source

if TYPE_CHECKING:
    import optuna

    from automl.data import Splits
    from automl.data.raw import RawData
    from automl.search.spec import SweepSpec
    from automl.store.artifacts import ArtifactStore

# fit() keywords automl sets itself; a search() that passes them has them moved elsewhere.
OWN_FIT_KEYS = ("x", "y", "validation_data", "validation_split", "epochs")


@dataclass
class UserCode:
    """A loaded build plus what ``Tuner.search`` gave for ``fit`` (callbacks, keywords)."""

    build: UserBuild
    fit_kwargs: dict[str, Any] = field(default_factory=dict)
    callbacks: list[Any] = field(default_factory=list)


_LOADED: dict[tuple[str, ...], UserCode] = {}


def load_code(spec: SweepSpec, store: ArtifactStore, study: str = "") -> UserCode:
    """The spec's build, imported (a file or module) or unpickled (given from Python) once.

    Nothing is imported or unpickled before the spec's seal is verified: the bytes that
    run are the ones whose digest was checked (:mod:`automl.usercode.trust`).

    Raises:
        UntrustedCodeError: the seal does not verify (``study`` names the study).
    """
    model = spec.model
    ref = str(model.build)
    key = (str(getattr(store, "_base_path", "")), ref, str(model.digest), str(model.signature))
    if key not in _LOADED:
        source = verified_source(model.model_dump(), store, study)
        if ref.startswith(PICKLED):
            _LOADED[key] = _unpickle(ref, source or b"")
        else:
            _LOADED[key] = UserCode(load_build(ref, source=source))
    return _LOADED[key]


def _unpickle(ref: str, blob: bytes) -> UserCode:
    import cloudpickle

    aid = ref.removeprefix(PICKLED)
    try:
        payload = cloudpickle.loads(blob)  # noqa: S301 - verified: signed digest of these bytes
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


def check_build(spec: SweepSpec, raw: RawData, split: dict[str, Any], store: ArtifactStore) -> None:
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


def train(
    spec: SweepSpec,
    data: Splits,
    trial: optuna.Trial,
    objective: Objective,
    reporter: training.Reporter | None,
    store: ArtifactStore,
) -> tuple[keras.Model, training.FitResult]:
    """Build, compile when needed and fit one trial of a build-function study.

    The same arguments as a family trial (:func:`automl.training.folds.train_once`), with
    the trial for the ``hp`` the build function draws from and the store that holds a
    pickled build; the fit goes through :func:`automl.training.fit.run_fit`.
    """
    from automl.usercode.hp import OptunaHyperParameters, compile_options

    code = load_code(spec, store, trial.study.study_name)
    hp = OptunaHyperParameters(trial)
    model = call_build(code.build, hp, **_build_kwargs(data.input_spec))
    compiled = bool(getattr(model, "compiled", False))
    if not compiled:
        options = compile_options(hp)
        options.pop("asked")
        training.compile_model(model, data.input_spec, options)
    custom_fit = fit_override(code.build)
    # The user's loss may be on any scale: then only NaN/inf fails a trial as diverged.
    limit = math.inf if compiled else training.divergence_limit(data.input_spec)
    tracker = training.EpochReporter(
        objective.metric,
        reporter,
        limit,
        require_metric=custom_fit is None,
        spare_learners=True,
    )
    kwargs = _fit_kwargs(spec, data, code, tracker, objective)
    # A TensorBoard callback writes each trial to a folder of its own, as in KerasTuner.
    kwargs["callbacks"] = per_trial(kwargs["callbacks"], trial.number, dict(trial.params))
    if custom_fit is None:
        kwargs.setdefault(
            "batch_size", int(hp.values.get("batch_size") or spec.training.batch_size)
        )
        kwargs.setdefault("validation_batch_size", training.EVAL_BATCH)

    def call() -> Any:
        if custom_fit is not None:
            return custom_fit(hp, model, data.x_train, data.y_train, **kwargs)
        return model.fit(data.x_train, data.y_train, **kwargs)

    fit = training.run_fit(tracker, objective, len(data.y_val), call)
    if not all(math.isfinite(v) for v in fit.val_metrics.values()):
        raise TrialFailed("nan", f"the fit ended with {fit.val_metrics}")
    return model, fit


def _fit_kwargs(
    spec: SweepSpec, data: Splits, code: UserCode, tracker: Any, objective: Objective
) -> dict[str, Any]:
    max_epochs = spec.training.max_epochs
    patience = spec.training.patience
    # Last, so that whoever stops training, the model ends with its best epoch's weights.
    best = training.BestWeights(objective, max_epochs if patience is None else patience)
    kwargs = {k: v for k, v in code.fit_kwargs.items() if k not in OWN_FIT_KEYS}
    kwargs.setdefault("verbose", 0)
    kwargs.update(
        validation_data=(data.x_val, data.y_val),
        epochs=max_epochs,
        callbacks=[tracker, *code.callbacks, best],
    )
    return kwargs
