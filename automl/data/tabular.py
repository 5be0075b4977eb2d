"""CSV tables: read with pandas, preprocessing fitted on the train split only."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl.data.encoding import text_encoding
from automl.errors import DataError

if TYPE_CHECKING:
    from automl.data.raw import RawData

DEFAULT_TARGETS = ("label", "target", "class", "y")
CODES = "categorical_codes"  # RawData option: category columns as codes, encoded by the model


def read_options(data: Any = None, source: str | None = None) -> dict[str, Any]:
    """pandas ``read_csv`` options: the delimiter (given, tab for .tsv, else sniffed).

    Spaces after a delimiter are skipped (``age, workclass``); a UTF-8 BOM is dropped.
    """
    source = source or (str(data.source) if data is not None else "")
    sep = getattr(data, "delimiter", None) or ("\t" if source.lower().endswith(".tsv") else None)
    opts: dict[str, Any] = {"sep": sep, "encoding": getattr(data, "encoding", None) or "utf-8-sig"}
    opts["skipinitialspace"] = True
    if sep is None:
        sep = sniff_delimiter(source)
        opts["sep"] = sep
        if sep is None:
            opts["engine"] = "python"  # lets pandas sniff what csv.Sniffer could not
    if getattr(data, "columns", None):
        opts["header"] = None  # a header-less file: data.columns names the columns
    return opts


def read_csv(path: str, data: Any = None) -> pd.DataFrame:
    """Read a CSV with one-line errors that name the file; bytes that are not the file's
    encoding (UTF-8, or ``data.encoding``) stop the read (see :func:`text_encoding`).

    Spaces around header names and string cells are stripped, so ``Salary `` is
    ``Salary`` and `` <=50K`` is ``<=50K``.
    """
    encoding = text_encoding(path, getattr(data, "encoding", None))
    opts = {**read_options(data, path), "encoding": encoding}
    try:
        frame = pd.read_csv(path, encoding_errors="strict", **opts)
    except FileNotFoundError:
        raise DataError(f"{path}: data file not found") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not valid {encoding} text (byte {exc.object[exc.start]:#x} at "
            f"{exc.start}); set data.encoding to the file's encoding"
        ) from None
    except (OSError, ValueError, csv.Error, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot read CSV: {str(exc).splitlines()[0]}") from None
    return _stripped(_named(frame, getattr(data, "columns", None), path))


def _named(frame: pd.DataFrame, columns: list[str] | None, path: str) -> pd.DataFrame:
    if not columns:
        return frame
    if len(columns) != frame.shape[1]:
        raise DataError(
            f"{path}: data.columns names {len(columns)} columns; the file has {frame.shape[1]}"
        )
    frame.columns = list(columns)
    return frame


def _stripped(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [c.strip() if isinstance(c, str) else c for c in frame.columns]
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].map(lambda v: v.strip() if isinstance(v, str) else v)
    return frame


def sniff_delimiter(path: str, *, min_lines: int = 1) -> str | None:
    """The delimiter of a text table (one of , ; tab |) from its first lines, else None."""
    import csv

    try:
        with open(path, "rb") as f:
            head = f.read(16384).decode("utf-8-sig", errors="ignore")
    except OSError:
        return None
    lines = [line for line in head.splitlines()[:20] if line.strip()]
    if len(lines) < min_lines or "\x00" in head:
        return None
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        return None


def looks_like_csv(path: str) -> bool:
    """Whether a file without a known extension holds delimited text (CSV, TSV...)."""
    try:
        with open(path, "rb") as f:
            f.read(16384).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return False
    return sniff_delimiter(path, min_lines=2) is not None


def load_csv(path: str, target: str | None, task: str | None, options: Any = None) -> RawData:
    """A table: features as a DataFrame, targets encoded (``options``: the DataSpec)."""
    from automl.data.raw import RawData
    from automl.data.split import labels_of, pop_split_column

    frame = read_csv(path, options)
    split = pop_split_column(frame, options, path)
    if frame.shape[1] < 2:
        raise DataError(f"{path}: a CSV needs at least one feature column and a target column")
    target = target or _default_target(frame)
    if target not in frame.columns:
        raise DataError(
            f"{path}: data.target: no column {target!r}; "
            f"columns: {', '.join(map(str, frame.columns))}"
        )
    frame = frame.dropna(subset=[target])
    if frame.empty:
        raise DataError(f"{path}: target column {target!r} has no values")
    y_raw = frame.pop(target)
    task = task or infer_task(y_raw.to_numpy())
    name = path.rsplit("/", 1)[-1]
    y, classes = targets(y_raw.to_numpy(), task, path, target)
    extra = labels_of(split, frame.index)
    return RawData(frame, y, task, "tabular", name, classes=classes, options=extra)


def targets(y_raw: Any, task: str, source: str, column: str) -> tuple[np.ndarray, list[str]]:
    """Floats for regression; class indices and class names for classification."""
    from automl.data.raw import encode_labels

    if task == "regression":
        try:
            return pd.to_numeric(pd.Series(np.asarray(y_raw))).to_numpy(dtype="float32"), []
        except (ValueError, TypeError):
            raise DataError(
                f"{source}: target column {column!r} is not numeric; use task: classification"
            ) from None
    return encode_labels(np.asarray(y_raw))


def _default_target(frame: pd.DataFrame) -> str:
    lower = {str(c).lower(): c for c in frame.columns}
    for name in DEFAULT_TARGETS:
        if name in lower:
            return str(lower[name])
    return str(frame.columns[-1])


def infer_task(y: np.ndarray) -> str:
    """Classification for strings, booleans and few distinct integers; else regression."""
    arr = np.asarray(y)
    if arr.dtype.kind in "OUSb":
        return "classification"
    uniques = np.unique(arr[~pd.isna(arr)])
    if arr.dtype.kind in "iu" and len(uniques) <= max(20, int(0.05 * len(arr))):
        return "classification"
    if arr.dtype.kind == "f" and np.all(np.mod(uniques, 1) == 0) and len(uniques) <= 20:
        return "classification"
    return "regression"


def retarget(raw: RawData, task: str) -> RawData:
    """Reinterpret targets for an explicitly given task."""
    from automl.data.raw import encode_labels

    if task == "regression":
        if not raw.classes:
            return replace(raw, task=task)
        try:
            values = np.asarray([float(raw.classes[i]) for i in raw.y], dtype="float32")
        except ValueError:
            raise DataError(f"{raw.name}: targets are not numeric; cannot do regression") from None
        return replace(raw, y=values, task=task, classes=[])
    codes, classes = encode_labels(raw.y)
    return replace(raw, y=codes, task=task, classes=classes)


def fit(frame: pd.DataFrame, tr: np.ndarray) -> Callable[[pd.DataFrame], np.ndarray]:
    """Impute, standardize and one-hot encode, fitted on the train rows only.

    Returns the transform from raw rows (a DataFrame with the feature columns) to arrays.
    """
    frame = _clean(frame)
    train = frame.iloc[tr]
    # Columns empty in the train rows, and ID-like strings (a value per row), carry nothing.
    keep = [c for c in frame.columns if train[c].notna().any() and not _id_like(train[c])]
    if not keep:
        raise DataError("the table has no usable feature column (all empty or IDs)")
    pre = _preprocessor(frame[keep])
    pre.fit(train[keep])

    def transform(rows: pd.DataFrame) -> np.ndarray:
        missing = [c for c in keep if c not in rows.columns]
        if missing:
            raise DataError(f"rows lack feature columns: {', '.join(map(str, missing))}")
        return _dense(pre.transform(_clean(rows[keep])))

    return transform


def fit_codes(
    frame: pd.DataFrame, tr: np.ndarray
) -> tuple[Callable[[pd.DataFrame], np.ndarray], list[int]]:
    """Like :func:`fit`, but each category column becomes one column of integer codes.

    Numbers are imputed and standardized as in :func:`fit` and come first; then one column
    per category column: the level's rank by training frequency (0 the most common, also
    for missing values), and the number of levels for a level the train rows lack. The
    model one-hot encodes or embeds the codes (``categorical_encoding``). Returns the
    transform and the levels of each category column.
    """
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = _clean(frame)
    train = frame.iloc[tr]
    keep = [c for c in frame.columns if train[c].notna().any() and not _id_like(train[c])]
    if not keep:
        raise DataError("the table has no usable feature column (all empty or IDs)")
    numeric = [c for c in keep if pd.api.types.is_numeric_dtype(frame[c])]
    ranks = {c: _ranks(train[c]) for c in keep if c not in numeric}
    scale = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    if numeric:
        scale.fit(train[numeric])

    def transform(rows: pd.DataFrame) -> np.ndarray:
        missing = [c for c in keep if c not in rows.columns]
        if missing:
            raise DataError(f"rows lack feature columns: {', '.join(map(str, missing))}")
        clean = _clean(rows[keep])
        parts = [_dense(scale.transform(clean[numeric]))] if numeric else []
        for c, rank in ranks.items():
            codes = [0 if pd.isna(v) else rank.get(str(v), len(rank)) for v in clean[c]]
            parts.append(np.asarray(codes, dtype="float32").reshape(-1, 1))
        return np.concatenate(parts, axis=1) if parts else np.empty((len(rows), 0), "float32")

    return transform, [len(r) for r in ranks.values()]


def _ranks(s: pd.Series) -> dict[str, int]:
    counts = s.dropna().astype(str).value_counts()
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {value: i for i, (value, _) in enumerate(order)}


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Booleans as 0/1, mostly-numeric text as numbers, other text as strings."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s):
            s = s.astype("float32")
        elif not pd.api.types.is_numeric_dtype(s):
            values = s.dropna()
            lowered = values.astype(str).str.strip().str.lower()
            if len(values) and lowered.isin(["true", "false"]).all():
                s = s.astype(str).str.strip().str.lower().map({"true": 1.0, "false": 0.0})
            else:
                numbers = pd.to_numeric(values, errors="coerce")
                if len(values) and numbers.notna().mean() >= 0.95:
                    s = pd.to_numeric(s, errors="coerce")
                else:
                    s = s.map(lambda v: np.nan if pd.isna(v) else str(v)).astype(object)
        out[str(col)] = s
    return pd.DataFrame(out, index=frame.index)


def _id_like(s: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(s):
        return False
    n = int(s.notna().sum())
    return n > 50 and s.nunique() > 0.5 * n


def _preprocessor(frame: pd.DataFrame) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    categorical = [c for c in frame.columns if c not in numeric]
    parts = []
    if numeric:
        parts.append(
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric)
        )
    if categorical:
        cat = make_pipeline(
            SimpleImputer(strategy="most_frequent"),
            OneHotEncoder(handle_unknown="ignore", max_categories=50, sparse_output=False),
        )
        parts.append(("cat", cat, categorical))
    return ColumnTransformer(parts, sparse_threshold=0.0)


def _dense(x: Any) -> np.ndarray:
    return np.asarray(x, dtype="float32")
