#!/bin/bash
# cli_report.sh — `focal report DIR`: the report of the committed experiment
# folder tests/fixtures/report/experiment (a `focal compare` of three losses on
# multi-label data) and of experiments built here from fresh `focal train`
# runs with hand-written results.json files (multi-class compare, tune,
# no test split, no gamma): the files, their tables against the numbers in
# results.json, the charts, self-containment, atomic writes and clean
# failures. When Chromium is installed the HTML is rendered headless: the DOM
# must hold every chart and the screenshot must not be blank, measured band by
# band by the test program test_report_png (found beside FOCAL_BIN in
# tests/, or named by FOCAL_REPORT_PNG; without it, by the PNG's size).
NAME=cli_report
. "$(dirname "$0")/harness.sh"
src=${FOCAL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$T" || exit 1

# --- helpers -------------------------------------------------------------------------------

# svg_ok FILE: a standalone SVG: XML declaration, one <svg> root, a title,
# balanced elements, no NaN or Inf coordinates.
svg_ok() {
    [ "$(head -1 "$1")" = '<?xml version="1.0" encoding="UTF-8"?>' ] &&
    [ "$(grep -c '<svg' "$1")" -eq 1 ] && [ "$(tail -1 "$1")" = "</svg>" ] &&
    grep -q '<title>[^<]' "$1" &&
    [ "$(grep -o '<g[ >]' "$1" | wc -l)" -eq "$(grep -o '</g>' "$1" | wc -l)" ] &&
    [ "$(grep -o '<text[ >]' "$1" | wc -l)" -eq "$(grep -o '</text>' "$1" | wc -l)" ] &&
    ! grep -qiE '="[^"]*(nan|inf)' "$1"
}
# title_of FILE.svg: the chart's <title>
title_of() { sed -n 's/^<title>\(.*\)<\/title>$/\1/p' "$1" | head -1; }
# self_contained FILE.html: nothing is fetched (the SVG namespace is a name, not a fetch)
self_contained() {
    ! grep -qiE '<script|<link|<img|<iframe|src=|href=|url\(|@import' "$1" &&
    [ -z "$(grep -o 'https\?://[^" ]*' "$1" | grep -v '^http://www.w3.org/2000/svg$')" ]
}
# report_files DIR: the report files in DIR, one per line
report_files() { (cd "$1" && ls -1 report.html report.md report-*.svg 2>/dev/null); }
# md_links_ok DIR: every chart report.md links exists, and every chart file is linked
md_links_ok() {
    local f
    for f in $(grep -o '](report-[a-z0-9-]*\.svg)' "$1/report.md" | tr -d '()]'); do
        [ -s "$1/$f" ] || return 1
    done
    for f in $(cd "$1" && ls report-*.svg); do
        grep -qF "]($f)" "$1/report.md" || return 1
    done
}
# positives DIR/scores.csv SPLIT CLASS: how many SPLIT rows have label 1 for CLASS
positives() {
    awk -F, -v sp="$2" -v col="y_$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
        $1 == sp && $c == 1 { n++ } END { print n + 0 }' "$1"
}

# --- the committed experiment (multi-label, from focal compare) -------------------------------
cp -r "$src/tests/fixtures/report/experiment" fx
run report fx
expect "fixture: exit 0 ($err)" test "$rc" -eq 0
expect "fixture: says what it wrote" grep -qF "wrote fx/report.html and fx/report.md" "$T/stdout"
for f in report.html report.md report-train-loss.svg report-val-metric.svg report-per-class-ap.svg \
         report-focal-loss.svg; do
    expect "fixture: $f written" test -s "fx/$f"
done
expect "fixture: no temporary files" no_temp_files fx
expect "fixture: multi-label data has no confusion matrix" test ! -e fx/report-confusion.svg
for f in fx/report-*.svg; do
    expect "fixture: $f is a complete standalone SVG" svg_ok "$f"
done
# one precision-recall chart per rarest class with positives in the test split, else a note
rarest=$(sed -n 's/^[[:space:]]*"rarest":[[:space:]]*\[\(.*\)\],*$/\1/p' fx/results.json | tr -d '" ' | tr ',' ' ')
expect "fixture: results.json names three rarest classes ($rarest)" test "$(echo $rarest | wc -w)" -eq 3
k=0
for c in $rarest; do
    k=$((k + 1))
    if [ "$(positives fx/runs/ce/seed0/scores.csv test "$c")" -gt 0 ]; then
        expect "fixture: PR chart of $c" grep -qF "<title>Precision–recall, class $c</title>" "fx/report-pr-$k.svg"
        expect "fixture: PR legend gives each method's AP" \
            test "$(grep -c 'class="legend-entry".*(AP [0-9.]*)</text>' "fx/report-pr-$k.svg")" -eq 3
    else
        expect "fixture: no PR chart of $c (no test positives)" test ! -e "fx/report-pr-$k.svg"
        expect "fixture: says $c has no test positives" grep -qF "$c: no positive example in the test split" fx/report.md
    fi
done
n_svg=$(ls fx/report-*.svg | wc -l)
expect "fixture: the HTML inlines every chart ($n_svg)" test "$(grep -c '<svg xmlns' fx/report.html)" -eq "$n_svg"
for f in fx/report-*.svg; do
    t=$(title_of "$f")
    expect "fixture: HTML has the chart '$t'" grep -qF "<title>$t</title>" fx/report.html
done
expect "fixture: HTML loads nothing" self_contained fx/report.html
expect "fixture: HTML has inline CSS" grep -q '<style>' fx/report.html
expect "fixture: Markdown links every chart file and nothing else" md_links_ok fx
sentence=$(sed -n 's/^[[:space:]]*"sentence":[[:space:]]*"\(.*\)",*$/\1/p' fx/results.json)
expect "fixture: the best sentence verbatim in HTML" grep -qF "$sentence" fx/report.html
expect "fixture: test numbers never choose" grep -qF "Test numbers are reported, but never used to choose." fx/report.md
best=$(sed -n '/"best":/,/}/s/^[[:space:]]*"method":[[:space:]]*"\(.*\)",*$/\1/p' fx/results.json)
expect "fixture: the best method ($best) is highlighted" grep -qF "| **$best** (best) |" fx/report.md
expect "fixture: and in HTML" grep -qF "<tr class=\"best\"><td><span class=\"swatch\"" fx/report.html
expect "fixture: per-class bars, one per method and class with a test AP" \
    test "$(grep -c '<rect class="bar"' fx/report-per-class-ap.svg)" -ge 15
expect "fixture: the per-class axis starts with the most frequent class" \
    grep -qE '<text [^>]*>DR \([0-9]+\)</text>' fx/report-per-class-ap.svg

# a second report replaces the first, byte for byte the same
cp fx/report.md first.md
run report fx
expect "fixture again: exit 0" test "$rc" -eq 0
expect "fixture again: the same report" cmp -s first.md fx/report.md

# --- rendered in a browser ------------------------------------------------------------------------
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
    echo "skip: chromium is not installed (scripts/deps.sh installs it): the report was not rendered"
else
    browse() {
        timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
            --no-first-run --user-data-dir="$T/chromium" "$@" 2>>"$T/chromium.log"
    }
    browse --screenshot="$T/report.png" --window-size=1200,4000 "file://$T/fx/report.html" >/dev/null
    expect "browser: screenshot written" test -s report.png
    browse --dump-dom "file://$T/fx/report.html" >dom.html
    expect "browser: the DOM holds every chart ($n_svg)" test "$(grep -o '<svg[ >]' dom.html | wc -l)" -eq "$n_svg"
    for f in fx/report-*.svg; do
        t=$(title_of "$f")
        expect "browser: DOM has the chart '$t'" grep -qF "<title>$t</title>" dom.html
    done
    expect "browser: DOM has the results tables" test "$(grep -o '<table' dom.html | wc -l)" -ge 3
    # an empty page of the same size, for comparison
    printf '<!DOCTYPE html><html><body></body></html>\n' >blank.html
    browse --screenshot="$T/blank.png" --window-size=1200,4000 "file://$T/blank.html" >/dev/null
    png_tool=${FOCAL_REPORT_PNG:-$(dirname "$FOCAL_BIN")/tests/test_report_png}
    if [ -x "$png_tool" ]; then
        "$png_tool" report.png 250 >stats.txt
        expect "browser: the screenshot decodes at 1200 x 4000" test "$(head -1 stats.txt)" = "1200 4000"
        # every band of the first 2500 px (header, tables, curves, bars, PR charts) has ink, the page as
        # a whole has chart colours, and the blank page has neither
        expect "browser: every 250-px band of the first 2500 px has ink" \
            awk 'NR > 1 && $1 < 2500 && $2 < 0.005 { bad = 1 } END { exit bad }' stats.txt
        expect "browser: charts are drawn in colour (>= 4 bands with colour)" \
            awk 'NR > 1 && $3 > 0.002 { n++ } END { exit !(n >= 4) }' stats.txt
        "$png_tool" blank.png 250 >blank.txt
        expect "browser: the blank page is blank (the measure works)" \
            awk 'NR > 1 && ($2 > 0 || $3 > 0) { bad = 1 } END { exit bad }' blank.txt
    else
        echo "note: $png_tool not built; comparing PNG sizes instead"
        expect "browser: the screenshot is far larger than a blank page's" \
            test "$(wc -c < report.png)" -gt $((5 * $(wc -c < blank.png)))
    fi
fi

# --- fresh runs of focal train: a multi-class experiment ------------------------------------------------
# five classes from 160 examples down to 10, overlapping clouds in 4 features
awk 'BEGIN { s = 4242; split("big mid small tiny very_rare", name, " "); split("160 80 40 20 10", n, " ")
  print "f1,f2,f3,f4,kind"
  for (k = 1; k <= 5; k++) for (i = 0; i < n[k]; i++) {
    for (j = 0; j < 4; j++) { s = (s * 1103515245 + 12345) % 2147483648; x[j] = s / 2147483648 * 2 - 1 }
    printf "%.4f,%.4f,%.4f,%.4f,%s\n", x[0] + 0.8 * cos(k), x[1] + 0.8 * sin(k), x[2] + 0.3 * k, x[3], name[k] } }' >mc.csv
