#!/bin/bash
# cli_compare.sh — `focal compare` and `focal tune` end to end on a small
# table: the runs, the tables, results.csv/json, the report, skipping
# finished runs, user-defined methods, and bad input.
NAME=cli_compare
. "$(dirname "$0")/harness.sh"

# A learnable, imbalanced binary table (about 1 positive in 4).
awk 'BEGIN { s = 99
  for (i = 0; i < 300; i++) {
    for (j = 0; j < 3; j++) { s = (s * 1103515245 + 12345) % 2147483648; x[j] = s / 2147483648 * 4 - 2 }
    printf "%.4f,%.4f,%.4f,%d\n", x[0], x[1], x[2], (x[0] + x[1] > 1.3) } }' > "$T/t.csv"
cd "$T" || exit 1
common=(--data t.csv --epochs 3 --batch 32 --threads 1)

# --- compare ----------------------------------------------------------------------
run compare "${common[@]}" --methods ce,focal,wfocal --method wfocal=loss:focal,alpha:0.75 --seeds 2 --out c1
expect "compare succeeds (rc $rc: $err)" test "$rc" -eq 0
for m in ce focal wfocal; do
    for s in 0 1; do
        expect "run $m/seed$s finished" test -s "c1/runs/$m/seed$s/metrics.json"
    done
done
expect "six runs reported" test "$(grep -c '^\[[0-9]/6\]' "$T/stdout")" -eq 6
expect "validation table" grep -q "^validation .*mAP .*macro ROC-AUC" "$T/stdout"
expect "test table" grep -q "^test .*mAP" "$T/stdout"
expect "one best method marked" test "$(grep -cE '^[a-z]+ +\*' "$T/stdout")" -eq 2
expect "mean ± std cells" grep -qE "^ce +[0-9]\.[0-9]{3} ± [0-9]\.[0-9]{3}" "$T/stdout"
expect "the lead is judged against the seed spread" grep -qE "leads .* by .*(more than|within) the seed-to-seed spread" "$T/stdout"
expect "the test split never chooses" grep -q "never used to choose" "$T/stdout"
expect "results.csv header" grep -qx "method,split,metric,mean,std,seeds" c1/results.csv
expect "results.csv has val and test rows for every method" \
    test "$(grep -cE '^(ce|focal|wfocal),(val|test),auc,' c1/results.csv)" -eq 6
for k in '"kind":[[:space:]]*"compare"' '"methods"' '"best"' '"sentence"' '"rarest"' '"train_counts"'; do
    expect "results.json has $k" grep -q "$k" c1/results.json
done
expect "the defined method's spec is recorded" grep -q '"spec":[[:space:]]*"loss:focal,alpha:0.75"' c1/results.json
expect "report.html written" test -s c1/report.html
expect "report.md written" test -s c1/report.md
expect "no temporary files" no_temp_files c1
# the user's alpha reached the runs
expect "wfocal trained with alpha 0.75" grep -q '"alpha":[[:space:]]*0.75' c1/runs/wfocal/seed0/run.json

# the best method's mean equals the mean of its seeds' validation AUCs in metrics.json
best=$(grep -oE '^[a-z]+ +\*' "$T/stdout" | head -1 | tr -d ' *')
vals=$(for s in 0 1; do sed -n '/"val"/,/"test"/p' "c1/runs/$best/seed$s/metrics.json" |
       grep -o '"roc_auc_macro": [0-9.e-]*' | head -1 | awk '{print $2}'; done)
mean=$(echo "$vals" | awk '{ s += $1 } END { printf "%.3f", s / NR }')
expect "best method's mean AUC ($mean) is the seeds' mean" grep -qE "^$best +\* .* $mean ±" "$T/stdout"

