#!/bin/bash
# cli_longtail.sh — `focal train` with the long-tail losses: the training
# split's class prior reaches the loss (logit-adjusted, balanced softmax,
# distribution-balanced), and run.json records their parameters.
NAME=cli_longtail
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
cd "$T" || exit 1

# an imbalanced three-class table: class 2 rare
imbalanced_table 777 > m.csv
rare=$(awk -F, '$4 == 2' m.csv | wc -l)
expect "class 2 is rare ($rare of 600)" test "$rare" -gt 5 -a "$rare" -lt 60

for loss in la balanced-softmax; do
    run train --data m.csv --epochs 3 --batch 32 --seed 1 --loss "$loss" --out "r-$loss" --quiet
    expect "train --loss $loss succeeds" test "$rc" -eq 0
    expect "run.json records $loss" grep -q "\"kind\":[[:space:]]*\"$loss\"" "r-$loss/run.json"
    expect "$loss learned (test macro AUC > 0.8)" \
        awk '/"test"/ { t = 1 } t && /"roc_auc_macro"/ { gsub(/[^0-9.]/, "", $2); exit !($2 > 0.8) }' "r-$loss/metrics.json"
done
expect "la records tau" grep -q '"tau":[[:space:]]*1' r-la/run.json
run train --data m.csv --epochs 3 --batch 32 --seed 1 --loss la --tau 0 --out r-la0 --quiet
run train --data m.csv --epochs 3 --batch 32 --seed 1 --loss ce --out r-ce --quiet
# the first epoch's training loss: la at tau 0 is cross-entropy (to float rounding), at tau 1 it is not
loss1() { awk -F, 'NR == 2 { print $2 }' "$1/history.csv"; }
close() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-5 * (a < 0 ? -a : a)) }'; }
expect "la with tau 0 trains as cross-entropy ($(loss1 r-la0) vs $(loss1 r-ce))" close "$(loss1 r-la0)" "$(loss1 r-ce)"
apart() { ! close "$1" "$2"; }
expect "la with tau 1 does not ($(loss1 r-la))" apart "$(loss1 r-la)" "$(loss1 r-ce)"

# the binary target (class 2 against the rest) with the distribution-balanced loss
awk -F, '{ print $1 "," $2 "," $3 "," ($4 == 2 ? 1 : 0) }' m.csv > b.csv
run train --data b.csv --epochs 3 --batch 32 --seed 1 --loss db --out r-db --quiet
expect "train --loss db succeeds" test "$rc" -eq 0
expect "run.json records db's knobs" grep -q '"db_lambda":[[:space:]]*2' r-db/run.json
fails "db is a sigmoid loss" 2 "db is a sigmoid loss" train --data m.csv --epochs 1 --loss db --out r-x

# deferred re-weighting: the same run as plain cross-entropy through epoch 2, weighted from epoch 3
run train --data m.csv --epochs 4 --batch 32 --seed 1 --loss ce --out r-plain --quiet
run train --data m.csv --epochs 4 --batch 32 --seed 1 --loss ce --reweight-from 3 --out r-drw --quiet
expect "train --reweight-from 3 succeeds" test "$rc" -eq 0
epochs() { awk -F, -v a="$2" -v b="$3" 'NR > 1 && $1 >= a && $1 <= b { print $2, $3 }' "$1/history.csv"; }
expect "DRW: epochs 1-2 are plain training" test "$(epochs r-drw 1 2)" = "$(epochs r-plain 1 2)"
expect "DRW: the weights switch on at epoch 3" test "$(epochs r-drw 3 3)" != "$(epochs r-plain 3 3)"
expect "run.json records DRW" grep -q '"from_epoch":[[:space:]]*3' r-drw/run.json
run train --data b.csv --epochs 2 --loss ce --reweight-from 1 --out r-drwb
expect "DRW on binary data is refused (exit 2), naming why" \
    test "$rc" -eq 2 -a -n "$(grep -F 'deferred re-weighting weighs the classes' "$T/stderr")"
expect "and no run folder is made" test ! -e r-drwb

# compare's built-in methods: la and balanced-softmax (the same loss by two names) on multi-class
# data, db on binary data
run compare --data m.csv --methods ce,la,balanced-softmax --seeds 1 --epochs 2 --batch 32 --out cmp --quiet
expect "compare with la and balanced-softmax succeeds" test "$rc" -eq 0
row() { grep -E "^$1," cmp/results.csv | grep -v ",seconds," | cut -d, -f2-; }
expect "la and balanced-softmax give the same results" test -n "$(row la)" -a "$(row la)" = "$(row balanced-softmax)"
run compare --data b.csv --methods ce,db --seeds 1 --epochs 2 --batch 32 --out cmpb --quiet
expect "compare with db succeeds" test "$rc" -eq 0
expect "db has its rows" grep -q '^db,' cmpb/results.csv

finish
