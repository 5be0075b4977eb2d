"""E9: vs_kerastuner's HyperModel, random draws trained 30 epochs with val AND test recorded
every epoch (no early stopping), to replay epoch-choice and trial-choice rules offline.

Usage: python benchmarks/research/kt_selection.py N OUT.jsonl [SEED]
       python benchmarks/research/kt_selection.py --replay OUT.jsonl
The replay draws n trials at random (2000 times), applies the user's EarlyStopping
(val_accuracy, patience 5) and a rule for which epoch's weights a trial keeps, chooses one
trial by max val_accuracy (ties: lower val_loss at the kept epoch) and scores it on test.
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import optuna  # noqa: E402
from vs_kerastuner import DigitsCNN, digits  # noqa: E402

from automl.hp import OptunaHyperParameters  # noqa: E402


class Record(keras.callbacks.Callback):
    def __init__(self, test) -> None:
        super().__init__()
        self.test, self.rows = test, []

    def on_epoch_end(self, epoch, logs=None):
        out = self.model.predict(self.test[0], verbose=0, batch_size=512)
        row = {k: float(v) for k, v in (logs or {}).items()}
        row["test_accuracy"] = float((out.argmax(1) == self.test[1]).mean())
        self.rows.append(row)


def collect(n: int, out: str, seed: int) -> None:
    data = digits()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    for i in range(n):
        trial = study.ask()
        hp = OptunaHyperParameters(trial)
        keras.utils.set_random_seed(1000 * seed + i)
        model = DigitsCNN().build(hp)
        rec = Record(data["test"])
        t = time.perf_counter()
        DigitsCNN().fit(hp, model, *data["train"], validation_data=data["validation"],
                        epochs=30, verbose=0, callbacks=[rec])
        row = {"i": i, "params": trial.params, "rows": rec.rows, "s": time.perf_counter() - t}
        with open(out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(i, round(row["s"], 1), max(r["val_accuracy"] for r in rec.rows), flush=True)


def stop_epoch(rows, patience=5):
    """Last epoch the user's EarlyStopping(val_accuracy, patience 5) lets run."""
    best, wait = -1.0, 0
    for e, r in enumerate(rows):
        if r["val_accuracy"] > best:
            best, wait = r["val_accuracy"], 0
        else:
            wait += 1
            if wait >= patience:
                return e
    return len(rows) - 1


def kept_epoch(rows, rule):
    seen = rows[: stop_epoch(rows) + 1]
    if rule == "first_max":  # Keras' restore_best_weights on val_accuracy
        top = max(r["val_accuracy"] for r in seen)
        return next(e for e, r in enumerate(seen) if r["val_accuracy"] == top)
    if rule == "max_then_loss":
        return min(range(len(seen)), key=lambda e: (-seen[e]["val_accuracy"], seen[e]["val_loss"]))
    if rule == "min_loss":
        return min(range(len(seen)), key=lambda e: seen[e]["val_loss"])
    raise ValueError(rule)


def replay(path: str) -> None:
    trials = [json.loads(line) for line in open(path)]
    rng = np.random.default_rng(0)
    print(f"{len(trials)} trials")
    for rule in ("first_max", "max_then_loss", "min_loss"):
        kept = [t["rows"][kept_epoch(t["rows"], rule)] for t in trials]
        mean = np.mean([k["test_accuracy"] for k in kept])
        cells = []
        for n in (10, 20, 30, 40):
            if n > len(trials):
                continue
            scores = []
            for _ in range(2000):
                pick = rng.choice(len(trials), n, replace=False)
                best = min(pick, key=lambda i: (-kept[i]["val_accuracy"], kept[i]["val_loss"]))
                scores.append(kept[best]["test_accuracy"])
            cells.append(f"n={n} {np.mean(scores):.4f}")
        print(f"{rule:<15} mean {mean:.4f}  " + "  ".join(cells))


if __name__ == "__main__":
    if sys.argv[1] == "--replay":
        replay(sys.argv[2])
    else:
        collect(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
