"""The objects users hold: ``tune()``, ``load()`` and :class:`Sweep`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from automl import artifacts, keep
from automl.errors import AutoMLError, NoModelError
from automl.spec import Objective, SweepSpec, load_spec, validate_spec
from automl.study import (
    artifact_store,
    check_new,
    free_name,
    load_study,
    mask,
    open_storage,
    storage_url,
)

if TYPE_CHECKING:
    import keras

    from automl.worker import TrialOutcome


def tune(
    space: str | Path | SweepSpec,
    *,
    trials: int | None = 20,
    study: str | None = None,
    storage: str | None = None,
    timeout: float | None = None,
    seed: int | None = None,
    data: str | None = None,
    target: str | None = None,
    resume: bool = False,
    on_trial: Callable[[TrialOutcome], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    gpus: str = "auto",
    trials_per_gpu: int = 1,
    workers: int | None = None,
    max_trials_per_worker: int | None = 25,
    max_memory_mb: float | None = None,
    max_retries: int = 2,
    in_process: bool = False,
    report: bool | str | Path = False,
    report_every: int = 0,
) -> Sweep:
    """Run a sweep and return it.

    Args:
        space: a ready space's name, a YAML path, or a :class:`SweepSpec`; with ``resume``,
            the name of the study to continue.
        trials: trials to run in this call (``None``: until ``timeout``).
        study: the study name; by default the space's name (``-2``, ``-3``... if taken).
        storage: an Optuna storage URL; default ``$AUTOML_STORAGE`` or the embedded file.
        timeout: stop starting new trials after this many seconds.
        seed: sampler seed (overrides the space's ``sampler.seed``).
        data: a data path that replaces the space's ``data.source``.
        target: the target column of a CSV (replaces ``data.target``).
        resume: continue the existing study; trial numbers go on.
        on_trial: called after every trial with its outcome.
        on_start: called with the study name once the study is ready, before any trial.
        gpus: ``auto`` (one worker per visible GPU, CPU workers when none), ``none``, or
            GPU ids such as ``"0,2"``.
        trials_per_gpu: workers sharing each GPU.
        workers: CPU workers when no GPU is used (default 1).
        max_trials_per_worker: a worker process is replaced after this many trials.
        max_memory_mb: a worker process is replaced once its memory passes this.
        max_retries: times a trial lost to a crash or an interrupt is tried again.
        in_process: run trials in this process (no worker processes, no recycling).
        report: write an HTML report when the sweep ends: True for
            ``reports/<study>.html``, or a path.
        report_every: also refresh the report after every this many trials (0: never).
    """
    from automl import runner
    from automl.devices import plan

    options = runner.Options(
        gpus=gpus,
        trials_per_gpu=trials_per_gpu,
        workers=workers,
        max_trials_per_worker=max_trials_per_worker,
        max_memory_mb=max_memory_mb,
        max_retries=max_retries,
        in_process=in_process,
        slots=plan(gpus, trials_per_gpu, workers),
    )

    url = storage_url(storage)
    if resume:
        if data or target:
            raise AutoMLError("--data and --target cannot change the data of an existing study")
        if seed is not None:
            raise AutoMLError("--seed cannot change the seed of an existing study")
        name = study or str(space)
    else:
        spec = _with_overrides(space, data=data, target=target)
        st = open_storage(url)
        if study:
            check_new(st, study)
        name = study or free_name(st, spec.name or "study")
        from automl import context

        context.create(spec, name, url, seed=seed)
    if report:
        on_trial = _reporting(name, url, report, report_every, on_trial)
    runner.run(
        name,
        url,
        trials=trials,
        timeout=timeout,
        on_trial=on_trial,
        on_start=on_start,
        options=options,
    )
    sweep = Sweep(name, url)
    if report:
        _write_report(sweep, report)
    return sweep


def _reporting(
    name: str,
    url: str,
    report: bool | str | Path,
    every: int,
    on_trial: Callable[[TrialOutcome], None] | None,
) -> Callable[[TrialOutcome], None]:
    """Wrap ``on_trial`` so the report is refreshed every ``every`` trials."""
    seen = [0]

    def callback(outcome: TrialOutcome) -> None:
        if on_trial is not None:
            on_trial(outcome)
        seen[0] += 1
        if every and seen[0] % every == 0:
            _write_report(Sweep(name, url), report)

    return callback


def _write_report(sweep: Sweep, report: bool | str | Path) -> Path | None:
    """Write the report; a failure is logged, never allowed to stop a sweep."""
    import logging

    try:
        return sweep.report(None if report is True else Path(str(report)))
    except Exception as exc:  # noqa: BLE001 - a report must not break the sweep
        logging.getLogger("automl").warning("report not written: %s", exc)
        return None


def compare(sweeps: list[Sweep], path: str | Path | None = None) -> Path:
    """Write one HTML report comparing several sweeps."""
    from automl.reports import write_report

    return write_report(list(sweeps), path)


def _with_overrides(space: str | Path | SweepSpec, **changes: Any) -> SweepSpec:
    spec = space if isinstance(space, SweepSpec) else load_spec(space)
    if changes.get("data"):
        source = Path(str(changes["data"])).expanduser()
        changes["data"] = str(source.resolve()) if source.exists() else str(changes["data"])
    updates = {f"data.{'source' if k == 'data' else k}": v for k, v in changes.items() if v}
    if updates.get("data.source"):
        updates["data.kind"] = None
    return spec.replace(**updates) if updates else spec


def load(study: str, storage: str | None = None) -> Sweep:
    """The sweep stored under ``study`` (``storage=None``: the default storage)."""
    sweep = Sweep(study, storage_url(storage))
    sweep.study  # noqa: B018 - fail now, with the list of studies, if it does not exist
    return sweep


def studies(storage: str | None = None) -> pd.DataFrame:
    """One row per study in the storage: name, space, task, trials, best value."""
    url = storage_url(storage)
    opened = open_storage(url)  # one storage (one connection pool) for every study
    rows = []
    for s in opened.get_all_studies():
        attrs = s.user_attrs
        spec = attrs.get("spec", {})
        counts = {state: 0 for state in ("COMPLETE", "PRUNED", "FAIL", "RUNNING")}
        rows.append(
            {
                "study": s.study_name,
                "space": spec.get("name", ""),
                "family": spec.get("model", {}).get("family", ""),
                "task": attrs.get("task", ""),
                "objective": ", ".join(o["metric"] for o in attrs.get("objectives", [])),
                **counts,
                "best": None,
            }
        )
        st = optuna.load_study(study_name=s.study_name, storage=opened)
        for t in st.get_trials(deepcopy=False):
            if t.state.name in counts:
                rows[-1][t.state.name] += 1
        if rows[-1]["COMPLETE"] and len(st.directions) == 1:
            rows[-1]["best"] = st.best_value
    return pd.DataFrame(
        rows,
        columns=[
            "study",
            "space",
            "family",
            "task",
            "objective",
            "COMPLETE",
            "PRUNED",
            "FAIL",
            "RUNNING",
            "best",
        ],
    )


class Sweep:
    """A tuned study: its best parameters, leaderboard, models and test metrics.

    Constructing one does no I/O; the study is read on first use.
    """

    def __init__(self, study_name: str, storage: str | None = None) -> None:
        self.study_name = study_name
        self.storage = storage_url(storage)
        self._study: optuna.Study | None = None

    def __repr__(self) -> str:
        return f"Sweep({self.study_name!r}, storage={mask(self.storage)!r})"

    # -- reading the study ---------------------------------------------------------------
    @property
    def study(self) -> optuna.Study:
        """The underlying Optuna study."""
        if self._study is None:
            self._study = load_study(self.study_name, open_storage(self.storage), self.storage)
        return self._study

    @property
    def spec(self) -> SweepSpec:
        return validate_spec(self.study.user_attrs["spec"], origin=f"study {self.study_name!r}")

    @property
    def task(self) -> str:
        return str(self.study.user_attrs.get("task", ""))

    @property
    def objectives(self) -> list[Objective]:
        stored = self.study.user_attrs.get("objectives")
        if stored:
            return [Objective.model_validate(o) for o in stored]
        # A study automl did not create: its values, in Optuna's directions.
        return [
            Objective(metric="value" if i == 0 else f"value_{i}", direction=d.name.lower())
            for i, d in enumerate(self.study.directions)
        ]

    @property
    def directions(self) -> list[str]:
        return [o.resolved_direction for o in self.objectives]

    def _best(self) -> FrozenTrial:
        from automl.evaluate import best_trials

        best = best_trials(self.study, self.directions)
        if not best:
            raise NoModelError(f"study {self.study_name!r} has no completed trial yet")
        return best[0]

    @property
    def best_trial(self) -> FrozenTrial:
        """The best trial (multi-objective: the Pareto trial best on the first objective)."""
        return self._best()

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self._best().params)

    @property
    def best_value(self) -> float:
        """The best validation value of the first objective."""
        return float(self._best().values[0])

    @property
    def best_values(self) -> list[float]:
        return list(self._best().values)

    @property
    def test_metrics(self) -> dict[str, float]:
        """Test-split metrics of the best model, e.g. ``{"accuracy": 0.97}``."""
        return dict(self.study.user_attrs.get("test_metrics", {}).get(str(self._best().number), {}))

    @property
    def pareto_front(self) -> list[FrozenTrial]:
        from automl.evaluate import best_trials

        return best_trials(self.study, self.directions)

    def leaderboard(self) -> pd.DataFrame:
        """One row per trial, best first: params, metrics, test metrics, cost."""
        from automl.leaderboard import leaderboard

        return leaderboard(self)

    # -- models --------------------------------------------------------------------------
    def best_model(self) -> keras.Model:
        """The best trial's trained model, loaded from the artifact store."""
        return self.model(self._best().number)

    def model(self, trial_number: int) -> keras.Model:
        """The saved model of one trial (only kept trials have one)."""
        store, aid = self._saved(trial_number)
        return artifacts.load_model(store, aid)

    def _saved(self, trial_number: int) -> tuple[Any, str]:
        """The artifact store and id of a trial's saved model, or NoModelError."""
        trials = {t.number: t for t in self.study.get_trials(deepcopy=False)}
        if trial_number not in trials:
            raise NoModelError(f"study {self.study_name!r} has no trial {trial_number}")
        aid = trials[trial_number].user_attrs.get("artifact_id")
        store = artifact_store(self.storage, create=False)
        if not artifacts.has(store, aid):
            raise NoModelError(
                f"trial {trial_number} of {self.study_name!r} has no saved model "
                f"(only the best {self.spec.keep} and the size/latency front are kept)"
            )
        return store, str(aid)

    def pick(
        self, max_params: int | None = None, max_latency_ms: float | None = None
    ) -> keras.Model:
        """The best model whose parameter count and latency stay within the limits."""
        return self.model(self.pick_trial(max_params, max_latency_ms).number)

    def pick_trial(
        self, max_params: int | None = None, max_latency_ms: float | None = None
    ) -> FrozenTrial:
        done = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        fits = []
        for t in done:
            m = t.user_attrs.get("metrics", {})
            if max_params is not None and m.get("params_count", 0) > max_params:
                continue
            if max_latency_ms is not None and m.get("latency_ms", 0) > max_latency_ms:
                continue
            fits.append(
                keep.Candidate(
                    t.number, tuple(t.values), m.get("params_count", 0), m.get("latency_ms", 0)
                )
            )
        if not fits:
            raise NoModelError(
                f"no completed trial of {self.study_name!r} has params <= {max_params} "
                f"and latency_ms <= {max_latency_ms}"
            )
        best = keep.ranked(fits, self.directions)[0].number
        return next(t for t in done if t.number == best)

    def report(self, path: str | Path | None = None) -> Path:
        """Write this sweep's HTML report (default ``reports/<study>.html``)."""
        from automl.reports import write_report

        return write_report([self], path)

    def preprocess(self, x: Any) -> Any:
        """Raw samples -> the arrays this study's models take.

        Applies the preprocessing fitted on the study's train split (scaling, imputation and
        one-hot encoding of a table, tokenizing of texts), so that
        ``sweep.best_model().predict(sweep.preprocess(rows))`` works on new data: ``rows``
        is a DataFrame of a CSV's feature columns, a list of texts, or an array shaped like
        the source's samples. The study's data source must still be readable.
        """
        from automl.context import splits_of

        transform = splits_of(self.study, self.storage).transform
        assert transform is not None  # prepare() always sets it
        return transform(x)

    def tokenizer(self) -> dict[str, Any] | None:
        """The tokenizer of a text study (fitted on its train split), else None.

        Turn new texts into the ids a text model takes with
        ``automl.data.text.encode(texts, sweep.tokenizer())``.
        """
        import json

        aid = self.study.user_attrs.get("tokenizer_artifact")
        store = artifact_store(self.storage, create=False)
        if not artifacts.has(store, aid):
            return None
        with store.open_reader(str(aid)) as f:
            return dict(json.loads(f.read().decode("utf-8")))

    def export(self, path: str | Path, trial_number: int | None = None) -> Path:
        """Copy the best (or a given trial's) saved model to ``path`` (a ``.keras`` file).

        A text study's tokenizer is written beside it as ``<name>.tokenizer.json``.
        """
        number = self._best().number if trial_number is None else trial_number
        store, aid = self._saved(number)
        out = artifacts.copy_to(store, aid, path)
        tokenizer = self.tokenizer()
        if tokenizer is not None:
            from automl.data.text import save_tokenizer

            save_tokenizer(tokenizer, out.with_name(out.stem + ".tokenizer.json"))
        return out
