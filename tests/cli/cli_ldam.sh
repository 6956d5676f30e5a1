#!/bin/bash
# cli_ldam.sh — LDAM's normalised classifier and the ldam-drw method: with
# --loss ldam a preset's last dense layer becomes dense-norm (said, recorded),
# a description file with a plain dense last layer is refused and one with
# dense-norm is used as written; --reweight-from P% and compare's ldam-drw.
NAME=cli_ldam
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
cd "$T" || exit 1

# an imbalanced three-class table: class 2 rare
imbalanced_table 777 > m.csv

# --- the preset gets the normalised classifier
run train --data m.csv --model mlp --epochs 3 --batch 32 --seed 1 --loss ldam --out r-ldam
expect "train --loss ldam succeeds" test "$rc" -eq 0
expect "one line says the last layer becomes dense-norm" \
    test "$(grep -c 'model mlp: its last layer becomes dense-norm' <<<"$out")" -eq 1
expect "run.json records it" grep -q '"model_head":[[:space:]]*"dense-norm, made so for ldam"' r-ldam/run.json
expect "run.json's description ends in dense-norm classes" grep -q 'dense-norm classes\\n"' r-ldam/run.json
expect "LDAM learned (test macro AUC > 0.8)" \
    awk '/"test"/ { t = 1 } t && /"roc_auc_macro"/ { gsub(/[^0-9.]/, "", $2); exit !($2 > 0.8) }' r-ldam/metrics.json
run eval --model r-ldam --data m.csv
expect "the run loads again for focal eval" test "$rc" -eq 0
run train --data m.csv --model mlp --epochs 1 --batch 32 --seed 1 --loss ce --out r-ce --quiet
expect "other losses keep the preset's dense layer" grep -q 'relu\\ndense classes\\n"' r-ce/run.json
expect "and record no model_head" test -z "$(grep model_head r-ce/run.json)"

# --- description files: refused without dense-norm, used as written with it
printf 'flatten\ndense 16\nrelu\ndense classes  # logits\n' > plain.net
fails "a file with a plain dense last layer is refused for ldam" 2 "write \`dense-norm classes\` in place" \
    train --data m.csv --model plain.net --epochs 1 --loss ldam --out r-plain
expect "and no run folder is made" test ! -e r-plain
sed 's/^dense classes/dense-norm classes/' plain.net > norm.net
run train --data m.csv --model norm.net --epochs 2 --batch 32 --seed 1 --loss ldam --out r-norm
expect "a file with dense-norm trains with ldam" test "$rc" -eq 0
expect "without the note" test -z "$(grep 'becomes dense-norm' <<<"$out")"
expect "and without model_head" test -z "$(grep model_head r-norm/run.json)"
run compare --data m.csv --model plain.net --methods ce,ldam-drw --seeds 1 --epochs 2 --batch 32 --out cmp-file --quiet
expect "compare with a network file: ldam-drw gets the normalised head ($err)" test "$rc" -eq 0 -a \
    -n "$(grep '"model_head":[[:space:]]*"dense-norm, made so for ldam"' cmp-file/runs/ldam-drw/seed0/run.json)"
expect "... and ce keeps the file's dense head" test -z "$(grep model_head cmp-file/runs/ce/seed0/run.json)"
printf 'flatten\ndense 16\nrelu\n' > nohead.net
fails "a file whose last layer is no dense layer is refused" 2 "last layer must be" \
    train --data m.csv --model nohead.net --epochs 1 --loss ldam --out r-nohead

# --- --reweight-from P%: plain for the first floor(P% of the epochs)
run train --data m.csv --epochs 10 --batch 32 --seed 1 --loss ce --reweight-from 80% --out r-p80 --quiet
expect "--reweight-from 80% of 10 epochs starts DRW at epoch 9" grep -q '"from_epoch":[[:space:]]*9' r-p80/run.json
run train --data m.csv --epochs 10 --batch 32 --seed 1 --loss ce --reweight-from 9 --out r-e9 --quiet
losses() { cut -d, -f1-3 "$1/history.csv"; }
expect "and trains as --reweight-from 9" test "$(losses r-p80)" = "$(losses r-e9)"
for bad in 100% 0% x% 80%%; do
    fails "--reweight-from $bad is refused" 2 "'$bad' is not valid; expected an epoch E (an integer from 1) or a share" \
        train --data m.csv --reweight-from "$bad" --out r-x
done

# --- compare's ldam-drw: LDAM with DRW from 80% of the epochs (epoch 5 of 5 here)
run compare --data m.csv --methods ce,ldam-drw --seeds 1 --epochs 5 --batch 32 --out cmp --quiet
expect "compare with ldam-drw succeeds" test "$rc" -eq 0
expect "ldam-drw has its rows" grep -q '^ldam-drw,' cmp/results.csv
j=cmp/runs/ldam-drw/seed0/run.json
expect "ldam-drw trains ldam" grep -q '"kind":[[:space:]]*"ldam"' "$j"
expect "with margin 0.5 and scale 30" grep -q '"margin":[[:space:]]*0.5' "$j"
expect "with scale 30" grep -q '"scale":[[:space:]]*30' "$j"
expect "on the normalised classifier" grep -q '"model_head"' "$j"
expect "with DRW from epoch 5 (80% of 5 done plain)" grep -q '"from_epoch":[[:space:]]*5' "$j"
run train --data m.csv --loss ldam --epochs 5 --batch 32 --out r-ldam5 --quiet
upto() { awk -F, -v e="$2" 'NR > 1 && $1 <= e { print $2, $3 }' "$1/history.csv"; }
at() { awk -F, -v e="$2" 'NR > 1 && $1 == e { print $2, $3 }' "$1/history.csv"; }
expect "ldam-drw trains as plain ldam through epoch 4" test "$(upto cmp/runs/ldam-drw/seed0 4)" = "$(upto r-ldam5 4)"
expect "and re-weights in epoch 5" test "$(at cmp/runs/ldam-drw/seed0 5)" != "$(at r-ldam5 5)"
expect "compare --help describes ldam-drw with its paper" \
    sh -c '"$FOCAL_BIN" compare --help | grep -A2 "^  ldam-drw " | grep -q "Cao et al. 2019"'
run compare --data m.csv --method 'd3=loss:ce,reweight-from:3' --methods d3 --seeds 1 --epochs 4 --batch 32 \
    --out cmp2 --quiet
expect "a spec takes reweight-from" grep -q '"from_epoch":[[:space:]]*3' cmp2/runs/d3/seed0/run.json

finish
