"""Text classifier: token embedding, then an LSTM / GRU / Conv1D / pooling body.

Inputs are int id rows from :mod:`automl.data.text` (0 padding, 1 unknown). The tunable
``vocab_size`` and ``seq_len`` act inside the model with keras.ops, so one prepared data
set serves every trial: ids past the vocabulary become 1 (unknown) and rows are cut to
``seq_len`` tokens.
"""

from __future__ import annotations

from typing import Any

import keras

from automl.errors import DataError
from automl.models import InputSpec
from automl.models.blocks import conv_stack, dense_block, finish, recurrent_stack


def build(hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    if len(spec.shape) != 1:
        raise DataError(
            "model.family 'text' needs token id rows (data.kind: text); "
            f"the data gives samples of shape {spec.shape}"
        )
    length = int(spec.shape[0])
    vocab = int(hp["vocab_size"])
    if spec.vocab_size:
        vocab = min(vocab, int(spec.vocab_size))
    seq_len = min(int(hp["seq_len"]), length)
    inputs = keras.Input(shape=(length,), dtype="int32", name="tokens")
    x = inputs
    if seq_len < length:
        x = x[:, :seq_len]
    if vocab < spec.vocab_size or not spec.vocab_size:
        x = keras.ops.where(x >= vocab, 1, x)
    body = hp["body"]
    # Recurrent layers skip the padding; convolutions and pooling see it as a token.
    x = keras.layers.Embedding(
        vocab, hp["embedding_dim"], mask_zero=body in ("lstm", "gru"), name="embedding"
    )(x)
    if body in ("lstm", "gru"):
        x = recurrent_stack(x, hp, body, name=body)
    elif body == "conv1d":
        x = conv_stack(x, hp["units"], hp["kernel_size"], hp, "max", name="conv")
        x = keras.layers.GlobalMaxPooling1D(name="global_max")(x)
    else:
        x = keras.layers.GlobalAveragePooling1D(name="gap")(x)
        for i, units in enumerate(hp["units"]):
            x = dense_block(x, units, hp, name=f"hidden{i}")
    return keras.Model(inputs, finish(x, hp, spec), name="text")
