"""E4: the image_folder_cnn 'avg pooling stays at chance' stall, on generated hand-sign
images (make_hands.py). Trains cnn-family models that differ in one setting at a time and
records val/test per epoch. Settings are named A_B_... in the SETTINGS table.

Usage: python image_pooling.py IMAGE_DIR OUT.jsonl EPOCHS SEEDS [SETTING ...]
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as H  # noqa: E402

BASE = {  # a draw the image_folder_cnn space can make
    "n_layers": 3, "filters": [32, 64, 64], "kernel_size": 3, "activation": "relu",
    "pooling": "max", "batch_norm": False, "dropout": 0.2, "dense_units": 64,
    "learning_rate": 1e-3, "optimizer": "adam", "batch_size": 32, "augmentation": {},
}
SETTINGS = {
    "max": {},
    "avg": {"pooling": "avg"},
    "avg_bn": {"pooling": "avg", "batch_norm": True},
    "max_bn": {"batch_norm": True},
    "avg_lr3e-4": {"pooling": "avg", "learning_rate": 3e-4},
    "max_lr3e-4": {"learning_rate": 3e-4},
    "avg_lr3e-3": {"pooling": "avg", "learning_rate": 3e-3},
    "avg_L4": {"pooling": "avg", "n_layers": 4, "filters": [32, 64, 64, 96]},
    "max_L4": {"n_layers": 4, "filters": [32, 64, 64, 96]},
    "avg_L2": {"pooling": "avg", "n_layers": 2, "filters": [32, 64]},
    "max_L2": {"n_layers": 2, "filters": [32, 64]},
    "avg_dense0": {"pooling": "avg", "dense_units": 0},
    "avg_gelu": {"pooling": "avg", "activation": "gelu"},
}
AUG_STACK = {  # a typical draw of the old image_folder_cnn space: every transform at once
    "flip": "horizontal", "rotation": 0.05, "zoom": 0.1, "translation": 0.05,
    "contrast": 0.15, "brightness": 0.1, "rand_augment": 2,
}
SETTINGS["max_bn_aug_stack"] = {"batch_norm": True, "augmentation": AUG_STACK}
SETTINGS["max_bn_aug_light"] = {
    "batch_norm": True, "augmentation": {"flip": "horizontal", "zoom": 0.1, "translation": 0.05},
}
# Variants that need more than a hyperparameter: "_prep" transforms the arrays (as a
# first layer would), "_head" replaces cnn.flatten_2d, "_bn_momentum" the BN momentum.
for pool in ("max", "avg"):
    SETTINGS[f"{pool}_centred"] = {"pooling": pool, "_prep": "centre"}
    SETTINGS[f"{pool}_perimage"] = {"pooling": pool, "_prep": "per_image"}
    SETTINGS[f"{pool}_gmp"] = {"pooling": pool, "_head": "gmp"}
    SETTINGS[f"{pool}_pool4"] = {"pooling": pool, "_head": "pool4"}
    SETTINGS[f"{pool}_bn_m0.9"] = {"pooling": pool, "batch_norm": True, "_bn_momentum": 0.9}
    SETTINGS[f"{pool}_L2_pool4"] = {"pooling": pool, "n_layers": 2, "filters": [32, 64], "_head": "pool4"}


def _prep(x, how):
    import numpy as np

    if how == "centre":
        return x * 2.0 - 1.0
    if how == "per_image":
        m = x.mean(axis=(1, 2, 3), keepdims=True)
        s = x.std(axis=(1, 2, 3), keepdims=True)
        return (x - m) / np.maximum(s, 1.0 / np.sqrt(x[0].size))
    return x


def _head(kind):
    import keras

    def head(x):
        h, w = int(x.shape[1]), int(x.shape[2])
        if min(h, w) <= 4:
            return keras.layers.Flatten()(x)
        if kind == "gmp":
            return keras.layers.GlobalMaxPooling2D()(x)
        # pool4: average down to at most 4x4 cells, then flatten (coarse positions kept)
        ph, pw = -(-h // 4), -(-w // 4)
        x = keras.layers.AveragePooling2D((ph, pw), padding="same")(x)
        return keras.layers.Flatten()(x)

    return head


def run_setting(data, name, seed, epochs):
    import copy

    import keras

    import automl.models._common as common
    import automl.models.cnn as cnn

    cfg = dict(SETTINGS[name])
    prep, head, mom = cfg.pop("_prep", None), cfg.pop("_head", None), cfg.pop("_bn_momentum", None)
    d = copy.copy(data)
    if prep:
        d.x_train, d.x_val, d.x_test = (_prep(a, prep) for a in (data.x_train, data.x_val, data.x_test))
    old_flat, old_bn = cnn.flatten_2d, keras.layers.BatchNormalization
    if head:
        cnn.flatten_2d = _head(head)
    if mom:
        class BN(old_bn):
            def __init__(self, *a, **k):
                super().__init__(*a, momentum=mom, **k)

        common.keras.layers.BatchNormalization = BN
    try:
        return H.run(d, {**BASE, **cfg}, seed=seed, epochs=epochs)
    finally:
        cnn.flatten_2d = old_flat
        keras.layers.BatchNormalization = old_bn


def main() -> None:
    src, out, epochs, seeds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    names = sys.argv[5:] or list(SETTINGS)
    data = H.splits_for("image_folder_cnn", source=src)
    print("sizes", data.sizes(), data.x_train.shape, flush=True)
    done = {(r["setting"], r["seed"]) for r in H.read_jsonl(out)}
    for seed in range(seeds):
        for name in names:
            if (name, seed) in done:
                continue
            t = time.perf_counter()
            r = run_setting(data, name, seed, epochs)
            r.update(setting=name, wall_s=time.perf_counter() - t)
            H.append_jsonl(out, r)
            h = r["history"]
            print(name, seed, round(r["wall_s"], 1), [round(v, 2) for v in h["val_accuracy"]], flush=True)


if __name__ == "__main__":
    main()
