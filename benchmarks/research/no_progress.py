"""E8: replay candidate `no_progress` rules on every recorded learning curve (all epochs
were trained, so we know whether a trial that looked dead later learned).

A trial 'learns' if its best val_accuracy ever exceeds chance + 0.2; a rule 'kills' it at
epoch N if its condition holds on epochs 1..N. False kill: a killed trial that learns.

Usage: python no_progress.py results/*.jsonl
"""

import json
import math
import sys

import numpy as np

K = 10  # every data set here has 10 balanced classes
CHANCE, L0 = 1.0 / K, math.log(K)


def curves(paths):
    for p in paths:
        for line in open(p):
            r = json.loads(line)
            h = r.get("history")
            if h and "val_accuracy" in h:
                yield p.split("/")[-1].split(".")[0], r.get("setting", r.get("i")), h


RULES = {
    "val_acc <= chance+0.05": lambda h, n: max(h["val_accuracy"][:n]) <= CHANCE + 0.05,
    "val_loss >= 0.97 L0": lambda h, n: min(h["val_loss"][:n]) >= 0.97 * L0,
    "val_acc <= chance+0.05 AND train_loss >= 0.97 L0": lambda h, n: (
        max(h["val_accuracy"][:n]) <= CHANCE + 0.05 and min(h["loss"][:n]) >= 0.97 * L0
    ),
    "train_loss >= 0.97 L0": lambda h, n: min(h["loss"][:n]) >= 0.97 * L0,
}


def main(paths):
    cs = list(curves(paths))
    learns = [max(h["val_accuracy"]) > CHANCE + 0.2 for _, _, h in cs]
    print(f"curves {len(cs)}: learn {sum(learns)}, never learn {len(cs) - sum(learns)}")
    print("| rule | N | killed | of them never learn (right) | false kills (learn later) | epochs saved vs ES patience 5-6 |")
    print("|---|---|---|---|---|---|")
    for name, rule in RULES.items():
        for n in (1, 2, 3, 4, 5, 6):
            kill = [rule(h, n) for _, _, h in cs]
            right = sum(k and not lr for k, lr in zip(kill, learns))
            wrong = [(f, s) for (f, s, _), k, lr in zip(cs, kill, learns) if k and lr]
            saved = sum(max(0, 6 - n) for k, lr in zip(kill, learns) if k and not lr)
            print(f"| {name} | {n} | {sum(kill)} | {right} | {len(wrong)} {wrong[:4] if wrong else ''} | {saved} |")
    print("\nnever-learning curves:")
    for (f, s, h), lr in zip(cs, learns):
        if not lr:
            print(f"  {f} {s}: val_acc max {max(h['val_accuracy']):.2f}, train loss first3 "
                  f"{[round(v, 3) for v in h['loss'][:3]]} min {min(h['loss']):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
