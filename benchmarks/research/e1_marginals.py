"""Per-parameter marginals of E1 (mean test accuracy at the ES-restored epoch)."""
import sys
import numpy as np
from analyze_digits import load, summarize

rows = summarize(load(sys.argv[1:]))
def show(name, key):
    groups = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r["test_es"])
    print(name, "  ".join(f"{k}: {np.mean(v):.3f} (n={len(v)}, chance-stuck {sum(x < 0.2 for x in v)})" for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))))
hp = lambda r: r["hp"]
show("crop", lambda r: hp(r)["augmentation"].get("crop", 0))
show("translation>0.05", lambda r: hp(r)["augmentation"].get("translation", 0) > 0.05)
show("rotation>0.025", lambda r: hp(r)["augmentation"].get("rotation", 0) > 0.025)
show("zoom>0.05", lambda r: hp(r)["augmentation"].get("zoom", 0) > 0.05)
show("contrast>0.1", lambda r: hp(r)["augmentation"].get("contrast", 0) > 0.1)
show("pooling", lambda r: hp(r)["pooling"])
show("batch_norm", lambda r: hp(r)["batch_norm"])
show("optimizer", lambda r: hp(r)["optimizer"])
show("lr>3e-3", lambda r: hp(r)["learning_rate"] > 3e-3)
show("n_layers", lambda r: hp(r)["n_layers"])
show("batch_size", lambda r: hp(r)["batch_size"])
show("dropout>0.2", lambda r: hp(r)["dropout"] > 0.2)
show("dense_units", lambda r: hp(r)["dense_units"])
show("kernel", lambda r: hp(r)["kernel_size"])
show("activation", lambda r: hp(r)["activation"])
show("rmsprop&lr>4e-3", lambda r: hp(r)["optimizer"] == "rmsprop" and hp(r)["learning_rate"] > 4e-3)
print("epoch seconds: median %.2f" % np.median([r["epoch_s"] for r in rows]))
