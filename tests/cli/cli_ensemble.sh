#!/bin/bash
# cli_ensemble.sh — ensembles end to end: `focal train --seeds`, `focal
# ensemble`, eval and predict on an ensemble folder, the seed ensembles of
# `focal compare` (tables, results.csv/json, report), and members that do
# not fit together refused with nothing written.
NAME=cli_ensemble
. "$(dirname "$0")/harness.sh"

# A learnable, imbalanced binary table (about 1 positive in 4); the same
# rows with a fourth feature; a three-class table.
cd "$T" || exit 1
awk 'BEGIN { s = 7
  for (i = 0; i < 240; i++) {
    for (j = 0; j < 4; j++) { s = (s * 1103515245 + 12345) % 2147483648; x[j] = s / 2147483648 * 4 - 2 }
    y = (x[0] + x[1] > 1.3)
    printf "%.4f,%.4f,%.4f,%d\n", x[0], x[1], x[2], y > "t.csv"
    printf "%.4f,%.4f,%.4f,%.4f,%d\n", x[0], x[1], x[2], x[3], y > "t4.csv"
    printf "%.4f,%.4f,%.4f,%d\n", x[0], x[1], x[2], (x[0] > 0.5) + (x[1] > 0.5) > "m.csv" } }'
common=(--epochs 2 --batch 32 --threads 1 --quiet)

# The largest difference between dir's scores and the mean of the members'
# scores (rows matched by split and id): awk over the CSV files.
mean_gap() {
    local dir=$1
    shift
    awk -F, -v n=$# '
        FNR == 1 { f++; next }
        f <= n { k = $1 SUBSEP $2; for (j = 3; j <= NF; j++) sum[k, j] += $j; next }
        { k = $1 SUBSEP $2; rows++
          for (j = 3; j <= NF; j++) { d = $j - sum[k, j] / n; if (d < 0) d = -d; if (d > worst) worst = d } }
        END { if (!rows) worst = 1; printf "%.3g\n", worst }' \
        $(for m in "$@"; do echo "$m/scores.csv"; done) "$dir/scores.csv"
}

# --- train --seeds: three seeds and their ensemble ---------------------------------------
run train --data t.csv "${common[@]}" --seeds 3 --out E
expect "train --seeds 3 succeeds (rc $rc: $err)" test "$rc" -eq 0
for s in 0 1 2; do
    expect "seed$s is a finished run" test -s "E/seed$s/metrics.json" -a -s "E/seed$s/model.safetensors"
done
expect "the ensemble's run.json says so" grep -q '"kind":[[:space:]]*"ensemble"' E/run.json
expect "its members are relative paths" grep -q '"members":[[:space:]]*\["seed0", "seed1", "seed2"\]' E/run.json
expect "the ensemble has metrics.json and scores.csv" test -s E/metrics.json -a -s E/scores.csv
expect "and no model of its own" test ! -e E/model.safetensors
gap=$(mean_gap E E/seed0 E/seed1 E/seed2)
expect "its scores are the mean of the members' (largest gap $gap)" awk -v g="$gap" 'BEGIN { exit !(g <= 1e-6) }'
expect "as many rows as a member's" test "$(wc -l < E/scores.csv)" -eq "$(wc -l < E/seed0/scores.csv)"
cp E/scores.csv first_scores.csv
run train --data t.csv --epochs 2 --batch 32 --threads 1 --seeds 3 --out E
expect "run again: every seed is skipped" test "$rc" -eq 0 -a "$(grep -c 'finished before, skipped' "$T/stdout")" -eq 3
expect "... and the ensemble is the same" cmp -s first_scores.csv E/scores.csv
# the seeds are the run's seed and the next ones
expect "seed1 trained with seed 1" grep -qE '"seed":[[:space:]]*"?1"?,?$' E/seed1/run.json

# --- eval on the ensemble reproduces its metrics -----------------------------------------
run eval --model E --data t.csv --json
expect "eval on an ensemble succeeds (rc $rc: $err)" test "$rc" -eq 0
auc_eval=$(grep -o '"roc_auc_macro": [0-9.e-]*' "$T/stdout" | head -1)
auc_ens=$(sed -n '/"test"/,$p' E/metrics.json | grep -o '"roc_auc_macro": [0-9.e-]*' | head -1)
expect "eval's test AUC equals the ensemble's ($auc_eval vs $auc_ens)" test -n "$auc_eval" -a "$auc_eval" = "$auc_ens"
f1_eval=$(grep -o '"macro_f1": [0-9.e-]*' "$T/stdout" | head -1)
f1_ens=$(sed -n '/"test"/,$p' E/metrics.json | grep -o '"macro_f1": [0-9.e-]*' | head -1)
expect "... and its macro F1, with the ensemble's thresholds ($f1_eval vs $f1_ens)" test "$f1_eval" = "$f1_ens"
auc_m0=$(sed -n '/"test"/,$p' E/seed0/metrics.json | grep -o '"roc_auc_macro": [0-9.e-]*' | head -1)
run eval --model E/seed0 --data t.csv --json
expect "a member alone evaluates as itself" grep -qF "$auc_m0" "$T/stdout"

