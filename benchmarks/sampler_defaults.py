"""TPE as it was (multivariate) against multivariate + group, on two small ready spaces.

The ready spaces draw per-layer parameters (``units_0..2`` exist only for some trials),
where a multivariate TPE without ``group`` falls back to independent sampling. For each
space and seed, the same study runs twice (same split, same seed): ``multivariate``
(``TPESampler(multivariate=True)``) and ``group`` (``multivariate=True, group=True``).
Both use ``constant_liar`` only with parallel workers; this script runs one in-process
worker, so it does not change either. Reported per run: the best trial's validation
objective and its test accuracy (held-out test split).

Usage: python benchmarks/sampler_defaults.py [--seeds 0,1,2] [--trials 20]
    [--spaces digits_mlp,wine_mlp]
The last line is ``tpe group: median test X (independent Y)``: the median over spaces and
seeds of the best trial's test accuracy with ``group`` (X) and without it (Y).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from _common import Table, temp_storage

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SETTINGS: dict[str, dict[str, Any]] = {
    "multivariate": {"multivariate": True},
    "group": {"multivariate": True, "group": True},
}


def _factory(options: dict[str, Any]) -> Any:
    import optuna

    def make(sampler: Any, seed: int | None, parallel: bool, space: Any) -> Any:
        kw: dict[str, Any] = {"seed": seed, "constant_liar": parallel, **options}
        if sampler.n_startup_trials is not None:
            kw["n_startup_trials"] = sampler.n_startup_trials
        return optuna.samplers.TPESampler(**kw)

    return make


def run(space: str, setting: str, seed: int, trials: int, url: str) -> dict[str, Any]:
    import automl
    from automl.search import samplers

    samplers.SAMPLERS["tpe"] = _factory(SETTINGS[setting])
    start = time.perf_counter()
    sweep = automl.tune(
        space,
        trials=trials,
        seed=seed,
        storage=url,
        study=f"{space}-{setting}-{seed}",
        in_process=True,
    )
    record = sweep.record(models=False)
    best = record.trial(sweep.best_trial.number)
    return {
        "space": space,
        "seed": seed,
        "setting": setting,
        "val": float(sweep.best_trial.values[0]),
        "test": best.test.get("accuracy"),
        "minutes": (time.perf_counter() - start) / 60,
    }


def _table(rows: list[dict[str, Any]]) -> None:
    table = Table(
        ("space", ">12"),
        ("seed", ">4"),
        ("setting", ">12"),
        ("best val", ">9.4f"),
        ("test", ">7.4f"),
        ("min", ">5.1f"),
        sep=" ",
    )
    print(table.header())
    for r in rows:
        print(table.row(*(r[k] for k in ("space", "seed", "setting", "val", "test", "minutes"))))
    for space in sorted({r["space"] for r in rows}):
        for setting in SETTINGS:
            mine = [r for r in rows if r["space"] == space and r["setting"] == setting]
            val = statistics.median(r["val"] for r in mine)
            test = statistics.median(r["test"] for r in mine)
            print(f"{space:>12} median {setting:>12} {val:>9.4f} {test:>7.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--spaces", default="digits_mlp,wine_mlp")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    with temp_storage() as (_, url):
        for space in args.spaces.split(","):
            for seed in seeds:
                for setting in SETTINGS:
                    rows.append(run(space, setting, seed, args.trials, url))
                    print(rows[-1], flush=True)
    _table(rows)
    group = [r["test"] for r in rows if r["setting"] == "group"]
    plain = [r["test"] for r in rows if r["setting"] == "multivariate"]
    print(
        f"tpe group: median test {statistics.median(group):.4f} "
        f"(independent {statistics.median(plain):.4f})"
    )


if __name__ == "__main__":
    main()