ok_runs=1
train() { # train METHOD SEED ARGS...
    local m=$1 s=$2
    shift 2
    mkdir -p "live/runs/$m"
    "$FOCAL_BIN" train --data mc.csv --model mlp --epochs 4 --batch 32 --seed "$s" --threads 1 --quiet \
        --out "live/runs/$m/seed$s" "$@" || ok_runs=0
}
for s in 0 1; do
    train ce "$s" --loss ce
    train focal "$s" --loss focal --gamma 2
    train wce "$s" --loss ce --class-weights balanced
done
expect "live: six runs trained" test "$ok_runs" -eq 1
expect "live: runs wrote scores.csv" test -s live/runs/focal/seed0/scores.csv

# results.json with known numbers; class_names deliberately not in the data's order
stat() { printf '{"mean": %s, "std": %s}' "$1" "$2"; }
method() { # method NAME SPEC MAP AUC F1 BACC RARE SECONDS (each "mean std"), TEST (same, or "none")
    local name=$1 spec=$2
    printf '{"name": "%s", "spec": "%s", "runs": ["runs/%s/seed0", "runs/%s/seed1"],\n' "$name" "$spec" "$name" "$name"
    printf ' "val": {"map": %s, "auc": %s, "macro_f1": %s, "balanced_accuracy": %s, "rare_ap": %s, "seconds": %s}' \
        "$(stat $3)" "$(stat $4)" "$(stat $5)" "$(stat $6)" "$(stat $7)" "$(stat $8)"
    if [ "$9" != none ]; then
        printf ',\n "test": {"map": %s, "auc": %s, "macro_f1": %s, "balanced_accuracy": %s, "rare_ap": %s, "seconds": %s}' \
            "$(stat $9)" "$(stat ${10})" "$(stat ${11})" "$(stat ${12})" "$(stat ${13})" "$(stat ${14})"
    fi
    printf '}'
}
results() { # results KIND GAMMA EXTRA-MEMBERS: writes live/results.json
    cat >live/results.json <<EOF
{"kind": "$1", "data": "mc.csv", "task": "multiclass",
 "class_names": ["mid", "big", "very_rare", "small", "tiny"], "train_counts": [48, 96, 6, 24, 12],
 "select": "map", "seeds": 2,
 "metrics": ["map", "auc", "macro_f1", "balanced_accuracy", "rare_ap", "seconds"],
 "metric_labels": {"map": "mAP", "auc": "macro ROC-AUC", "macro_f1": "macro F1",
                   "balanced_accuracy": "balanced acc.", "rare_ap": "AP rarest 3", "seconds": "train s"},
 "rarest": ["very_rare", "tiny", "small"],
 "methods": [
  $(method ce loss:ce "0.61234 0.01111" "0.8 0.01" "0.5 0.02" "0.55 0.03" "0.2 0.1" "1.234 0.5" \
                      "0.59987 null" "0.79 null" "0.49 null" "0.52 null" "null null" "1.234 0.5"),
  $(method focal loss:focal,gamma:2 "0.70119 0.02004" "0.85 0.01" "0.6 0.02" "0.65 0.03" "0.3 0.1" "2 0.25" \
                      "0.66666 0.00444" "0.84 0.02" "0.58 0.03" "0.62 0.01" "0.31 0.05" "2 0.25"),
  $(method wce loss:ce,weights:balanced "0.65 0.03" "0.82 0.02" "0.62 0.01" "0.7 0.02" "0.35 0.1" "1.5 0.1" none)
 ],
 "best": {"method": "focal", "second": "wce", "lead": 0.0512, "spread": 0.03, "beyond_spread": true,
          "sentence": "focal leads wce by 0.0512 validation mAP, more than the seed-to-seed spread (0.0300)."},
 "gamma": $2$3}
EOF
}
results compare 2 ""
run report live
expect "live compare: exit 0 ($err)" test "$rc" -eq 0
expect "live compare: validation row of ce" grep -qxF \
    "| ce | 0.6123 ± 0.0111 | 0.8000 ± 0.0100 | 0.5000 ± 0.0200 | 0.5500 ± 0.0300 | 0.2000 ± 0.1000 | 1.23 ± 0.50 |" \
    live/report.md
