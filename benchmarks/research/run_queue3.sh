#!/bin/bash
cd "$(dirname "$0")"
export PYTHONPATH=/work/wt-research
PY=/work/main/.venv/bin/python
nice -n 5 $PY image_pooling.py /tmp/hands results/e4_newfamily.jsonl 10 1 max_bn_aug_stack max_bn_aug_light
nice -n 5 $PY factors.py rmsprop results/e3c_rmsprop.jsonl 3
nice -n 5 $PY random_trials.py digits_cnn 48 results/e1_digits_cnn_new_random.jsonl 0
