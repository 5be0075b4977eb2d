"""Analysis of E1 (random trials of a digits space, val+test every epoch):
epoch-choice policies, val/test correlation, winner's curse of picking among N trials,
top-k ensembles, and simple per-parameter effects.

Usage: python analyze_digits.py results/e1_digits_cnn_random.jsonl [more.jsonl ...]
"""

import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).parent))

LOG10 = float(np.log(10))


def load(paths):
    rows = []
    for p in paths:
        rows += [json.loads(line) for line in open(p) if line.strip()]
    return [r for r in rows if "history" in r]


def es(h, patience=5, metric="val_accuracy"):
    vals, sign = h[metric], (1 if "acc" in metric else -1)
    best, bi, wait = -np.inf, 0, 0
    for i, v in enumerate(vals):
        if sign * v > best:
            best, bi, wait = sign * v, i, 0
        else:
            wait += 1
            if wait >= patience:
                return bi, i + 1
    return bi, len(vals)


def summarize(rows):
    out = []
    for r in rows:
        h = r["history"]
        pick, ran = es(h)
        pick_l, ran_l = es(h, 5, "val_loss")
        out.append({
            "i": r.get("i"), "hp": r["hp"], "params": r["params"],
            "val_es": h["val_accuracy"][pick], "test_es": h["test_accuracy"][pick],
            "vloss_es": h["val_loss"][pick], "epoch_es": pick + 1, "ran_es": ran,
            "test_last30": h["test_accuracy"][-1], "val_last30": h["val_accuracy"][-1],
            "test_at_stop": h["test_accuracy"][ran - 1], "val_at_stop": h["val_accuracy"][ran - 1],
            "test_minloss": h["test_accuracy"][int(np.argmin(h["val_loss"]))],
            "val_minloss": h["val_accuracy"][int(np.argmin(h["val_loss"]))],
            "vloss_min": min(h["val_loss"]),
            "test_esloss": h["test_accuracy"][pick_l], "ran_esloss": ran_l,
            "epoch_s": h["time_s"][-1] / len(h["time_s"]),
            "probs": r.get("probs"),
        })
    return out


def main(paths):
    rows = summarize(load(paths))
    good = [r for r in rows if r["val_es"] > 0.5]
    print(f"trials {len(rows)}; learning (val>0.5) {len(good)}")
    print("\n## epoch choice (mean over learning trials)")
    for k in ("test_es", "test_at_stop", "test_last30", "test_minloss", "test_esloss"):
        print(f"{k:14s} {np.mean([r[k] for r in good]):.4f}")
    print(f"mean epochs run under ES(val_acc,5): {np.mean([r['ran_es'] for r in good]):.1f}; "
          f"ES pick epoch {np.mean([r['epoch_es'] for r in good]):.1f}; "
          f"ES(val_loss,5) ran {np.mean([r['ran_esloss'] for r in good]):.1f}")
    print("val_es - test_es (optimism of the restored epoch):",
          f"{np.mean([r['val_es'] - r['test_es'] for r in good]):+.4f}")
    print("\n## val vs test across trials (Spearman)")
    for lo in (0.5, 0.95, 0.97):
        sel = [r for r in good if r["val_es"] >= lo]
        if len(sel) > 4:
            rho = spearmanr([r["val_es"] for r in sel], [r["test_es"] for r in sel])[0]
            rho2 = spearmanr([-r["vloss_min"] for r in sel], [r["test_minloss"] for r in sel])[0]
            print(f"val_es>={lo}: n={len(sel)} rho(val_acc,test)={rho:.2f}  rho(-min val_loss, test@minloss)={rho2:.2f}")
    top = sorted(rows, key=lambda r: (-r["val_es"], r["params"]))[:8]
    print("\n## top 8 by val_accuracy (automl's rank: val desc, params asc)")
    for r in top:
        print(f"  #{r['i']:>3} val {r['val_es']:.4f} test {r['test_es']:.4f} vloss {r['vloss_es']:.3f} "
              f"min_vloss {r['vloss_min']:.3f} test@minloss {r['test_minloss']:.4f} params {r['params']}")
    print("\n## winner's curse: pick 1 of n random trials (2000 draws)")
    rng = np.random.default_rng(0)
    n_all = len(rows)
    rules = {
        "max val_acc (ties: fewer params) [automl]": lambda s: min(s, key=lambda r: (-r["val_es"], r["params"]))["test_es"],
        "max val_acc (ties: lower val_loss)": lambda s: min(s, key=lambda r: (-r["val_es"], r["vloss_es"]))["test_es"],
        "min val_loss (epoch: min val_loss)": lambda s: min(s, key=lambda r: r["vloss_min"])["test_minloss"],
        "oracle (best test)": lambda s: max(r["test_es"] for r in s),
        "mean of the n": lambda s: np.mean([r["test_es"] for r in s]),
    }
    for n in (10, 20, 40):
        if n > n_all:
            continue
        draws = [list(rng.choice(n_all, n, replace=False)) for _ in range(2000)]
        print(f" n={n}")
        for name, f in rules.items():
            vals = [f([rows[j] for j in d]) for d in draws]
            print(f"   {name:45s} test {np.mean(vals):.4f} (sd {np.std(vals):.4f})")
        win = [min([rows[j] for j in d], key=lambda r: (-r["val_es"], r["params"])) for d in draws]
        print(f"   winner val {np.mean([w['val_es'] for w in win]):.4f} vs its test {np.mean([w['test_es'] for w in win]):.4f}")
        if rows[0].get("probs"):
            ens_report(rows, draws, n)


def acc(p, y):
    return float((np.asarray(p).argmax(1) == y).mean())


def ens_report(rows, draws, n):
    from harness import splits_for
    import os
    d = splits_for(os.environ.get("SPACE", "digits_cnn"))
    yv, yt = d.y_val, d.y_test
    for k in (3, 5):
        for epoch_key in ("es5", "min_loss"):
            res = []
            for dr in draws[:300]:
                s = sorted([rows[j] for j in dr], key=lambda r: (-r["val_es"], r["params"]))[:k]
                pt = np.mean([np.asarray(r["probs"][epoch_key]["test"]) for r in s], axis=0)
                res.append(acc(pt, yt))
            print(f"   ensemble top-{k} by val_acc, weights@{epoch_key:8s}: test {np.mean(res):.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
