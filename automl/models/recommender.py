"""Recommenders: user and item embeddings scored by MF, an MLP, or NeuMF (He et al. 2017).

The input is one int pair ``[user_idx, item_idx]`` per sample. ``mf`` scores the dot
product of the two embeddings plus a user and an item bias; ``mlp`` runs dense layers over
the concatenated embeddings; ``neumf`` fuses both (its own embeddings for each part) in
one last layer; ``bias`` is the user and item biases alone, the classic baseline that a
sparse rating set often leaves unbeaten. Ratings come out in rating units (the score is a
standardized rating, offset by the train mean); implicit feedback comes out as two-class
probabilities whose class 1 is "interacts", so the trainer's classification loss is the
usual binary cross-entropy.

For ratings the biases carry an L2 penalty of ``bias_damping`` ratings (scaled by the
train size, so that it means the same on any data set) and the trainer starts them at
their closed-form values (:func:`start_from_biases`): every body starts as the biases
baseline and early stopping keeps its best epoch.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from automl.errors import DataError
from automl.models import InputSpec
from automl.models.params import RECOMMENDER_PARAMS


def _embed(x: Any, size: int, dim: int, l2: float, name: str) -> Any:
    reg = keras.regularizers.L2(l2) if l2 > 0 else None
    init = keras.initializers.RandomNormal(stddev=0.05)
    layer = keras.layers.Embedding(
        size, dim, embeddings_initializer=init, embeddings_regularizer=reg, name=name
    )
    return layer(x)


def _mf(user: Any, item: Any, hp: dict[str, Any], spec: InputSpec, prefix: str) -> Any:
    dim, l2 = int(hp["embedding_dim"]), float(hp["l2"])
    p = _embed(user, spec.n_users, dim, l2, f"{prefix}user_embedding")
    q = _embed(item, spec.n_items, dim, l2, f"{prefix}item_embedding")
    return keras.layers.Multiply(name=f"{prefix}product")([p, q])


def _mlp(user: Any, item: Any, hp: dict[str, Any], spec: InputSpec) -> Any:
    dim, l2 = int(hp["embedding_dim"]), float(hp["l2"])
    p = _embed(user, spec.n_users, dim, l2, "mlp_user_embedding")
    q = _embed(item, spec.n_items, dim, l2, "mlp_item_embedding")
    x = keras.layers.Concatenate(name="mlp_concat")([p, q])
    for i, units in enumerate(hp["units"]):
        x = keras.layers.Dense(units, activation=hp["activation"], name=f"mlp{i}")(x)
        if hp["dropout"] > 0:
            x = keras.layers.Dropout(hp["dropout"], name=f"mlp{i}_dropout")(x)
    return x


def _biases(user: Any, item: Any, spec: InputSpec, hp: dict[str, Any]) -> Any:
    zeros = keras.initializers.Zeros()
    # The loss is a mean over the batch, the penalty a sum over the table: dividing by the
    # train size makes it `bias_damping` ratings' worth, whatever the data's size.
    damping = float(hp.get("bias_damping", RECOMMENDER_PARAMS["bias_damping"].default))
    ratings = spec.task == "regression" and spec.n_train > 0 and damping > 0
    reg = keras.regularizers.L2(damping / spec.n_train) if ratings else None
    b_u, b_i = (
        keras.layers.Embedding(
            size, 1, embeddings_initializer=zeros, embeddings_regularizer=reg, name=name
        )
        for size, name in ((spec.n_users, "user_bias"), (spec.n_items, "item_bias"))
    )
    return keras.layers.Add(name="biases")([b_u(user), b_i(item)])


def start_from_biases(model: keras.Model, user_bias: Any, item_bias: Any) -> None:
    """Set a rating model's user and item biases (standardized units: rating / std)."""
    names = {layer.name for layer in model.layers}
    for name, values in (("user_bias", user_bias), ("item_bias", item_bias)):
        if name in names:
            layer = model.get_layer(name)
            layer.set_weights([np.asarray(values, dtype="float32").reshape(-1, 1)])


def build(hp: dict[str, Any], spec: InputSpec) -> keras.Model:
    if spec.shape != (2,) or not spec.n_users or not spec.n_items:
        raise DataError(
            "model.family 'recommender' needs user-item interactions (data.kind: "
            f"interactions); the data gives samples of shape {spec.shape}"
        )
    inputs = keras.Input(shape=(2,), dtype="int32", name="user_item")
    user, item = inputs[:, 0], inputs[:, 1]
    body = hp["body"]
    if body == "bias":
        score = _biases(user, item, spec, hp)
    elif body == "mf":
        # The classic biased MF: the score is the dot product (a sum, no learned weights).
        dot = keras.ops.sum(_mf(user, item, hp, spec, ""), axis=-1, keepdims=True)
        score = keras.layers.Add(name="score")([dot, _biases(user, item, spec, hp)])
    else:
        parts = [_mlp(user, item, hp, spec)]
        if body == "neumf":
            parts.insert(0, _mf(user, item, hp, spec, "gmf_"))
        x = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="fuse")(parts)
        score = keras.layers.Dense(1, name="predict")(x)
        score = keras.layers.Add(name="score")([score, _biases(user, item, spec, hp)])
    return keras.Model(inputs, _output(score, spec), name=f"recommender_{body}")


def _output(score: Any, spec: InputSpec) -> Any:
    if spec.task == "classification":
        # softmax([-s/2, s/2]) = [1 - sigmoid(s), sigmoid(s)]: a two-class head on one score.
        pair = keras.ops.concatenate([-0.5 * score, 0.5 * score], axis=-1)
        return keras.layers.Softmax(name="output")(pair)
    return keras.layers.Rescaling(spec.target_std, offset=spec.target_mean, name="to_units")(score)
