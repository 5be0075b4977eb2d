"""Sweep specs for the user's own model code given from Python or the command line.

``automl.tune(build_model, data=(x, y))``, ``automl.Tuner`` and
``automl tune my_models.py:build_model --data DATA`` all end here: the build (a reference,
or a Python object stored by value with cloudpickle) and arrays given from Python are
written once to the study's artifact store, so workers need only the study name and the
storage URL, as for any study.
"""

from __future__ import annotations

import io
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl.data import arrays
from automl.errors import DataError, SpecError
from automl.models import InputSpec
from automl.search.code_ref import PICKLED, absolute, looks_like_ref
from automl.search.spec import SweepSpec, validate_spec
from automl.store import signing, storage

if TYPE_CHECKING:
    from automl.store.artifacts import ArtifactStore


def is_user_code(space: Any) -> bool:
    """Whether ``tune``'s ``space`` is model code (an object or ``file.py:fn``), not a spec."""
    if isinstance(space, SweepSpec | Path):
        return False
    if not isinstance(space, str):
        return True
    from automl.search.catalog import ready_spaces

    return looks_like_ref(space) and space not in ready_spaces() and not Path(space).is_file()


def code_name(build: Any) -> str:
    """A short name for a build: the function's or HyperModel class's, or the ref's."""
    if isinstance(build, str):
        return build.rpartition(":")[2]
    return str(getattr(build, "__name__", None) or type(build).__name__)


# long: one keyword per spec section a caller may set; the body is short.
def spec_for(
    build: Any,
    *,
    data: Any,
    url: str,
    target: str | None = None,
    split: dict[str, np.ndarray] | None = None,
    fit_kwargs: dict[str, Any] | None = None,
    callbacks: list[Any] | None = None,
    **sections: Any,
) -> SweepSpec:
    """A validated spec whose ``model.build`` is ``build`` and whose data is ``data``.

    Args:
        build: ``file.py:fn`` / ``pkg.mod:fn`` (a file relative to the working directory),
            or a function, HyperModel class or instance (stored by value).
        data: a path or built-in name as in ``data.source``; ``(x, y)`` arrays; or a
            DataFrame with ``target`` naming the target column.
        url: the storage whose artifact store keeps pickled code and arrays.
        split: fixed train/validation/test indices into ``(x, y)`` (arrays only).
        fit_kwargs, callbacks: extra ``fit`` keywords and callbacks (Python objects only).
        sections: further top-level spec fields (``objective``, ``training``, ``sampler``...).
    """
    if data is None:
        raise DataError("data: a build function needs data (--data PATH, or data=(x, y))")
    store = storage.artifact_store(url)
    model: dict[str, Any]
    if isinstance(build, str):
        if fit_kwargs or callbacks:
            raise SpecError("fit keywords and callbacks need the build given as a Python object")
        model = {"build": absolute(build, Path.cwd())}
    else:
        aid, digest = _pickle(build, store, fit_kwargs or {}, callbacks or [])
        model = {"build": PICKLED + aid, "digest": digest}  # validation signs both
    raw: dict[str, Any] = {
        "name": code_name(build),
        "model": model,
        "data": _data_section(data, target, split, store),
        **{k: v for k, v in sections.items() if v is not None},
    }
    return validate_spec(raw, origin=f"model {code_name(build)!r}")


def _data_section(
    data: Any, target: str | None, split: Any, store: ArtifactStore
) -> dict[str, Any]:
    if isinstance(data, str | Path):
        source = Path(str(data)).expanduser()
        path = str(source.resolve()) if source.exists() else str(data)
        return {"source": path, **({"target": target} if target else {})}
    if isinstance(data, pd.DataFrame):
        if not target or target not in data.columns:
            raise DataError(
                f"data: a DataFrame needs target= naming its target column; got {target!r} "
                f"(columns: {', '.join(map(str, data.columns[:10]))})"
            )
        aid = _write(store, "arrays", ".csv", arrays.frame_bytes(data))
        return {"source": aid, "kind": "arrays", "target": target}
    if isinstance(data, tuple | list) and len(data) == 2:
        aid = _write(store, "arrays", ".npz", arrays.to_bytes(data[0], data[1], split))
        return {"source": aid, "kind": "arrays"}
    raise DataError(
        f"data: expected a path, (x, y) arrays or a DataFrame; got {type(data).__name__}"
    )


def _write(store: ArtifactStore, kind: str, suffix: str, blob: bytes) -> str:
    aid = f"{kind}-{uuid.uuid4().hex}{suffix}"
    store.write(aid, io.BytesIO(blob))
    return aid


def _pickle(
    build: Any, store: ArtifactStore, fit_kwargs: dict[str, Any], callbacks: list[Any]
) -> tuple[str, str]:
    """Store the build by value (its own module too, unless it is installed): id, SHA-256."""
    import cloudpickle

    module = sys.modules.get(getattr(build, "__module__", None) or type(build).__module__)
    local = module is not None and _is_local(module)
    if local:
        cloudpickle.register_pickle_by_value(module)
    try:
        payload = {"name": code_name(build), "target": build, "fit_kwargs": fit_kwargs}
        blob = cloudpickle.dumps({**payload, "callbacks": callbacks})
    except Exception as exc:  # noqa: BLE001 - anything unpicklable: say what
        raise SpecError(
            f"model {code_name(build)!r}: cannot be sent to worker processes: {exc}; "
            "define it at the top level of a file, or pass in_process=True"
        ) from None
    finally:
        if local and module is not None:
            cloudpickle.unregister_pickle_by_value(module)
    return _write(store, "build", ".pkl", blob), signing.sha256(blob)


def _is_local(module: Any) -> bool:
    """A module from a plain file (a script, the user's folder), not an installed package."""
    name = getattr(module, "__name__", "")
    path = getattr(module, "__file__", None) or ""
    if name == "__main__" or not path:
        return False  # __main__ is pickled by value anyway
    return "site-packages" not in path and not path.startswith(sys.prefix)


def dry_space(build: Any, input_spec: InputSpec | None = None) -> list[dict[str, Any]]:
    """The hyperparameters one build declares (``search_space_summary``), drawn at random.

    ``input_spec``: an existing study's inputs, which give ``input_shape`` and ``n_classes``.
    """
    import keras
    import optuna

    from automl.usercode.build import UserBuild, call_build, load_build
    from automl.usercode.hp import OptunaHyperParameters, space_summary

    code = load_build(absolute(build, Path.cwd())) if isinstance(build, str) else build
    code = code if isinstance(code, UserBuild) else UserBuild(code_name(build), code)
    kwargs: dict[str, Any] = {}
    if input_spec is not None:
        kwargs = {"input_shape": tuple(input_spec.shape), "n_classes": input_spec.n_classes or None}
    hp = OptunaHyperParameters(optuna.create_study().ask())
    call_build(code, hp, **kwargs)
    keras.backend.clear_session()
    return space_summary(hp)
