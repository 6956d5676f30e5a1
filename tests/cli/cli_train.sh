#!/bin/bash
# cli_train.sh — `focal train`, `focal eval` and `focal predict` end to end:
# the run folder's files, determinism, resuming (also after SIGKILL), and
# bad input that must fail cleanly.
NAME=cli_train
. "$(dirname "$0")/harness.sh"

# A learnable binary table: 4 features, the label a fixed rule of them.
awk 'BEGIN { s = 12345
  for (i = 0; i < 400; i++) {
    for (j = 0; j < 4; j++) { s = (s * 1103515245 + 12345) % 2147483648; x[j] = s / 2147483648 * 4 - 2 }
    y = (x[0] + 0.5 * x[1] - x[2] * x[3] > 1.2) ? 1 : 0
    printf "%.4f,%.4f,%.4f,%.4f,%d\n", x[0], x[1], x[2], x[3], y } }' > "$T/t.csv"
cd "$T" || exit 1

# --- a run and its files ------------------------------------------------------------
run train --data t.csv --epochs 4 --batch 32 --seed 3 --out r1
expect "train succeeds" test "$rc" -eq 0
for f in model.safetensors last.safetensors last.optim.safetensors history.csv run.json metrics.json scores.csv; do
    expect "run folder has $f" test -s "r1/$f"
done
expect "no temporary files in the run folder" no_temp_files r1
expect "history has a header and 4 epochs" test "$(wc -l < r1/history.csv)" -eq 5
expect "history header" grep -qx "epoch,train_loss,val_loss,val_map,val_auc,val_macro_f1,val_balanced_accuracy,val_accuracy,improved,lr,seconds" r1/history.csv
expect "stdout has one line per epoch" test "$(grep -c '^epoch ' "$T/stdout")" -eq 4
expect "stdout shows the training class counts" grep -qE "^1 +[0-9]+ +[0-9.]+%" "$T/stdout"
for k in '"val"' '"test"' '"accuracy"' '"balanced_accuracy"' '"macro_f1"' '"micro_f1"' '"weighted_f1"' '"mcc"' \
         '"roc_auc_macro"' '"average_precision_macro"' '"per_class"' '"support"' '"precision"' '"recall"' '"f1"' \
         '"roc_auc"' '"average_precision"'; do
    expect "metrics.json has $k" grep -qF "$k" r1/metrics.json
done
expect "run.json: binary task with one threshold" grep -q '"task":[[:space:]]*"binary"' r1/run.json
expect "the model learned (validation AUC of the last epoch > 0.8)" \
    awk -F, 'NR == 5 { exit !($5 > 0.8) }' r1/history.csv
test_auc=$(sed -n '/"test"/,$p' r1/metrics.json | sed -n 's/.*"roc_auc_macro": *\([0-9.e-]*\).*/\1/p' | head -1)
expect "the last lines give the kept model's validation and test figures (test AUC $test_auc)" \
    grep -qE "^test +AP [0-9.]+  ROC-AUC $(printf '%.4f' "$test_auc")  macro F1 " "$T/stdout"
expect "... validation first" grep -qE "^validation +AP [0-9.]+  ROC-AUC [0-9.]+" "$T/stdout"

# --- eval reproduces the run's test metrics --------------------------------------------
run eval --model r1 --data t.csv --json
expect "eval succeeds" test "$rc" -eq 0
auc_eval=$(grep -o '"roc_auc_macro": [0-9.e-]*' "$T/stdout" | head -1)
auc_run=$(sed -n '/"test"/,$p' r1/metrics.json | grep -o '"roc_auc_macro": [0-9.e-]*' | head -1)
expect "eval's test AUC equals metrics.json's ($auc_eval vs $auc_run)" test -n "$auc_eval" -a "$auc_eval" = "$auc_run"
run eval --model r1 --data t.csv
expect "eval prints a table" grep -q "^ROC-AUC" "$T/stdout"

# --- determinism and resuming ----------------------------------------------------------
strip() { cut -d, -f1-10 "$1"; }   # history without the seconds column
run train --data t.csv --epochs 4 --batch 32 --seed 3 --out r2 --quiet
expect "quiet prints nothing" test -z "$out"
expect "same seed, same history" diff <(strip r1/history.csv) <(strip r2/history.csv)
run train --data t.csv --epochs 4 --batch 32 --seed 4 --out r3 --quiet
differs() { ! cmp -s "$1" "$2"; }
expect "another seed, another history" differs <(strip r1/history.csv) <(strip r3/history.csv)
# --epochs raised on resume: with a constant rate, 2 epochs resumed to 4 are the
# 4-epoch run (the default cosine spans the epochs the run was given)
run train --data t.csv --epochs 4 --batch 32 --seed 3 --schedule constant --out c4 --quiet
run train --data t.csv --epochs 2 --batch 32 --seed 3 --schedule constant --out r4 --quiet
run train --data t.csv --epochs 4 --batch 32 --seed 3 --schedule constant --out r4 --quiet --resume
expect "resume succeeds" test "$rc" -eq 0
expect "2 epochs + resume to 4 = 4 epochs" diff <(strip c4/history.csv) <(strip r4/history.csv)
expect "resumed model equals the uninterrupted one" cmp -s c4/model.safetensors r4/model.safetensors
# --- the rate every step used: cosine over the whole run, after a linear warm-up -------
run train --data t.csv --epochs 3 --batch 32 --seed 3 --schedule cosine --warmup 5 --lr 0.01 \
    --steps-csv steps.csv --out rcos --quiet
