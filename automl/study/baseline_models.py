"""The baselines' models: each fits on the train split and returns its validation and test
outputs (class probabilities, or values), or None where it does not apply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from automl.store import records

if TYPE_CHECKING:
    from automl.data import Splits
    from automl.study.context import Context

MAX_ROWS = 5_000  # train rows the linear models see (a random sample beyond)
MAX_FEATURES = 1_024  # features the linear models see: images are pooled down to this
MAX_TREE_ROWS = 50_000  # train rows gradient boosting sees
MAX_LEVELS = 250  # category levels gradient boosting keeps per column (the most common)
Outputs = tuple[np.ndarray, np.ndarray]


def constant(s: Splits, task: str) -> Outputs:
    """The majority class (as the train split's class shares, so the loss is the classes'
    entropy), or the train mean."""
    if task == "classification":
        k = max(len(s.classes), int(s.y_train.max()) + 1)
        shares = np.bincount(s.y_train.astype("int64"), minlength=k) / len(s.y_train)
        return np.tile(shares, (len(s.y_val), 1)), np.tile(shares, (len(s.y_test), 1))
    mean = float(np.mean(s.y_train))
    return np.full((len(s.y_val), 1), mean), np.full((len(s.y_test), 1), mean)


def biases(s: Splits) -> Outputs:
    """Ratings: the train mean plus damped user and item biases, clipped to the ratings'
    range."""
    from automl.data import rating_biases

    spec = s.input_spec
    fitted = rating_biases.biases(s.x_train, s.y_train, spec.n_users, spec.n_items)
    lo, hi = float(np.min(s.y_train)), float(np.max(s.y_train))
    return tuple(
        np.clip(rating_biases.predict(fitted, x), lo, hi).reshape(-1, 1)
        for x in (s.x_val, s.x_test)
    )


def linear(s: Splits, task: str, kind: str) -> Outputs | None:
    """Logistic regression (classes) or ridge regression with the penalty chosen by
    leave-one-out (values), on standardized features."""
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler, StandardScaler

    rows = _sample(len(s.y_train), MAX_ROWS)
    parts = [features(x, kind, s) for x in (s.x_train[rows], s.x_val, s.x_test)]
    if parts[0] is None or parts[1] is None or parts[2] is None:
        return None
    sparse = kind == "text"
    scale = MaxAbsScaler() if sparse else StandardScaler()
    y = s.y_train[rows]
    if task == "regression":
        model = make_pipeline(scale, RidgeCV(alphas=np.logspace(-3, 3, 13)))
        model.fit(parts[0], y)
        return tuple(model.predict(p).reshape(-1, 1) for p in parts[1:])
    model = make_pipeline(scale, LogisticRegression(max_iter=300))
    model.fit(parts[0], y)
    k = max(len(s.classes), int(s.y_train.max()) + 1)
    return _probabilities(model, parts[1], k), _probabilities(model, parts[2], k)


def _probabilities(model: Any, x: Any, k: int) -> np.ndarray:
    """Predicted probabilities over all ``k`` classes (train may lack some)."""
    out = np.zeros((x.shape[0], k))
    out[:, np.asarray(model.classes_, dtype="int64")] = model.predict_proba(x)
    return out


def _sample(n: int, limit: int, seed: int = 0) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def features(x: Any, kind: str, s: Splits) -> Any:
    """What a linear model reads of samples: pooled images, band energies of audio, a
    bag of words of texts, flattened otherwise (pooled to at most ``MAX_FEATURES``)."""
    if kind == "text":
        return _bag_of_words(np.asarray(x), s.input_spec.vocab_size)
    try:
        arr = np.asarray(x, dtype="float32")
    except (TypeError, ValueError):
        return None  # the user's own inputs (several arrays, strings...): no baseline
    if kind == "audio":
        return _band_energies(arr.reshape(len(arr), -1))
    if arr.ndim == 4 and arr.shape[1] * arr.shape[2] * arr.shape[3] > MAX_FEATURES:
        arr = _pool_images(arr, MAX_FEATURES)
    flat = arr.reshape(len(arr), -1)
    if flat.shape[1] > MAX_FEATURES:
        group = -(-flat.shape[1] // MAX_FEATURES)
        usable = flat.shape[1] // group * group
        flat = flat[:, :usable].reshape(len(flat), -1, group).mean(axis=2)
    return np.nan_to_num(flat)


def _pool_images(x: np.ndarray, limit: int) -> np.ndarray:
    """Average pooling with the smallest square window that leaves at most ``limit``."""
    n, h, w, c = x.shape
    f = 1
    while (h // f) * (w // f) * c > limit and f < min(h, w):
        f += 1
    h2, w2 = h // f * f, w // f * f
    return x[:, :h2, :w2].reshape(n, h2 // f, f, w2 // f, f, c).mean(axis=(2, 4))


def _band_energies(x: np.ndarray, bands: int = 64, chunk: int = 256) -> np.ndarray:
    """Log energy of each clip in ``bands`` log-spaced frequency bands (a spectrum pooled)."""
    n_bins = x.shape[1] // 2 + 1
    edges = np.unique(np.geomspace(1, n_bins, bands + 1).astype("int64"))
    out = []
    for i in range(0, len(x), chunk):
        power = np.abs(np.fft.rfft(x[i : i + chunk], axis=1)) ** 2
        sums = np.add.reduceat(power, np.concatenate([[0], edges[:-1]]), axis=1)
        out.append(np.log1p(sums))
    return np.concatenate(out) if out else np.empty((0, len(edges)))


def _bag_of_words(ids: np.ndarray, vocab: int) -> Any:
    """Token ids -> a sparse matrix of log(1 + count) per token (padding and unknown out)."""
    from scipy import sparse

    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    cols = ids.reshape(-1).astype("int64")
    keep = cols >= 2
    shape = (len(ids), max(vocab, int(cols.max(initial=1)) + 1))
    counts = sparse.csr_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=shape)
    counts.data = np.log1p(counts.data)
    return counts


def boosting(ctx: Context, kind: str) -> Outputs | None:
    """scikit-learn's ``HistGradientBoosting`` at its defaults: on the raw table (missing
    values and categories as they are), or on the features of a numeric one."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    s = ctx.splits
    if kind == "tabular":
        parts = raw_table(ctx)
    else:
        parts = (s.x_train, s.x_val, s.x_test)
        if np.ndim(s.x_train) != 2:
            return None
    rows = _sample(len(s.y_train), MAX_TREE_ROWS)
    train = parts[0].iloc[rows] if hasattr(parts[0], "iloc") else parts[0][rows]
    if ctx.task == "regression":
        reg = HistGradientBoostingRegressor(categorical_features="from_dtype", random_state=0)
        reg.fit(train, s.y_train[rows])
        return reg.predict(parts[1]).reshape(-1, 1), reg.predict(parts[2]).reshape(-1, 1)
    clf = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    clf.fit(train, s.y_train[rows])
    k = max(len(s.classes), int(s.y_train.max()) + 1)
    return _probabilities(clf, parts[1], k), _probabilities(clf, parts[2], k)


