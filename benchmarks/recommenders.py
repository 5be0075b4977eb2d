"""Recommenders against their classic baselines and scikit-surprise, on the same test split.

Rating sets, generated (users and items with rank-8 tastes, user and item biases, noise,
long-tailed item popularity and user activity; ``automl.data.make_interactions``):

- ``dense``: 1,000 users, 1,700 items, 100,000 ratings (about 100 a user);
- ``sparse``: 800 users, 290 items, 8,300 ratings (about 10 a user), where the biases
  alone are hard to beat;
- ``ml100k``: shaped like MovieLens 100k: 943 users, 1,682 items, 100,000 ratings.

On each, the ``ratings_mf`` ready space runs and, on the study's own split, scikit-surprise's
``BaselineOnly`` and ``SVD`` (defaults, seed 0) fit the rows automl's delivered model
learned from: the train rows, or with ``--refit`` (``training.refit``: the best trial
trained again on train + validation) the train and validation rows. The closed-form damped
biases the study stores as its baseline fit the train rows. One line per set:
``ratings rmse: automl X, surprise svd Y, surprise baseline Z (set S)`` (goal: X at most
min(Y, Z)).

With ``--implicit`` the ``implicit_ncf`` space also runs on a dense implicit set, beside the
most-popular HitRate@10 on the same 100 sampled items per user (goal 1.5 x): line
``implicit hr@10: automl X, popularity Y``.

scikit-surprise is a benchmark-only dependency: ``pip install -e '.[bench]'`` (or
``pip install scikit-surprise``).

Usage: python benchmarks/recommenders.py [--sets dense,sparse] [--trials 20] [--epochs N]
       [--refit] [--implicit]; small proof run: --sets sparse --trials 3 --epochs 5
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
from automl.data import rating_biases
from automl.data.make_interactions import generate
from automl.search.catalog import load_spec
from automl.training.recommend import hit_rate, ranks

# name: (users, items, ratings, seed) of make_interactions.generate
SETS = {
    "dense": (1000, 1700, 100_000, 0),
    "sparse": (800, 290, 8_300, 0),
    "ml100k": (943, 1682, 100_000, 0),
}


def surprise_rmse(splits: Any, pooled: bool) -> tuple[float, float]:
    """Test RMSE of scikit-surprise's SVD and BaselineOnly fitted on the train rows (and
    the validation rows, ``pooled``)."""
    try:
        import pandas as pd
        import surprise
    except ImportError:
        raise SystemExit(
            "scikit-surprise is needed: pip install -e '.[bench]' (or pip install scikit-surprise)"
        ) from None
    x, y = splits.x_train, splits.y_train.astype("float64")
    if pooled:
        x, y = np.concatenate([x, splits.x_val]), np.concatenate([y, splits.y_val])
    lo, hi = float(y.min()), float(y.max())
    frame = pd.DataFrame({"user": x[:, 0], "item": x[:, 1], "rating": y})
    data = surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=(lo, hi)))
    train = data.build_full_trainset()
    out = []
    for algo in (surprise.SVD(random_state=0), surprise.BaselineOnly(verbose=False)):
        algo.fit(train)
        pred = [algo.predict(int(u), int(i)).est for u, i in splits.x_test]
        out.append(_rmse(np.asarray(pred), splits.y_test))
    return out[0], out[1]


def biases_rmse(splits: Any) -> float:
    """Test RMSE of the closed-form damped biases on the train rows (the study's baseline)."""
    spec = splits.input_spec
    fitted = rating_biases.biases(splits.x_train, splits.y_train, spec.n_users, spec.n_items)
    pred = rating_biases.predict(fitted, splits.x_test)
    return _rmse(np.clip(pred, splits.y_train.min(), splits.y_train.max()), splits.y_test)


def _rmse(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pred - y) ** 2)))


def popularity_hr(splits: Any, k: int = 10) -> float:
    """Test HitRate@K of ranking the candidates by train popularity."""
    info = splits.interactions
    items = np.concatenate([splits.x_test[:, 1:2], info.test_candidates], axis=1)
    return hit_rate(ranks(info.popularity[items].astype("float64")), k)


def run(space: str, data: Path, storage: str, study: str, args: Any) -> Any:
    spec = load_spec(space).replace(**{"data.source": str(data)})
    if args.epochs:
        spec = spec.replace(**{"training.max_epochs": args.epochs})
    if args.refit:
        spec = spec.replace(**{"training.refit": True})
    return automl.tune(spec, trials=args.trials, study=study, storage=storage, report=False)


def ratings_row(name: str, folder: Path, url: str, args: Any) -> dict[str, Any]:
    users, items, n, seed = SETS[name]
    path = folder / f"{name}.csv"
    generate(users, items, n, seed=seed).to_csv(path, index=False)
    start = time.perf_counter()
    sweep = run("ratings_mf", path, url, f"ratings_{name}", args)
    minutes = (time.perf_counter() - start) / 60
    splits = splits_of(sweep.study, sweep.storage)
    svd, baseline = surprise_rmse(splits, pooled=args.refit)
    return {
        "set": name,
        "train": len(splits.y_train),
        "automl": sweep.test_metrics["rmse"],
        "svd": svd,
        "baseline": baseline,
        "biases": biases_rmse(splits),
        "body": sweep.best_params.get("body"),
        "minutes": minutes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="dense,sparse", help=f"of {', '.join(SETS)}")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=None, help="override max_epochs")
    parser.add_argument("--implicit", action="store_true", help="also implicit_ncf (dense)")
    parser.add_argument(
        "--refit", action="store_true", help="refit the best on train + validation (all sides)"
    )
    args = parser.parse_args()
    names = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in names if s not in SETS]
    if unknown:
        parser.error(f"unknown set {unknown[0]!r}; valid: {', '.join(SETS)}")
    with temp_storage() as (folder, url):
        rows = [ratings_row(name, folder, url, args) for name in names]
        implicit = _implicit(folder, url, args) if args.implicit else None
    rows_used = "train + validation" if args.refit else "train"
    print(
        f"{args.trials} trials a set, {os.cpu_count()} CPUs, epochs {args.epochs or 'spec'}, "
        f"models fit the {rows_used} rows"
    )
    table = Table(
        ("set", "<8"),
        ("train rows", ">11"),
        ("automl", ">8.4f"),
        ("best body", ">10"),
        ("svd", ">8.4f"),
        ("baseline", ">9.4f"),
        ("biases", ">8.4f"),
        ("min", ">6.1f"),
    )
    print("test RMSE; svd and baseline: scikit-surprise; biases: the study's own baseline")
    print(table.header())
    for r in rows:
        values = ("set", "train", "automl", "body", "svd", "baseline", "biases", "minutes")
        print(table.row(*(r[k] for k in values)))
    for r in rows:
        print(
            f"ratings rmse: automl {r['automl']:.4f}, surprise svd {r['svd']:.4f}, "
            f"surprise baseline {r['baseline']:.4f} (set {r['set']})"
        )
    if implicit is not None:
        print(f"implicit hr@10: automl {implicit[0]:.4f}, popularity {implicit[1]:.4f}")


def _implicit(folder: Path, url: str, args: Any) -> tuple[float, float]:
    users, items, n, _ = SETS["dense"]
    path = folder / "clicks.csv"
    generate(users, items, n, implicit=True, seed=1).to_csv(path, index=False)
    sweep = run("implicit_ncf", path, url, "implicit_dense", args)
    return sweep.test_metrics["hr@10"], popularity_hr(splits_of(sweep.study, sweep.storage))


if __name__ == "__main__":
    main()
