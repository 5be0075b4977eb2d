"""Generated stand-in for the 100x100 JPEG hand-sign photos: 10 classes of a 'hand' (palm
disc plus a class-specific set of raised fingers) at a random position, scale, rotation and
skin tone on a light, noisy, shaded background. Colour and brightness say nothing about the
class; only the finger pattern does (like the real hand signs).

Usage: python make_hands.py OUT_DIR [PER_CLASS=200] [SEED=0]
"""

import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# Which of 5 fingers (thumb..little) are raised, per class: 10 distinct patterns.
PATTERNS = [
    (0, 0, 0, 0, 0), (0, 1, 0, 0, 0), (0, 1, 1, 0, 0), (0, 1, 1, 1, 0), (0, 1, 1, 1, 1),
    (1, 1, 1, 1, 1), (1, 0, 0, 0, 0), (1, 1, 0, 0, 0), (1, 0, 0, 0, 1), (0, 0, 0, 0, 1),
]
ANGLES = (-70, -25, -5, 15, 35)  # finger directions (degrees from up), thumb first


def hand(cls: int, rng: np.random.Generator, size: int = 100) -> Image.Image:
    bg = np.array(rng.integers(150, 230, 3), dtype=float)
    yy, xx = np.mgrid[:size, :size] / size
    shade = (0.85 + 0.3 * (rng.uniform(-1, 1) * xx + rng.uniform(-1, 1) * yy))[..., None]
    img = np.clip(bg * shade + rng.normal(0, 8, (size, size, 3)), 0, 255).astype("uint8")
    im = Image.fromarray(img)
    d = ImageDraw.Draw(im)
    tone = rng.uniform(0.55, 1.0)  # skin tones: one brightness factor on a skin colour
    skin = tuple(int(v * tone) for v in (235, 180, 150))
    s = size / 100 * rng.uniform(1.3, 1.6)
    cx, cy = size / 2 + rng.uniform(-6, 6), size * 0.68 + rng.uniform(-5, 5)
    rot = rng.uniform(-15, 15)
    r = 17 * s
    d.ellipse([cx - r, cy - r * 1.1, cx + r, cy + r * 1.1], fill=skin)
    for f, up in enumerate(PATTERNS[cls]):
        a = math.radians(ANGLES[f] + rot)
        base = (cx + r * 0.8 * math.sin(a), cy - r * 0.9 * math.cos(a))
        length = (30 if up else 9) * s * (0.75 if f in (0, 4) else 1.0)
        tip = (base[0] + length * math.sin(a), base[1] - length * math.cos(a))
        d.line([base, tip], fill=skin, width=max(2, int(8 * s)))
        d.ellipse([tip[0] - 3.5 * s, tip[1] - 3.5 * s, tip[0] + 3.5 * s, tip[1] + 3.5 * s], fill=skin)
    return im.filter(ImageFilter.GaussianBlur(0.6))


def main(out: str, per_class: int = 200, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    root = Path(out)
    for c in range(10):
        (root / str(c)).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            hand(c, rng).save(root / str(c) / f"{i}.jpg", quality=85)


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
