#!/bin/bash
# cli_stage2.sh — decoupled training's second stage as a user runs it:
# `focal train --stage2 crt|tau-norm|wb --from RUN1` writes a run like any
# other (eval works on it, --resume continues it), records its stage 1 and
# scheme, refuses a stage 1 on other splits or one that changed since; and
# `focal compare` runs crt, tau-norm and wb, reusing ce's run as their
# stage 1 where the recipe is the same and counting both stages' time.
# (The frozen features are checked bit for bit in tests/train/test_stage2.c.)
NAME=cli_stage2
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
cd "$T" || exit 1

# an imbalanced three-class table: class 2 rare
imbalanced_table 4242 > m.csv
# a constant rate: a run resumed with more epochs is then the longer run (a cosine spans the epochs it was given)
common="--data m.csv --batch 32 --seed 1 --loss ce --schedule constant --quiet"

run train $common --epochs 4 --out r1
expect "stage 1 trains" test "$rc" -eq 0
fp1=$(grep -m1 '"fingerprint"' r1/run.json | cut -d'"' -f4)

# cRT: a run that names its stage 1 and scheme, samples class-balanced by default
run train $common --epochs 3 --lr 0.01 --stage2 crt --from r1 --out crt
expect "train --stage2 crt succeeds ($err)" test "$rc" -eq 0
expect "run.json names the scheme" grep -q '"scheme":[[:space:]]*"crt"' crt/run.json
expect "run.json names stage 1" grep -q '"from":[[:space:]]*"r1"' crt/run.json
expect "the settings hold stage 1's fingerprint" grep -q "\"from_fingerprint\":[[:space:]]*\"$fp1\"" crt/run.json
expect "cRT samples class-balanced" grep -q '"sampler":[[:space:]]*"class-balanced"' crt/run.json
expect "the network is stage 1's" test "$(grep '"model_description"' crt/run.json)" = \
    "$(grep '"model_description"' r1/run.json)"
run eval --model crt --data m.csv --split test
expect "focal eval works on the stage-2 run" test "$rc" -eq 0 -a -n "$(echo "$out" | grep -i 'roc')"
if "$FOCAL_BIN" --help | grep -q '^  export'; then
    run export crt --onnx crt.onnx --quiet
    expect "focal export works on the stage-2 run ($err)" test "$rc" -eq 0 -a -s crt.onnx
fi

# resumed: 2 epochs, then --resume to 3, as the uninterrupted run
run train $common --epochs 2 --lr 0.01 --stage2 crt --from r1 --out crt2
run train $common --epochs 3 --lr 0.01 --stage2 crt --from r1 --out crt2 --resume
hist() { cut -d, -f1-10 "$1/history.csv"; }
expect "a resumed stage 2 ends as an uninterrupted one" test "$rc" -eq 0 -a "$(hist crt2)" = "$(hist crt)"

# tau-norm: one epoch, tau recorded
run train $common --stage2 tau-norm --from r1 --out tau
expect "train --stage2 tau-norm succeeds ($err)" test "$rc" -eq 0
expect "tau-norm's run.json records tau in [0, 2]" \
    awk '/"stage2":/ { s = 1 } s && /^\t\t"tau":/ { gsub(/[^0-9.]/, "", $2); found = 1; exit !($2 >= 0 && $2 <= 2) }
         END { if (!found) exit 1 }' tau/run.json
expect "tau-norm records its search on validation" grep -q '"chosen_by":[[:space:]]*"auc"' tau/run.json
expect "tau-norm is one epoch" test "$(wc -l < tau/history.csv)" -eq 2
run train --data m.csv --batch 32 --seed 1 --loss ce --stage2 tau-norm --from r1 --out tau-shown
expect "its epoch line says it is the tau search" grep -q "^epoch   1  tau search  *val loss" "$T/stdout"
fails "tau-norm with --epochs 3 is refused" 2 "expected 1" \
    train $common --epochs 3 --stage2 tau-norm --from r1 --out tau3
