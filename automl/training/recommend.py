"""Recommender training inputs, ranking metrics and top-K recommendations.

Implicit feedback trains on the positives plus ``negatives`` items per positive drawn
afresh each epoch from those the user has not interacted with in train. It is evaluated
under the usual protocol: each held-out item is ranked among 100 sampled items its user
never interacted with; HitRate@K is the share ranked in the top K, NDCG@K adds
``1 / log2(rank + 2)`` for those. A tie with a negative counts half a place, so a model
that scores everything alike ranks the held-out item in the middle, not first.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import pandas as pd

from automl.data.interactions import Interactions, sample_unseen
from automl.errors import DataError
from automl.ranking import at_k

if TYPE_CHECKING:
    from automl.data import Splits

BATCH = 8192  # pairs scored per model call
CURVE_K = (1, 2, 3, 5, 10, 15, 20)  # the metric@K curve of the best model's report


def ranks(scores: np.ndarray) -> np.ndarray:
    """Rank (0 best) of column 0 among each row's other columns; ties count half."""
    pos = scores[:, :1]
    return np.asarray((scores[:, 1:] > pos).sum(axis=1) + 0.5 * (scores[:, 1:] == pos).sum(axis=1))


def hit_rate(rank: np.ndarray, k: int) -> float:
    return float(np.mean(rank < k)) if len(rank) else 0.0


def ndcg(rank: np.ndarray, k: int) -> float:
    if not len(rank):
        return 0.0
    return float(np.mean(np.where(rank < k, 1.0 / np.log2(rank + 2.0), 0.0)))


def score_pairs(model: keras.Model, pairs: np.ndarray) -> np.ndarray:
    """One score per [user, item] pair: the rating, or the probability of interacting."""
    parts = []
    for i in range(0, len(pairs), BATCH):
        out = keras.ops.convert_to_numpy(model(pairs[i : i + BATCH], training=False))
        parts.append(out[:, -1])
    return np.concatenate(parts) if parts else np.empty(0, dtype="float32")


