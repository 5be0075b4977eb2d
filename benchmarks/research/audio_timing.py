"""E6: where an audio_cnn trial's time goes. Loads a WAV folder the way automl does, at
a given data.sample_rate, then times per epoch: (a) the full model (mel front end inside,
as the audio family builds it), (b) the front end alone over the same samples, (c) the
CNN body alone on spectrograms computed once (the cache design).

Usage: python audio_timing.py WAV_DIR RATE [EPOCHS=2] [BATCH=16]
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as H  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from automl import training  # noqa: E402
from automl.models import InputSpec, build_model  # noqa: E402

src, rate = sys.argv[1], int(sys.argv[2])
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 16
t = time.perf_counter()
data = H.splits_for("audio_cnn", source=src, sample_rate=rate)
print(f"rate {rate}: load+split {time.perf_counter() - t:.1f}s  train {data.x_train.shape}")
HP = {
    **H.DEFAULT_HP, "body": "cnn", "frame_length": int(400 * rate / 16000),
    "frame_step": int(160 * rate / 16000), "mel_bins": 64, "n_layers": 3, "units": [32, 48, 48],
    "kernel_size": 3, "pooling": "max", "activation": "relu", "batch_norm": True, "dropout": 0.2,
    "dense_units": 64, "learning_rate": 1e-3, "batch_size": batch, "bidirectional": False,
    "augmentation": {},
}
if len(sys.argv) > 5 and sys.argv[5] == "x":  # same settings in samples as at 16 kHz
    HP.update(frame_length=400, frame_step=160)
elif len(sys.argv) > 5:  # a JSON of settings to override, e.g. '{"frame_step": 256}'
    import json

    HP.update(json.loads(sys.argv[5]))


def timed_fit(model, x, y, xv, yv):
    training.compile_model(model, data.input_spec, HP)
    model.fit(x[:batch * 4], y[:batch * 4], batch_size=batch, epochs=1, verbose=0)  # warm-up
    t = time.perf_counter()
    h = model.fit(x, y, validation_data=(xv, yv), batch_size=batch, validation_batch_size=256,
                  epochs=epochs, verbose=0)
    return (time.perf_counter() - t) / epochs, h.history["val_accuracy"][-1]


keras.utils.set_random_seed(0)
full = build_model("audio", HP, data.input_spec)
ep_full, acc_full = timed_fit(full, data.x_train, data.y_train, data.x_val, data.y_val)
front = keras.Model(full.input, full.get_layer("mel_norm").output)
t = time.perf_counter()
for _ in range(epochs):  # the front end runs once per batch in training and on validation
    for i in range(0, len(data.x_train), batch):
        front(data.x_train[i:i + batch], training=False)
    training.predict(front, data.x_val)
ep_front = (time.perf_counter() - t) / epochs
t = time.perf_counter()
f_tr = training.predict(front, data.x_train)
f_va = training.predict(front, data.x_val)
once = time.perf_counter() - t
# the body alone: same layers from the spectrogram on (mel_norm's output) onward
inp = keras.Input(f_tr.shape[1:])
x = inp
seen = False
for layer in full.layers:
    if seen:
        x = layer(x)
    seen = seen or layer.name == "mel_norm"
body = keras.Model(inp, x)
body_fresh = keras.models.clone_model(body)
ep_body, acc_body = timed_fit(body_fresh, f_tr, data.y_train, f_va, data.y_val)
print(f"spectrogram {f_tr.shape[1:]}  params {full.count_params()}")
print(f"per epoch: full model {ep_full:.1f}s | front end alone {ep_front:.1f}s | "
      f"body on cached features {ep_body:.1f}s | features once (train+val, batch 256) {once:.1f}s")
print(f"val acc after {epochs} epochs: full {acc_full:.3f}, body-on-cache {acc_body:.3f}")
