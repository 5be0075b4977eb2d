"""Table of a factors.py result file: per setting, means over seeds."""
import json
import sys
from collections import defaultdict

import numpy as np
from analyze_digits import es

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by = defaultdict(list)
for r in rows:
    by[r["setting"]].append(r)
print("| setting | seeds | test @ES(val_acc,5) restore | test @min val_loss (ES val_loss,5) | test @epoch 30 | val_acc @ES | epochs run (ES val_acc,5) | train acc @30 | s/epoch |")
print("|---|---|---|---|---|---|---|---|---|")
for name, rs in by.items():
    a, b, c, v, e, tr, sp = [], [], [], [], [], [], []
    for r in rs:
        h = r["history"]
        p, ran = es(h)
        pl, _ = es(h, 5, "val_loss")
        a.append(h["test_accuracy"][p]); b.append(h["test_accuracy"][pl]); c.append(h["test_accuracy"][-1])
        v.append(h["val_accuracy"][p]); e.append(ran); tr.append(h["accuracy"][-1])
        sp.append(h["time_s"][-1] / len(h["time_s"]))
    print(f"| {name} | {len(rs)} | {np.mean(a):.4f} | {np.mean(b):.4f} | {np.mean(c):.4f} | {np.mean(v):.4f} | {np.mean(e):.1f} | {np.mean(tr):.3f} | {np.mean(sp):.2f} |")
