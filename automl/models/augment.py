"""Augmentation parameters -> Keras layers that act only while training.

Every layer here is a built-in Keras layer (or a keras.ops expression around one), so saved
models reload with ``keras.saving.load_model(path, safe_mode=True)`` in a process that never
imported automl. Random layers (RandomFlip, GaussianNoise, Dropout, ...) pass inputs through
unchanged when ``training=False``; a zero setting adds no layer at all.
"""

from __future__ import annotations

from typing import Any

import keras


def image_augmentation(x: Any, aug: dict[str, Any]) -> Any:
    """Apply the random image layers that ``aug`` turns on; no layer for a zero setting."""
    h, w = int(x.shape[1]), int(x.shape[2])
    if aug.get("rand_augment", 0) > 0:
        # RandAugment picks `num_ops` of its operations at random for every image.
        x = keras.layers.RandAugment(
            value_range=(0, 1),
            num_ops=int(aug["rand_augment"]),
            factor=float(aug.get("rand_augment_factor", 0.5)),
            name="aug_rand_augment",
        )(x)
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
    if aug.get("brightness", 0) > 0:
        x = keras.layers.RandomBrightness(
            aug["brightness"], value_range=(0, 1), name="aug_brightness"
        )(x)
    return x


def waveform_augmentation(x: Any, aug: dict[str, Any]) -> Any:
    """Added Gaussian noise on waveforms of shape (samples,)."""
    if aug.get("noise", 0) > 0:
        x = keras.layers.GaussianNoise(aug["noise"], name="aug_noise")(x)
    return x


def spectrogram_augmentation(x: Any, aug: dict[str, Any]) -> Any:
    """Time shift, time masking and frequency masking of a (frames, bins) spectrogram.

    The spectrogram is expected standardized, so a masked value (0) is its mean. Masks
    drop whole frames (time) or whole bins (frequency) at random, like SpecAugment with
    scattered rather than contiguous stripes.
    """
    if aug.get("time_shift", 0) > 0:
        frames, bins = int(x.shape[1]), int(x.shape[2])
        x = keras.layers.Reshape((frames, bins, 1), name="aug_shift_in")(x)
        x = keras.layers.RandomTranslation(
            (-aug["time_shift"], aug["time_shift"]),
            0.0,
            fill_mode="constant",
            name="aug_time_shift",
        )(x)
        x = keras.layers.Reshape((frames, bins), name="aug_shift_out")(x)
    if aug.get("time_mask", 0) > 0:
        x = _drop_rows(x, aug["time_mask"], axis=1, name="aug_time_mask")
    if aug.get("freq_mask", 0) > 0:
        x = _drop_rows(x, aug["freq_mask"], axis=2, name="aug_freq_mask")
    return x


def sequence_augmentation(x: Any, aug: dict[str, Any]) -> Any:
    """Jitter (noise on every value) and scaling (one random factor per sample)."""
    if aug.get("jitter", 0) > 0:
        x = keras.layers.GaussianNoise(aug["jitter"], name="aug_jitter")(x)
    if aug.get("scaling", 0) > 0:
        # GaussianNoise on a zero per sample draws the factor while training and is 0 at
        # inference, so the factor is then exactly 1.
        zero = keras.ops.zeros_like(x[:, :1, :1])
        factor = keras.layers.GaussianNoise(aug["scaling"], name="aug_scaling")(zero)
        x = x * (1.0 + factor)
    return x


def _drop_rows(x: Any, rate: float, axis: int, name: str) -> Any:
    """Zero whole frames (axis 1) or bins (axis 2) of (batch, frames, bins) while training."""
    ones = keras.ops.ones_like(x[:, :, :1] if axis == 1 else x[:, :1, :])
    # Dropout keeps 1 / (1 - rate) or 0 while training and 1 at inference; min(., 1)
    # turns that into a 0/1 mask that is all ones at inference.
    mask = keras.ops.minimum(keras.layers.Dropout(rate, name=name)(ones), 1.0)
    return x * mask
