"""Trials per minute with 1 and 2 workers on the same sweep.

CPU (default): the same small digits CNN sweep with ``--workers 1`` and ``--workers 2``
(each worker gets half the cores). GPU (``--gpu``, on a machine with one): 1, 2 and 4
trials per GPU, meant for ``KERAS_BACKEND=torch``. Prints a table; the last line is
``speed-up: X`` (best trials/minute over one worker's).

Usage: python benchmarks/scaling.py [--trials 8] [--gpu]
"""

from __future__ import annotations

import argparse
import os
import time

from _common import Table, backend, digits_spec, temp_storage

import automl
from automl.search.spec import validate_spec


def spec(epochs: int) -> dict:
    return digits_spec(
        "scaling",
        "cnn",
        search={
            "n_layers": [1, 2],
            "filters": {"choices": [16, 32], "per_layer": True},
            "learning_rate": {"low": 1e-3, "high": 5e-3, "log": True},
        },
        training={"max_epochs": epochs, "patience": None, "batch_size": 32},
    )


def rate(trials: int, epochs: int, **placement: object) -> float:
    with temp_storage() as (_, url):
        start = time.perf_counter()
        automl.tune(validate_spec(spec(epochs)), trials=trials, storage=url, **placement)  # type: ignore[arg-type]
        return trials / ((time.perf_counter() - start) / 60.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--gpu", action="store_true", help="1, 2, 4 trials per GPU")
    args = parser.parse_args()
    if args.gpu:
        runs = [(f"{n} per GPU", {"gpus": "auto", "trials_per_gpu": n}) for n in (1, 2, 4)]
    else:
        runs = [(f"{n} CPU worker(s)", {"gpus": "none", "workers": n}) for n in (1, 2)]
    print(
        f"{args.trials} trials x {args.epochs} epochs, digits CNN, backend {backend()}, "
        f"{os.cpu_count()} CPUs"
    )
    table = Table(("placement", "<18"), ("trials/min", ">12.2f"))
    print(table.header())
    rates = []
    for label, placement in runs:
        rates.append(rate(args.trials, args.epochs, **placement))
        print(table.row(label, rates[-1]))
    print(f"speed-up: {max(rates) / rates[0]:.2f}")


if __name__ == "__main__":
    main()