# run again: every run is skipped, the tables are the same
cp "$T/stdout" first.txt
run compare "${common[@]}" --methods ce,focal,wfocal --method wfocal=loss:focal,alpha:0.75 --seeds 2 --out c1
expect "second compare succeeds" test "$rc" -eq 0
expect "finished runs are skipped" test "$(grep -c 'finished before, skipped' "$T/stdout")" -eq 6
expect "same tables the second time" diff <(sed -n '/^validation/,$p' first.txt | grep -v '^wrote') \
    <(sed -n '/^validation/,$p' "$T/stdout" | grep -v '^wrote')
# an interrupted run (no metrics.json yet) is resumed, not restarted
rm c1/runs/focal/seed1/metrics.json
run compare "${common[@]}" --methods ce,focal,wfocal --method wfocal=loss:focal,alpha:0.75 --seeds 2 --out c1
expect "an unfinished run is trained again" test "$(grep -c 'finished before, skipped' "$T/stdout")" -eq 5
expect "... and its metrics are back" test -s c1/runs/focal/seed1/metrics.json

# methods that do not fit the task are left out with a note
run compare "${common[@]}" --methods ce,undersample --seeds 1 --out c2
expect "undersample applies to binary data" test -s c2/runs/undersample/seed0/metrics.json

# --- tune -----------------------------------------------------------------------------
run tune "${common[@]}" --gamma 0,2 --alpha 0.25 --folds 2 --out u1
expect "tune succeeds (rc $rc: $err)" test "$rc" -eq 0
expect "four fold runs and the retrained best" test "$(ls -d u1/runs/g*/fold* | wc -l)" -eq 4 -a -s u1/runs/best/metrics.json
expect "the gamma x alpha table" grep -qE "^ +2 +[0-9.]+ ± [0-9.]+" "$T/stdout"
expect "the best setting is named" grep -q "^best: gamma [02], alpha 0.25" "$T/stdout"
expect "the test numbers of the retrained setting" grep -qE "^  macro ROC-AUC +validation +[0-9.]+ +test +[0-9.]+" "$T/stdout"
expect "results.json holds the grid" grep -qF '"grid"' u1/results.json
expect "tune's results.csv" test "$(grep -c ',auc,' u1/results.csv)" -eq 2
expect "tune's report" test -s u1/report.html

# --- bad input -------------------------------------------------------------------------
fails "unknown method" 2 "'hinge' is not a method" compare "${common[@]}" --methods ce,hinge --out x
fails "bad method definition" 2 "--method: 'oops'" compare "${common[@]}" --method oops --out x
fails "bad spec key" 2 "'speed:3' is not KEY:VALUE" compare "${common[@]}" --method f=speed:3 --methods f --out x
fails "seeds out of range" 2 "--seeds" compare "${common[@]}" --seeds 0 --out x
fails "compare needs --out" 2 "--out DIR is required" compare "${common[@]}"
# a method's loss is checked by the library, with the library's message, before
# any run starts: here x would fail only after ce's runs
fails "compare: a method's bad gamma is refused up front" 2 \
    "compare: method x: sigmoid-focal: gamma is -1; expected a finite value >= 0" \
    compare "${common[@]}" --methods ce,x --method x=loss:focal,gamma:-1 --out x
expect "compare: the bad method left no run folder" test ! -e x/runs
fails "compare: a loss of the wrong family" 2 "compare: method z: --loss: softmax-focal is a softmax loss" \
    compare "${common[@]}" --methods z --method z=loss:softmax-focal --out x
fails "tune: alpha out of range" 2 "tune: gamma 0, alpha 2: sigmoid-focal: alpha is 2; expected a value in [0,1]" \
    tune "${common[@]}" --alpha 2 --out x
fails "tune: gamma out of range" 2 "tune: gamma -1, alpha 0.25: sigmoid-focal: gamma is -1" \
    tune "${common[@]}" --gamma 1,-1 --out x
fails "tune: folds out of range" 2 "--folds" tune "${common[@]}" --folds 1 --out x
expect "failed experiments left no folder" test ! -e x
finish
