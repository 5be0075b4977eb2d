"""Generated stand-in for spoken-digit recordings (3,000 mono 8 kHz WAVs, 10 classes,
0.3-0.8 s each, like the Free Spoken Digit Dataset): each class is a sequence of 2-3
voiced 'syllables' (a pitch pulse train through class-specific formant trajectories) with
random speaker pitch, speed, level and background noise. For timing the audio family.

Usage: python make_speech.py OUT_DIR [PER_CLASS=300] [RATE=8000] [SEED=0]
"""

import sys
from pathlib import Path

import numpy as np
from scipy.io import wavfile
from scipy.signal import lfilter

RNG_CLASSES = np.random.default_rng(1234)
# per class: 2-3 syllables, each (formant1 start/end, formant2 start/end) in Hz
CLASSES = [
    [tuple(RNG_CLASSES.uniform([250, 250, 800, 800], [900, 900, 2500, 2500]))
     for _ in range(2 + c % 2)]
    for c in range(10)
]


def resonator(x, f, rate, bw=120.0):
    r = np.exp(-np.pi * bw / rate)
    a = [1, -2 * r * np.cos(2 * np.pi * f / rate), r * r]
    return lfilter([1 - r], a, x)


def utterance(c, rate, rng):
    out = []
    speed = rng.uniform(0.8, 1.25)
    f0 = rng.uniform(90, 220)
    for f1a, f1b, f2a, f2b in CLASSES[c]:
        n = int(rate * 0.15 * speed * rng.uniform(0.85, 1.15))
        t = np.arange(n) / rate
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
    x = np.concatenate([np.zeros(int(rate * rng.uniform(0, 0.1)))] + out)
    x = x / (np.abs(x).max() + 1e-9) * rng.uniform(0.3, 0.9)
    x += rng.normal(0, rng.uniform(0.002, 0.02), len(x))
    return np.clip(x, -1, 1)


def main(out, per_class=300, rate=8000, seed=0):
    rng = np.random.default_rng(seed)
    for c in range(10):
        d = Path(out) / str(c)
        d.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            wavfile.write(d / f"{i}.wav", rate, (utterance(c, rate, rng) * 32767).astype("int16"))


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