def raw_table(ctx: Context) -> tuple[Any, Any, Any]:
    """The study's table before preprocessing, cut by its stored split: numbers as floats,
    text columns as categories of their ``MAX_LEVELS`` most common train levels."""
    import pandas as pd

    from automl.data import load_source
    from automl.data.split import from_bytes

    raw = load_source(ctx.spec.data, ctx.task, ctx.store)
    with ctx.store.open_reader(str(ctx.study.user_attrs[records.SPLIT])) as f:
        split = from_bytes(f.read())
    frame: pd.DataFrame = raw.x
    train = frame.iloc[split["train"]]
    columns = {}
    for col in frame.columns:
        values, known = frame[col], train[col].dropna()
        if known.empty or (not _numeric(known) and known.nunique() > 0.5 * len(known) > 25):
            continue  # empty in the train rows, or an ID: nothing to learn from
        if _numeric(values):
            columns[col] = pd.to_numeric(values.astype("object"), errors="coerce")
            continue
        levels = set(known.astype(str).value_counts().index[:MAX_LEVELS])
        text = values.astype(str).where(values.notna())
        text = text.where(text.isin(levels))  # rare levels count as missing
        columns[col] = pd.Categorical(text, categories=sorted(levels))
    table = pd.DataFrame(columns, index=frame.index)
    return tuple(table.iloc[split[k]] for k in ("train", "validation", "test"))


def _numeric(values: Any) -> bool:
    """Numbers, booleans, or text that is mostly numbers."""
    import pandas as pd

    known = values.dropna()
    numbers = pd.to_numeric(known.astype("object"), errors="coerce")
    return bool(numbers.notna().sum() >= 0.95 * len(known))
