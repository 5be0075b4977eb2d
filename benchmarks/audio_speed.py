"""Seconds per trial of ``audio_cnn`` with spectrograms computed once, and without.

Generates a spoken-digit-like set (``write_speech`` below: 10 classes of mono 8 kHz WAVs,
0.3-0.8 s) and runs the shipped ``audio_cnn`` space for a few trials in-process in
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
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

# A generated stand-in for spoken-digit recordings (like the Free Spoken Digit Dataset):
# each class is a sequence of 2-3 voiced 'syllables' (a pitch pulse train through
# class-specific formant trajectories) with random speaker pitch, speed, level and
# background noise. Per class: (formant1 start/end, formant2 start/end) in Hz a syllable.
_RNG_CLASSES = np.random.default_rng(1234)
CLASSES = [
    [
        tuple(_RNG_CLASSES.uniform([250, 250, 800, 800], [900, 900, 2500, 2500]))
        for _ in range(2 + c % 2)
    ]
    for c in range(10)
]


def resonator(x: np.ndarray, f: float, rate: int, bw: float = 120.0) -> np.ndarray:
    from scipy.signal import lfilter

    r = np.exp(-np.pi * bw / rate)
    a = [1, -2 * r * np.cos(2 * np.pi * f / rate), r * r]
    return lfilter([1 - r], a, x)


def utterance(c: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    out = []
    speed = rng.uniform(0.8, 1.25)
    f0 = rng.uniform(90, 220)
    for f1a, f1b, f2a, f2b in CLASSES[c]:
        n = int(rate * 0.15 * speed * rng.uniform(0.85, 1.15))
        phase = np.cumsum(np.full(n, f0 * rng.uniform(0.95, 1.05)) / rate)
        src = (np.diff(np.floor(phase), prepend=0) > 0).astype(float) + 0.05 * rng.normal(size=n)
        seg = np.zeros(n)
        for k in range(0, n, 80):  # piecewise formant glide
            a = k / n
            f1, f2 = f1a + (f1b - f1a) * a, f2a + (f2b - f2a) * a
            sl = slice(k, k + 80)
            seg[sl] = resonator(src[sl], f1, rate) + 0.6 * resonator(src[sl], f2, rate)
        seg *= np.hanning(n) ** 0.5
        out.append(seg)
        out.append(np.zeros(int(rate * 0.03 * rng.uniform(0.5, 2))))
    x = np.concatenate([np.zeros(int(rate * rng.uniform(0, 0.1))), *out])
    x = x / (np.abs(x).max() + 1e-9) * rng.uniform(0.3, 0.9)
    x += rng.normal(0, rng.uniform(0.002, 0.02), len(x))
    return np.clip(x, -1, 1)


def write_speech(out: Path, per_class: int = 300, rate: int = 8000, seed: int = 0) -> None:
    """``per_class`` mono 16-bit WAVs a class into ``out/<class>/<i>.wav``."""
    from scipy.io import wavfile

    rng = np.random.default_rng(seed)
    for c in range(10):
        d = Path(out) / str(c)
        d.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            wavfile.write(d / f"{i}.wav", rate, (utterance(c, rate, rng) * 32767).astype("int16"))


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
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "digits"
        write_speech(data, args.per_class, 8000, 0)
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
