"""What running a sweep's trials on Ray (``--ray``) costs against the built-in runner.

The same 10 fixed CNN configurations on scikit-learn's digits as ``overhead.py`` (enqueued,
no pruning), once through the built-in runner (a worker process on this machine) and once
through a Ray cluster of one node on this machine, with every CPU and no GPU, which this
script starts on a loopback address before timing and stops at the end (``ray start``;
the cluster's start is not timed: a Ray cluster is there before a sweep). Both use one
worker at a time, as the built-in runner does on the CPU. Each run is a whole fresh process
timed from start to exit, imports included; runs alternate, and the median is reported.

Usage: python benchmarks/ray_overhead.py [--epochs 10] [--repeat 3]
The last line is ``overhead ratio: X`` (median Ray seconds / median built-in seconds);
the target is at most 1.10.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import Table, backend, temp_storage
from overhead import CONFIGS, spec_dict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.helpers

TARGET = 1.10


def run_sweep(epochs: int, address: str | None) -> float:
    import automl
    from automl.search.spec import validate_spec

    spec = validate_spec(spec_dict(epochs))
    with temp_storage() as (_, url):
        start = time.time()
        sweep = automl.tune(spec, trials=len(CONFIGS), storage=url, ray=address)
        end = time.time()
        trials = sweep.study.trials
        assert [t.state.name for t in trials] == ["COMPLETE"] * len(CONFIGS), trials
        doc = {"test_accuracy": sweep.test_metrics.get("accuracy"), "in_script": end - start}
        print(json.dumps(doc), file=sys.stderr)
    return end - start


def child(mode: str, epochs: int, address: str) -> tuple[float, dict]:
    """Wall time of a whole child process (start-up and imports included), and its report."""
    cmd = [sys.executable, __file__, "--child", mode, "--epochs", str(epochs)]
    cmd += ["--address", address]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{mode} run failed:\n{proc.stderr[-3000:]}")
    doc: dict = {}
    for line in proc.stderr.splitlines():
        if line.startswith("{"):
            doc = json.loads(line)
    return seconds, doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["builtin", "ray"])
    parser.add_argument("--address", default="")
    args = parser.parse_args()
    if args.child:
        address = args.address if args.child == "ray" else None
        print(f"{run_sweep(args.epochs, address):.3f}")
        return
    from tests.helpers.ray_cluster import LocalCluster

    times: dict[str, list[float]] = {"builtin": [], "ray": []}
    accs: dict[str, float | None] = {}
    cpus = os.cpu_count() or 1
    with LocalCluster(gpus=0, cpus=cpus, nodes=1) as cluster:
        for _ in range(args.repeat):
            for mode in ("builtin", "ray"):
                seconds, doc = child(mode, args.epochs, cluster.address)
                times[mode].append(seconds)
                accs[mode] = doc.get("test_accuracy")
    median = {mode: statistics.median(values) for mode, values in times.items()}
    print(
        f"{len(CONFIGS)} configurations x {args.epochs} epochs, digits CNN, "
        f"backend {backend()}, {cpus} CPUs, one worker at a time"
    )
    seconds = f"seconds (median of {args.repeat})"
    table = Table(("runner", "<10"), (seconds, ">26.2f"), ("test accuracy", ">16.4f"))
    print(table.header())
    for mode in ("builtin", "ray"):
        acc = accs[mode] if accs[mode] is not None else float("nan")
        runs = " ".join(f"{t:.2f}" for t in times[mode])
        print(f"{table.row(mode, median[mode], acc)}   runs: {runs}")
    ratio = median["ray"] / median["builtin"]
    print(f"overhead ratio: {ratio:.3f} (target <= {TARGET:.2f})")


if __name__ == "__main__":
    main()
