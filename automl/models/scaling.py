"""Per-trial numeric scaling of table features, inside the model.

The data layer standardizes a table once per study. ``scaling: quantile`` (an ``mlp``
tunable) puts a fixed quantile transform in front of the trial's model instead of
preparing the data again: each feature is mapped through the piecewise-linear function
that sends its training quantiles to those of a standard normal. Being part of the model,
it travels with it to the test evaluation, ensembles, ``preprocess`` and ``export``, and
it is built from stock layers (``EinsumDense``, ``ReLU``), so the model still loads in
Keras safe mode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

N_KNOTS = 33  # quantiles per feature
TAIL = 1e-3  # the outermost quantiles map to the normal's 0.1 % and 99.9 % points


def knots(x: np.ndarray, n: int = N_KNOTS) -> tuple[np.ndarray, np.ndarray]:
    """Per feature, the hinge positions and weights of f(x) = t0 + sum c_k relu(x - q_k).

    Returns ``q`` and ``c`` of shape (features, n) and ``t0`` of shape (features,) packed
    as ``(q, np.column_stack([c, t0]))``.
    """
    from scipy.stats import norm

    probs = np.linspace(0.0, 1.0, n)
    targets = norm.ppf(np.clip(probs, TAIL, 1 - TAIL))
    quantiles = np.quantile(np.asarray(x, dtype="float64"), probs, axis=0).T
    q_out = np.zeros((len(quantiles), n))
    c_out = np.zeros((len(quantiles), n + 1))
    for i, q in enumerate(quantiles):
        # Equal quantiles (ties, binary columns) merge; their targets are averaged.
        qs, inverse = np.unique(q, return_inverse=True)
        ts = np.bincount(inverse, weights=targets) / np.bincount(inverse)
        if len(qs) < 2:  # a constant feature: pass it through
            q_out[i], c_out[i, 0], c_out[i, -1] = qs[0], 1.0, qs[0]
            continue
        slopes = np.diff(ts) / np.diff(qs)
        c = np.concatenate([[slopes[0]], np.diff(slopes), [-slopes[-1]]])
        q_out[i] = np.concatenate([qs, np.full(n - len(qs), qs[-1])])
        c_out[i, : len(c)] = c
        c_out[i, -1] = ts[0]
    return q_out, c_out


def transform(x: np.ndarray, q: np.ndarray, c: np.ndarray) -> np.ndarray:
    """What :func:`quantile_front` does to ``x`` (2-D), in NumPy, from :func:`knots`."""
    x = np.asarray(x, dtype="float64")
    out = np.empty_like(x)
    for j in range(x.shape[1]):  # a column at a time: (rows, knots) stays small
        out[:, j] = np.maximum(x[:, j, None] - q[j], 0.0) @ c[j, :-1] + c[j, -1]
    return out


def quantile_front(model: Any, x_train: np.ndarray, passthrough: int = 0) -> Any:
    """``model`` behind a fixed quantile transform fitted on ``x_train`` (2-D features).

    The last ``passthrough`` features (category codes, >= 0) pass unchanged: relu(x - 0).
    """
    import keras

    q, c = knots(x_train)
    if passthrough:
        q[-passthrough:], c[-passthrough:] = 0.0, 0.0
        c[-passthrough:, 0] = 1.0
    d, n = q.shape
    inp = keras.Input(shape=(d,), name="features_raw")
    hinge = keras.layers.EinsumDense(
        "ab,bc->abc", output_shape=(d, n), bias_axes="bc", trainable=False, name="quantile_knots"
    )
    mix = keras.layers.EinsumDense(
        "abc,bc->ab", output_shape=(d,), bias_axes="b", trainable=False, name="quantile_map"
    )
    z = mix(keras.layers.ReLU(name="quantile_hinge")(hinge(inp)))
    hinge.set_weights([np.ones((d, n), dtype="float32"), -q.astype("float32")])
    mix.set_weights([c[:, :-1].astype("float32"), c[:, -1].astype("float32")])
    return keras.Model(inp, model(z), name=f"quantile_{model.name}")
