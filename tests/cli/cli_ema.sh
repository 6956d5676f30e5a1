#!/bin/bash
# cli_ema.sh — `focal train --ema D`: validation, the best checkpoint and the
# final metrics use the moving average of the weights (eval of the saved
# model gives the validation figures history.csv recorded at the best epoch,
# and the raw weights give other figures); the average is saved with every
# epoch and a resumed run ends with the files of an uninterrupted one.
NAME=cli_ema
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
cd "$T" || exit 1

awk 'BEGIN { s = 11
  for (i = 0; i < 300; i++) {
    for (j = 0; j < 4; j++) { s = (s * 1103515245 + 12345) % 2147483648; x[j] = s / 2147483648 * 4 - 2 }
    printf "%.4f,%.4f,%.4f,%.4f,%d\n", x[0], x[1], x[2], x[3], (x[0] - x[1] * x[2] + 0.3 * x[3] > 0.8) } }' > t.csv
# a constant rate: the raw weights still move at the end, and a run resumed with
# more epochs is the longer run (a cosine spans the epochs it was given)
args=(train --data t.csv --batch 16 --seed 4 --threads 1 --schedule constant --quiet)

run "${args[@]}" --epochs 4 --ema 0.9 --out e
expect "train --ema succeeds" test "$rc" -eq 0
expect "the average is saved with each epoch" test -s e/last.ema.safetensors
expect "run.json records the decay" grep -q '"ema_decay":[[:space:]]*0.9' e/run.json
run "${args[@]}" --epochs 4 --out plain
expect "a run without --ema has no average" test ! -e plain/last.ema.safetensors

# history's validation AUC at the best epoch is that of the saved (averaged) model
best_auc=$(awk -F, 'NR > 1 && $9 == 1 { a = $5 } END { printf "%.6f", a }' e/history.csv)
run eval --model e --data t.csv --split val --json
saved_auc=$(printf '%s' "$out" | sed -n 's/.*"roc_auc_macro": *\([0-9.e-]*\).*/\1/p' | head -1)
expect "eval of model.safetensors gives history's best validation AUC ($saved_auc vs $best_auc)" \
    test "$(printf '%.6f' "$saved_auc")" = "$best_auc"
cp -r e raw && cp e/last.safetensors raw/model.safetensors
run eval --model raw --data t.csv --split val --json
raw_auc=$(printf '%s' "$out" | sed -n 's/.*"roc_auc_macro": *\([0-9.e-]*\).*/\1/p' | head -1)
last_auc=$(awk -F, 'NR == 5 { printf "%.6f", $5 }' e/history.csv)
expect "the raw weights of the last epoch are not what epoch 4 validated ($raw_auc vs $last_auc)" \
    test "$(printf '%.6f' "$raw_auc")" != "$last_auc"

# resume: 2 epochs, then on to 4, gives the uninterrupted run's files
run "${args[@]}" --epochs 2 --ema 0.9 --out r
run "${args[@]}" --epochs 4 --ema 0.9 --out r --resume
expect "the resumed run succeeds" test "$rc" -eq 0
expect "resumed: the same averaged model" cmp -s e/model.safetensors r/model.safetensors
expect "resumed: the same average at the last epoch" cmp -s e/last.ema.safetensors r/last.ema.safetensors
expect "resumed: the same metrics" cmp -s e/metrics.json r/metrics.json

# a resume must not mix settings: --ema is part of them
run "${args[@]}" --epochs 5 --ema 0.8 --out r --resume
expect "resume with another decay is refused" test "$rc" -ne 0
expect "the refusal names ema_decay" grep -q "ema_decay" "$T/stderr"
fails "--ema takes a decay in [0, 1)" 2 "--ema: '1.5'" "${args[@]}" --ema 1.5 --out bad

finish
