"""automl.Tuner against KerasTuner's own tuners on one build function (digits CNN).

One ``HyperModel`` with the hyperparameters of ``search_spaces/digits_cnn.yaml`` (no
augmentation; batch size tuned in ``fit``) runs under KerasTuner's RandomSearch
(``--trials`` trials), Hyperband (``max_epochs=--epochs``, one iteration) and
BayesianOptimization (``--trials`` trials), each with EarlyStopping patience 5, and under
``automl.Tuner`` (TPE + median pruning, the same EarlyStopping) given half the median
KerasTuner wall time of that seed. Every tuner sees the same split: 15 % test stratified
with random_state 0 and 15 % validation, as digits_cnn draws them.

Usage: python benchmarks/vs_kerastuner.py [--seeds 0 1 2] [--trials 20] [--epochs 30]
Prints a line as each tuner ends, then one row per (tuner, seed): seconds, trials, best
validation accuracy, and the test accuracy of ``get_best_models(1)[0]`` ("test acc"), of
the single best model ("single") and of an ensemble ("ensemble"). automl's tuner is
created with ``ensemble=True``, so its first model is the ensemble of its kept models
(greedy selection on validation); KerasTuner's first model is its single best, and its
ensemble is the average of ``get_best_models(5)`` as a KerasTuner user would build it.
The last line, ``median test accuracy: automl X at half the time, best kerastuner Y``,
compares the first models; the two lines above it compare single best models and
ensembles.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import numpy as np  # noqa: E402
from _common import Table  # noqa: E402

import automl  # noqa: E402
from automl.data import make_split  # noqa: E402

# KerasTuner imports TensorBoard in every trial on the TensorFlow backend, for TensorBoard
# callbacks only (none here); TensorBoard is not installed with automl.
kt.Tuner._configure_tensorboard_dir = lambda self, callbacks, trial, execution=0: None


class DigitsCNN(kt.HyperModel):
    """digits_cnn's search space as a KerasTuner HyperModel."""

    def build(self, hp: Any) -> keras.Model:
        activation = hp.Choice("activation", ["relu", "gelu", "silu"])
        batch_norm = hp.Boolean("batch_norm")
        kernel = hp.Choice("kernel_size", [3, 5])
        x = inputs = keras.Input((8, 8, 1))
        size = 8
        for i in range(hp.Int("n_layers", 1, 3)):
            x = keras.layers.Conv2D(
                hp.Int(f"filters_{i}", 16, 64, step=16), kernel, padding="same"
            )(x)
            if batch_norm:
                x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Activation(activation)(x)
            if size >= 2:
                x = keras.layers.MaxPooling2D(2, padding="same")(x)
                size = (size + 1) // 2
        x = keras.layers.Flatten()(x)
        dropout = hp.Float("dropout", 0.0, 0.4)
        if dropout > 0:
            x = keras.layers.Dropout(dropout)(x)
        dense = hp.Choice("dense_units", [0, 64, 128])
        if dense:
            x = keras.layers.Activation(activation)(keras.layers.Dense(dense)(x))
        model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
        lr = hp.Float("learning_rate", 1e-3, 1e-2, sampling="log")
        optimizers = {
            "adam": keras.optimizers.Adam,
            "adamw": keras.optimizers.AdamW,
        }
        optimizer = optimizers[hp.Choice("optimizer", list(optimizers))](lr)
        model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp: Any, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        return model.fit(*args, batch_size=hp.Choice("batch_size", [32, 64]), **kwargs)


def digits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.reshape(-1, 8, 8, 1) / 16.0).astype("float32")
    y = d.target.astype("int32")
    split = make_split(y, 0.15, 0.15, 0, True)
    return {k: (x[i], y[i]) for k, i in split.items()}


def accuracy(model: keras.Model, data: tuple[np.ndarray, np.ndarray]) -> float:
    return float(np.mean(model.predict(data[0], verbose=0).argmax(axis=1) == data[1]))


def average_accuracy(models: list[keras.Model], data: tuple[np.ndarray, np.ndarray]) -> float:
    """Test accuracy of the models' averaged class probabilities."""
    probs = np.mean([m.predict(data[0], verbose=0) for m in models], axis=0)
    return float(np.mean(probs.argmax(axis=1) == data[1]))


def early() -> keras.callbacks.EarlyStopping:
    return keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=5)


