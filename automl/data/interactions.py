"""Interactions: (user, item[, rating][, timestamp]) rows for recommender models.

A CSV, TSV or ``::``-separated file (as MovieLens' ``ratings.dat``). Explicit feedback
(a rating column) is a regression on the rating; implicit feedback (no rating column, or
``data.implicit: true``) keeps only whether a user interacted with an item. Ids are any
strings; the vocabularies (sorted ids) index the embeddings, so a sample becomes the int
pair ``[user_idx, item_idx]``. Nothing here builds a user x item matrix: "seen" lookups
search a sorted array of ``user * n_items + item`` keys, so memory follows interactions.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl.data.encoding import text_encoding
from automl.errors import DataError

if TYPE_CHECKING:
    from automl.data.raw import RawData

USER_COLUMNS = ("user", "user_id", "userid")
ITEM_COLUMNS = ("item", "item_id", "itemid", "movie_id", "movieid")
RATING_COLUMNS = ("rating", "score")
TIME_COLUMNS = ("timestamp", "time", "date")
N_NEGATIVES = 100  # sampled non-interacted items a held-out item is ranked among
_SEP = re.compile(r"::|\t|,|;|\|")


def _separator(path: str, data: Any, encoding: str) -> str:
    if getattr(data, "delimiter", None):
        return str(data.delimiter)
    try:
        with open(path, encoding=encoding) as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    found = _SEP.search(first)
    return found.group(0) if found else ","


def looks_like(path: str, data: Any) -> bool:
    """Whether a CSV holds interactions: interaction fields set, or user and item columns
    (in the header, or in ``data.columns`` for a file without one)."""
    if data is not None and (data.user_column or data.item_column or data.implicit is not None):
        return True
    if data is not None and data.columns:
        header = [str(c).strip().lower() for c in data.columns]
    else:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            header = [h.strip().lower() for h in _SEP.split(f.readline())]
    return any(u in header for u in USER_COLUMNS) and any(i in header for i in ITEM_COLUMNS)


def read(data: Any) -> pd.DataFrame:
    """The file as a DataFrame of strings (ids keep leading zeros and never become floats)."""
    path = str(data.source)
    encoding = text_encoding(path, data.encoding)
    sep = _separator(path, data, encoding)
    opts: dict[str, Any] = {"sep": sep, "dtype": str, "keep_default_na": False}
    if len(sep) > 1:
        opts["engine"] = "python"
    if data.columns:
        opts.update(header=None, names=list(data.columns))
    try:
        return pd.read_csv(path, encoding=encoding, **opts)
    except (OSError, ValueError, csv.Error, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot read interactions: {str(exc).splitlines()[0]}") from None


def _column(
    frame: pd.DataFrame, given: str | None, names: tuple[str, ...], field: str, src: str
) -> str | None:
    columns = [str(c) for c in frame.columns]
    if given:
        if given not in columns:
            raise DataError(
                f"{src}: data.{field}: no column {given!r}; columns: {', '.join(columns)}"
            )
        return given
    lower = {c.lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def load(data: Any, task: str | None) -> RawData:
    """Read interactions: x a DataFrame of user, item (and timestamp) strings; y ratings
    (explicit, regression) or ones (implicit, classes ``0`` / ``1``)."""
    from automl.data.raw import RawData
    from automl.data.split import LABELS, pop_split_column

    src = str(data.source)
    frame = read(data)
    split = pop_split_column(frame, data, src)
    cols = {
        "user": _column(frame, data.user_column, USER_COLUMNS, "user_column", src),
        "item": _column(frame, data.item_column, ITEM_COLUMNS, "item_column", src),
        "rating": _column(frame, data.rating_column, RATING_COLUMNS, "rating_column", src),
        "timestamp": _column(frame, data.time_column, TIME_COLUMNS, "time_column", src),
    }
    for need in ("user", "item"):
        if cols[need] is None:
            raise DataError(
                f"{src}: data.{need}_column: no {need} column (looked for "
                f"{', '.join(USER_COLUMNS if need == 'user' else ITEM_COLUMNS)}); columns: "
                f"{', '.join(map(str, frame.columns))}; set data.{need}_column, or "
                "data.columns for a file without a header"
            )
    implicit = bool(data.implicit) if data.implicit is not None else cols["rating"] is None
    if task == "regression" and implicit:
        raise DataError(f"{src}: task regression needs a rating column (data.rating_column)")
    x = pd.DataFrame(
        {"user": frame[cols["user"]].str.strip(), "item": frame[cols["item"]].str.strip()}
    )
    if cols["timestamp"] is not None:
        x["timestamp"] = _numbers(frame[cols["timestamp"]], src, str(cols["timestamp"]), time=True)
    y = np.ones(len(x), dtype="float32")
    if not implicit:
        y = _numbers(frame[str(cols["rating"])], src, str(cols["rating"])).astype("float32")
    if split is not None:
        x[LABELS] = split.to_numpy()
    x, y = _dedupe(x, y)
    labels = x.pop(LABELS).to_numpy(dtype=str) if split is not None else None
    for key in ("user", "item"):
        if x[key].nunique() < 2:
            raise DataError(f"{src}: the {key} column {cols[key]!r} has fewer than 2 distinct ids")
    task = "classification" if implicit else "regression"
    options = {"implicit": implicit, "split": data.split, "seed": data.split_seed}
    if labels is not None:
        options[LABELS] = labels
    name = Path(src).name
    classes = ["0", "1"] if implicit else []
    y = y.astype("int32") if implicit else y
    return RawData(x, y, task, "interactions", name, classes=classes, options=options)


def _numbers(values: pd.Series, src: str, column: str, *, time: bool = False) -> np.ndarray:
    """A column as float64; a value that is not a number (or a date) is a one-line error."""
    numeric = pd.to_numeric(values, errors="coerce")
    if time and numeric.isna().any():
        dates = pd.to_datetime(values, errors="coerce")
        numeric = pd.Series(dates.astype("int64"), index=values.index).where(dates.notna())
    bad = numeric.isna()
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        raise DataError(
            f"{src}: column {column!r} row {row + 1}: {values.iloc[row]!r} is not a "
            + ("number or a date" if time else "number")
        )
    return numeric.to_numpy(dtype="float64")


def _dedupe(x: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per (user, item): the latest, so a pair can never sit in two splits."""
    order = np.argsort(x["timestamp"].to_numpy(), kind="stable") if "timestamp" in x else None
    if order is not None:
        x, y = x.iloc[order], y[order]
    keep = ~x.duplicated(subset=["user", "item"], keep="last").to_numpy()
    return x[keep].reset_index(drop=True), y[keep]