expect "cosine run succeeds" test "$rc" -eq 0
nsteps=$(($(wc -l < steps.csv) - 1))
expect "steps.csv has a row per optimiser step ($nsteps)" test "$nsteps" -gt 15
# lr(t) = 0.01 (1 + cos(pi t / T)) / 2, times (t + 1) / 5 for t < 5; t = step - 1, T = all steps
cosine_ok() {
    awk -F, -v T="$nsteps" 'NR > 1 { t = $1 - 1; want = 0.01 * (1 + cos(3.141592653589793 * t / T)) / 2
        if (t < 5) want *= (t + 1) / 5
        d = $3 - want; if (d < 0) d = -d; if (d > 1e-12 + 1e-9 * want) { print "step " $1 ": lr " $3 ", expected " want; bad = 1 } }
        END { exit bad }' "$1"
}
expect "every step's rate follows warm-up then one cosine over all $nsteps steps" cosine_ok steps.csv
expect "the last step's rate is near 0" awk -F, -v T="$nsteps" 'NR == T + 1 { exit !($3 < 0.01 * 0.01) }' steps.csv
# history.csv's lr is the rate of each epoch's first step: past the warm-up it must fall
expect "history's lr falls epoch by epoch" awk -F, 'NR > 3 { if (!($10 < prev)) bad = 1 } NR > 2 { prev = $10 } END { exit bad }' \
    rcos/history.csv

# --- options in any order give the same run ---------------------------------------------
# two run folders: every file byte for byte, but for the seconds each epoch took (in
# history.csv, and in the copy of the history in last.safetensors's header, whose
# padding follows its length): the checkpoint's tensors byte for byte, its header
# with the seconds masked
st_data() { local h; h=$(od -An -t u8 -N8 "$1" | tr -d ' '); tail -c +$((h + 9)) "$1"; }
st_head() { local h; h=$(od -An -t u8 -N8 "$1" | tr -d ' '); head -c $((h + 8)) "$1" | tail -c +9 |
            LC_ALL=C sed -E 's/\\"seconds\\":[0-9.e+-]+/\\"seconds\\":S/g; s/ +$//'; }
same_run() {
    for f in model.safetensors last.optim.safetensors metrics.json scores.csv run.json; do
        cmp -s "$1/$f" "$2/$f" || { echo "$f differs"; return 1; }
    done
    cmp -s <(st_data "$1/last.safetensors") <(st_data "$2/last.safetensors") &&
        cmp -s <(st_head "$1/last.safetensors") <(st_head "$2/last.safetensors") || { echo "last.safetensors differs"; return 1; }
    diff <(strip "$1/history.csv") <(strip "$2/history.csv")
}
order_a=(--optimizer sgd --momentum 0.9 --nesterov --weight-decay 0.001 --schedule step:5,0.5 --lr 0.05 --warmup 2)
order_b=(--lr 0.05 --schedule step:5,0.5 --weight-decay 0.001 --nesterov --momentum 0.9 --warmup 2 --optimizer sgd)
order_c=(--momentum 0.9 --optimizer sgd --warmup 2 --lr 0.05 --nesterov --schedule step:5,0.5 --weight-decay 0.001)
run train --data t.csv --epochs 2 --batch 32 --seed 3 "${order_a[@]}" --out oa --quiet
run train --seed 3 "${order_b[@]}" --batch 32 --out ob --data t.csv --quiet --epochs 2
run train --quiet --out oc "${order_c[@]}" --epochs 2 --seed 3 --data t.csv --batch 32
expect "sgd options in order a and b: the same run folder" same_run oa ob
expect "sgd options in order a and c: the same run folder" same_run oa oc
run train --data t.csv --epochs 2 --batch 32 --seed 3 --weight-decay 0.0001 --optimizer adamw --out wa --quiet
run train --data t.csv --epochs 2 --batch 32 --seed 3 --optimizer adamw --weight-decay 0.0001 --out wb --quiet
expect "--weight-decay before or after --optimizer adamw: the same run folder" same_run wa wb
run train --data t.csv --epochs 2 --batch 32 --seed 3 --optimizer adamw --out wd --quiet
differs_dir() { ! same_run "$1" "$2" >/dev/null; }
expect "and it differs from AdamW's default decay (0.01)" differs_dir wa wd

