#!/bin/bash
# End to end: real sweeps, old space + old family code (an export of HEAD in
# /tmp/automl_head) vs this branch, 30 trials, sampler seeds 0 and 1. Then audio timing.
cd "$(dirname "$0")"
while kill -0 9019 2>/dev/null; do sleep 10; done
PY=/work/main/.venv/bin/python
PYTHONPATH=/tmp/automl_head nice -n 5 $PY tune_compare.py /tmp/automl_head/search_spaces/digits_cnn.yaml 30 results/e7_tune_old.jsonl 0
PYTHONPATH=/work/wt-research nice -n 5 $PY tune_compare.py digits_cnn 30 results/e7_tune_new.jsonl 0
PYTHONPATH=/tmp/automl_head nice -n 5 $PY tune_compare.py /tmp/automl_head/search_spaces/digits_cnn.yaml 30 results/e7_tune_old.jsonl 1
PYTHONPATH=/work/wt-research nice -n 5 $PY tune_compare.py digits_cnn 30 results/e7_tune_new.jsonl 1
