"""Generated interaction files shaped like public movie-rating sets, for trying recommenders.

Users and items have latent factors and biases; item popularity is long-tailed (Zipf), so a
few items get most interactions. Ratings are 1-5 stars from the latent score plus noise;
implicit data keeps which items each user picked, the likelier the better they match.

``python -m automl.data.make_interactions ratings.csv`` writes the ratings file the
``ratings_mf`` ready space reads (``--implicit`` for ``implicit_ncf``'s).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def generate(
    n_users: int = 1000,
    n_items: int = 1700,
    n: int = 100_000,
    *,
    implicit: bool = False,
    factors: int = 8,
    noise: float = 0.5,
    skew: float = 0.75,
    taste: float = 6.0,
    seed: int = 0,
) -> pd.DataFrame:
    """A DataFrame of user, item, rating (explicit only) and timestamp, string ids.

    ``skew`` is the Zipf exponent of item popularity; ``taste`` how strongly a user's
    latent match decides whether a drawn item is kept (implicit data). The defaults give
    1,000 x 1,700 data whose most-popular HitRate@10 is about 0.4 and whose most-rated item
    has about 700 ratings, near MovieLens' (ItemPop HR@10 0.45 on ML-1M in He et al. 2017;
    583 ratings for ML-100k's top item).
    """
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 1, (n_users, factors)) / np.sqrt(factors)
    q = rng.normal(0, 1, (n_items, factors)) / np.sqrt(factors)
    popularity = 1.0 / np.arange(1, n_items + 1) ** skew
    popularity = popularity[rng.permutation(n_items)]
    activity = rng.pareto(1.5, n_users) + 1.0
    draws = int(n * (3.2 if implicit else 1.6))  # duplicates and rejected picks are dropped
    users = rng.choice(n_users, draws, p=activity / activity.sum())
    items = rng.choice(n_items, draws, p=popularity / popularity.sum())
    score = np.einsum("ij,ij->i", p[users], q[items]) * 2.0
    if implicit:
        keep = rng.random(draws) < 1.0 / (1.0 + np.exp(-taste * score))
        users, items, score = users[keep], items[keep], score[keep]
    frame = pd.DataFrame({"user": users, "item": items, "score": score})
    frame = frame.drop_duplicates(["user", "item"]).head(n).reset_index(drop=True)
    out = pd.DataFrame(
        {
            "user": "u" + frame["user"].astype(str),
            "item": "i" + frame["item"].astype(str),
        }
    )
    if not implicit:
        user_bias = rng.normal(0, 0.4, n_users)[frame["user"]]
        item_bias = np.log(popularity[frame["item"]] * n_items) * 0.25
        raw = 3.5 + frame["score"] + user_bias + item_bias + rng.normal(0, noise, len(frame))
        out["rating"] = np.clip(np.round(raw), 1, 5).astype(int)
    out["timestamp"] = 1_000_000_000 + rng.permutation(len(out))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--implicit", action="store_true")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--items", type=int, default=1700)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    frame = generate(
        args.users, args.items, args.interactions, implicit=args.implicit, seed=args.seed
    )
    Path(args.path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.path, index=False)
    print(f"{args.path}: {len(frame)} interactions")


if __name__ == "__main__":
    main()