expect "live compare: the best row in bold" grep -qxF \
    "| **focal** (best) | **0.7012 ± 0.0200** | **0.8500 ± 0.0100** | **0.6000 ± 0.0200** | **0.6500 ± 0.0300** | **0.3000 ± 0.1000** | **2.00 ± 0.25** |" \
    live/report.md
expect "live compare: test row of ce (std null: the mean alone; mean null: a dash)" grep -qxF \
    "| ce | 0.5999 | 0.7900 | 0.4900 | 0.5200 | – | 1.23 ± 0.50 |" live/report.md
expect "live compare: test row of focal" grep -qxF \
    "| **focal** (best) | **0.6667 ± 0.0044** | **0.8400 ± 0.0200** | **0.5800 ± 0.0300** | **0.6200 ± 0.0100** | **0.3100 ± 0.0500** | **2.00 ± 0.25** |" \
    live/report.md
expect "live compare: a method without test numbers gets dashes" grep -qxF "| wce | – | – | – | – | – | – |" live/report.md
expect "live compare: the table header" grep -qxF \
    "| method | mAP | macro ROC-AUC | macro F1 | balanced acc. | AP rarest 3 | train s |" live/report.md
expect "live compare: the sentence verbatim (HTML)" grep -qF \
    '<p class="sentence">focal leads wce by 0.0512 validation mAP, more than the seed-to-seed spread (0.0300).</p>' \
    live/report.html
