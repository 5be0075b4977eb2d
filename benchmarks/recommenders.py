"""Recommenders against their classic baselines, on the same test split.

Generates a latent-factor rating set and an implicit set shaped like public movie-rating
data (about 1,000 users, 1,700 items, 100,000 interactions, long-tailed popularity), runs
the ``ratings_mf`` and ``implicit_ncf`` ready spaces on them, and beside each prints the
global-mean-plus-biases RMSE and the most-popular HitRate@10 on the study's own test split
(the held-out item ranked among the same 100 sampled items). Goal: RMSE at least 5 %
below the bias baseline, HitRate@10 at least 1.5 x popularity. Last line:
``recommenders: rmse X (bias baseline Y), hr@10 Z (popularity W)``.

Usage: python benchmarks/recommenders.py [--trials 20] [--epochs N] [--interactions 100000]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import Table, temp_storage

import automl
from automl.api import splits_of
from automl.data.make_interactions import generate
from automl.search.catalog import load_spec
from automl.training.recommend import hit_rate, ranks


def bias_baseline(splits: Any, damping: float = 10.0) -> float:
    """Test RMSE of global mean + damped user and item biases fitted on train."""
    x, y = splits.x_train, splits.y_train.astype("float64")
    info = splits.interactions
    mu = y.mean()
    n_i = np.bincount(x[:, 1], minlength=info.n_items)
    b_i = np.bincount(x[:, 1], y - mu, minlength=info.n_items) / (n_i + damping)
    rest = y - mu - b_i[x[:, 1]]
    n_u = np.bincount(x[:, 0], minlength=len(info.users))
    b_u = np.bincount(x[:, 0], rest, minlength=len(info.users)) / (n_u + damping)
    xt = splits.x_test
    pred = np.clip(mu + b_u[xt[:, 0]] + b_i[xt[:, 1]], y.min(), y.max())
    return float(np.sqrt(np.mean((pred - splits.y_test) ** 2)))


def popularity_hr(splits: Any, k: int = 10) -> float:
    """Test HitRate@K of ranking the candidates by train popularity."""
    info = splits.interactions
    items = np.concatenate([splits.x_test[:, 1:2], info.test_candidates], axis=1)
    return hit_rate(ranks(info.popularity[items].astype("float64")), k)


def run(space: str, data: Path, storage: str, trials: int, epochs: int | None) -> Any:
    spec = load_spec(space).replace(**{"data.source": str(data)})
    if epochs:
        spec = spec.replace(**{"training.max_epochs": epochs})
    return automl.tune(spec, trials=trials, study=space, storage=storage, report=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=None, help="override max_epochs")
    parser.add_argument("--interactions", type=int, default=100_000)
    args = parser.parse_args()
    with temp_storage() as (folder, url):
        n = args.interactions
        generate(1000, 1700, n, seed=0).to_csv(folder / "ratings.csv", index=False)
        generate(1000, 1700, n, implicit=True, seed=1).to_csv(folder / "clicks.csv", index=False)
        start = time.perf_counter()
        ratings = run("ratings_mf", folder / "ratings.csv", url, args.trials, args.epochs)
        mid = time.perf_counter()
        clicks = run("implicit_ncf", folder / "clicks.csv", url, args.trials, args.epochs)
        end = time.perf_counter()
        rmse, hr = ratings.test_metrics["rmse"], clicks.test_metrics["hr@10"]
        base_rmse = bias_baseline(splits_of(ratings.study, ratings.storage))
        base_hr = popularity_hr(splits_of(clicks.study, clicks.storage))
        sizes = [len(splits_of(s.study, s.storage).y_train) for s in (ratings, clicks)]
    print(f"{args.trials} trials per space, {os.cpu_count()} CPUs, epochs {args.epochs or 'spec'}")
    table = Table(
        ("space", "<14"),
        ("train rows", ">11"),
        ("metric", ">10"),
        ("automl", ">9.4f"),
        ("baseline", ">10.4f"),
        ("min", ">7.1f"),
    )
    print(table.header())
    print(table.row("ratings_mf", sizes[0], "rmse", rmse, base_rmse, (mid - start) / 60))
    print(table.row("implicit_ncf", sizes[1], "hr@10", hr, base_hr, (end - mid) / 60))
    print(
        f"recommenders: rmse {rmse:.4f} (bias baseline {base_rmse:.4f}), "
        f"hr@10 {hr:.4f} (popularity {base_hr:.4f})"
    )


if __name__ == "__main__":
    main()