def candidate_ranks(model: keras.Model, x: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Ranks of each held-out pair's item among its candidate items."""
    items = np.concatenate([x[:, 1:2], candidates], axis=1)
    users = np.repeat(x[:, 0:1], items.shape[1], axis=1)
    pairs = np.stack([users.reshape(-1), items.reshape(-1)], axis=1).astype("int32")
    return ranks(score_pairs(model, pairs).reshape(items.shape))


def ranking_metrics(
    rank: np.ndarray, ks: tuple[int, ...] = (10,), prefix: str = ""
) -> dict[str, float]:
    out = {}
    for k in ks:
        out[f"{prefix}hr@{k}"] = hit_rate(rank, k)
        out[f"{prefix}ndcg@{k}"] = ndcg(rank, k)
    return out


class RankingCallback(keras.callbacks.Callback):
    """Puts ``val_hr@K`` and ``val_ndcg@K`` in the epoch logs (before pruning and early
    stopping read them), from the validation rows' candidate lists."""

    def __init__(self, x_val: np.ndarray, candidates: np.ndarray, ks: tuple[int, ...]) -> None:
        super().__init__()
        self.x_val, self.candidates, self.ks = x_val, candidates, ks
        self.val_seconds: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        start = time.perf_counter()
        rank = candidate_ranks(self.model, self.x_val, self.candidates)
        # Per scored pair, as latency_ms is per sample: a row scores 1 + 100 pairs.
        self.val_seconds.append((time.perf_counter() - start) / (1 + self.candidates.shape[1]))
        if logs is not None:
            logs.update(ranking_metrics(rank, self.ks, prefix="val_"))


class NegativeSampling(keras.utils.PyDataset):
    """Train batches of positives (label 1) and sampled non-interacted items (label 0),
    drawn again every epoch."""

    def __init__(self, x: np.ndarray, info: Interactions, negatives: int, batch: int, seed: int):
        super().__init__()
        self.x, self.info, self.negatives, self.batch = x, info, negatives, batch
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        neg = sample_unseen(
            self.x[:, 0], self.negatives, self.info.n_items, self.info.train_keys, self.rng
        )
        users = np.repeat(self.x[:, 0], self.negatives)
        pairs = np.concatenate([self.x, np.stack([users, neg.reshape(-1)], axis=1)])
        labels = np.concatenate([np.ones(len(self.x)), np.zeros(len(users))]).astype("int32")
        order = self.rng.permutation(len(pairs))
        self.pairs, self.labels = pairs[order].astype("int32"), labels[order]

    def __len__(self) -> int:
        return -(-len(self.pairs) // self.batch)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        part = slice(i * self.batch, (i + 1) * self.batch)
        return self.pairs[part], self.labels[part]


def fit_inputs(data: Splits, hp: dict[str, Any], metric: str) -> tuple[dict[str, Any], list[Any]]:
    """``model.fit`` arguments and extra callbacks for implicit-feedback training; the
    trainer's own ones for ratings (a plain regression on the pairs)."""
    info = data.interactions
    if info is None or not info.implicit:
        return {}, []
    found = at_k(metric)
    ks = tuple(sorted({10, found[1]})) if found else (10,)
    seed = int(info.seed) + int(hp.get("negatives", 4))
    dataset = NegativeSampling(
        data.x_train, info, int(hp["negatives"]), int(hp["batch_size"]), seed
    )
    if info.val_candidates is None:
        raise ValueError("implicit interactions need validation candidates")
    callback = RankingCallback(data.x_val, info.val_candidates, ks)
    return {"x": dataset, "y": None, "validation_data": None, "batch_size": None}, [callback]


def test_scores(model: keras.Model, data: Splits) -> tuple[dict[str, float], dict[str, Any]]:
    """Test HitRate@K and NDCG@K (K = 1..20) of an implicit model, and its metric@K curve."""
    info = data.interactions
    if info is None or info.test_candidates is None:
        raise ValueError("test_scores needs implicit interactions with test candidates")
    rank = candidate_ranks(model, data.x_test, info.test_candidates)
    curve = {
        "k": list(CURVE_K),
        "hr": [hit_rate(rank, k) for k in CURVE_K],
        "ndcg": [ndcg(rank, k) for k in CURVE_K],
    }
    return ranking_metrics(rank, (5, 10, 20)), curve


def recommend(
    model: keras.Model,
    info: Interactions,
    users: list[Any],
    k: int = 10,
    exclude_seen: bool = True,
) -> pd.DataFrame:
    """Top-``k`` items per user: a DataFrame of user, item, score, best first.

    A user with no train interactions (unknown to the vocabulary, or seen only in held-out
    data) gets the most popular train items with score NaN (cold start).
    """
    index = {u: i for i, u in enumerate(info.users)}
    rows: list[tuple[str, str, float]] = []
    for user in users:
        u = index.get(str(user))
        seen = info.seen(u) if u is not None else np.empty(0, dtype="int64")
        if u is None or not len(seen):
            rows += _popular(info, str(user), k, seen if exclude_seen else None)
            continue
        pairs = np.stack([np.full(info.n_items, u), np.arange(info.n_items)], axis=1)
        scores = score_pairs(model, pairs.astype("int32"))
        if exclude_seen:
            scores[seen] = -np.inf
        top = np.argsort(-scores, kind="stable")[:k]
        rows += [
            (str(user), info.items[i], float(scores[i])) for i in top if np.isfinite(scores[i])
        ]
    return pd.DataFrame(rows, columns=["user", "item", "score"])


def _popular(
    info: Interactions, user: str, k: int, seen: np.ndarray | None
) -> list[tuple[str, str, float]]:
    order = np.argsort(-info.popularity, kind="stable")
    if seen is not None and len(seen):
        order = order[~np.isin(order, seen)]
    return [(user, info.items[i], float("nan")) for i in order[:k]]


def check_users(info: Interactions, users: list[Any], *, cold_start: bool) -> None:
    """Unknown users are an error unless the cold-start fallback is wanted."""
    known = set(info.users)
    unknown = [str(u) for u in users if str(u) not in known]
    if unknown and not cold_start:
        raise DataError(
            f"unknown user id(s): {', '.join(unknown[:5])}; known users are those of the "
            "study's data (pass cold_start=True for the most popular items instead)"
        )