expect "live compare: the sentence (Markdown)" grep -qxF \
    "> focal leads wce by 0.0512 validation mAP, more than the seed-to-seed spread (0.0300)." live/report.md
expect "live compare: HTML shows the same numbers" grep -qF '<td class="num"><b>0.7012 ± 0.0200</b></td>' live/report.html
expect "live compare: Markdown escapes class names" grep -qF 'very\_rare' live/report.md
for f in report-train-loss report-val-metric report-per-class-ap report-confusion report-focal-loss; do
    expect "live compare: $f.svg" svg_ok "live/$f.svg"
done
expect "live compare: three PR charts" test -s live/report-pr-1.svg -a -s live/report-pr-2.svg -a -s live/report-pr-3.svg
expect "live compare: one training curve per method" \
    test "$(grep -c '<path class="series"' live/report-train-loss.svg)" -eq 3
expect "live compare: the curves' legend names the methods" \
    test "$(grep -c 'class="legend-entry"><line.*>\(ce\|focal\|wce\)</text>' live/report-train-loss.svg)" -eq 3
expect "live compare: the metric chart's axis says validation mAP" \
    grep -qF '>validation mAP</text>' live/report-val-metric.svg
# per-class bars from the most frequent class to the rarest, whatever results.json's order
order=$(sed -n '/<g class="x-axis">/,/<\/g>/s/.*>\([a-z_]*\) ([0-9]*)<\/text>$/\1/p' live/report-per-class-ap.svg | tr '\n' ' ')
expect "live compare: classes by training count ($order)" test "$order" = "big mid small tiny very_rare "
expect "live compare: 3 methods x 5 classes of bars" test "$(grep -c '<rect class="bar"' live/report-per-class-ap.svg)" -eq 15
# the confusion matrix of focal's first seed, rows and columns in results.json's class order,
# against the one counted here from scores.csv (true class: the label; predicted: the highest
# probability, the first of equal ones)
cells=$(grep '<rect class="cell"' live/report-confusion.svg | sed 's/.*>\([0-9]*\)<\/text>$/\1/' | tr '\n' ' ')
want=$(awk -F, -v order="mid big very_rare small tiny" '
    NR == 1 { n = split(order, o, " "); for (j = 3; j < 3 + n; j++) for (k = 1; k <= n; k++) if ($j == o[k]) at[j] = k; next }
    $1 == "test" { b = 3; y = 3; for (j = 3; j < 3 + n; j++) { if ($j > $b) b = j; if ($(j + n) == 1) y = j }
                   cm[at[y], at[b]]++ }
    END { for (i = 1; i <= n; i++) for (k = 1; k <= n; k++) printf "%d ", cm[i, k] }' live/runs/focal/seed0/scores.csv)
expect "live compare: a 5 x 5 confusion matrix" test "$(echo $cells | wc -w)" -eq 25
expect "live compare: its counts, in results.json's class order ($cells)" test "$cells" = "$want"
expect "live compare: the focal-loss curve of gamma 2 against CE" \
    grep -qF '>focal loss, γ = 2</text>' live/report-focal-loss.svg
expect "live compare: HTML loads nothing" self_contained live/report.html
expect "live compare: Markdown links every chart" md_links_ok live
expect "live compare: no temporary files" no_temp_files live

# the same experiment as a tune: the gamma x alpha table and the retrained setting's test numbers
grid='"grid": {"gammas": [0, 1, 2], "alphas": [0.25, 0.5], "folds": 3, "metric": "map",
  "cells": [{"gamma": 0, "alpha": 0.25, "mean": 0.5, "std": 0.01}, {"gamma": 0, "alpha": 0.5, "mean": 0.52, "std": 0.02},
            {"gamma": 1, "alpha": 0.25, "mean": 0.58, "std": 0.015}, {"gamma": 1, "alpha": 0.5, "mean": 0.57, "std": null},
            {"gamma": 2, "alpha": 0.25, "mean": 0.61, "std": 0.03}],
  "best": {"gamma": 2, "alpha": 0.25}, "test": {"map": 0.55561, "auc": 0.81234, "seconds": 3.5}}'
