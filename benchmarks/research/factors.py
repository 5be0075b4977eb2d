"""E2/E3: one-factor-at-a-time settings around a base configuration, a few seeds each,
val and test recorded every epoch (no early stopping), for digits or an image folder.

Usage: python factors.py GROUP OUT.jsonl [SEEDS=3]   (GROUP: a key of GROUPS below)
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as H  # noqa: E402

BASE = {  # a middle-of-the-space digits CNN, no augmentation
    "n_layers": 2, "filters": [32, 64], "kernel_size": 3, "activation": "relu",
    "pooling": "max", "batch_norm": False, "dropout": 0.2, "dense_units": 64,
    "learning_rate": 2e-3, "optimizer": "adam", "batch_size": 32, "augmentation": {},
}
AUG_CURRENT_MID = {"rotation": 0.025, "zoom": 0.05, "translation": 0.05, "crop": 1, "contrast": 0.1}
AUG_CURRENT_MAX = {"rotation": 0.05, "zoom": 0.1, "translation": 0.1, "crop": 1, "contrast": 0.2}

GROUPS = {
    "aug": {
        "none": {},
        "crop1": {"augmentation": {"crop": 1}},
        "translation0.05": {"augmentation": {"translation": 0.05}},
        "translation0.1": {"augmentation": {"translation": 0.1}},
        "rotation0.05": {"augmentation": {"rotation": 0.05}},
        "zoom0.1": {"augmentation": {"zoom": 0.1}},
        "contrast0.2": {"augmentation": {"contrast": 0.2}},
        "all_mid": {"augmentation": AUG_CURRENT_MID},
        "all_max": {"augmentation": AUG_CURRENT_MAX},
    },
    "bn": {  # run after the BatchNormalization momentum change (0.99 -> 0.9)
        "bn": {"batch_norm": True},
        "bn_crop1": {"batch_norm": True, "augmentation": {"crop": 1}},
        "bn_L3": {"batch_norm": True, "n_layers": 3, "filters": [32, 64, 64]},
    },
    "final": {  # the new ready space's choices vs the old space's typical draw
        "none": {},
        "crop1": {"augmentation": {"crop": 1}},
        "translation0.05": {"augmentation": {"translation": 0.05}},
        "crop1_lr5e-3": {"augmentation": {"crop": 1}, "learning_rate": 5e-3},
    },
    "rmsprop": {  # automl gives rmsprop momentum 0.9 unless the space sets momentum
        "rmsprop_m0.9_lr5e-3": {"optimizer": "rmsprop", "learning_rate": 5e-3, "momentum": 0.9},
        "rmsprop_m0_lr5e-3": {"optimizer": "rmsprop", "learning_rate": 5e-3, "momentum": 0.0},
        "adam_lr5e-3": {"learning_rate": 5e-3},
    },
    "ranges": {
        "base": {},
        "lr3e-4": {"learning_rate": 3e-4},
        "lr1e-3": {"learning_rate": 1e-3},
        "lr5e-3": {"learning_rate": 5e-3},
        "lr1e-2": {"learning_rate": 1e-2},
        "bs16": {"batch_size": 16},
        "bs64": {"batch_size": 64},
        "bs128": {"batch_size": 128},
        "L1_f32": {"n_layers": 1, "filters": [32]},
        "L1_f64": {"n_layers": 1, "filters": [64]},
        "L2_f16_32": {"filters": [16, 32]},
        "L2_f64_128": {"filters": [64, 128]},
        "L3_f32_64_64": {"n_layers": 3, "filters": [32, 64, 64]},
        "drop0": {"dropout": 0.0},
        "drop0.4": {"dropout": 0.4},
        "bn": {"batch_norm": True},
        "avgpool": {"pooling": "avg"},
        "dense0": {"dense_units": 0},
        "dense128": {"dense_units": 128},
        "k5": {"kernel_size": 5},
        "gelu": {"activation": "gelu"},
        "rmsprop": {"optimizer": "rmsprop"},
        "adamw": {"optimizer": "adamw"},
    },
}

group, out = sys.argv[1], sys.argv[2]
seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 30
data = H.splits_for("digits_cnn")
done = {(r["setting"], r["seed"]) for r in H.read_jsonl(out)}
for seed in range(seeds):
    for name, change in GROUPS[group].items():
        if (name, seed) in done:
            continue
        t = time.perf_counter()
        r = H.run(data, {**BASE, **change}, seed=seed, epochs=epochs)
        r.update(setting=name, wall_s=time.perf_counter() - t)
        H.append_jsonl(out, r)
        h = r["history"]
        print(name, seed, round(r["wall_s"], 1), max(h["val_accuracy"]), h["test_accuracy"][-1], flush=True)
