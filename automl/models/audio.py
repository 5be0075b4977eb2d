"""Audio classifier: a mel spectrogram front end inside the model, then a CNN or RNN body.

Inputs are waveforms (samples,) in [-1, 1] at ``InputSpec.sample_rate``. The spectrogram
(keras.layers.MelSpectrogram, backend-agnostic) has its own tunables: ``frame_length``,
``frame_step`` and ``mel_bins``; it is standardized per clip before the body.
"""

from __future__ import annotations

from typing import Any

import keras

from automl.augment import spectrogram_augmentation, waveform_augmentation
from automl.errors import DataError
from automl.models import InputSpec
from automl.models._common import conv_stack, finish, recurrent_stack
from automl.models.cnn import flatten_2d

DEFAULT_RATE = 16000


def build(hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    if len(spec.shape) not in (1, 2) or (len(spec.shape) == 2 and spec.shape[1] != 1):
        raise DataError(
            "model.family 'audio' needs mono waveforms (samples,); "
            f"the data gives samples of shape {spec.shape}"
        )
    samples = int(spec.shape[0])
    aug = hp.get("augmentation", {})
    inputs = keras.Input(shape=spec.shape, name="waveform")
    x = inputs if len(spec.shape) == 1 else keras.layers.Reshape((samples,), name="mono")(inputs)
    x = waveform_augmentation(x, aug)
    frame = max(2, min(int(hp["frame_length"]), samples))
    x = keras.layers.MelSpectrogram(
        fft_length=1 << (frame - 1).bit_length(),
        sequence_length=frame,
        sequence_stride=max(1, int(hp["frame_step"])),
        sampling_rate=int(spec.sample_rate or DEFAULT_RATE),
        num_mel_bins=int(hp["mel_bins"]),
        name="mel",
    )(x)
    x = keras.layers.Permute((2, 1), name="frames_first")(x)  # (frames, mel bins)
    x = keras.layers.LayerNormalization(axis=(-2, -1), name="mel_norm")(x)
    x = spectrogram_augmentation(x, aug)
    if hp["body"] == "cnn":
        frames, bins = int(x.shape[1]), int(x.shape[2])
        x = keras.layers.Reshape((frames, bins, 1), name="as_image")(x)
        x = conv_stack(x, hp["units"], hp["kernel_size"], hp, hp["pooling"], name="conv")
        x = flatten_2d(x)
    else:
        x = recurrent_stack(x, hp, hp["body"], name=hp["body"])
    return keras.Model(inputs, finish(x, hp, spec), name="audio")