results tune 2 ", $grid"
run report live
expect "live tune: exit 0 ($err)" test "$rc" -eq 0
expect "live tune: grid header (alpha columns)" grep -qxF '| γ \\ α | α = 0.25 | α = 0.5 |' live/report.md
expect "live tune: grid row gamma 0" grep -qxF '| γ = 0 | 0.5000 ± 0.0100 | 0.5200 ± 0.0200 |' live/report.md
expect "live tune: grid row gamma 1 (std null)" grep -qxF '| γ = 1 | 0.5800 ± 0.0150 | 0.5700 |' live/report.md
expect "live tune: best cell bold, missing cell a dash" grep -qxF '| γ = 2 | **0.6100 ± 0.0300** | – |' live/report.md
expect "live tune: says how many folds" grep -qF 'mean ± std over 3 folds' live/report.md
expect "live tune: retrained heading" grep -qF '### Best setting (γ = 2, α = 0.25) retrained: test numbers' live/report.md
expect "live tune: retrained mAP" grep -qxF '| mAP | 0.5556 |' live/report.md
expect "live tune: retrained AUC" grep -qxF '| macro ROC-AUC | 0.8123 |' live/report.md
expect "live tune: retrained seconds" grep -qxF '| train s | 3.50 |' live/report.md
expect "live tune: HTML grid best cell bold" grep -qF '<td class="num"><b>0.6100 ± 0.0300</b></td>' live/report.html

