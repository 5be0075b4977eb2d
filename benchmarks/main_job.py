"""The README's main job, timed: ``automl tune digits_cnn --trials 10`` in a fresh folder.

Runs the installed ``automl`` command (the one next to this Python) in a temporary working
directory, so the embedded default storage starts empty, then reads the result back.
Prints a table; the last line is ``main job seconds: X``, the median of the repeats
(target: under 300 on 2 cores, with test accuracy at least 0.95).

Usage: python benchmarks/main_job.py [--trials 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from _common import Table, backend


def run_once(trials: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "automl", "tune", "digits_cnn", "--trials", str(trials)],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - start
        code = (
            "import automl; s = automl.load('digits_cnn'); "
            "print(s.test_metrics['accuracy'], len(s.study.trials))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp, check=True, capture_output=True, text=True
        ).stdout.split()
    return seconds, float(out[0]), int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = [run_once(args.trials) for _ in range(args.repeat)]
    print(
        f"automl tune digits_cnn --trials {args.trials}, {os.cpu_count()} CPUs, backend {backend()}"
    )
    table = Table(
        ("run", ">4"), ("seconds", ">10.1f"), ("trials", ">8"), ("test accuracy", ">15.4f")
    )
    print(table.header())
    for i, (seconds, acc, n) in enumerate(rows, 1):
        print(table.row(i, seconds, n, acc))
    print(f"main job seconds: {statistics.median(r[0] for r in rows):.1f}")


if __name__ == "__main__":
    main()
