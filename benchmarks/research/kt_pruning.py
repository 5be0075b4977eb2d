"""E9: replays the median pruner, with and without the training-side guard, over the curves
kt_selection.py collected, at a fixed budget of epochs (1000 random orders each).

Usage: python benchmarks/research/kt_pruning.py OUT.jsonl
"veto" = prune only when the trial's best training accuracy so far is also below the
completed trials' median at that epoch (automl.user_train._Tracker.spared).
"""
import json,sys
import numpy as np
sys.path.insert(0, __import__('os').path.dirname(__file__))
from kt_selection import kept_epoch, stop_epoch
T=[json.loads(l) for l in open(sys.argv[1])]
def run(order, mode, budget, warm=1, startup=4, pct=50):
    seen=[]; done=[]; epochs=0
    for i in order:
        if epochs>=budget: break
        r=T[i]['rows']; end=stop_epoch(r); pruned=False; last=end
        for s in range(end+1):
            epochs+=1
            comp=[(v,t) for v,t,c in seen if c]
            if mode=='none' or len(comp)<startup or s<warm: continue
            others=[(v[s],t[s]) for v,t in comp if len(v)>s]
            if not others: continue
            mv=np.percentile([o[0] for o in others],pct); mt=np.percentile([o[1] for o in others],pct)
            cur=max(x['val_accuracy'] for x in r[:s+1]); curt=max(x['accuracy'] for x in r[:s+1])
            if cur<mv and (mode=='median' or curt<mt):
                pruned=True; last=s; break
        seen.append(([x['val_accuracy'] for x in r[:last+1]],[x['accuracy'] for x in r[:last+1]], not pruned))
        if not pruned:
            e=kept_epoch(r,'max_then_loss'); done.append((-r[e]['val_accuracy'],r[e]['val_loss'],r[e]['test_accuracy']))
    return (min(done)[2] if done else 0), epochs, len(done), len(seen)
rng=np.random.default_rng(1)
for budget in (150,250):
  for mode,warm,pct in (('none',1,50),('median',1,50),('median',4,50),('median',1,25),('veto',1,50),('veto',4,50),('veto',1,25)):
    res=[run(rng.permutation(len(T)),mode,budget,warm=warm,pct=pct) for _ in range(1000)]
    a=np.array(res)
    print(budget,mode,warm,pct,"test %.4f  epochs %.0f complete %.1f trials %.1f"%(a[:,0].mean(),a[:,1].mean(),a[:,2].mean(),a[:,3].mean()))