# no gamma: no focal-loss curve, and the earlier report's curve is removed
results compare null ""
run report live
expect "live, gamma null: exit 0 ($err)" test "$rc" -eq 0
expect "live, gamma null: no focal-loss chart" test ! -e live/report-focal-loss.svg
expect "live, gamma null: no focal-loss section" bash -c "! grep -q 'Focal loss' live/report.md"
expect "live, gamma null: the other charts stay" test -s live/report-confusion.svg

# a run without a test split: the per-class charts fall back to validation
mkdir -p nt/runs/ce
"$FOCAL_BIN" train --data mc.csv --model mlp --epochs 2 --seed 0 --threads 1 --quiet --test-frac 0 --loss ce \
    --out nt/runs/ce/seed0
cat >nt/results.json <<EOF
{"kind": "compare", "data": "mc.csv", "task": "multiclass",
 "class_names": ["big", "mid", "small", "tiny", "very_rare"], "train_counts": [96, 48, 24, 12, 6],
 "select": "auc", "seeds": 1, "metrics": ["auc"], "rarest": ["very_rare", "tiny", "small"],
 "methods": [{"name": "ce", "spec": "loss:ce", "runs": ["runs/ce/seed0"], "val": {"auc": {"mean": 0.9, "std": null}}}],
 "best": {"method": "ce", "sentence": "ce is the only method."}, "gamma": null}
EOF
run report nt
expect "no test split: exit 0 ($err)" test "$rc" -eq 0
expect "no test split: per-class AP of the validation split" \
    grep -qF '<title>Average precision per class, validation split</title>' nt/report-per-class-ap.svg
expect "no test split: no test table" bash -c "! grep -q '^### Test' nt/report.md"
expect "no test split: the label falls back to the key" grep -qxF '| method | auc |' nt/report.md
expect "no test split: PR charts from validation samples" grep -qF 'validation samples' nt/report.md

# --- failures: a clear message naming the file, exit 1, nothing written ------------------------------------
# fails_clean DESC TEXT DIR: `focal report DIR` exits 1, names TEXT, writes no report and no temporary file
fails_clean() {
    fails "$1" 1 "$2" report "$3"
    expect "$1: no report files" test -z "$(report_files "$3")"
    expect "$1: no temporary files" no_temp_files "$3"
}
mkdir -p bad
fails_clean "no results.json" "bad/results.json: cannot open" bad
printf '{"kind": "compare",\n "task": "multiclass" "data": 1}\n' >bad/results.json
fails_clean "malformed JSON" "bad/results.json:2:23: malformed JSON" bad
printf '[1, 2]\n' >bad/results.json
fails_clean "not an object" "bad/results.json: not a JSON object" bad

