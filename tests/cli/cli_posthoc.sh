#!/bin/bash
# cli_posthoc.sh — post-hoc logit adjustment (`focal train --posthoc-la`,
# compare's la-posthoc) and compare's cross-entropy baseline: auto's tau is
# the grid's best validation balanced accuracy, the adjusted scores are the
# plain run's renormalised by prior^-tau (computed here from run.json's
# prior), training is the plain run's, eval and ensembles use the
# adjustment, sigmoid tasks and bad values are refused, and compare always
# runs ce and shows every method's gain over it.
NAME=cli_posthoc
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
cd "$T" || exit 1

# an imbalanced three-class table: class 2 rare
imbalanced_table 777 > m.csv
common=(--data m.csv --epochs 3 --batch 32 --seed 1 --threads 1 --loss ce)

# --- the option and its help ------------------------------------------------------------
run train --help
expect "train --help documents --posthoc-la with its paper" grep -q -- "--posthoc-la auto|TAU" "$T/stdout"
expect "and Menon et al." grep -q "Menon et al., ICLR 2021" "$T/stdout"
fails "a negative tau is refused" 2 "--posthoc-la" train "${common[@]}" --posthoc-la -1 --out r-bad
fails "a word other than auto is refused" 2 "auto or a tau in [0, 100]" train "${common[@]}" --posthoc-la best --out r-bad
expect "and no folder is made" test ! -e r-bad

