"""How long ``automl report`` takes on a large study, and how big the page gets.

Writes a synthetic study of 2,000 trials (per-epoch values, metrics, fail reasons, test
metrics: what the tuning code stores, written straight through Optuna, no training) into a
temporary journal storage, then times the command a user runs::

    automl report NAME --storage URL -o report.html

in a fresh process, so start-up and imports count, then times the same steps in this
process for a breakdown (opening the storage, ``records.read_study``, ``collect``, figures
and HTML). The last line is ``report seconds: X``.

Usage: ``python benchmarks/report_scale.py [--trials 2000] [--epochs 20]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from _common import temp_storage


def breakdown(url: str) -> dict[str, float]:
    """Seconds of each step of a report, in this process (imports already paid)."""
    from automl.reports import html
    from automl.reports.collect import collect
    from automl.store import records, storage

    marks = [time.perf_counter()]
    study = storage.load_study("scale", storage.open_storage(url), url)
    marks.append(time.perf_counter())
    record = records.read_study(study, url)
    marks.append(time.perf_counter())
    data = collect([record])
    marks.append(time.perf_counter())
    html.render(data)  # figures, importances (forked) and the page
    marks.append(time.perf_counter())
    names = ["open storage", "read_study", "collect", "figures and html"]
    return {n: b - a for n, a, b in zip(names, marks, marks[1:], strict=False)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()

    import optuna

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tests/
    from tests.helpers.sample_study import make_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with temp_storage() as (folder, url):
        out = folder / "report.html"
        start = time.perf_counter()
        study = make_study(url, "scale", n_trials=args.trials, max_epochs=args.epochs)
        create_s = time.perf_counter() - start
        states = [t.state.name for t in study.get_trials(deepcopy=False)]

        start = time.perf_counter()
        cmd = [sys.executable, "-m", "automl", "report", "scale", "--storage", url, "-o", str(out)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        report_s = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"automl report failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        size_mb = out.stat().st_size / 1e6
        phases = breakdown(url)

    rows = [
        ("trials", f"{len(states)}"),
        (
            "complete / pruned / failed",
            "{} / {} / {}".format(*(states.count(s) for s in ("COMPLETE", "PRUNED", "FAIL"))),
        ),
        ("epochs per full trial", f"{args.epochs}"),
        ("study creation (s)", f"{create_s:.2f}"),
        ("automl report, fresh process (s)", f"{report_s:.2f}"),
        ("report size (MB)", f"{size_mb:.2f}"),
        *((f"  in process: {k} (s)", f"{v:.2f}") for k, v in phases.items()),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  -----")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print(f"report seconds: {report_s:.2f}")


if __name__ == "__main__":
    main()
