"""The object users hold: :class:`Sweep`, a thin front over records, ranking and storage."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
import pandas as pd

from automl import ranking
from automl.errors import AutoMLError, NoModelError
from automl.ranking import Objective
from automl.reports import write_report
from automl.reports.leaderboard import leaderboard
from automl.search.spec import SweepSpec
from automl.store import models, records, storage
from automl.store.records import StudyRecord, TrialRecord
from automl.study.context import spec_of, splits_of

if TYPE_CHECKING:
    import keras


def load(study: str, storage: str | None = None) -> Sweep:
    """The sweep stored under ``study`` (``storage=None``: the default storage)."""
    sweep = Sweep(study, storage)
    sweep.study  # noqa: B018 - fail now, with the list of studies, if it does not exist
    return sweep


class Sweep:
    """A tuned study: its best parameters, leaderboard, models and test metrics.

    Constructing one does no I/O; the study is read on first use.
    """

    def __init__(self, study_name: str, storage: str | None = None) -> None:
        from automl.store.storage import storage_url

        self.study_name = study_name
        self.storage = storage_url(storage)
        self._study: optuna.Study | None = None

    def __repr__(self) -> str:
        return f"Sweep({self.study_name!r}, storage={storage.mask(self.storage)!r})"

    # -- reading the study ---------------------------------------------------------------
    @property
    def study(self) -> optuna.Study:
        """The underlying Optuna study."""
        if self._study is None:
            opened = storage.open_storage(self.storage)
            self._study = storage.load_study(self.study_name, opened, self.storage)
        return self._study

    def record(self, *, models: bool = True) -> StudyRecord:
        """The study as it is stored now: every trial, typed (see :mod:`automl.store.records`)."""
        return records.read_study(self.study, self.storage, models=models)

    @property
    def spec(self) -> SweepSpec:
        return spec_of(self.study, self.storage)

    @property
    def task(self) -> str:
        return str(self.study.user_attrs.get(records.TASK, ""))

    @property
    def objectives(self) -> list[Objective]:
        """The objectives; a study automl did not create has ``value`` (or ``value_i``)."""
        return records.objectives_of(self.study)

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    def _best(self, record: StudyRecord | None = None) -> TrialRecord:
        record = record or self.record(models=False)
        found = ranking.best(record.complete, record.objectives)
        if not found:
            raise NoModelError(f"study {self.study_name!r} has no completed trial yet")
        return found[0]

    @property
    def best_trial(self) -> TrialRecord:
        """The best trial (multi-objective: the Pareto trial best on the first objective)."""
        return self._best()

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self._best().params)

    @property
    def best_value(self) -> float:
        """The best validation value of the first objective."""
        return float((self._best().values or [math.nan])[0])

    @property
    def test_metrics(self) -> dict[str, Any]:
        """Test-split metrics of the best model, e.g. ``{"accuracy": 0.97}``.

        With ``training.refit`` they are the refitted model's; key ``ensemble`` holds the
        ensemble's test metrics when the sweep chose one.
        """
        record = self.record(models=False)
        top = self._best(record)
        metrics: dict[str, Any] = dict(top.test)
        if record.refit and record.refit.get("trial") == top.number:
            metrics = dict(record.refit.get("test") or metrics)
        if record.ensemble and record.ensemble.get("test"):  # none without a test split
            metrics["ensemble"] = dict(record.ensemble["test"])
        return metrics

    @property
    def pareto_front(self) -> list[TrialRecord]:
        record = self.record(models=False)
        return ranking.pareto_front(record.complete, record.objectives)

    def leaderboard(self) -> pd.DataFrame:
        """One row per trial, best first: params, metrics, test metrics, cost."""
        return leaderboard(self.record())

    @property
    def baselines(self) -> pd.DataFrame:
        """The simple models fitted once on the same split when the sweep ended, to put
        the best model's numbers in scale: one row per baseline (``majority`` or ``mean``,
        ``logistic`` or ``ridge``, ``gradient_boosting`` for tables, ``biases`` for ratings,
        ``popularity`` for implicit feedback) with the study's validation metrics,
        ``test_*`` metrics and ``seconds``. Empty until the sweep's end evaluated it.
        """
        from automl.reports import baselines

        return baselines.frame(self.record(models=False))

    # -- models --------------------------------------------------------------------------
    def best_model(self) -> keras.Model:
        """The best trial's trained model (its refit, with ``training.refit``)."""
        found = self._refit()
        if found is not None:
            return storage.load_model(*found)
        return self.model(self._best().number)

    def _refit(self) -> tuple[Any, str, str | None] | None:
        """Store, artifact id and SHA-256 of the best trial's refitted model, if any."""
        record = self.record(models=False)
        refit = record.refit if isinstance(record.refit, dict) else {}
        aid = refit.get("artifact_id")
        if not aid or refit.get("trial") != self._best(record).number:
            return None
        store = storage.artifact_store(self.storage, create=False)
        digest = refit.get("sha256")
        found = (store, str(aid), str(digest) if digest else None)
        return found if storage.has(store, str(aid)) else None

    def ensemble(self, k: int | None = None) -> keras.Model:
        """One model averaging kept models' outputs (probabilities, or values).

        ``k=None``: the members the sweep chose greedily on validation (whose test metrics
        are ``test_metrics["ensemble"]``); ``k``: the top ``k`` kept models, equal weights.
        """
        from automl.study import ensemble

        members = self._members(k)
        models = {n: self.model(n) for n in set(members)}
        return ensemble.build([models[n] for n in members])

    def _members(self, k: int | None) -> list[int]:
        """The trial numbers of an ensemble's members (see :meth:`ensemble`)."""
        from automl.study import ensemble

        record = self.record()
        if k is None:
            members = list((record.ensemble or {}).get("members") or [])
            if not members:
                raise NoModelError(f"study {self.study_name!r} has no ensemble (keep >= 2)")
        else:
            members = ensemble.candidates(record, record.keep)[:k]
            if len(members) < k:
                raise NoModelError(
                    f"study {self.study_name!r} has {len(members)} kept models; asked for {k}"
                )
        return members

    def trial_log(self, trial_number: int, tail: int | None = None) -> str:
        """What a trial's worker printed while the trial ran (stdout and stderr: the build
        code's ``print()``, framework warnings, a failure's traceback), passwords scrubbed.

        Args:
            tail: only the last this many lines.

        Raises:
            AutoMLError: no such trial, or it kept no log (not started yet, or run in the
                sweep's own process: ``in_process``).
        """
        from automl.store import logs

        if trial_number not in {t.number for t in self.study.get_trials(deepcopy=False)}:
            raise AutoMLError(f"study {self.study_name!r} has no trial {trial_number}")
        text = logs.read(self.storage, self.study_name, trial_number)
        if text is None:
            raise AutoMLError(
                f"trial {trial_number} of study {self.study_name!r} has no log: it has not "
                "started, or it ran in the sweep's own process (--in-process)"
            )
        if tail is not None:
            return "\n".join(logs.tail(text, tail))
        return logs.shown(text)

    def model(self, trial_number: int) -> keras.Model:
        """The saved model of one trial (only kept trials have one)."""
        return storage.load_model(*self._saved(trial_number))

    def _saved(self, trial_number: int) -> tuple[Any, str, str | None]:
        """The artifact store, id and SHA-256 of a trial's saved model, or NoModelError."""
        trials = {t.number: t for t in self.record().trials}
        if trial_number not in trials:
            raise NoModelError(f"study {self.study_name!r} has no trial {trial_number}")
        aid = trials[trial_number].artifact_id
        store = storage.artifact_store(self.storage, create=False)
        if not trials[trial_number].has_model or aid is None:
            raise NoModelError(
                f"trial {trial_number} of {self.study_name!r} has no saved model "
                f"(only the best {self.spec.keep} and the size/latency front are kept)"
            )
        return store, str(aid), trials[trial_number].model_sha256

    def pick(
        self, max_params: int | None = None, max_latency_ms: float | None = None
    ) -> keras.Model:
        """The best model whose parameter count and latency stay within the limits."""
        return self.model(self.pick_trial(max_params, max_latency_ms).number)

    def pick_trial(
        self, max_params: int | None = None, max_latency_ms: float | None = None
    ) -> TrialRecord:
        """The best completed trial whose parameter count and latency stay within limits."""
        record = self.record(models=False)
        found = ranking.pick(record.complete, record.objectives, max_params, max_latency_ms)
        if found is None:
            raise NoModelError(
                f"no completed trial of {self.study_name!r} has params <= {max_params} "
                f"and latency_ms <= {max_latency_ms}"
            )
        return found

    def report(self, path: str | Path | None = None) -> Path:
        """Write this sweep's HTML report (default ``reports/<study>.html``)."""
        return write_report([self.record()], path)

    def preprocess(self, x: Any) -> Any:
        """Raw samples -> the arrays this study's models take.

        Applies the preprocessing fitted on the study's train split (scaling, imputation and
        one-hot encoding of a table, tokenizing of texts), so that
        ``sweep.best_model().predict(sweep.preprocess(rows))`` works on new data: ``rows``
        is a DataFrame of a CSV's feature columns, a list of texts, or an array shaped like
        the source's samples. The study's data source must still be readable.
        """
        splits = splits_of(self.study, self.storage)
        if splits.transform is None:  # prepare() always sets one
            raise AutoMLError(f"study {self.study_name!r} has no preprocessing")
        out = splits.transform(x)
        want = getattr(splits.x_train, "shape", None)
        got = getattr(out, "shape", None)
        if want is not None and got is not None and tuple(got[1:]) != tuple(want[1:]):
            raise AutoMLError(
                f"preprocess: samples of shape {tuple(np.shape(x))[1:]} give model inputs of "
                f"shape {tuple(got[1:])}, but study {self.study_name!r} takes "
                f"{tuple(want[1:])}; give samples shaped like the data source's"
            )
        return out

    def tokenizer(self) -> dict[str, Any] | None:
        """The tokenizer of a text study (fitted on its train split), else None.

        Turn new texts into the ids a text model takes with
        ``automl.data.text.encode(texts, sweep.tokenizer())``.
        """
        return self._json_artifact(records.TOKENIZER)

    def vocabulary(self) -> dict[str, Any] | None:
        """A recommender study's user and item ids (index order) and popular items, else
        None."""
        return self._json_artifact(records.VOCAB)

    def _json_artifact(self, key: str) -> dict[str, Any] | None:
        aid = self.study.user_attrs.get(key)
        store = storage.artifact_store(self.storage, create=False)
        if not storage.has(store, aid):
            return None
        with store.open_reader(str(aid)) as f:
            return dict(json.loads(f.read().decode("utf-8")))

    def recommend(
        self, users: Any, k: int = 10, exclude_seen: bool = True, cold_start: bool = True
    ) -> pd.DataFrame:
        """Top-``k`` items per user from the best model: a DataFrame of user, item, score.

        ``exclude_seen`` leaves out items the user rated or used in the train split. A user
        without train interactions gets the most popular items (score NaN), or a
        DataError with ``cold_start=False``. The study's data source must be readable.
        """
        from automl.training import recommend

        info = splits_of(self.study, self.storage).interactions
        if info is None:
            raise AutoMLError(f"study {self.study_name!r} is not a recommender study")
        users = [users] if isinstance(users, str | int) else list(users)
        recommend.check_users(info, users, cold_start=cold_start)
        return recommend.recommend(self.best_model(), info, users, k, exclude_seen)

    def export(
        self,
        path: str | Path,
        trial_number: int | None = None,
        ensemble: int | None = None,
        *,
        format: str | None = None,
        overwrite: bool = True,
    ) -> Path:
        """Write the best (or a given trial's) saved model to ``path``, for serving.

        ``format``: ``keras``, ``saved_model`` (a folder), ``onnx`` or ``litert``; by
        default the suffix says it (``.keras``, ``.onnx``, ``.tflite``; no suffix or an
        existing folder: a SavedModel). Beside the artifact goes a JSON of what it takes and
        returns (``best.onnx.json``; a SavedModel folder's ``automl.json``), and a text
        study's tokenizer (``best.tokenizer.json``) or a recommender's id vocabularies
        (``best.vocabulary.json``). The best is its refit with ``training.refit``;
        ``ensemble=k`` writes the ensemble of the top k kept models (0: the sweep's choice).

        A stored model is exported only after it matched the SHA-256 recorded when it was
        saved and loaded in Keras safe mode (the artifact folder is not trusted); every
        format but keras is run in its own runtime and must give the Keras model's outputs.
        Files are never written through a symbolic link; ``overwrite=False`` refuses
        existing ones.

        Raises:
            NoModelError: no such model, or one refused by those checks.
            ExportError: an unknown format or suffix, a format this model or the Keras
                backend cannot take, or a converter or runtime that is not installed.
            AutoMLError: a file exists and ``overwrite`` is false.
        """
        from automl.study import export as exporting
        from automl.study import serving

        out = Path(path)
        fmt = exporting.resolve_format(out, format)
        exporting.check_available(fmt)
        found = {"tokenizer": self.tokenizer(), "vocabulary": self.vocabulary()}
        plan = exporting.Plan(out, fmt, {k: v for k, v in found.items() if v is not None})
        plan.refuse_existing(overwrite)
        with tempfile.TemporaryDirectory() as tmp:
            model, keras_file, about = self._exportable(trial_number, ensemble, Path(tmp))
            what = f"trial {about['trial']}" if "trial" in about else "the ensemble"
            exporting.check_model(model, fmt, f"{what} of {self.study_name!r}")
            files = {kind: plan.extra_path(kind).name for kind in plan.extras}
            attrs = self.study.user_attrs
            card = serving.card(self.study_name, attrs, self.spec, about, files, found["tokenizer"])
            return exporting.write(model, plan, card, keras_file, overwrite=overwrite)

    def _exportable(
        self, trial_number: int | None, ensemble: int | None, tmp: Path
    ) -> tuple[keras.Model, Path | None, dict[str, Any]]:
        """The model to export, its checked ``.keras`` file (a stored one's), and which it is."""
        from automl.study.ensemble import build

        if ensemble is not None:
            members = self._members(ensemble or None)
            kept = {n: self.model(n) for n in set(members)}
            return build([kept[n] for n in members]), None, {"ensemble": members}
        found = self._refit() if trial_number is None else None
        if found is not None:
            about: dict[str, Any] = {"trial": self._best().number, "refit": True}
        else:
            number = self._best().number if trial_number is None else trial_number
            found = self._saved(number)
            about = {"trial": number, "refit": False}
        keras_file = tmp / "model.keras"
        return models.checked_copy(found[0], found[1], keras_file, found[2]), keras_file, about
