"""Memory over a long sweep: worker processes replaced every N trials vs one process.

Runs a 100-trial sweep of small digits MLPs twice: once with every trial in one process
(``in_process``, memory grows trial after trial as Keras and TensorFlow keep state), once
with the default worker processes that are replaced after ``--max-trials-per-worker``
trials. Prints resident memory every 10 trials; the last line is
``rss growth MB: X`` for the default mode (peak RSS of the last 20 trials minus the peak of
trials 5-25). Target: under 100.

Usage: python benchmarks/memory.py [--trials 100] [--max-trials-per-worker 25]
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

import psutil
from _common import Table, digits_spec, temp_storage

import automl
from automl.search.spec import validate_spec

SPEC = digits_spec(
    "memory",
    "mlp",
    search={
        "n_layers": {"low": 1, "high": 3},
        "units": {"low": 16, "high": 128, "per_layer": True},
        "learning_rate": {"low": 1e-3, "high": 1e-2, "log": True},
    },
    training={"max_epochs": 2, "patience": None, "batch_size": 64},
    keep=3,
)


def rss_mb(in_process: bool) -> float:
    me = psutil.Process()
    procs = [me] if in_process else me.children(recursive=True)
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):  # a worker may exit meanwhile
            total += p.memory_info().rss
    return total / 2**20


def sweep(trials: int, in_process: bool, per_worker: int) -> list[float]:
    samples: list[float] = []

    def on_trial(outcome: Any) -> None:
        samples.append(rss_mb(in_process))

    with temp_storage() as (_, url):
        automl.tune(
            validate_spec(SPEC),
            trials=trials,
            storage=url,
            in_process=in_process,
            max_trials_per_worker=per_worker,
            on_trial=on_trial,
        )
    return samples


def growth(samples: list[float]) -> float:
    early = [s for s in samples[5:25] if s > 0] or samples[:1]
    late = [s for s in samples[-20:] if s > 0] or samples[-1:]
    return max(late) - max(early)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--max-trials-per-worker", type=int, default=25)
    parser.add_argument("--skip-in-process", action="store_true")
    args = parser.parse_args()
    modes = (
        [("workers", False)] if args.skip_in_process else [("in-process", True), ("workers", False)]
    )
    results = {name: sweep(args.trials, flag, args.max_trials_per_worker) for name, flag in modes}
    names = [name for name, _ in modes]
    print(
        f"{args.trials} trials of a digits MLP; workers replaced every "
        f"{args.max_trials_per_worker} trials; RSS in MB (workers: sum of worker processes)"
    )
    table = Table(("trial", ">6"), *((n, ">14.0f") for n in names))
    print(table.header())
    for i in range(0, args.trials, 10):
        print(table.row(i + 1, *(results[n][i] for n in names if i < len(results[n]))))
    for n in names:
        print(f"{n}: growth {growth(results[n]):.0f} MB")
    print(f"rss growth MB: {growth(results['workers']):.0f}")


if __name__ == "__main__":
    main()
