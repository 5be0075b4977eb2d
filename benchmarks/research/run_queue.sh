#!/bin/bash
# Runs the digits experiments one after another (2 shared cores: never in parallel).
cd "$(dirname "$0")"
export PYTHONPATH=/work/wt-research
PY=/work/main/.venv/bin/python
nice -n 5 $PY factors.py aug results/e2_aug.jsonl 3
nice -n 5 $PY factors.py ranges results/e3_ranges.jsonl 3
