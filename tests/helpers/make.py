"""Small generated data sets of every kind, for data, model and end-to-end CLI tests.

Each maker writes files under a folder it is given and returns the path to pass as
``data.source`` / ``--data``. Classes are easy to tell apart so a few epochs learn them.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pandas as pd

IMAGE_FORMATS = ("png", "jpg", "bmp", "gif")


def _shape_image(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """A bright square or a bright disc on a noisy dark background, uint8 RGB."""
    img = rng.integers(0, 40, (size, size, 3)).astype("uint8")
    c = size / 2 + rng.uniform(-1, 1)
    r = size * rng.uniform(0.25, 0.35)
    yy, xx = np.mgrid[:size, :size]
    if kind == "square":
        inside = (np.abs(yy - c) < r) & (np.abs(xx - c) < r)
    else:
        inside = (yy - c) ** 2 + (xx - c) ** 2 < r**2
    img[inside] = rng.integers(180, 255, 3)
    return img


def images(root: Path, per_class: int = 12, size: int = 20, seed: int = 0) -> Path:
    """A folder ``root/{disc,square}/*.{png,jpg,bmp,gif}`` of images of mixed sizes."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for cls in ("disc", "square"):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            fmt = IMAGE_FORMATS[i % len(IMAGE_FORMATS)]
            side = size + (i % 3) * 4  # mixed sizes: the reader resizes
            img = Image.fromarray(_shape_image(cls, side, rng))
            if i % 5 == 4:
                img = img.convert("L")  # some grayscale files among RGB ones
            img.save(root / cls / f"{cls}{i}.{fmt}")
    (root / "disc" / "notes.txt").write_text("not an image", encoding="utf-8")
    return root


def _tone(cls: str, rate: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    if cls == "noise":
        return rng.normal(0, 0.3, len(t))
    freq = {"low": 220.0, "high": 1200.0}[cls] * rng.uniform(0.95, 1.05)
    return 0.6 * np.sin(2 * np.pi * freq * t) + rng.normal(0, 0.02, len(t))


def write_wav(path: Path, x: np.ndarray, rate: int, fmt: str = "int16") -> Path:
    """Write mono or stereo samples in [-1, 1] as PCM 8/16/32-bit or float32 WAV."""
    from scipy.io import wavfile

    x = np.clip(x, -1, 1)
    if fmt == "uint8":
        data = ((x + 1) * 127.5).astype("uint8")
    elif fmt == "int16":
        data = (x * 32767).astype("int16")
    elif fmt == "int32":
        data = (x * 2147483647).astype("int32")
    else:
        data = x.astype("float32")
    wavfile.write(path, rate, data)
    return path


def audio(root: Path, per_class: int = 8, seconds: float = 0.5, seed: int = 0) -> Path:
    """A folder ``root/{low,high,noise}/*.wav``: tones and noise, mixed formats and rates."""
    rng = np.random.default_rng(seed)
    formats = ("int16", "uint8", "int32", "float32")
    rates = (8000, 11025, 16000)
    for cls in ("low", "high", "noise"):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            rate = rates[i % len(rates)]
            x = _tone(cls, rate, seconds * rng.uniform(0.8, 1.2), rng)
            if i % 4 == 3:
                x = np.stack([x, x * 0.5], axis=1)  # stereo
            write_wav(root / cls / f"{cls}{i}.wav", x, rate, formats[i % len(formats)])
    return root


def audio_manifest(root: Path, per_class: int = 6, seed: int = 0) -> Path:
    """A CSV ``root/manifest.csv`` of ``file,label`` rows with WAVs under ``root/clips``."""
    folder = audio(root / "clips", per_class=per_class, seed=seed)
    rows = [
        {"file": str(p.relative_to(root)), "label": p.parent.name}
        for p in sorted(folder.rglob("*.wav"))
    ]
    path = root / "manifest.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def broken_wav(path: Path) -> Path:
    """A file named .wav that is not a WAV file."""
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    return path


def pcm_wav_with_wave(path: Path, x: np.ndarray, rate: int) -> Path:
    """A 16-bit PCM WAV written with the standard library's ``wave``."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return path


POSITIVE = ("great", "wonderful", "excellent", "lovely", "amazing", "superb")
NEGATIVE = ("awful", "terrible", "boring", "dreadful", "horrible", "poor")
TEMPLATES = (
    "The film was {w}.",
    "What a {w} story, really {w}!",
    "I found the acting {w} and the music {w}",
    "{w}",
    "Honestly, a {w} evening at the cinema; the ending was {w}.",
)
ZH = {"pos": ("很好", "喜欢", "精彩", "推荐"), "neg": ("很差", "讨厌", "无聊", "失望")}


def text_csv(
    path: Path,
    n: int = 80,
    *,
    lang: str = "en",
    sep: str = ",",
    encoding: str = "utf-8",
    seed: int = 0,
) -> Path:
    """A CSV of ``text,label`` rows: template sentences, positive or negative."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        if lang == "zh":
            words = ZH[label]
            text = f"这部电影{rng.choice(words)}，我{rng.choice(words)}"
        else:
            words = POSITIVE if label == "pos" else NEGATIVE
            template = TEMPLATES[i % len(TEMPLATES)]
            text = template.replace("{w}", "{}").format(*rng.choice(words, template.count("{w}")))
        rows.append({"text": text, "label": label})
    pd.DataFrame(rows).to_csv(path, index=False, sep=sep, encoding=encoding)
    return path


def tabular_csv(path: Path, n: int = 120, seed: int = 0) -> Path:
    """A mixed table: numbers, booleans, categories, an empty and an ID column, a label."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, n)
    frame = pd.DataFrame(
        {
            "size": label * 2.0 + rng.normal(0, 0.5, n),
            "weight": rng.normal(10, 2, n),
            "member": rng.random(n) > 0.5,
            "colour": np.array(["red", "green", "blue"])[label],
            "empty": [np.nan] * n,
            "id": [f"user-{i:05d}" for i in range(n)],
            "label": label + 1,  # numeric-looking classes 1, 2, 3
        }
    )
    frame.loc[::9, "size"] = np.nan
    frame.loc[::7, "colour"] = None
    frame.to_csv(path, index=False)
    return path


def mixed_csv(path: Path, n: int = 120, seed: int = 0) -> Path:
    """A table with gaps: numbers, a category, a yes/no label."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.normal(5e4, 1e4, n),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "label": rng.choice(["yes", "no"], n),
        }
    )
    frame.loc[::7, "age"] = np.nan
    frame.loc[::11, "city"] = None
    frame.to_csv(path, index=False)
    return path


def series_csv(path: Path, n: int = 240, seed: int = 0) -> Path:
    """A time series CSV: two noisy sine features and a ``target`` that follows them."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    a = np.sin(t / 6) + rng.normal(0, 0.05, n)
    b = np.cos(t / 9) + rng.normal(0, 0.05, n)
    frame = pd.DataFrame({"a": a, "b": b, "target": a + 0.5 * b})
    frame.to_csv(path, index=False)
    return path


def sequences_npz(path: Path, n: int = 90, steps: int = 16, seed: int = 0) -> Path:
    """An ``.npz`` of 3-D x (samples, steps, 2) and three classes of wave shapes."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    t = np.linspace(0, 1, steps)
    freq = np.array([1.0, 2.5, 4.0])[y]
    x1 = np.sin(2 * np.pi * freq[:, None] * t) + rng.normal(0, 0.1, (n, steps))
    x2 = rng.normal(0, 0.1, (n, steps))
    np.savez(path, x=np.stack([x1, x2], axis=-1).astype("float32"), y=y)
    return path
