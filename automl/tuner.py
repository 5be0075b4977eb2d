"""``automl.Tuner``: a drop-in for KerasTuner's tuners, run by automl.

Change ``kt.RandomSearch(build_model, objective=..., max_trials=..., directory=...,
project_name=...)`` to ``automl.Tuner(...)`` and the rest of a KerasTuner script runs
unchanged: ``search(x, y, validation_data=..., epochs=..., callbacks=...)``,
``get_best_models``, ``get_best_hyperparameters``, ``results_summary``,
``search_space_summary``. The study lives in ``directory/project_name`` (a journal file
and the models); ``overwrite=False`` resumes it up to ``max_trials``. ``tuner.sweep`` is
the :class:`~automl.api.Sweep` (report, leaderboard, pick).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from automl.api import Sweep
from automl.errors import AutoMLError, SpecError, StudyNotFoundError
from automl.options import DEFAULTS
from automl.ranking import ranked
from automl.sweeps import tune
from automl.usercode.spec import code_name, spec_for

# KerasTuner options with no automl meaning: accepted only at their harmless defaults.
_IGNORED = {"logger": None, "tuner_id": None, "executions_per_trial": 1, "max_model_size": None}
_UNSUPPORTED: tuple[str, ...] = ("hyperparameters", "tune_new_entries", "allow_new_entries")
_UNSUPPORTED += ("oracle", "distribution_strategy", "max_retries_per_trial")
_UNSUPPORTED += ("max_consecutive_failed_trials",)


class Tuner:
    """KerasTuner's tuner interface over an automl study (TPE and median pruning by default).

    Args:
        hypermodel: a build function ``build(hp)`` or a ``keras_tuner.HyperModel``.
        objective: a metric name of the model's logs (``"val_accuracy"``) or a
            ``keras_tuner.Objective`` (its direction is used).
        max_trials: trials of the study in total (a resumed study runs the rest).
        directory, project_name: where the study is stored (as KerasTuner's folder).
        overwrite: start afresh; otherwise an existing study goes on.
        seed, sampler, pruner, gpus, workers, trials_per_gpu, storage: automl's own
            (``storage`` replaces the journal file in ``directory/project_name``).
        max_epochs: epochs when ``search()`` gives none (default 20, KerasTuner's
            Hyperband argument name).
        patience: automl's early stopping on the objective (default None: only the
            callbacks given to ``search`` stop a trial early, as in KerasTuner).
        track: log the trials to MLflow or TensorBoard, as :func:`automl.tune`'s ``track``.
            A ``keras.callbacks.TensorBoard`` given to ``search`` writes each trial to
            ``log_dir/trial-0007``.
        ensemble: ``get_best_models()``'s first model is the kept models' ensemble (one
            Keras model averaging the members chosen greedily on validation) instead of
            the single best; the rest of the list are the best single models. Off by
            default, as in KerasTuner. With fewer than 2 kept models the first model is
            the single best.
    """

    # long: KerasTuner's arguments and automl's, one line each.
    def __init__(
        self,
        hypermodel: Any,
        objective: Any = None,
        max_trials: int = 10,
        *,
        directory: str | Path | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        seed: int | None = None,
        sampler: str = "tpe",
        pruner: str = "median",
        gpus: str = DEFAULTS.gpus,
        workers: int | None = DEFAULTS.workers,
        trials_per_gpu: int = DEFAULTS.trials_per_gpu,
        storage: str | None = None,
        max_epochs: int | None = None,
        patience: int | None = None,
        in_process: bool = False,
        track: str | list[str] | None = None,
        ensemble: bool = False,
        **kwargs: Any,
    ) -> None:
        _check_kwargs(kwargs)
        self.hypermodel = hypermodel
        self.objective = _objective(objective)
        self.max_trials = max_trials
        self.project_name = project_name or code_name(hypermodel)
        folder = Path(directory or ".") / self.project_name
        self.storage = storage or str(folder / "journal.log")
        self.overwrite, self.seed = overwrite, seed
        self.sampler, self.pruner, self.max_epochs, self.patience = (
            sampler,
            pruner,
            max_epochs,
            patience,
        )
        self.ensemble = ensemble
        self.run: dict[str, Any] = {"gpus": gpus, "workers": workers}
        self.run.update(trials_per_gpu=trials_per_gpu, in_process=in_process, track=track)

    @property
    def sweep(self) -> Sweep:
        """The study as an automl :class:`~automl.api.Sweep` (report, leaderboard, pick)."""
        return Sweep(self.project_name, self.storage)

    # long: KerasTuner's search() signature, one line per keyword.
    def search(
        self,
        x: Any = None,
        y: Any = None,
        *,
        validation_data: Any = None,
        validation_split: float | None = None,
        test_data: Any = None,
        epochs: int | None = None,
        callbacks: list[Any] | None = None,
        timeout: float | None = None,
        **fit_kwargs: Any,
    ) -> Sweep:
        """Tune on ``(x, y)``; validation from ``validation_data`` (exactly that set), else
        the last ``validation_split`` of ``x`` as Keras takes it, else a stratified 15 %.

        There is a test split only when ``test_data=(x, y)`` is given or neither validation
        keyword is (then 15 % of ``x`` is held out as automl does).

        ``verbose`` is KerasTuner's: 1 (default) a progress bar, or a line per trial
        without a terminal; 0 nothing; 2 a line per trial with every parameter. It is not
        passed to ``fit``: what a trial prints is in its log (``automl logs``).
        """
        verbose = fit_kwargs.pop("verbose", 1)
        done = self._done_trials()
        if done is not None and done >= self.max_trials:
            return self.sweep
        if done is None:
            data, split = _arrays(x, y, validation_data, validation_split, test_data)
            spec = spec_for(
                self.hypermodel,
                data=data,
                url=self.sweep.storage,
                split=split,
                fit_kwargs=fit_kwargs,
                callbacks=list(callbacks or []),
                objective=self.objective,
                training=self._training(epochs),
                sampler={"name": self.sampler, "seed": self.seed},
                pruner={"name": self.pruner},
                name=self.project_name,
            )
            return tune(
                spec,
                trials=self.max_trials,
                study=self.project_name,
                storage=self.storage,
                timeout=timeout,
                verbose=verbose,
                **self.run,
            )
        return tune(
            self.project_name,
            trials=self.max_trials - done,
            storage=self.storage,
            resume=True,
            timeout=timeout,
            verbose=verbose,
            **self.run,
        )

    def _training(self, epochs: int | None) -> dict[str, Any]:
        return {"max_epochs": epochs or self.max_epochs or 20, "patience": self.patience}

    def _done_trials(self) -> int | None:
        """Trials the stored study has (None: no study yet, or overwrite asked)."""
        from automl.store.storage import delete_study_if_exists

        Path(self.storage).parent.mkdir(parents=True, exist_ok=True)
        if self.overwrite:
            delete_study_if_exists(self.project_name, self.storage)
            self.overwrite = False  # a later search() in this script goes on
            return None
        try:
            return sum(t.state in ("COMPLETE", "PRUNED") for t in self.sweep.record().trials)
        except StudyNotFoundError:
            return None

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The best trained models, best first (only kept models exist: ``keep``).

        With ``Tuner(ensemble=True)`` the first is the kept models' ensemble, then the
        best ``num_models - 1`` single models.
        """
        sweep = self.sweep
        record = sweep.record()
        saved = [t for t in record.complete if t.has_model]
        order = [t.number for t in ranked(saved, record.objectives)]
        members = list((record.ensemble or {}).get("members") or [])
        if not (self.ensemble and len(set(members)) > 1 and num_models >= 1):
            return [sweep.model(n) for n in order[:num_models]]
        return [sweep.ensemble(), *(sweep.model(n) for n in order[: num_models - 1])]

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[Any]:
        """``keras_tuner.HyperParameters`` of the best trials (``.values``, ``.get(name)``)."""
        from automl.usercode.hp import OptunaHyperParameters

        record = self.sweep.record(models=False)
        best = ranked(record.complete, record.objectives)[:num_trials]
        return [OptunaHyperParameters.from_params(t.params) for t in best]

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the best trials as KerasTuner does: values, then score."""
        record = self.sweep.record(models=False)
        objective = record.objectives[0]
        print(f"Results summary\nResults in {Path(self.storage).parent}")
        print(
            f'Showing {num_trials} best trials\nObjective(name="{objective.metric}", '
            f'direction="{objective.mode}")'
        )
        for t in ranked(record.complete, record.objectives)[:num_trials]:
            print(f"\nTrial {t.number:02d} summary\nHyperparameters:")
            for name, value in t.params.items():
                print(f"{name}: {value}")
            print(f"Score: {(t.values or [float('nan')])[0]}")

    def search_space_summary(self) -> None:
        """Print the hyperparameters one build declares (KerasTuner's format)."""
        from automl.store.storage import storage_url
        from automl.study.context import splits_of
        from automl.usercode.spec import dry_space

        inputs = None
        if self._exists():
            inputs = splits_of(self.sweep.study, storage_url(self.storage)).input_spec
        entries = dry_space(self.hypermodel, inputs)
        print(f"Search space summary\nDefault search space size: {len(entries)}")
        for entry in entries:
            print(f"{entry['name']} ({entry['type']})\n{entry['config']}")

    def _exists(self) -> bool:
        try:
            self.sweep.study  # noqa: B018
        except StudyNotFoundError:
            return False
        return True


def _check_kwargs(kwargs: dict[str, Any]) -> None:
    for key, value in kwargs.items():
        if key in _IGNORED and value == _IGNORED[key]:
            continue
        if key in _IGNORED or key in _UNSUPPORTED:
            raise SpecError(f"automl.Tuner: KerasTuner's {key}= is not supported")
        raise AutoMLError(f"automl.Tuner: unknown argument {key!r}")


def _objective(objective: Any) -> Any:
    """A metric name, or ``{metric, direction}`` from a ``keras_tuner.Objective``."""
    if objective is None or isinstance(objective, str):
        return objective
    if isinstance(objective, list):
        return [_objective(o) for o in objective]
    name, direction = getattr(objective, "name", None), getattr(objective, "direction", None)
    if not isinstance(name, str):
        raise SpecError(f"automl.Tuner: objective {objective!r} is not supported")
    if direction in ("max", "min"):
        direction = {"max": "maximize", "min": "minimize"}[direction]
    return {"metric": name, "direction": direction}


def _arrays(
    x: Any, y: Any, validation_data: Any, validation_split: float | None, test_data: Any
) -> tuple[Any, dict[str, np.ndarray] | None]:
    """The samples and a fixed split as ``search`` defines them (None: automl draws one)."""
    if x is None or y is None:
        raise AutoMLError("automl.Tuner.search: give x and y (datasets are not supported)")
    if validation_data is None and not validation_split:
        if test_data is not None:
            raise AutoMLError("test_data= needs validation_data= or validation_split=")
        return (x, y), None
    x, y = np.asarray(x), np.asarray(y)
    n = len(y)
    if validation_data is not None:
        xv, yv = np.asarray(validation_data[0]), np.asarray(validation_data[1])
        train, val = np.arange(n), np.arange(n, n + len(yv))
        x, y = np.concatenate([x, xv]), np.concatenate([y, yv])
    else:
        cut = n - int(n * float(validation_split or 0))  # Keras: the last samples
        train, val = np.arange(cut), np.arange(cut, n)
    test = np.arange(len(y), len(y))
    if test_data is not None:
        xt, yt = np.asarray(test_data[0]), np.asarray(test_data[1])
        test = np.arange(len(y), len(y) + len(yt))
        x, y = np.concatenate([x, xt]), np.concatenate([y, yt])
    return (x, y), {"train": train, "validation": val, "test": test}
