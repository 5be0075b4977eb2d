"""automl's overhead against a plain hand-written Optuna + Keras loop.

Both run the same 10 fixed CNN configurations on scikit-learn's digits (enqueued, no
pruning, 10 epochs each, same split fractions), each as a whole fresh process timed from
start to exit, imports included: what a user waits for. The hand-written loop does what a
careful script does: train, keep the best model on disk, evaluate it on the test split.
automl also stores every epoch in a journal file, measures latency, keeps the best models,
evaluates them on test, and trains in a worker process of its own.

Usage: python benchmarks/overhead.py [--epochs 10] [--repeat 3]
Each run is repeated (3 by default) and the median is reported, with where automl's seconds
go (imports, study creation, worker start-up, training, gaps between trials, the final
test evaluation, interpreter start and exit). The last line is ``overhead ratio: X``
(median automl seconds / median hand-written seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from _common import Table, backend, digits_spec, temp_storage

BOOT = time.time()  # this child's script start, after the interpreter started

CONFIGS = [
    {
        "n_layers": n,
        "filters_0": f,
        "filters_1": f,
        "kernel_size": k,
        "activation": a,
        "learning_rate": lr,
        "batch_size": b,
    }
    for n, f, k, a, lr, b in [
        (1, 16, 3, "relu", 3e-3, 32),
        (2, 32, 3, "relu", 2e-3, 32),
        (2, 16, 5, "gelu", 3e-3, 64),
        (1, 32, 3, "silu", 5e-3, 64),
        (2, 32, 3, "elu", 1e-3, 32),
        (2, 48, 3, "relu", 2e-3, 64),
        (1, 48, 5, "relu", 3e-3, 32),
        (2, 16, 3, "tanh", 4e-3, 32),
        (1, 16, 5, "gelu", 2e-3, 64),
        (2, 32, 5, "silu", 1e-3, 64),
    ]
]


def spec_dict(epochs: int) -> dict:
    return digits_spec(
        "overhead",
        "cnn",
        data={"validation": 0.15, "test": 0.15, "split_seed": 0},
        search={
            "n_layers": [1, 2],
            "filters": {"choices": [16, 32, 48], "per_layer": True},
            "kernel_size": [3, 5],
            "activation": ["relu", "gelu", "silu", "elu", "tanh"],
            "learning_rate": {"low": 1e-3, "high": 5e-3, "log": True},
            "batch_size": [32, 64],
            "pooling": "max",
            "dense_units": 64,
            "dropout": 0.0,
            "batch_norm": False,
        },
        training={"max_epochs": epochs, "patience": None},
        enqueue=CONFIGS,
    )


def run_automl(epochs: int) -> float:
    import automl
    from automl.search.spec import validate_spec

    imported = time.time()
    spec = validate_spec(spec_dict(epochs))
    marks: dict[str, float] = {}
    with temp_storage() as (_, url):
        start = time.time()
        sweep = automl.tune(
            spec,
            trials=len(CONFIGS),
            storage=url,
            on_start=lambda name: marks.setdefault("started", time.time()),
        )
        end = time.time()
        assert len(sweep.study.trials) == len(CONFIGS)
        trials = sweep.record(models=False).trials
        first = min(t.start.timestamp() for t in trials if t.start)
        last = max(t.complete.timestamp() for t in trials if t.complete)
        training = sum(t.duration_s for t in trials)
        phases = {
            "imports (automl, numpy, optuna...)": imported - BOOT,
            "study creation (data, split)": marks["started"] - start,
            "worker start-up (until trial 0)": first - marks["started"],
            "training (sum of trial durations)": training,
            "between trials (ask, tell, save)": last - first - training,
            "after the last trial (test eval)": end - last,
            "in-script total": end - BOOT,
        }
        doc = {"test_accuracy": sweep.test_metrics.get("accuracy"), "phases": phases}
        print(json.dumps(doc), file=sys.stderr)
    return end - start


def run_handwritten(epochs: int) -> float:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import optuna
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        d = load_digits()
        x = (d.images.reshape(-1, 8, 8, 1) / 16.0).astype("float32")
        y = d.target.astype("int32")
        x_rest, x_te, y_rest, y_te = train_test_split(
            x, y, test_size=0.15, random_state=0, stratify=y
        )
        x_tr, x_va, y_tr, y_va = train_test_split(
            x_rest, y_rest, test_size=0.15 / 0.85, random_state=1, stratify=y_rest
        )
        best_path = f"{tmp}/best.keras"
        best = {"value": -1.0}

        def objective(trial: optuna.Trial) -> float:
            keras.utils.set_random_seed(trial.number)
            n = trial.suggest_categorical("n_layers", [1, 2])
            k = trial.suggest_categorical("kernel_size", [3, 5])
            act = trial.suggest_categorical("activation", ["relu", "gelu", "silu", "elu", "tanh"])
            lr = trial.suggest_float("learning_rate", 1e-3, 5e-3, log=True)
            batch = trial.suggest_categorical("batch_size", [32, 64])
            inputs = keras.Input((8, 8, 1))
            h = inputs
            for i in range(n):
                f = trial.suggest_categorical(f"filters_{i}", [16, 32, 48])
                h = keras.layers.Conv2D(f, k, padding="same", activation=act)(h)
                h = keras.layers.MaxPooling2D(2, padding="same")(h)
            h = keras.layers.Flatten()(h)
            h = keras.layers.Dense(64, activation=act)(h)
            model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))
            model.compile(
                keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"]
            )
            hist = model.fit(
                x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs, batch_size=batch, verbose=0
            )
            value = max(hist.history["val_accuracy"])
            if value > best["value"]:
                best["value"] = value
                model.save(best_path)
            return value

        study = optuna.create_study(direction="maximize")
        for cfg in CONFIGS:
            study.enqueue_trial(cfg)
        study.optimize(objective, n_trials=len(CONFIGS))
        model = keras.saving.load_model(best_path)
        acc = float((model.predict(x_te, verbose=0).argmax(1) == y_te).mean())
        elapsed = time.perf_counter() - start
        print(json.dumps({"test_accuracy": acc}), file=sys.stderr)
    return elapsed


def child(mode: str, epochs: int) -> tuple[float, dict]:
    """Wall time of a whole child process (start-up and imports included), and its report."""
    cmd = [sys.executable, __file__, "--child", mode, "--epochs", str(epochs)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{mode} run failed:\n{proc.stderr[-3000:]}")
    doc: dict = {}
    for line in proc.stderr.splitlines():
        if line.startswith("{"):
            doc = json.loads(line)
    return seconds, doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["automl", "handwritten"])
    args = parser.parse_args()
    if args.child:
        run = run_automl if args.child == "automl" else run_handwritten
        print(f"{run(args.epochs):.3f}")
        return
    times: dict[str, list[float]] = {"handwritten": [], "automl": []}
    accs: dict[str, float | None] = {}
    phases: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        for mode in ("handwritten", "automl"):
            seconds, doc = child(mode, args.epochs)
            times[mode].append(seconds)
            accs[mode] = doc.get("test_accuracy")
            for key, value in doc.get("phases", {}).items():
                phases.setdefault(key, []).append(value)
            if mode == "automl":
                in_script = doc["phases"]["in-script total"]
                phases.setdefault("interpreter start and exit", []).append(seconds - in_script)
    median = {mode: statistics.median(values) for mode, values in times.items()}
    print(
        f"{len(CONFIGS)} configurations x {args.epochs} epochs, digits CNN, "
        f"backend {backend()}, {os.cpu_count()} CPUs"
    )
    seconds = f"seconds (median of {args.repeat})"
    table = Table(("run", "<14"), (seconds, ">26.2f"), ("test accuracy", ">16.4f"))
    print(table.header())
    for mode in ("handwritten", "automl"):
        acc = accs[mode] if accs[mode] is not None else float("nan")
        runs = " ".join(f"{t:.2f}" for t in times[mode])
        print(f"{table.row(mode, median[mode], acc)}   runs: {runs}")
    print("\nautoml breakdown (median seconds)")
    for key, values in phases.items():
        print(f"  {key:<38}{statistics.median(values):>8.2f}")
    print(f"overhead ratio: {median['automl'] / median['handwritten']:.3f}")


if __name__ == "__main__":
    main()