def run_kerastuner(kind: str, seed: int, trials: int, epochs: int, data: dict) -> dict:
    folder = tempfile.mkdtemp(prefix="kt-")
    common = {
        "objective": "val_accuracy",
        "seed": seed,
        "directory": folder,
        "project_name": kind,
        "overwrite": True,
    }
    if kind == "hyperband":
        tuner = kt.Hyperband(DigitsCNN(), max_epochs=epochs, hyperband_iterations=1, **common)
    elif kind == "random":
        tuner = kt.RandomSearch(DigitsCNN(), max_trials=trials, **common)
    else:
        tuner = kt.BayesianOptimization(DigitsCNN(), max_trials=trials, **common)
    start = time.perf_counter()
    tuner.search(
        *data["train"],
        validation_data=data["validation"],
        epochs=epochs,
        callbacks=[early()],
        verbose=0,
    )
    seconds = time.perf_counter() - start
    best = tuner.oracle.get_best_trials(1)[0]
    single = accuracy(tuner.get_best_models(1)[0], data["test"])
    return {
        "tuner": f"kerastuner {kind}",
        "seed": seed,
        "seconds": seconds,
        "trials": len(tuner.oracle.trials),
        "best_val": float(best.score),
        "first": single,
        "single": single,
        "ensemble": average_accuracy(tuner.get_best_models(5), data["test"]),
    }


def run_automl(seed: int, budget_s: float, epochs: int, data: dict) -> dict:
    folder = tempfile.mkdtemp(prefix="automl-")
    tuner = automl.Tuner(
        DigitsCNN(),
        objective="val_accuracy",
        max_trials=10_000,
        directory=folder,
        project_name="digits",
        seed=seed,
        sampler="tpe",
        pruner="median",
        overwrite=True,
        ensemble=True,  # get_best_models()'s first model: the kept models' ensemble
    )
    start = time.perf_counter()
    # timeout: no new trial after it; the trial in flight ends within the budget's slack.
    # No test_data: trials, the best model and the ensemble's members are all chosen on
    # validation, and the test split is seen only below.
    tuner.search(
        *data["train"],
        validation_data=data["validation"],
        epochs=epochs,
        callbacks=[early()],
        timeout=budget_s,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    record = tuner.sweep.record(models=False)
    first = accuracy(tuner.get_best_models(1)[0], data["test"])
    return {
        "tuner": "automl tpe+median",
        "seed": seed,
        "seconds": seconds,
        "trials": sum(t.state in ("COMPLETE", "PRUNED") for t in record.trials),
        "best_val": tuner.sweep.best_value,
        "first": first,
        "single": accuracy(tuner.sweep.best_model(), data["test"]),
        "ensemble": first,
    }


def progress(row: dict) -> dict:
    """Print one line as each tuner ends (the table follows at the end), and pass it on."""
    print(
        f"[{time.strftime('%H:%M:%S')}] seed {row['seed']} {row['tuner']}: "
        f"{row['seconds']:.0f} s, {row['trials']} trials, test accuracy {row['first']:.4f}",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    data = digits()
    rows = []
    for seed in args.seeds:
        kt_rows = [
            progress(run_kerastuner(k, seed, args.trials, args.epochs, data))
            for k in ("random", "hyperband", "bayesian")
        ]
        half = statistics.median(r["seconds"] for r in kt_rows) / 2
        rows += [*kt_rows, progress(run_automl(seed, half, args.epochs, data))]
    table = Table(
        ("tuner", "<24"),
        ("seed", ">5"),
        ("seconds", ">9.1f"),
        ("trials", ">8"),
        ("best val", ">10.4f"),
        ("test acc", ">10.4f"),
        ("single", ">10.4f"),
        ("ensemble", ">10.4f"),
    )
    print(table.header())
    for r in rows:
        keys = ("tuner", "seed", "seconds", "trials", "best_val", "first", "single", "ensemble")
        print(table.row(*(r[k] for k in keys)))
    ours, theirs = medians(rows, "single")
    print(f"median single-best test accuracy: automl {ours:.4f}, best kerastuner {theirs:.4f}")
    ours, theirs = medians(rows, "ensemble")
    print(
        f"median ensemble test accuracy: automl {ours:.4f} (its ensemble), "
        f"best kerastuner {theirs:.4f} (top-5 average)"
    )
    ours, theirs = medians(rows, "first")
    print(f"median test accuracy: automl {ours:.4f} at half the time, best kerastuner {theirs:.4f}")


def medians(rows: list[dict], key: str) -> tuple[float, float]:
    """automl's median over seeds, and the best KerasTuner tuner's median."""
    by_tuner: dict[str, list[float]] = {}
    for r in rows:
        by_tuner.setdefault(r["tuner"], []).append(r[key])
    ours = statistics.median(by_tuner.pop("automl tpe+median"))
    return ours, max(statistics.median(v) for v in by_tuner.values())


if __name__ == "__main__":
    main()
