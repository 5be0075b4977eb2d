"""E4b: why image CNN trials sit at loss ln(10): signal statistics at initialization and
after a few hundred steps. For each layer, the spread of activations ACROSS images (std
over samples, averaged over units) relative to their mean magnitude, and the share of
units that are zero for every image (dead ReLUs)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as H  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from automl import training  # noqa: E402
from automl.models import build_model  # noqa: E402
from image_pooling import BASE, SETTINGS  # noqa: E402  (argv-free import guard below)

src = sys.argv[1]
names = sys.argv[2].split(",")
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 0
size = int(sys.argv[4]) if len(sys.argv) > 4 else 64
data = H.splits_for("image_folder_cnn", source=src, image_size=[size, size])
x = data.x_val[:256]
for name in names:
    hp = {**H.DEFAULT_HP, **BASE, **SETTINGS[name]}
    keras.utils.set_random_seed(0)
    m = build_model("cnn", hp, data.input_spec)
    training.compile_model(m, data.input_spec, hp)
    if steps:
        m.fit(data.x_train, data.y_train, batch_size=32, epochs=max(1, steps // 44), verbose=0)
    outs = [l for l in m.layers if l.name.endswith(("_act", "_pool", "gap", "flatten")) or l.name == "output"]
    probe = keras.Model(m.input, [l.output for l in outs])
    acts = probe(x, training=False)
    print(f"== {name} (after {steps} steps)")
    for l, a in zip(outs, acts):
        a = keras.ops.convert_to_numpy(a).reshape(len(x), -1, a.shape[-1])  # (n, positions, ch)
        per_img = a.mean(axis=1)  # channel means per image
        across = per_img.std(axis=0).mean()
        mag = np.abs(per_img).mean() + 1e-12
        dead = float((a.max(axis=(0, 1)) <= 0).mean())
        print(f"  {l.name:14s} shape {tuple(a.shape[1:])} across-image std / mean {across / mag:.3f}  dead {dead:.2f}")
