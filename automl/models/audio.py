"""Audio classifier: a mel spectrogram front end, then a CNN or RNN body.

Inputs are waveforms (samples,) in [-1, 1] at ``InputSpec.sample_rate``. The model is
``waveform -> [noise] -> front_end -> body``, two nested Keras models:

- ``front_end`` (no weights): keras.layers.MelSpectrogram (backend-agnostic, in dB) with
  its own tunables ``frame_length``, ``frame_step`` and ``mel_bins``, as (frames, bins).
- ``body``: per-clip standardization (LayerNormalization over the whole spectrogram, whose
  learned per-position scale and offset keep it in the body), the spectrogram-domain
  augmentation (time shift, time and frequency masks), then the CNN or RNN and the head.

Since the front end has no weights and no randomness, its output for a front-end setting
is computed once and the body trains on it (:mod:`automl.training.frontend_cache`); the
saved model is
the whole, waveform-in model whose ``body`` holds the trained layers. Added noise acts on
the waveform before the front end, so a trial that uses it trains the whole model.
"""

from __future__ import annotations

from typing import Any

import keras

from automl.errors import DataError
from automl.models import InputSpec, Parts
from automl.models.augment import spectrogram_augmentation, waveform_augmentation
from automl.models.blocks import conv_stack, finish, recurrent_stack
from automl.models.cnn import flatten_2d

DEFAULT_RATE = 16000
WAVEFORM_AUGMENTATION = ("noise",)  # acts before the front end: no cached features


def build(hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    return build_parts(hp, spec).model


def build_parts(hp: dict[str, Any], spec: InputSpec) -> Parts:
    """Front end, body and the whole waveform-in model that chains them."""
    front = front_end(hp, spec)
    net = body(hp, tuple(int(d) for d in front.output.shape[1:]), spec)
    aug = hp.get("augmentation", {})
    inputs = keras.Input(shape=spec.shape, name="waveform")
    x = waveform_augmentation(inputs, aug)
    model = keras.Model(inputs, net(front(x)), name="audio")
    cacheable = not any(aug.get(k, 0) > 0 for k in WAVEFORM_AUGMENTATION)
    return Parts(front=front, body=net, model=model, cacheable=cacheable)


def front_end(hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    """Waveforms -> mel spectrograms (frames, mel bins); no weights, no randomness."""
    if len(spec.shape) not in (1, 2) or (len(spec.shape) == 2 and spec.shape[1] != 1):
        raise DataError(
            "model.family 'audio' needs mono waveforms (samples,); "
            f"the data gives samples of shape {spec.shape}"
        )
    samples = int(spec.shape[0])
    inputs = keras.Input(shape=spec.shape, name="samples")
    x = inputs if len(spec.shape) == 1 else keras.layers.Reshape((samples,), name="mono")(inputs)
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
    return keras.Model(inputs, x, name="front_end")


def body(hp: dict[str, Any], shape: tuple[int, ...], spec: InputSpec) -> keras.Model:
    """Spectrograms (frames, bins) -> outputs: normalization, augmentation, CNN or RNN."""
    inputs = keras.Input(shape=shape, name="spectrogram")
    x = keras.layers.LayerNormalization(axis=(-2, -1), name="mel_norm")(inputs)
    x = spectrogram_augmentation(x, hp.get("augmentation", {}))
    if hp["body"] == "cnn":
        frames, bins = int(x.shape[1]), int(x.shape[2])
        x = keras.layers.Reshape((frames, bins, 1), name="as_image")(x)
        x = conv_stack(x, hp["units"], hp["kernel_size"], hp, hp["pooling"], name="conv")
        x = flatten_2d(x)
    else:
        x = recurrent_stack(x, hp, hp["body"], name=hp["body"])
    return keras.Model(inputs, finish(x, hp, spec), name="body")