# --- focal ensemble over the same runs gives the same ensemble ----------------------------
run ensemble --runs E/seed0,E/seed1,E/seed2 --out E2
expect "focal ensemble succeeds (rc $rc: $err)" test "$rc" -eq 0
expect "it prints the members and the ensemble" grep -q "^ensemble of 3 " "$T/stdout"
expect "same scores as train --seeds" cmp -s E/scores.csv E2/scores.csv
expect "same metrics" cmp -s E/metrics.json E2/metrics.json
expect "members relative to the ensemble's folder" grep -qF '"../E/seed0"' E2/run.json
run ensemble --runs E/seed0,E/seed2 --out E3 --quiet
expect "an ensemble of two" test "$rc" -eq 0 -a -z "$out"
gap=$(mean_gap E3 E/seed0 E/seed2)
expect "the mean of its two members (largest gap $gap)" awk -v g="$gap" 'BEGIN { exit !(g <= 1e-6) }'

# --- predict on an image ensemble: the mean of its members' predictions -------------------
run synth --out syn --n 60 --size 16
printf 'conv 4 3\nrelu\ngap\ndense classes\n' > net.txt
run train --data syn --size 16x16 --model net.txt "${common[@]}" --seeds 2 --out IE
expect "train --seeds 2 on images succeeds (rc $rc: $err)" test "$rc" -eq 0
run predict --model IE --images syn/Test --out p.csv --quiet
expect "predict on the ensemble succeeds (rc $rc: $err)" test "$rc" -eq 0
run predict --model IE/seed0 --images syn/Test --out p0.csv --quiet
run predict --model IE/seed1 --images syn/Test --out p1.csv --quiet
# predict's probabilities: columns 2..K+1 (then K label_ columns); scores.csv's: 3..K+2
gap=$(awk -F, 'FNR == 1 { f++; K = (NF - 1) / 2; next }
               f <= 2 { for (j = 1; j <= K; j++) s[$1, j] += $(j + 1); next }
               { n++; for (j = 1; j <= K; j++) { d = $(j + 1) - s[$1, j] / 2; if (d < 0) d = -d; if (d > w) w = d } }
               END { if (!n) w = 1; printf "%.3g\n", w }' p0.csv p1.csv p.csv)
expect "ensemble predictions are the mean of its members' (largest gap $gap)" \
    awk -v g="$gap" 'BEGIN { exit !(g <= 2e-6) }'
gap=$(awk -F, 'FNR == 1 { f++; K = f == 1 ? (NF - 2) / 2 : K; next }
               f == 1 { if ($1 == "test") { t++; for (j = 1; j <= K; j++) s[$2, j] = $(j + 2) }; next }
               { n++; for (j = 1; j <= K; j++) { d = $(j + 1) - s[$1, j]; if (d < 0) d = -d; if (d > w) w = d } }
               END { if (!n || n != t) w = 1; printf "%.3g\n", w }' IE/scores.csv p.csv)
expect "... and the ensemble's test scores (largest gap $gap)" awk -v g="$gap" 'BEGIN { exit !(g <= 2e-6) }'
run eval --model IE --data syn --json
expect "eval on the image ensemble succeeds (rc $rc: $err)" test "$rc" -eq 0
map_eval=$(grep -o '"average_precision_macro": [0-9.e-]*' "$T/stdout" | head -1)
map_ens=$(sed -n '/"test"/,$p' IE/metrics.json | grep -o '"average_precision_macro": [0-9.e-]*' | head -1)
expect "eval's test mAP is the ensemble's ($map_eval vs $map_ens)" test -n "$map_eval" -a "$map_eval" = "$map_ens"

# test-time flips: on the ensemble's every member; tables have nothing to flip
run predict --model IE --images syn/Test --out pt.csv --quiet --tta flips
expect "predict --tta flips on the ensemble succeeds (rc $rc: $err)" test "$rc" -eq 0
expect "... with the same rows" test "$(cut -d, -f1 pt.csv)" = "$(cut -d, -f1 p.csv)"
expect "... and other probabilities" test "$(cmp -s p.csv pt.csv; echo $?)" -eq 1
run eval --model IE --data syn --tta flips --json
expect "eval --tta flips succeeds (rc $rc: $err)" test "$rc" -eq 0 -a -n "$(grep -o '"average_precision_macro"' "$T/stdout")"
fails "--tta on a table" 1 "test-time flips need image inputs" eval --model E --data t.csv --tta flips
fails "--tta value" 2 "--tta: 'rot'; expected none or flips" predict --model IE --images syn/Test --out x.csv --tta rot

# --- compare: each method's seed ensemble as a row -----------------------------------------
run compare --data t.csv --epochs 2 --batch 32 --threads 1 --methods ce,focal --seeds 2 --out C
expect "compare succeeds (rc $rc: $err)" test "$rc" -eq 0
expect "an ensemble row per method and table" test "$(grep -cE '^(ce|focal) \(ensemble of 2\) +[0-9]\.[0-9]{3} ' "$T/stdout")" -eq 4
expect "the best method is a single model's row" test "$(grep -cE '^[a-z]+ +\*' "$T/stdout")" -eq 2
expect "no ensemble row is marked best" test "$(grep -cE '^[a-z]+ \(ensemble.*\*' "$T/stdout")" -eq 0
expect "the ensembles are folders of their own" test -s C/runs/ce/ensemble/metrics.json -a -s C/runs/focal/ensemble/run.json
expect "results.csv has the ensembles' rows" \
    test "$(grep -cE '^(ce|focal) \(ensemble of 2\),(val|test),auc,[0-9.e-]+,,2$' C/results.csv)" -eq 4
expect "results.json lists them" grep -q '"name":[[:space:]]*"ce (ensemble of 2)"' C/results.json
expect "... with their folders" grep -q '"run":[[:space:]]*"runs/focal/ensemble"' C/results.json
auc_row=$(grep -E '^ce \(ensemble of 2\),val,auc,' C/results.csv | cut -d, -f4)
auc_json=$(sed -n '/"val"/,/"test"/p' C/runs/ce/ensemble/metrics.json | grep -o '"roc_auc_macro": [0-9.e-]*' |
           head -1 | awk '{ printf "%.6g", $2 }')
expect "the row is the ensemble folder's metrics ($auc_row vs $auc_json)" test -n "$auc_row" -a "$auc_row" = "$auc_json"
expect "the report shows the ensemble rows" grep -qF 'ce (ensemble of 2) <span class="badge ens">ensemble</span>' C/report.html
expect "the Markdown report too" grep -qF '| *focal (ensemble of 2)* |' C/report.md
run compare --data t.csv --epochs 2 --batch 32 --threads 1 --methods ce,focal --seeds 1 --out C1
expect "one seed: no ensemble rows" test "$rc" -eq 0 -a "$(grep -c 'ensemble of' "$T/stdout")" -eq 0

# --- members that do not fit together are refused, nothing written ------------------------
run train --data m.csv "${common[@]}" --out M
run train --data t4.csv "${common[@]}" --out F4
run train --data t.csv "${common[@]}" --seed 9 --out S9
fails "another task" 2 "has task \"multiclass\"; E/seed0 has \"binary\"" ensemble --runs E/seed0,M --out X1
expect "... nothing written" test ! -e X1
fails "another input size" 2 "has input size [4,1,1]; E/seed0 has [3,1,1]" ensemble --runs E/seed0,F4 --out X2
expect "... nothing written" test ! -e X2
fails "other splits" 2 "members must be trained on the same splits" ensemble --runs E/seed0,S9 --out X3
expect "... nothing written" test ! -e X3
fails "one run" 2 "an ensemble needs at least 2" ensemble --runs E/seed0 --out X4
fails "an ensemble as a member" 2 "an ensemble's members must be single runs" ensemble --runs E,E/seed0 --out X5
fails "over a trained run" 2 "holds a trained run" ensemble --runs E/seed1,E/seed2 --out E/seed0
fails "a missing run" 1 "nope/run.json" ensemble --runs E/seed0,nope --out X6
fails "--seeds 1" 2 "--seeds" train --data t.csv "${common[@]}" --seeds 1 --out X7
fails "--seeds over a trained run" 2 "holds a trained run" train --data t.csv "${common[@]}" --seeds 2 --out S9
expect "... nothing trained" test ! -e S9/seed0
expect "no temporary files" no_temp_files E

finish