# a broken copy of the live experiment: results.json edited, runs shared
mkdir -p broken
ln -s "$T/live/runs" broken/runs
edit() { sed -e "$1" live/results.json >broken/results.json; }
results compare 2 ""
edit 's|runs/wce/seed1|runs/wce/seed7|'
fails_clean "a run folder missing" "broken/runs/wce/seed7: no such run folder" broken
edit 's|"kind": "compare"|"kind": "sweep"|'
fails_clean "unknown kind" "broken/results.json: kind: 'sweep'; expected compare or tune" broken
edit 's|"method": "focal", "second"|"method": "nobody", "second"|'
fails_clean "unknown best method" "best.method: 'nobody' is not the name of any method" broken
edit 's|"rarest": \["very_rare"|"rarest": ["unicorn"|'
fails_clean "unknown rarest class" "rarest[0]: 'unicorn' is not one of class_names" broken
edit 's|"train_counts": \[48, 96, 6, 24, 12\]|"train_counts": [48, 96]|'
fails_clean "train_counts of the wrong length" "train_counts has 2 values for 5 class_names" broken
edit 's|"select": "map"|"select": "speed"|'
fails_clean "unknown selection metric" "select: 'speed' is not a validation metric" broken
results tune 2 ""
edit ''
fails_clean "a tune without its grid" "grid: missing; a tune needs its grid object" broken
results compare 2 ""
edit ''
# a run folder with a file missing or broken (copies, so that live/ stays intact)
rm broken/runs
cp -r live/runs broken/runs
rm broken/runs/ce/seed1/history.csv
fails_clean "history.csv missing" "broken/runs/ce/seed1/history.csv: cannot open" broken
cp live/runs/ce/seed1/history.csv broken/runs/ce/seed1/
sed -i '3s/^\([0-9]*\),[^,]*,/\1,fast,/' broken/runs/ce/seed1/history.csv
fails_clean "history.csv with a bad number" "broken/runs/ce/seed1/history.csv:3: column 'train_loss': 'fast' is not a number" broken
cp live/runs/ce/seed1/history.csv broken/runs/ce/seed1/
printf '{"test": {}}\n' >broken/runs/focal/seed0/metrics.json
fails_clean "metrics.json without val" "broken/runs/focal/seed0/metrics.json: no \"val\" object" broken
cp live/runs/focal/seed0/metrics.json broken/runs/focal/seed0/
sed -i '1s/,y_tiny/,y_tinyX/' broken/runs/wce/seed0/scores.csv
fails_clean "scores.csv with a wrong label column" "broken/runs/wce/seed0/scores.csv: column" broken
cp live/runs/wce/seed0/scores.csv broken/runs/wce/seed0/
run report broken
expect "repaired: exit 0 ($err)" test "$rc" -eq 0

# a failure leaves the previous report untouched
cp broken/report.html before.html
edit 's|runs/ce/seed0|runs/ce/seed9|'
fails "a later failure" 1 "broken/runs/ce/seed9: no such run folder" report broken
expect "a later failure: the previous report is untouched" cmp -s before.html broken/report.html
expect "a later failure: no temporary files" no_temp_files broken

# --- the command line -----------------------------------------------------------------------------------------
fails "no folder" 2 "no experiment folder given" report
fails "two folders" 2 "unexpected argument 'two'" report live two
fails "unknown option" 2 "unknown option '--html'" report live --html
run report --help
expect "help: exit 0" test "$rc" -eq 0
expect "help: usage line" grep -q "^Usage: focal report DIR" "$T/stdout"
run --help
expect "focal --help lists report" grep -qE "^  report +" "$T/stdout"
finish