def split(raw: RawData, validation: float, test: float, seed: int) -> dict[str, np.ndarray]:
    """Train / validation / test row indices without leakage.

    ``random`` (the default for ratings) splits interactions at random; ``by_time`` (the
    default for implicit feedback) holds out each user's last interaction for test and
    the one before for validation (users with fewer than 3 keep all in train). Without a
    timestamp column the file order is the time order.
    """
    from automl.data.split import make_split

    if _how(raw) == "random":
        return make_split(raw.y, validation, test, seed, stratify=False)
    order, ends, many = _by_user(raw.x, 3)
    te = order[ends[many] - 1]
    va = order[ends[many] - 2]
    tr = np.setdiff1d(np.arange(len(raw.x)), np.concatenate([te, va]))
    return {"train": np.sort(tr), "validation": np.sort(va), "test": np.sort(te)}


def hold_out(raw: RawData, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the rest and of one held-out part, as :func:`split` draws them:
    ``share`` of the rows at random, or each user's last interaction (``by_time``; users
    with fewer than 2 keep theirs in train)."""
    from automl.data.split import hold_out as random_hold_out

    if _how(raw) == "random":
        return random_hold_out(raw.y, share, seed, stratify=False)
    order, ends, many = _by_user(raw.x, 2)
    held = order[ends[many] - 1]
    return np.setdiff1d(np.arange(len(raw.x)), held), np.sort(held)


def _how(raw: RawData) -> str:
    return str(raw.options.get("split") or ("by_time" if raw.options.get("implicit") else "random"))


def _by_user(x: pd.DataFrame, least: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows by user, then time, then file row; each user's block end; users with ``least``."""
    time = x["timestamp"].to_numpy() if "timestamp" in x else np.arange(len(x), dtype="float64")
    users = pd.factorize(x["user"])[0]
    order = np.lexsort((np.arange(len(x)), time, users))
    counts = np.bincount(users)  # factorized codes: blocks of ``order`` in code order
    return order, np.cumsum(counts), counts >= least