# --- auto: tau from the validation grid ---------------------------------------------------------
run train "${common[@]}" --posthoc-la auto --out r-auto
expect "train --posthoc-la auto succeeds ($err)" test "$rc" -eq 0
expect "it says which tau it applied" grep -qE "^post-hoc logit adjustment: tau [0-9.]+ \(chosen by validation" "$T/stdout"
grid() { awk '/"grid"/ { g = 1 } g && /"tau"/ { gsub(/[^0-9.e-]/, "", $2); t = $2 }
              g && /"val_balanced_accuracy"/ { gsub(/[^0-9.e-]/, "", $2); print t, $2 }' "$1/run.json"; }
tau_of() { awk '/"posthoc_la"/ { p = 1 } p && /"tau"/ { gsub(/[^0-9.e-]/, "", $2); print $2; exit }' "$1/run.json"; }
expect "run.json holds the nine-point grid 0, 0.25, ..., 2" \
    test "$(grid r-auto | awk '{ printf "%s ", $1 }')" = "0 0.25 0.5 0.75 1 1.25 1.5 1.75 2 "
best=$(grid r-auto | awk 'NR == 1 || $2 > b { b = $2; t = $1 } END { print t }')
tau=$(tau_of r-auto)
expect "tau ($tau) is the grid's best validation balanced accuracy ($best)" test "$tau" = "$best"
expect "auto chose an adjustment here (tau $tau > 0)" awk -v t="$tau" 'BEGIN { exit !(t > 0) }'
val_bacc() { sed -n '/"val"/,/"test"/p' "$1/metrics.json" | grep -o '"balanced_accuracy": [0-9.e-]*' | awk '{ print $2 }'; }
at_tau=$(grid r-auto | awk -v t="$tau" '$1 == t { print $2 }')
expect "metrics.json's validation balanced accuracy is the grid's at tau" \
    awk -v a="$(val_bacc r-auto)" -v b="$at_tau" 'BEGIN { d = a - b; exit !(d < 1e-12 && d > -1e-12) }'
expect "the configuration records auto" grep -q '"posthoc_la":[[:space:]]*"auto"' r-auto/run.json

# --- a given tau: the scores are the plain run's times prior^-tau, renormalised ---------------------
run train "${common[@]}" --out r-plain --quiet
run train "${common[@]}" --posthoc-la 1 --out r-one --quiet
expect "train --posthoc-la 1 succeeds" test "$rc" -eq 0
nohist() { cut -d, -f1-10 "$1/history.csv"; }
expect "training is the plain run's (history.csv but for seconds)" test "$(nohist r-one)" = "$(nohist r-plain)"
prior=$(awk '/"prior"/ { gsub(/[^0-9.,e-]/, ""); print; exit }' r-one/run.json)
expect "run.json records the training prior ($prior)" test -n "$prior"
# expected[i][j] = p[i][j] / prior[j], renormalised, from the plain run's scores
awk -F, -v prior="$prior" 'BEGIN { split(prior, pi, ",") }
    NR == FNR && FNR > 1 { s = 0; for (j = 1; j <= 3; j++) { q[j] = $(j + 2) / pi[j]; s += q[j] }
                           want[FNR] = sprintf("%.9g %.9g %.9g", q[1] / s, q[2] / s, q[3] / s); next }
    FNR > 1 { split(want[FNR], w, " ")
              for (j = 1; j <= 3; j++) { d = $(j + 2) - w[j]; if (d < 0) d = -d; if (d > worst) worst = d } }
    END { printf "%.3g\n", worst; exit !(worst < 2e-5) }' r-plain/scores.csv r-one/scores.csv >worst.txt
expect "scores.csv of tau 1 = the plain run's scores / prior, renormalised (worst $(cat worst.txt))" test $? -eq 0
expect "and not the plain run's" test "$(cut -d, -f3- r-one/scores.csv)" != "$(cut -d, -f3- r-plain/scores.csv)"
expect "a given tau has no grid" test -z "$(grid r-one)"

# eval and predict use the adjustment: eval reproduces metrics.json's test numbers
run eval --model r-one --data m.csv --json
test_bacc=$(sed -n '/"test"/,$p' r-one/metrics.json | grep -o '"balanced_accuracy": [0-9.e-]*' | awk '{ print $2 }')
expect "eval's balanced accuracy is metrics.json's test value ($test_bacc)" \
    grep -q "\"balanced_accuracy\": $test_bacc" "$T/stdout"
run eval --model r-one --data m.csv
expect "eval's table says the adjustment is applied" grep -q "post-hoc logit adjustment of the run: logits - 1" "$T/stdout"

# the setting is part of the run: resuming with another tau is refused, naming it
run train "${common[@]}" --posthoc-la 0.5 --out r-one --resume
expect "--resume with another tau is refused (rc $rc), naming posthoc_la" \
    test "$rc" -ne 0 -a -n "$(grep -F posthoc_la "$T/stderr")"

# --- seed ensembles average the adjusted members -----------------------------------------------------
run train "${common[@]}" --posthoc-la auto --seeds 2 --out r-seeds --quiet
expect "train --seeds 2 --posthoc-la auto succeeds ($err)" test "$rc" -eq 0
expect "each seed is adjusted" test "$(grep -l '"logit_shift"' r-seeds/seed0/run.json r-seeds/seed1/run.json | wc -l)" -eq 2
mean_ok=$(awk -F, 'FILENAME ~ /seed0/ && FNR > 1 { a[$1 "," $2] = $3 } FILENAME ~ /seed1/ && FNR > 1 { b[$1 "," $2] = $3 }
    FILENAME ~ /r-seeds\/scores/ && FNR > 1 { d = $3 - (a[$1 "," $2] + b[$1 "," $2]) / 2; if (d < 0) d = -d
                                              if (d > w) w = d; n++ }
    END { print (n > 0 && w < 2e-6) ? "yes" : "no " w }' r-seeds/seed0/scores.csv r-seeds/seed1/scores.csv r-seeds/scores.csv)
expect "the ensemble's scores are the mean of the adjusted members' ($mean_ok)" test "$mean_ok" = yes

# --- sigmoid tasks refuse it ---------------------------------------------------------------------------
awk -F, '{ print $1 "," $2 "," $3 "," ($4 == 2 ? 1 : 0) }' m.csv > b.csv
run train --data b.csv --epochs 1 --posthoc-la auto --out r-bin
expect "binary data refuses --posthoc-la (exit 2), saying why" \
    test "$rc" -eq 2 -a -n "$(grep -F 'absorbs any shift of its logit' "$T/stderr")"
expect "and leaves no folder" test ! -e r-bin

# --- compare: la-posthoc, and ce always as the baseline --------------------------------------------------
run compare --help
expect "compare --help lists la-posthoc with its paper" grep -qE "^  la-posthoc .*Menon et al. 2021" "$T/stdout"
expect "compare --help explains the baseline column" grep -q "Δ vs ce" "$T/stdout"
run compare --data m.csv --methods la-posthoc --seeds 2 --epochs 2 --batch 32 --threads 1 --out cmp
expect "compare --methods la-posthoc succeeds ($err)" test "$rc" -eq 0
expect "it says it adds ce as the baseline" grep -q "^compare: adding ce, cross-entropy under the same recipe" "$T/stdout"
expect "ce ran under the same recipe" test -s cmp/runs/ce/seed1/metrics.json
expect "la-posthoc's runs are adjusted" grep -q '"posthoc_la":[[:space:]]*"auto"' cmp/runs/la-posthoc/seed0/run.json
expect "ce's are not" test -z "$(grep posthoc_la cmp/runs/ce/seed0/run.json)"
expect "the tables have the Δ vs ce column" test "$(grep -cE '^(validation|test) .*Δ vs ce$' "$T/stdout")" -eq 2
expect "ce's own gain is 0" test "$(grep -cE '^ce +(\* +)?[0-9].* \+0\.000 ± 0\.000$' "$T/stdout")" -eq 2
# la-posthoc's gain: the mean over seeds of (its val AUC − ce's val AUC), from the runs' metrics.json
auc() { sed -n '/"val"/,/"test"/p' "$1/metrics.json" | grep -o '"roc_auc_macro": [0-9.e-]*' | head -1 | awk '{ print $2 }'; }
want=$(awk -v a0="$(auc cmp/runs/la-posthoc/seed0)" -v a1="$(auc cmp/runs/la-posthoc/seed1)" \
           -v c0="$(auc cmp/runs/ce/seed0)" -v c1="$(auc cmp/runs/ce/seed1)" 'BEGIN { print ((a0 - c0) + (a1 - c1)) / 2 }')
got=$(grep '^la-posthoc,val,auc_vs_ce,' cmp/results.csv | cut -d, -f4)
expect "results.csv's auc_vs_ce of la-posthoc ($got) is the mean seed-by-seed difference ($want)" \
    awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(a != "" && d < 1e-5 && d > -1e-5) }'
expect "results.csv has the ensembles' gains" grep -q '^la-posthoc (ensemble of 2),test,auc_vs_ce,' cmp/results.csv
expect "results.json names the baseline" grep -q '"baseline":[[:space:]]*"ce"' cmp/results.json
expect "results.json has each method's vs_ce" test "$(grep -c '"vs_ce"' cmp/results.json)" -eq 4
expect "the report's tables have the column" test "$(grep -c '| Δ macro ROC-AUC vs ce |$' cmp/report.md)" -eq 2
expect "the HTML report too" grep -q "Δ macro ROC-AUC vs ce" cmp/report.html
run compare --data m.csv --methods ce,la-posthoc --seeds 1 --epochs 2 --batch 32 --threads 1 --out cmp1 --quiet
expect "with ce given, nothing is added" test "$rc" -eq 0 -a -z "$(grep 'adding ce' "$T/stdout")"
# binary data: la-posthoc does not apply (a note), and --posthoc-la for all is refused before any run
run compare --data b.csv --methods ce,la-posthoc --seeds 1 --epochs 1 --out cmpb --quiet
expect "on binary data la-posthoc is left out with a note" \
    test "$rc" -eq 0 -a -n "$(grep -F 'la-posthoc does not apply to binary data' "$T/stderr")"
run compare --data b.csv --methods ce --posthoc-la auto --seeds 1 --epochs 1 --out cmpb2
expect "--posthoc-la on binary data is refused before any run (exit 2)" \
    test "$rc" -eq 2 -a ! -e cmpb2/runs -a -n "$(grep -F 'needs multi-class data' "$T/stderr")"

finish
