"""E7: end to end. Runs real automl sweeps (in-process) of a space for a few sampler seeds
and reports, per sweep: the chosen model's validation and test accuracy, the kept models'
test accuracies, a top-5 ensemble of the kept models (probabilities averaged; an estimate
of what an ensemble feature would give) and the compute time.

Usage: PYTHONPATH=<automl checkout> python tune_compare.py SPACE_YAML TRIALS OUT.jsonl SEED...
Run it with PYTHONPATH pointing at the code to test (e.g. an export of HEAD for the old
family code).
"""

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from automl._env import load_keras, quiet

quiet()
load_keras()
import automl  # noqa: E402
from automl import training  # noqa: E402
from automl.context import splits_of  # noqa: E402

space, trials, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for seed in map(int, sys.argv[4:]):
    tmp = tempfile.mkdtemp(prefix="tc-")
    storage = f"{tmp}/journal.log"
    t = time.perf_counter()
    sweep = automl.tune(space, trials=trials, seed=seed, storage=storage, in_process=True,
                        study=f"s{seed}")
    wall = time.perf_counter() - t
    lb = sweep.leaderboard()
    done = lb[lb["state"] == "COMPLETE"]
    data = splits_of(sweep.study, storage)
    best = sweep.best_trial
    kept = [int(n) for n in done["number"] if sweep.study.trials[int(n)].user_attrs.get("artifact_id")]
    direction = sweep.directions[0]
    ranked = sorted(kept, key=lambda n: sweep.study.trials[n].values[0] * (-1 if direction == "maximize" else 1))
    probs, tests = [], {}
    for n in ranked:
        p = training.predict(sweep.model(n), data.x_test)
        probs.append(p)
        tests[n] = float((p.argmax(1) == data.y_test).mean())
    ens = float((np.mean(probs[:5], axis=0).argmax(1) == data.y_test).mean()) if probs else None
    m = best.user_attrs.get("metrics", {})
    row = {
        "space": space, "seed": seed, "trials": trials, "wall_s": round(wall, 1),
        "compute_s": round(float(lb["duration_s"].sum()), 1),
        "best_trial": best.number, "best_value": best.values[0],
        "best_val_accuracy": m.get("val_accuracy"), "best_test_accuracy": sweep.test_metrics.get("accuracy"),
        "kept_test": [tests[n] for n in ranked], "ensemble5_test": ens,
        "states": lb["state"].value_counts().to_dict(),
        "fail_reasons": lb["fail_reason"].value_counts().to_dict() if "fail_reason" in lb else {},
    }
    with open(out, "a") as f:
        f.write(json.dumps(row, default=str) + "\n")
    print(json.dumps(row, default=str), flush=True)
