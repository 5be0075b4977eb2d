"""Test accuracy that ``digits_cnn`` delivers, with today's defaults and the new features.

For each seed, two sweeps run on the same split: ``baseline``, the space as it shipped
before the search-quality work (``benchmarks/data/digits_cnn_before.yaml``: all five
augmentations drawn together, val_accuracy objective, avg pooling and rmsprop allowed; no
no_progress rule; other ready spaces: as shipped, without no_progress), and ``new``, the
ready space as shipped today plus refit on train + validation, tunable learning-rate
schedules with warmup and label smoothing. Both run on today's code (ranking, families).
Both evaluate on the held-out test split the single best trial (chosen on validation),
the greedy ensemble of the kept models and, for ``new``, the refit of the best.

Usage: python benchmarks/search_quality.py [--seeds 0,1,2] [--trials 30] [--max-epochs N]
The last line is ``digits_cnn median test accuracy: X (was Y)``: X is the median over
seeds of the new setting's ensemble, Y of the baseline's single best (what the tool
delivered before).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any

from _common import Table, temp_storage

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

NEW = {
    "training.refit": True,
    "search.lr_schedule": ["constant", "cosine", "plateau"],
    "search.warmup_epochs": [0, 2],
    "search.label_smoothing": {"low": 0.0, "high": 0.2},
}
BASELINE = {"training.no_progress_epochs": 0}
BEFORE = {"digits_cnn": Path(__file__).parent / "data" / "digits_cnn_before.yaml"}


def run(space: str, setting: str, seed: int, args: argparse.Namespace, url: str) -> dict:
    import automl
    from automl.search.catalog import load_spec

    changes: dict[str, Any] = dict(NEW if setting == "new" else BASELINE)
    if args.max_epochs:
        changes["training.max_epochs"] = args.max_epochs
    source = BEFORE.get(space, space) if setting == "baseline" else space
    spec = load_spec(str(source)).replace(**changes)
    start = time.perf_counter()
    sweep = automl.tune(
        spec,
        trials=args.trials,
        seed=seed,
        storage=url,
        study=f"{space}-{setting}-{seed}",
        workers=1,
    )
    record = sweep.record(models=False)
    best = record.trial(sweep.best_trial.number)
    return {
        "seed": seed,
        "setting": setting,
        "single": best.test.get("accuracy"),
        "ensemble": ((record.ensemble or {}).get("test") or {}).get("accuracy"),
        "refit": ((record.refit or {}).get("test") or {}).get("accuracy"),
        "minutes": (time.perf_counter() - start) / 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--datasets", default="digits_cnn", help="ready spaces to run")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    table = Table(
        ("seed", ">4"),
        ("setting", ">8"),
        ("single", ">8.4f"),
        ("ensemble", ">8.4f"),
        ("refit", ">8.4f"),
        ("min", ">6.1f"),
        sep=" ",
    )
    with temp_storage() as (_, url):
        for space in args.datasets.split(","):
            rows = [run(space, s, seed, args, url) for seed in seeds for s in ("baseline", "new")]
            print(table.header())
            for r in rows:
                keys = ("seed", "setting", "single", "ensemble", "refit", "minutes")
                print(table.row(*(r[k] for k in keys)))
            new = [r["ensemble"] or r["single"] for r in rows if r["setting"] == "new"]
            was = [r["single"] for r in rows if r["setting"] == "baseline"]
            print(
                f"{space} median test accuracy: {statistics.median(new):.4f} "
                f"(was {statistics.median(was):.4f})"
            )


if __name__ == "__main__":
    main()
