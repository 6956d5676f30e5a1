#!/bin/bash
# cli_mixup.sh — `focal train --mixup ALPHA`: a mixed run trains differently
# from the unmixed one, is deterministic (same seed, any thread count, resumed
# or not), works with softmax, binary and multi-label losses, is recorded in
# run.json as part of the run's settings, and compare specs take it.
NAME=cli_mixup
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
cd "$T" || exit 1

imbalanced_table 777 > m.csv
losses() { cut -d, -f1-3 "$1/history.csv"; }
# a constant rate: a run resumed with more epochs is then the longer run
tr() { "$FOCAL_BIN" train --data m.csv --epochs 3 --batch 32 --seed 1 --loss ce --schedule constant --quiet "$@"; }

tr --out r-plain
tr --mixup 0 --out r-zero
expect "--mixup 0 is plain training" test "$(losses r-plain)" = "$(losses r-zero)"
expect "and records no mixup" test -z "$(grep '"mixup"' r-zero/run.json)"
tr --mixup 0.4 --out r-mix
expect "--mixup 0.4 trains" test -s r-mix/metrics.json
expect "and trains differently from the unmixed run" test "$(losses r-mix)" != "$(losses r-plain)"
expect "run.json records mixup 0.4" grep -q '"mixup":[[:space:]]*0.4' r-mix/run.json
tr --mixup 0.4 --out r-mix2 --threads 1
expect "the same seed gives the same mixed run, on 1 thread too" test "$(losses r-mix)" = "$(losses r-mix2)"
tr --mixup 0.4 --seed 2 --out r-mix3
expect "another seed another run" test "$(losses r-mix)" != "$(losses r-mix3)"
expect "mixup learned (test macro AUC > 0.8)" \
    awk '/"test"/ { t = 1 } t && /"roc_auc_macro"/ { gsub(/[^0-9.]/, "", $2); exit !($2 > 0.8) }' r-mix/metrics.json

# resuming: the same settings continue exactly; another alpha is another run
tr --mixup 0.4 --epochs 2 --out r-res
tr --mixup 0.4 --resume --out r-res
expect "a resumed mixed run equals the uninterrupted one" test "$(losses r-res)" = "$(losses r-mix)"
run train --data m.csv --epochs 4 --batch 32 --seed 1 --loss ce --mixup 0.2 --resume --out r-res --quiet
expect "resuming with another alpha is refused, naming mixup" test "$rc" -ne 0 -a -n "$(grep -i mixup <<<"$err")"

# sigmoid losses (binary here) mix too
awk -F, '{ print $1 "," $2 "," $3 "," ($4 == 2 ? 1 : 0) }' m.csv > b.csv
"$FOCAL_BIN" train --data b.csv --epochs 2 --batch 32 --seed 1 --loss focal --quiet --out b-plain
"$FOCAL_BIN" train --data b.csv --epochs 2 --batch 32 --seed 1 --loss focal --mixup 1 --quiet --out b-mix
expect "a sigmoid focal run with mixup trains" test -s b-mix/metrics.json
expect "differently from the unmixed one" test "$(losses b-mix)" != "$(losses b-plain)"

# multi-label images: every label's target is mixed through the loss
"$FOCAL_BIN" synth --out syn --n 60 --size 32 --force >/dev/null
syn() { "$FOCAL_BIN" train --data syn --size 16x16 --model mlp --epochs 2 --batch 16 --seed 1 --quiet --cache none "$@"; }
syn --out s-plain
syn --mixup 0.4 --out s-mix
expect "a multi-label run with mixup trains" test -s s-mix/metrics.json
expect "differently from the unmixed one" test "$(losses s-mix)" != "$(losses s-plain)"
expect "and records its task" grep -q '"task":[[:space:]]*"multilabel"' s-mix/run.json

fails "a negative alpha is refused" 2 "--mixup" train --data m.csv --mixup -1 --out r-x
fails "a word is refused" 2 "--mixup" train --data m.csv --mixup x --out r-x
expect "and no run folder is made" test ! -e r-x
expect "--help describes --mixup with its paper" sh -c '"$FOCAL_BIN" train --help | grep -q "mixup (Zhang et al. 2018)"'

run compare --data m.csv --method 'mx=loss:ce,mixup:0.4' --methods ce,mx --seeds 1 --epochs 2 --batch 32 \
    --out cmp --quiet
expect "compare takes mixup in a spec" grep -q '"mixup":[[:space:]]*0.4' cmp/runs/mx/seed0/run.json
expect "and the ce run has none" test -z "$(grep '"mixup"' cmp/runs/ce/seed0/run.json)"

finish