expect "and leaves no folder" test ! -e tau3
# tau-norm on sigmoid outputs would change no ranking: refused by train, left out by compare
run synth --out ml --n 80 --size 16 --quiet
run train --data ml --loss ce --epochs 1 --batch 16 --seed 1 --cache none --out ml1 --quiet
expect "a multi-label stage 1 trains" test "$rc" -eq 0
run train --data ml --loss ce --batch 16 --seed 1 --cache none --stage2 tau-norm --from ml1 --out mltau --quiet
expect "tau-norm on a multi-label run is refused (rc=$rc)" test "$rc" -ne 0
expect "the refusal says why" grep -qF "tau-norm needs a softmax head" "$T/stderr"
expect "and leaves no folder" test ! -e mltau
run compare --data ml --methods ce,tau-norm --seeds 1 --epochs 1 --batch 16 --cache none --out mlcmp --quiet
expect "compare on multi-label data leaves tau-norm out ($err)" \
    test "$rc" -eq 0 -a ! -e mlcmp/runs/tau-norm
expect "and says so" grep -qF "method tau-norm does not apply to multi-label data; left out" "$T/stderr"

# wb: MaxNorm radius in the settings, class-balanced weights by default
run train $common --epochs 2 --stage2 wb --max-norm 0.2 --from r1 --out wb
expect "train --stage2 wb succeeds ($err)" test "$rc" -eq 0
expect "wb records its MaxNorm radius" grep -q '"max_norm":[[:space:]]*0.2' wb/run.json
expect "wb weighs the classes (effective number)" grep -A1 -q '"class_weights":[[:space:]]*\[' wb/run.json

# refused: other splits (another --seed on data without splits), options that do not fit
fails "stage 1 on other splits is refused" 2 "other data or splits" \
    train --data m.csv --seed 2 --loss ce --quiet --stage2 crt --from r1 --out x1
fails "--stage2 without --from" 2 "needs --from" train $common --stage2 crt --out x2
fails "--from without --stage2" 2 "--from names the stage-1 run" train $common --from r1 --out x3
fails "--model with --stage2" 2 "leave out --model" train $common --model mlp --stage2 crt --from r1 --out x4
fails "an unknown scheme" 2 "expected crt, tau-norm or wb" train $common --stage2 lws --from r1 --out x5
fails "a missing stage 1" 1 "nowhere/run.json" train $common --stage2 crt --from nowhere --out x6
fails "a weight average (it would move the features)" 2 "would move them" \
    train $common --stage2 crt --from r1 --ema 0.9 --out x7
fails "mixup (the classifier sees features, not inputs)" 2 "leave mixup out" \
    train $common --stage2 crt --from r1 --mixup 0.4 --out x8
expect "no folder is left by the refusals" \
    test ! -e x1 -a ! -e x2 -a ! -e x3 -a ! -e x4 -a ! -e x5 -a ! -e x6 -a ! -e x7 -a ! -e x8

# stage 1 changes: resuming its stage 2 is refused, naming the fingerprint
run train $common --epochs 5 --out r1 --overwrite
fails "a changed stage 1 refuses --resume" 2 "stage2.from_fingerprint" \
    train $common --epochs 4 --lr 0.01 --stage2 crt --from r1 --out crt --resume

# compare: the two-stage methods; crt and tau-norm reuse ce's runs, wb trains its own stage 1
run compare --data m.csv --methods ce,crt,tau-norm,wb --seeds 1 --epochs 2 --batch 32 --out cmp
expect "compare with crt, tau-norm, wb succeeds ($err)" test "$rc" -eq 0
for m in crt tau-norm wb; do
    expect "compare has $m's rows" grep -q "^$m,val,auc," cmp/results.csv
done
expect "compare says crt reuses ce's run" grep -qF "crt's stage 1 is ce's run" "$T/stdout"
expect "crt's stage 1 is ce's run folder" grep -q '"from":[[:space:]]*"cmp/runs/ce/seed0"' cmp/runs/crt/seed0/run.json
expect "wb trains its own stage 1 with weight decay 5e-3" \
    grep -q '"weight_decay":[[:space:]]*0.005' cmp/runs/wb/stage1/seed0/run.json
secs() { grep "^$1,val,seconds," cmp/results.csv | cut -d, -f4; }
expect "crt's time counts stage 1 and 2 ($(secs crt) > $(secs ce))" \
    awk -v a="$(secs crt)" -v b="$(secs ce)" 'BEGIN { exit !(a > b && b > 0) }'
run compare --data m.csv --methods ce,crt,tau-norm,wb --seeds 1 --epochs 2 --batch 32 --out cmp
expect "compare again skips every finished run" test "$rc" -eq 0 -a "$(grep -c 'skipped' "$T/stdout")" -eq 4

finish
