"""E9/E10: replays the median pruner, with and without the training-side guard and with a
warm-up, over the curves kt_selection.py collected.

Usage: python benchmarks/research/kt_pruning.py OUT.jsonl [TRIAL_COST]
Budgets are in epochs (1000 random orders each). TRIAL_COST (default 0) charges every
trial that many epochs more, for what a trial costs whatever its length (building, tracing
the train and validation functions, saving): on 2 CPU cores the benchmark's model spends
about 1.3 s on that against 0.2 s an epoch, so 6 is the measured figure. The last block
is the benchmark's question: 20 trials of random search without pruning (what
KerasTuner's RandomSearch runs), against each rule given half of its mean cost.
"veto" = prune only when the trial's best training accuracy so far is also below the
completed trials' median at that epoch (automl.user_train._Tracker.spared); "warm" = the
first epochs never pruned.
"""

import json
import sys

import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__file__))
from kt_selection import kept_epoch, stop_epoch  # noqa: E402

with open(sys.argv[1]) as _f:
    T = [json.loads(line) for line in _f]
COST = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0


def run(order, mode, budget, warm=1, startup=4, max_trials=None):
    seen = []
    done = []
    spent = 0.0
    for i in order:
        if spent >= budget or (max_trials is not None and len(seen) >= max_trials):
            break
        r = T[i]["rows"]
        end = stop_epoch(r)
        pruned = False
        last = end
        spent += COST
        for s in range(end + 1):
            spent += 1
            comp = [(v, t) for v, t, c in seen if c]
            if mode == "none" or len(comp) < startup or s < warm:
                continue
            others = [(v[s], t[s]) for v, t in comp if len(v) > s]
            if not others:
                continue
            mv = np.median([o[0] for o in others])
            mt = np.median([o[1] for o in others])
            cur = max(x["val_accuracy"] for x in r[: s + 1])
            curt = max(x["accuracy"] for x in r[: s + 1])
            if cur < mv and (mode == "median" or curt < mt):
                pruned = True
                last = s
                break
        seen.append(
            (
                [x["val_accuracy"] for x in r[: last + 1]],
                [x["accuracy"] for x in r[: last + 1]],
                not pruned,
            )
        )
        if not pruned:
            e = kept_epoch(r, "max_then_loss")
            done.append((-r[e]["val_accuracy"], r[e]["val_loss"], r[e]["test_accuracy"]))
    return (min(done)[2] if done else 0), spent, len(done), len(seen)


RULES = (
    ("none", 1),
    ("median", 1),
    ("median", 5),
    ("veto", 1),
    ("veto", 5),
)


def table(budget, max_trials=None):
    rng = np.random.default_rng(1)
    for mode, warm in RULES:
        res = [
            run(rng.permutation(len(T)), mode, budget, warm=warm, max_trials=max_trials)
            for _ in range(1000)
        ]
        a = np.array(res)
        print(
            f"{budget:>7.0f} {mode:<7} warm {warm}  test {a[:, 0].mean():.4f}  "
            f"cost {a[:, 1].mean():.0f}  complete {a[:, 2].mean():.1f}  trials {a[:, 3].mean():.1f}"
        )


print(f"{len(T)} trials, trial cost {COST:g} epochs")
for budget in (150, 250):
    table(budget + 15 * COST)
rng = np.random.default_rng(2)
ref = np.array([run(rng.permutation(len(T)), "none", 1e9, max_trials=20) for _ in range(1000)])
print(f"random search, 20 trials: test {ref[:, 0].mean():.4f}  cost {ref[:, 1].mean():.0f}")
table(ref[:, 1].mean() / 2)
