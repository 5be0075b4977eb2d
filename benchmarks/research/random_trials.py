"""E1: random configurations from a ready space (digits_cnn, wine_mlp, ...), trained 30 epochs with val AND test
recorded every epoch (no early stopping), to replay selection policies offline.

Usage: python benchmarks/research/random_trials.py SPACE N OUT.jsonl [SEED]
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as H  # noqa: E402
import optuna  # noqa: E402

from automl.space import suggest  # noqa: E402
from automl.spec import load_spec  # noqa: E402

space, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
spec = load_spec(space)
data = H.splits_for(space)
study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
done = len(H.read_jsonl(out))
for i in range(n):
    trial = study.ask()
    hp = suggest(trial, spec)
    if i < done:  # resume: same draws, skip the trained ones
        continue
    t = time.perf_counter()
    try:
        r = H.run(data, hp, seed=1000 * seed + i, epochs=spec.training.max_epochs, keep_probs=True, family=spec.model.family)
    except Exception as exc:  # noqa: BLE001
        r = {"hp": hp, "error": repr(exc)}
    r["i"] = i
    r["wall_s"] = time.perf_counter() - t
    H.append_jsonl(out, r)
    h = r.get("history", {})
    print(i, round(r["wall_s"], 1), h.get("val_accuracy", [0])[-1], h.get("test_accuracy", [0])[-1], flush=True)