fails "resume refuses other settings" 2 "the run was made with other settings (loss.gamma 2 -> 1)" \
    train --data t.csv --epochs 4 --batch 32 --seed 3 --schedule constant --out r4 --resume --quiet --gamma 1

# SIGKILL during training, then --resume: the same history as without the kill.
awk 'BEGIN { s = 7
  for (i = 0; i < 20000; i++) {
    for (j = 0; j < 4; j++) { s = (s * 1103515245 + 12345) % 2147483648; x[j] = s / 2147483648 * 4 - 2 }
    printf "%.4f,%.4f,%.4f,%.4f,%d\n", x[0], x[1], x[2], x[3], (x[0] * x[1] > 0.3) } }' > big.csv
"$FOCAL_BIN" train --data big.csv --epochs 6 --batch 16 --threads 1 --out k1 --quiet &
pid=$!
for _ in $(seq 1 600); do
    [ -f k1/history.csv ] && [ "$(wc -l < k1/history.csv)" -ge 3 ] && break
    sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
done_epochs=$(($(wc -l < k1/history.csv) - 1))
expect "killed between epochs 2 and 6 ($done_epochs done)" test "$done_epochs" -ge 2 -a "$done_epochs" -lt 6
expect "no temporary files after SIGKILL" no_temp_files k1
run train --data big.csv --epochs 6 --batch 16 --threads 1 --out k1 --quiet --resume
expect "resume after SIGKILL succeeds" test "$rc" -eq 0
run train --data big.csv --epochs 6 --batch 16 --threads 1 --out k2 --quiet
expect "killed + resumed = uninterrupted" diff <(strip k1/history.csv) <(strip k2/history.csv)

# --- predict -------------------------------------------------------------------------------
fails "predict without images" 2 "--images" predict --model r1 --out p.csv
fails "predict of a table-trained model on a missing image" 1 "missing.png" \
    predict --model r1 --images missing.png --out p.csv --cache none
expect "failed predict wrote nothing" test ! -e p.csv

# --- bad input -------------------------------------------------------------------------------
fails "no --out" 2 "--out is required" train --data t.csv
fails "no --data" 2 "--data is required" train --out x
fails "missing data file" 1 "nothere.csv" train --data nothere.csv --out x
fails "batch out of range" 2 "--batch" train --data t.csv --out x --batch 1
fails "lr out of range" 2 "--lr" train --data t.csv --out x --lr 0
fails "lr not a number" 2 "--lr: 'fast' is not a number" train --data t.csv --out x --lr fast
fails "size out of range" 2 "--size: '4x4'" train --data t.csv --out x --size 4x4
fails "softmax loss on a binary task" 2 "softmax-focal is a softmax loss" \
    train --data t.csv --out x --loss softmax-focal
fails "unknown loss" 2 "'hinge' is not a loss" train --data t.csv --out x --loss hinge
fails "unknown sampler" 2 "--sampler" train --data t.csv --out x --sampler sometimes
fails "bad augmentation" 2 "--augment: 'spin'" train --data t.csv --out x --augment spin
fails "unknown model file" 2 "neither a preset" train --data t.csv --out x --model nonet
expect "failed runs left no folder" test ! -e x
# a run folder that cannot be made (its parent is a file; works as root too)
fails "run folder cannot be created" 1 "t.csv/run: cannot create the run folder" \
    train --data t.csv --out t.csv/run --epochs 1
# the disk filling while a checkpoint is written (a file-size limit makes the
# write fail with EFBIG; SIGXFSZ ignored): an error naming the file, nothing
# half-written left behind
( trap '' XFSZ; ulimit -f 8; "$FOCAL_BIN" train --data t.csv --epochs 2 --out full --quiet >"$T/stdout" 2>"$T/stderr" )
rc=$?
expect "disk full: exit 1 (got $rc)" test "$rc" -eq 1
expect "disk full: the message names the checkpoint" grep -q "full/model.safetensors: write failed" "$T/stderr"
expect "disk full: no checkpoint, temporary file, lock or staging folder left" test -z "$(ls -A full)"
# a wrong column count in the table
{ head -5 t.csv; echo "1,2,3"; tail -5 t.csv; } > short.csv
fails "row with a wrong column count" 1 "short.csv:6" train --data short.csv --out x
# a binary class without training examples
awk -F, '{ print $1 "," $2 "," $3 "," $4 ",0" }' t.csv > one.csv
fails "a single class" 1 "one.csv" train --data one.csv --out x
expect "no partial run folder after bad data" test ! -e x
finish
