"""Recommenders at scale: 1,000,000 interactions, 100,000 users, 50,000 items.

Reads, splits and prepares the interactions the way a study does, then trains one epoch of
biased MF on ratings and one of NeuMF on implicit feedback (negatives sampled, validation
HitRate@10 over 100 candidates per user), printing seconds and the process's peak memory.
No user x item matrix is built anywhere: a dense float32 one would take
100,000 x 50,000 x 4 bytes = 20 GB, and the peak stays near 1 GB.

Usage: python benchmarks/recommenders_scale.py [--users 100000] [--items 50000]
       [--interactions 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import keras
from _common import Table

from automl.data import load_source, prepare, split_raw
from automl.data.make_interactions import generate
from automl.models import build_model
from automl.search.spec import DataSpec
from automl.training.fit import compile_model
from automl.training.recommend import fit_inputs

HP = {"embedding_dim": 32, "n_layers": 1, "units": [32], "activation": "relu", "dropout": 0.0}
HP |= {"l2": 1e-6, "negatives": 1, "learning_rate": 1e-3, "optimizer": "adam", "batch_size": 4096}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepared(path: Path, implicit: bool) -> tuple[Any, float]:
    start = time.perf_counter()
    data = DataSpec(source=str(path), kind="interactions", implicit=implicit)
    raw = load_source(data)
    splits = prepare(raw, split_raw(raw, data))
    return splits, time.perf_counter() - start


def epoch_seconds(splits: Any, body: str, repeat: int) -> list[float]:
    hp = {**HP, "body": body}
    model = build_model("recommender", hp, splits.input_spec)
    compile_model(model, splits.input_spec, hp)
    inputs = {"x": splits.x_train, "y": splits.y_train, "batch_size": hp["batch_size"]}
    changes, callbacks = fit_inputs(splits, hp, "val_hr@10")
    inputs.update({k: v for k, v in changes.items() if k != "validation_data"})
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        model.fit(**inputs, epochs=1, callbacks=callbacks, verbose=0)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for implicit, body in ((False, "mf"), (True, "neumf")):
            path = Path(tmp) / "data.csv"
            frame = generate(args.users, args.items, args.interactions, implicit=implicit)
            frame.to_csv(path, index=False)
            del frame
            splits, prep = prepared(path, implicit)
            times = epoch_seconds(splits, body, args.repeat)
            rows.append((implicit, body, len(splits.y_train), prep, times))
    print(
        f"{args.interactions} interactions, {args.users} users, {args.items} items; "
        f"{os.cpu_count()} CPUs, backend {keras.backend.backend()}"
    )
    table = Table(
        ("feedback", "<10"),
        ("body", "<7"),
        ("train rows", ">11"),
        ("prepare s", ">11.1f"),
        ("epoch s (median)", ">18.1f"),
    )
    print(table.header())
    for implicit, body, n, prep, times in rows:
        kind = "implicit" if implicit else "ratings"
        print(table.row(kind, body, n, prep, statistics.median(times)))
    print(
        f"peak memory: {peak_mb():.0f} MB (a dense user x item float32 matrix: "
        f"{args.users * args.items * 4 / 2**20:.0f} MB)"
    )


if __name__ == "__main__":
    main()