@dataclass
class Interactions:
    """What recommender training, evaluation and ``recommend`` need beyond the x arrays.

    Attributes:
        users, items: the id vocabularies; an id's position is its embedding index.
        implicit: implicit feedback (ranking metrics) rather than ratings.
        train_keys: sorted ``user * n_items + item`` keys of the train interactions.
        popularity: train interactions per item (the cold-start fallback ranks by it).
        val_candidates, test_candidates: per held-out row, ``N_NEGATIVES`` items its user
            never interacted with (implicit only); the held-out item is ranked among them.
    """

    users: list[str]
    items: list[str]
    implicit: bool
    train_keys: np.ndarray
    popularity: np.ndarray
    val_candidates: np.ndarray | None = None
    test_candidates: np.ndarray | None = None
    seed: int = 0

    @property
    def n_items(self) -> int:
        return len(self.items)

    def seen(self, user: int) -> np.ndarray:
        """Item indices the user interacted with in the train split."""
        lo, hi = np.searchsorted(self.train_keys, [user * self.n_items, (user + 1) * self.n_items])
        return (self.train_keys[lo:hi] - user * self.n_items).astype("int64")

    def vocabulary(self) -> dict[str, Any]:
        """The JSON-ready vocabularies stored with the study and exported with models."""
        top = np.argsort(-self.popularity, kind="stable")[:1000]
        return {
            "users": self.users,
            "items": self.items,
            "implicit": self.implicit,
            "popular": [self.items[i] for i in top],
        }


def encode(frame: pd.DataFrame) -> tuple[np.ndarray, list[str], list[str]]:
    """(n, 2) int32 [user_idx, item_idx] pairs and the sorted id vocabularies."""
    u_codes, users = pd.factorize(frame["user"], sort=True)
    i_codes, items = pd.factorize(frame["item"], sort=True)
    pairs = np.stack([u_codes, i_codes], axis=1).astype("int32")
    return pairs, [str(u) for u in users], [str(i) for i in items]


def vocabulary_of(raw: RawData, train: np.ndarray) -> dict[str, Any]:
    """The id vocabularies and train popularity, without sampling any candidates."""
    pairs, users, items = encode(raw.x)
    popularity = np.bincount(pairs[train, 1], minlength=len(items))
    info = Interactions(users, items, bool(raw.options.get("implicit")), np.empty(0), popularity)
    return info.vocabulary()


def keys(pairs: np.ndarray, n_items: int) -> np.ndarray:
    return pairs[:, 0].astype("int64") * n_items + pairs[:, 1].astype("int64")


def contains(sorted_keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Whether each query key is in ``sorted_keys`` (binary search, no dense matrix)."""
    if len(sorted_keys) == 0:
        return np.zeros(query.shape, dtype=bool)
    pos = np.searchsorted(sorted_keys, query).clip(max=len(sorted_keys) - 1)
    return np.asarray(sorted_keys[pos] == query)


def sample_unseen(
    users: np.ndarray, n: int, n_items: int, exclude: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """``n`` random items per user (with replacement) that are not in ``exclude`` keys.

    Rejected draws are redrawn a few rounds; rows still rejected then (users who have
    seen nearly every item) draw from their own list of unseen items. Only a user who has
    seen every item keeps seen ones.
    """
    out = rng.integers(0, n_items, size=(len(users), n), dtype="int64")
    base = users.astype("int64")[:, None] * n_items
    for _ in range(10):
        bad = contains(exclude, base + out)
        if not bad.any():
            return out.astype("int32")
        out[bad] = rng.integers(0, n_items, size=int(bad.sum()))
    for row in np.flatnonzero(contains(exclude, base + out).any(axis=1)):
        user = int(users[row])
        lo, hi = np.searchsorted(exclude, [user * n_items, (user + 1) * n_items])
        unseen = np.setdiff1d(np.arange(n_items), exclude[lo:hi] - user * n_items)
        if len(unseen):
            out[row] = rng.choice(unseen, size=n)
    return out.astype("int32")


def prepare(
    raw: RawData, split_idx: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], Interactions]:
    """x / y arrays by split name, and the :class:`Interactions` fitted on the train split."""
    pairs, users, items = encode(raw.x)
    n_items = len(items)
    tr = split_idx["train"]
    train_keys = np.sort(keys(pairs[tr], n_items))
    popularity = np.bincount(pairs[tr, 1], minlength=n_items).astype("int64")
    info = Interactions(users, items, bool(raw.options.get("implicit")), train_keys, popularity)
    arrays = {name: pairs[idx] for name, idx in split_idx.items()}
    if info.implicit:
        every = np.sort(keys(pairs, n_items))
        rng = np.random.default_rng(int(raw.options.get("seed", 0)) + 7)
        info.val_candidates = sample_unseen(
            arrays["validation"][:, 0], N_NEGATIVES, n_items, every, rng
        )
        info.test_candidates = sample_unseen(arrays["test"][:, 0], N_NEGATIVES, n_items, every, rng)
    return arrays, info
