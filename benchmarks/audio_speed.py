"""Seconds per trial of ``audio_cnn`` with spectrograms computed once, and without.

Generates a spoken-digit-like set (``research/make_speech.py``: 10 classes of mono 8 kHz
WAVs, 0.3-0.8 s) and runs the shipped ``audio_cnn`` space for a few trials in-process in
three ways: ``16k, no cache`` (the former defaults: resampled to 16 kHz, the spectrogram
recomputed in every epoch), ``8k, no cache`` (``data.feature_cache: false``) and
``8k, cache`` (today's defaults: the files' own rate, spectrograms computed once). All
sample the same configurations (same seed). Each is repeated and the median is printed:
seconds per trial and best validation accuracy.

Usage: python benchmarks/audio_speed.py [--per-class 60] [--trials 3] [--repeat 3]
       [--max-epochs N]   (default: the space's own)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


MODES = {"16k, no cache": (16000, False), "8k, no cache": (None, False), "8k, cache": (None, True)}


def run(data: Path, mode: str, trials: int, max_epochs: int | None, folder: Path) -> dict:
    import automl
    from automl.search.catalog import ready_spaces
    from automl.search.spec import validate_spec
    from automl.training import frontend_cache as features

    raw = yaml.safe_load(ready_spaces()["audio_cnn"].read_text(encoding="utf-8"))
    rate, cache = MODES[mode]
    raw["data"].update(source=str(data), feature_cache=cache, sample_rate=rate)
    if max_epochs:
        raw["training"]["max_epochs"] = max_epochs
    features.clear()  # every run starts as a fresh worker would
    start = time.perf_counter()
    sweep = automl.tune(
        validate_spec(raw), trials=trials, storage=str(folder / "j.log"), in_process=True
    )
    wall = time.perf_counter() - start
    record = sweep.record(models=False)
    done = [t for t in record.trials if t.state == "COMPLETE"]
    return {
        "s_per_trial": statistics.median(t.duration_s for t in record.trials),
        "wall_s": wall,
        "best_val": max((t.values[0] for t in done if t.values), default=float("nan")),
        "epochs": sum(t.epochs for t in record.trials),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=60)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-epochs", type=int, default=None)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE / "research"))
    import make_speech

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "digits"
        make_speech.main(data, args.per_class, 8000, 0)
        results: dict[str, list[dict]] = {name: [] for name in MODES}
        for i in range(args.repeat):
            for j, name in enumerate(MODES):
                folder = Path(tmp) / f"{j}-{i}"
                folder.mkdir()
                results[name].append(run(data, name, args.trials, args.max_epochs, folder))
                print(name, i, results[name][-1], flush=True)
    print(f"{10 * args.per_class} files, {args.trials} trials, median of {args.repeat}:")
    for name, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{name:>13}: {med['s_per_trial']:.1f} s/trial, wall {med['wall_s']:.1f} s, "
            f"best val {med['best_val']:.4f}, epochs {med['epochs']:.0f}"
        )


if __name__ == "__main__":
    main()
