#!/bin/bash
# MLP spaces: random trials to check the objective (val_loss vs val_accuracy) on small
# validation splits, then the end-to-end sweeps old vs new digits_cnn.
cd "$(dirname "$0")"
while kill -0 21597 2>/dev/null; do sleep 10; done
export PYTHONPATH=/work/wt-research
PY=/work/main/.venv/bin/python
nice -n 5 $PY random_trials.py wine_mlp 40 results/e9_wine_random.jsonl 0
nice -n 5 $PY random_trials.py breast_cancer_mlp 30 results/e9_breast_random.jsonl 0
nice -n 5 $PY random_trials.py digits_mlp 30 results/e9_digits_mlp_random.jsonl 0
