"""Augmentation parameters -> Keras preprocessing layers (active only while training)."""

from __future__ import annotations

from typing import Any

import keras


def image_augmentation(x: Any, aug: dict[str, Any]) -> Any:
    """Apply the random image layers that ``aug`` turns on; no layer for a zero setting."""
    h, w = int(x.shape[1]), int(x.shape[2])
    if aug.get("flip", "none") != "none":
        x = keras.layers.RandomFlip(aug["flip"], name="aug_flip")(x)
    if aug.get("rotation", 0) > 0:
        x = keras.layers.RandomRotation(aug["rotation"], fill_mode="constant", name="aug_rotation")(
            x
        )
    if aug.get("zoom", 0) > 0:
        z = aug["zoom"]
        x = keras.layers.RandomZoom((-z, z), fill_mode="constant", name="aug_zoom")(x)
    if aug.get("translation", 0) > 0:
        t = aug["translation"]
        x = keras.layers.RandomTranslation(t, t, fill_mode="constant", name="aug_translation")(x)
    if aug.get("crop", 0) > 0:
        # Pad by p pixels and crop back at random is a shift of up to p pixels with zero
        # fill. RandomTranslation does exactly that and, unlike a padded RandomCrop, keeps
        # the inference-time shape equal to the input's.
        p = int(aug["crop"])
        x = keras.layers.RandomTranslation(
            min(p / h, 1.0), min(p / w, 1.0), fill_mode="constant", name="aug_crop"
        )(x)
    if aug.get("contrast", 0) > 0:
        # value_range matches our inputs, which are scaled to [0, 1].
        x = keras.layers.RandomContrast(aug["contrast"], value_range=(0, 1), name="aug_contrast")(x)
    return x
