#!/bin/bash
# After the family changes (BN momentum 0.9, 4x4-grid head): digits BN, final choices,
# then the image settings again with the new family code.
cd "$(dirname "$0")"
export PYTHONPATH=/work/wt-research
PY=/work/main/.venv/bin/python
nice -n 5 $PY factors.py bn results/e3b_bn_m09.jsonl 3
nice -n 5 $PY factors.py final results/e5_final.jsonl 5
nice -n 5 $PY image_pooling.py /tmp/hands results/e4_newfamily.jsonl 10 1 max avg max_bn avg_bn max_L2 avg_L2
