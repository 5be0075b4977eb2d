"""Save a grid of training-mode augmented images (rows: settings) to look at them."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as H  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from automl.augment import image_augmentation  # noqa: E402

src, out = sys.argv[1], sys.argv[2]
data = H.splits_for("image_folder_cnn", source=src)
x = data.x_train[:8]
rows = [x]
SET = {
    "stack": {"flip": "horizontal", "rotation": 0.05, "zoom": 0.1, "translation": 0.05,
              "contrast": 0.15, "brightness": 0.1, "rand_augment": 2},
    "rand_augment2": {"rand_augment": 2},
    "stack_no_ra": {"flip": "horizontal", "rotation": 0.05, "zoom": 0.1, "translation": 0.05,
                    "contrast": 0.15, "brightness": 0.1},
}
keras.utils.set_random_seed(0)
for name, aug in SET.items():
    inp = keras.Input(x.shape[1:])
    m = keras.Model(inp, image_augmentation(inp, aug))
    y = keras.ops.convert_to_numpy(m(x, training=True))
    print(name, "range", float(y.min()), float(y.max()), "mean", float(y.mean()), "vs", float(x.mean()))
    rows.append(y)
grid = np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)
Image.fromarray((np.clip(grid, 0, 1) * 255).astype("uint8")).save(out)
