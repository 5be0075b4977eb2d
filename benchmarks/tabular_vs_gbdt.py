"""automl's ``tabular_csv_mlp`` against scikit-learn's histogram gradient boosting.

Each dataset is a CSV: breast_cancer, wine and diabetes from scikit-learn; three small
generated tables with numbers, text categories (one of high cardinality), missing values
and class imbalance (seeds 1001-1003, not the tests'); and two of 24,000 rows of the kind
where gradient boosting leads (``rules_binary``, ``rules_regression``: axis-aligned
rules and interactions, skewed numbers, a 1,000-level category, missing values, a header
with spaces; seeds 2006-2007). automl tunes ``tabular_csv_mlp``
(``--trials``, default 30); gradient boosting (``HistGradientBoostingClassifier`` /
``Regressor``, native missing values and categories) runs with its defaults and then
with 20 random-search settings chosen on the validation split. Both use the very split
automl stored with its study (15 % validation, 15 % test, stratified, seed 0).

Scores are test accuracy for classification and R^2 x 100 for regression; automl's is
its ensemble's when it chose one (``Sweep.test_metrics["ensemble"]``), else the single
best's. Usage: python benchmarks/tabular_vs_gbdt.py [--seeds 0] [--trials 30]
[--datasets breast_cancer,wine,...] [--encoding space|none|piecewise_linear|periodic|tuned]
(``numeric_encoding`` of the mlp: as the ready space has it, forced, or all three tuned).
The last line is
``median test gap vs gradient boosting: X points`` (automl minus the better of the two
gradient boosting runs chosen on validation; positive when automl is ahead).
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import Table, temp_storage

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DATASETS = (
    "breast_cancer",
    "wine",
    "diabetes",
    "gen_binary",
    "gen_multiclass",
    "gen_regression",
    "rules_binary",
    "rules_regression",
)
ENCODINGS = {  # --encoding: what the space's numeric_encoding becomes
    "space": None,
    "none": "none",
    "piecewise_linear": "piecewise_linear",
    "periodic": "periodic",
    "tuned": ["none", "piecewise_linear", "periodic"],
}
GBDT_SETTINGS = 20


def _sklearn_csv(name: str, path: Path) -> None:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    frame = bunch.frame.rename(columns={bunch.target.name: "target"})
    frame.to_csv(path, index=False)


def _generated_csv(name: str, path: Path, seed: int) -> None:
    """Numbers, a 5-level and a 40-level category, 10 % missing values, imbalanced classes."""
    rng = np.random.default_rng(seed)
    n = 1500
    num = rng.normal(size=(n, 6))
    small = rng.choice(list("abcde"), size=n, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    big = rng.integers(0, 40, size=n)
    signal = pd.Series(small).map({"a": 0.0, "b": 0.5, "c": -0.5, "d": 1.0, "e": -1.0}).to_numpy()
    z = num[:, 0] * num[:, 1] + np.sin(2 * num[:, 2]) + 0.7 * num[:, 3] + signal
    z = z + rng.normal(size=40)[big] + 0.3 * rng.normal(size=n)
    frame = pd.DataFrame(num, columns=[f"x{i}" for i in range(6)])
    frame["color"], frame["shop"] = small, [f"shop{i}" for i in big]
    for col in frame.columns:
        frame.loc[rng.random(n) < 0.1, col] = np.nan
    if name == "gen_binary":
        frame["target"] = np.where(z > np.quantile(z, 0.85), "yes", "no")
    elif name == "gen_multiclass":
        frame["target"] = np.select(
            [z < np.quantile(z, 0.6), z < np.quantile(z, 0.9)], ["a", "b"], "c"
        )
    else:
        frame["target"] = 10 * z + 50
    frame.to_csv(path, index=False)


def _rules_csv(name: str, path: Path, seed: int) -> None:
    """24,000 rows where gradient boosting leads: axis-aligned rules and interactions,
    skewed numbers, a 1,000-level and an 8-level category, 8 % missing values."""
    rng = np.random.default_rng(seed)
    n = 24_000
    u = rng.uniform(size=(n, 4))
    income = rng.lognormal(10, 1, n)
    age = rng.integers(18, 90, n).astype(float)
    hours = np.clip(rng.normal(40, 12, n), 1, 99).round()
    region = rng.choice(list("abcdefgh"), size=n)
    zipcode = rng.zipf(1.3, n) % 1000
    zip_effect = rng.normal(0, 1, 1000)[zipcode]
    z = (
        2.0 * ((u[:, 0] > 0.7) & (u[:, 1] < 0.3))
        + 1.5 * ((age > 45) & (hours > 50))
        + 1.2 * ((income > np.quantile(income, 0.8)) & np.isin(region, ["a", "b", "c"]))
        - 1.0 * ((u[:, 2] > 0.35) & (u[:, 2] < 0.5))
        + 0.8 * np.floor(4 * u[:, 3]) / 3
        + 0.7 * zip_effect
    )
    frame = pd.DataFrame(
        {
            "u0": u[:, 0], "u1": u[:, 1], "u2": u[:, 2], "u3": u[:, 3],
            "income": income.round(), "age": age, "hours per week": hours,
            "region": region, "zip": [f"z{c:04d}" for c in zipcode],
        }
    )  # fmt: skip
    for col in ("u1", "income", "hours per week", "region"):
        frame.loc[rng.random(n) < 0.08, col] = np.nan
    if name == "rules_binary":
        noisy = z + 0.8 * rng.normal(size=n)
        frame["target"] = np.where(noisy > np.quantile(noisy, 0.75), ">50K", "<=50K")
    else:
        frame["target"] = 10 * z + 3 * rng.normal(size=n) + 100
    frame.to_csv(path, index=False)


def make_csv(name: str, folder: Path) -> Path:
    path = folder / f"{name}.csv"
    if name.startswith("rules_"):
        _rules_csv(name, path, 2000 + DATASETS.index(name))
    elif name.startswith("gen_"):
        _generated_csv(name, path, 1000 + DATASETS.index(name) - 2)
    else:
        _sklearn_csv(name, path)
    return path


def run_automl(
    path: Path, trials: int, seed: int, url: str, encoding: str = "space"
) -> tuple[Any, float]:
    """Tune tabular_csv_mlp on the CSV; returns the sweep and its test score."""
    import automl

    value = ENCODINGS[encoding]
    sweep = automl.tune(
        "tabular_csv_mlp",
        data=str(path),
        target="target",
        trials=trials,
        seed=seed,
        storage=url,
        study=f"{path.stem}-{seed}-{encoding}",
        workers=1,
        overrides=None if value is None else {"search.numeric_encoding": value},
        verbose=0,
    )
    tests = sweep.test_metrics
    chosen = tests.get("ensemble") or tests
    key = "accuracy" if sweep.task == "classification" else "r2"
    return sweep, float(chosen[key]) * (1 if key == "accuracy" else 100)


def split_of(sweep: Any) -> dict[str, np.ndarray]:
    from automl.data.split import from_bytes
    from automl.store import storage

    record = sweep.record(models=False)
    store = storage.artifact_store(sweep.storage, create=False)
    with store.open_reader(str(record.split_artifact)) as f:
        return from_bytes(f.read())


def run_gbdt(path: Path, task: str, split: dict[str, np.ndarray], seed: int) -> tuple[float, float]:
    """Test scores of the default model and of the random-search one chosen on validation."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    frame = pd.read_csv(path)
    y = frame.pop("target").to_numpy()
    for col in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[col]):
            continue
        if frame[col].nunique() > 250:  # past its native limit (255 levels): ordinal codes
            counts = frame[col].iloc[split["train"]].value_counts()
            ranks = {v: i for i, v in enumerate(counts.index)}
            frame[col] = frame[col].map(ranks).astype("float64")
        else:
            frame[col] = frame[col].astype("category")
    parts = {k: (frame.iloc[v], y[v]) for k, v in split.items()}
    kind = (
        HistGradientBoostingClassifier
        if task == "classification"
        else HistGradientBoostingRegressor
    )

    def fitted(**params: Any) -> Any:
        model = kind(categorical_features="from_dtype", random_state=seed, **params)
        return model.fit(*parts["train"])

    def test_score(model: Any) -> float:
        value = model.score(*parts["test"])
        return float(value) * 100 if task == "regression" else float(value)

    default = fitted()
    rng = np.random.default_rng(seed)
    best, best_val = default, default.score(*parts["validation"])
    for _ in range(GBDT_SETTINGS):
        model = fitted(
            learning_rate=float(10 ** rng.uniform(-2, -0.5)),
            max_leaf_nodes=int(rng.integers(8, 64)),
            min_samples_leaf=int(rng.integers(5, 50)),
            l2_regularization=float(10 ** rng.uniform(-3, 1)),
            max_iter=int(rng.choice([100, 200, 400])),
        )
        val = model.score(*parts["validation"])
        if val > best_val:
            best, best_val = model, val
    return test_score(default), test_score(best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument(
        "--encoding",
        default="space",
        choices=sorted(ENCODINGS),
        help="numeric_encoding: as the ready space has it, one of them, or all three tuned",
    )
    args = parser.parse_args()
    gaps: list[float] = []
    table = Table(
        ("dataset", ">15"),
        ("seed", ">4"),
        ("metric", ">9"),
        ("automl", ">8.4f"),
        ("gbdt", ">8.4f"),
        ("gbdt rs", ">8.4f"),
        ("gap", ">+6.2f"),
        sep=" ",
    )
    print(table.header())
    with temp_storage() as (folder, url):
        for name in args.datasets.split(","):
            path = make_csv(name, folder)
            for seed in (int(s) for s in args.seeds.split(",")):
                sweep, ours = run_automl(path, args.trials, seed, url, args.encoding)
                default, tuned = run_gbdt(path, sweep.task, split_of(sweep), seed)
                gap = ours - tuned if sweep.task == "regression" else 100 * (ours - tuned)
                gaps.append(gap)
                metric = "accuracy" if sweep.task == "classification" else "R2 x 100"
                print(table.row(name, seed, metric, ours, default, tuned, gap))
    print(f"median test gap vs gradient boosting: {statistics.median(gaps):+.2f} points")


if __name__ == "__main__":
    main()
