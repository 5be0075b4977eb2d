"""Ratings' global mean and user and item biases in closed form: the classic baseline.

Ridge regression of the ratings on one bias per user and one per item, each penalised by
``damping``: a bias is the mean residual of its ratings shrunk as if ``damping`` more
ratings said 0, so a user or an item with few ratings stays near the mean (Koren 2010,
"Factor in the neighbors", section 2.1). Alternating exact updates (items, then users)
solve it in a few sweeps; memory follows the interactions.
"""

from __future__ import annotations

import numpy as np

DAMPING = 10.0  # the biases' shrinkage, in ratings


def biases(
    pairs: np.ndarray,
    ratings: np.ndarray,
    n_users: int,
    n_items: int,
    *,
    damping: float = DAMPING,
    mean: float | None = None,
    sweeps: int = 5,
) -> tuple[float, np.ndarray, np.ndarray]:
    """``(mean, user_bias, item_bias)`` of ``[user_idx, item_idx]`` pairs' ratings, in
    rating units; ids with no rating get 0. ``mean``: the offset (default: the ratings')."""
    y = np.asarray(ratings, dtype="float64")
    mu = float(y.mean()) if mean is None else float(mean)
    users, items = pairs[:, 0].astype("int64"), pairs[:, 1].astype("int64")
    n_u = np.bincount(users, minlength=n_users) + damping
    n_i = np.bincount(items, minlength=n_items) + damping
    b_u, b_i = np.zeros(len(n_u)), np.zeros(len(n_i))
    rest = y - mu
    for _ in range(max(sweeps, 1)):
        b_i = np.bincount(items, rest - b_u[users], minlength=n_items) / np.maximum(n_i, 1e-12)
        b_u = np.bincount(users, rest - b_i[items], minlength=n_users) / np.maximum(n_u, 1e-12)
    return mu, b_u, b_i


def predict(fitted: tuple[float, np.ndarray, np.ndarray], pairs: np.ndarray) -> np.ndarray:
    """Predicted ratings of pairs: mean plus the user's and the item's bias."""
    mu, b_u, b_i = fitted
    return mu + b_u[pairs[:, 0]] + b_i[pairs[:, 1]]
