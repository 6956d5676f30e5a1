#!/bin/bash
# cli_binary.sh — two-class image folders are a binary task: one sigmoid
# output whose probability is the positive class's (the rarer one, or
# --positive NAME), named in the output, run.json, scores, predict and eval;
# --head softmax keeps a two-way softmax. And the default image size: the
# images' own size when they share one, else a default, smaller images
# enlarged with a line saying so.
NAME=cli_binary
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
src=${FOCAL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$T" || exit 1

# healthy / dr class folders from the synthetic fundus set (DR in about 20%)
run synth --out syn --n 80 --size 20 --seed 2
expect "synth succeeds" test "$rc" -eq 0
mkdir -p bin/healthy bin/dr
for split in Training:Training_Labels Validation:Validation_Labels Test:Testing_Labels; do
    folder=${split%%:*}
    awk -F, 'NR > 1 { print $1, $3 }' "syn/RFMiD_${split#*:}.csv" | while read -r id dr; do
        [ "$dr" = 1 ] && cls=dr || cls=healthy
        cp "syn/$folder/$id.png" "bin/$cls/$folder-$id.png"
    done
done
n_dr=$(ls bin/dr | wc -l)
n_all=$(($(ls bin/healthy | wc -l) + n_dr))
expect "dr is the rarer class ($n_dr of $n_all)" test "$n_dr" -gt 2 -a $((2 * n_dr)) -lt "$n_all"

common=(--model "$src/examples/small-cnn.net" --epochs 2 --batch 16 --seed 1 --cache none)
run train --data bin "${common[@]}" --out rb
expect "train on two class folders succeeds" test "$rc" -eq 0
expect "it trains at the images' own size" grep -qF "images: all of one size; training at 20x20" "$T/stdout"
expect "it says the task is binary with the rarer class positive" \
    grep -qF "binary: positive class 'dr' (the rarer; --positive NAME chooses)" "$T/stdout"
expect "run.json: binary task" grep -q '"task":[[:space:]]*"binary"' rb/run.json
expect "run.json names the positive class" grep -q '"positive":[[:space:]]*"dr"' rb/run.json
expect "run.json: a sigmoid loss (the sigmoid family is the default)" grep -q '"kind":[[:space:]]*"sigmoid-focal"' rb/run.json
expect "one output, named after the positive class" test "$(head -1 rb/scores.csv)" = "split,id,dr,y_dr"
expect "metrics.json has one threshold" grep -q '"thresholds": \[[0-9.e-]*\]' rb/metrics.json

run eval --model rb --data bin --json
expect "eval of the binary run succeeds" test "$rc" -eq 0
expect "eval reports a binary task" grep -q '"task": "binary"' "$T/stdout"
run predict --model rb --out p.csv --images bin/dr
expect "predict succeeds" test "$rc" -eq 0
expect "predict names the positive class" grep -q '^ID,dr' p.csv
expect "predict writes a row per image" test "$(($(wc -l < p.csv) - 1))" -eq "$n_dr"

run train --data bin "${common[@]}" --positive healthy --out rh --quiet
expect "--positive healthy" grep -q '"positive":[[:space:]]*"healthy"' rh/run.json
expect "the output is then healthy's" test "$(head -1 rh/scores.csv)" = "split,id,healthy,y_healthy"
run eval --model rh --data bin --json
expect "eval uses the run's positive class" test "$rc" -eq 0
fails "--positive must name a class" 1 "no class 'cow' to be the positive one; expected dr or healthy" \
    train --data bin "${common[@]}" --positive cow --out rc

run train --data bin "${common[@]}" --seeds 2 --out re
expect "--seeds 2 on a binary task succeeds" test "$rc" -eq 0
expect "the seed table says whose AP and AUC it shows" \
    grep -qF "binary task: AP and ROC-AUC of the positive class, dr" "$T/stdout"
expect "the seed table's columns are AP, not mAP" grep -qE '^ +val AP +val AUC +val F1 +test AP ' "$T/stdout"

run train --data bin "${common[@]}" --head softmax --out rs --quiet
expect "--head softmax: a two-way softmax" grep -q '"task":[[:space:]]*"multiclass"' rs/run.json
expect "--head softmax: a softmax loss" grep -q '"kind":[[:space:]]*"softmax-focal"' rs/run.json
run eval --model rs --data bin --json
expect "eval of the softmax run succeeds" test "$rc" -eq 0
fails "--head takes sigmoid or softmax" 2 "--head: 'tanh'; expected sigmoid or softmax" \
    train --data bin "${common[@]}" --head tanh --out rt

# images of two sizes: the default size, and the smaller ones enlarged with a line saying so
run synth --out syn16 --n 20 --size 16 --seed 3
cp syn16/Training/1.png bin/dr/small-1.png
cp syn16/Training/2.png bin/healthy/small-2.png
run train --data bin "${common[@]}" --epochs 1 --out rm
expect "mixed sizes train" test "$rc" -eq 0
expect "mixed sizes: the default size" grep -qF "images: of several sizes; training at 64x64" "$T/stdout"
expect "mixed sizes: every image is enlarged, and it says so" \
    grep -qF "images: $((n_all + 2)) of $((n_all + 2)) are smaller than 64x64 and are enlarged to it (bilinear)" "$T/stdout"
run train --data bin "${common[@]}" --epochs 1 --size 20x20 --out r20
expect "--size 20x20: two images enlarged" \
    grep -qF "images: 2 of $((n_all + 2)) are smaller than 20x20 and are enlarged to it (bilinear)" "$T/stdout"

# data already decoded (npz): eval applies the run's size without a word about --size
run train --data "$src/tests/fixtures/datasets/tiny.npz" --epochs 1 --batch 8 --out rn --quiet
expect "train on a .npz succeeds" test "$rc" -eq 0
run eval --model rn --data "$src/tests/fixtures/datasets/tiny.npz" --json
expect "eval on the .npz succeeds" test "$rc" -eq 0
expect "eval on the .npz warns of nothing it was not given" test -z "$err"
run eval --model rn --data "$src/tests/fixtures/datasets/tiny.npz" --size 20x20 --json
expect "an explicit --size still draws a warning" grep -qF -- "--size is ignored: the model takes" "$T/stderr"

finish
