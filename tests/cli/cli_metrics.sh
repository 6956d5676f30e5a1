#!/usr/bin/env bash
# cli_metrics.sh — end-to-end tests of `focal metrics`: hand-computed values in
# the table and in --json (keys, 17-digit numbers, null for undefined values),
# the three tasks, --threshold, --names, --riadd, --out (atomic), and every
# error path with its message (file:line:column and value) and exit status
# (2 usage, 1 data/IO), with nothing on stdout and no output file left behind.
# Needs FOCAL_BIN (the focal program). Prints "N passed, M failed" last.
set -u
NAME=cli_metrics
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# jval KEY [TEXT]: the first value of "KEY": in TEXT (default $out), as printed.
jval() {
    printf '%s' "${2:-$out}" | grep -o "\"$1\": [^,}]*" | head -1 | sed 's/^[^:]*: //'
}

# close A B: A is a number within 1e-12 (absolute + relative) of B.
close() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/) exit 1
        d = a - b; if (d < 0) d = -d
        s = b < 0 ? -b : b
        exit !(d <= 1e-12 + 1e-12 * s) }'
}

# jclose DESC KEY VALUE: the JSON member KEY of $out is close to VALUE.
jclose() {
    local v
    v=$(jval "$2")
    if close "$v" "$3"; then ok; else bad "$1: \"$2\" is '$v', expected $3"; fi
}

# jhas DESC TEXT: the JSON on stdout, its lines joined without their
# indentation, contains TEXT.
jhas() {
    if awk '{ sub(/^ +/, ""); printf "%s", $0 }' "$T/stdout" | grep -qF -- "$2"; then ok
    else bad "$1: JSON lacks '$2':
$out"; fi
}

# lacks DESC TEXT: stdout does not contain TEXT.
lacks() {
    if grep -qF -- "$2" "$T/stdout"; then bad "$1: output contains '$2'"; else ok; fi
}

# has DESC TEXT: stdout contains TEXT.
has() {
    if grep -qF -- "$2" "$T/stdout"; then ok; else bad "$1: output lacks '$2':
$out"; fi
}

cd "$T" || exit 1

# --- binary ---------------------------------------------------------------------
# y 0 0 1 1, s .1 .4 .35 .8, threshold .5: predictions 0 0 0 1.
# class 1: precision 1, recall 1/2, F1 2/3; class 0: precision 2/3, recall 1, F1 4/5.
# AUC 3/4 (pairs .35>.1, .8>.1, .8>.4), AP 1/2*1 + 1/2*2/3 = 5/6, MCC 1/sqrt(3).
printf '0.1\n0.4\n0.35\n0.8\n' >bs.csv
printf '0\n0\n1\n1\n' >by.csv
run metrics --task binary --scores bs.csv --labels by.csv --json
expect "binary --json: exit 0, nothing on stderr" [ "$rc" -eq 0 -a -z "$err" ]
for key in accuracy balanced_accuracy macro_f1 micro_f1 weighted_f1 mcc roc_auc_macro \
    average_precision_macro per_class name support precision recall f1 roc_auc average_precision; do
    expect "binary --json has key $key" grep -qF "\"$key\":" "$T/stdout"
done
expect "--json: one member per line" [ "$(printf '%s\n' "$out" | wc -l)" -ge 14 ]
expect "--json: members indented by 2" grep -qE '^  "accuracy": ' "$T/stdout"
expect "--json is an object" [ "${out:0:1}" = "{" -a "${out: -1}" = "}" ]
jclose "binary accuracy" accuracy 0.75
jclose "binary balanced accuracy" balanced_accuracy 0.75
jclose "binary macro F1 = (4/5 + 2/3)/2" macro_f1 0.7333333333333333
jclose "binary micro F1 = accuracy" micro_f1 0.75
jclose "binary weighted F1" weighted_f1 0.7333333333333333
jclose "binary MCC = 1/sqrt(3)" mcc 0.57735026918962573
jclose "binary ROC-AUC" roc_auc_macro 0.75
jclose "binary AP" average_precision_macro 0.83333333333333333
expect "numbers have 17 significant digits" [ "$(jval average_precision_macro)" = "0.83333333333333326" ]
jhas "per_class lists classes 0 and 1" '"per_class": [{"name": "0", "support": 2, "precision": 0.66666666666666663, "recall": 1, "f1": 0.80000000000000004, "roc_auc": 0.75, "average_precision": 0.83333333333333326},{"name": "1", "support": 2, "precision": 1, "recall": 0.5, "f1": 0.66666666666666663, "roc_auc": 0.75, "average_precision": 0.83333333333333326}]'
jhas "binary thresholds member" '"thresholds": [0.5]'
jhas "binary confusion matrix" '"confusion_matrix": [[2, 0],[1, 1]]'
jhas "nothing left out" '"left_out": []'

run metrics --task binary --scores bs.csv --labels by.csv --threshold 0.35
expect "binary table: exit 0" [ "$rc" -eq 0 -a -z "$err" ]
has "table header" "binary task, 4 samples, 2 classes; predicted positive when score >= 0.35"
has "table column heads" "support  precision     recall         f1    roc_auc   avg_prec"
# predictions 0 1 1 1: class 1 precision 2/3, recall 1, F1 4/5
has "table row of class 1 at threshold .35" "1            2     0.6667     1.0000     0.8000     0.7500     0.8333"
has "table accuracy at threshold .35" "accuracy                       0.7500"
has "table names the binary ROC-AUC" "ROC-AUC (class 1)              0.7500"
has "table names the binary AP" "average precision (class 1)    0.8333"
has "table confusion matrix" "confusion matrix (rows: true class, columns: predicted)"
run metrics --task binary --scores bs.csv --labels by.csv --names neg,pos --json
jhas "--names in JSON" '{"name": "pos", "support": 2'

# one class only: AUC undefined, the other class has no positives
printf '1\n1\n1\n' >y111.csv
printf '0.2\n0.6\n0.9\n' >s3.csv
run metrics --task binary --scores s3.csv --labels y111.csv --json
expect "one class: exit 0" [ "$rc" -eq 0 ]
expect "one class: ROC-AUC null" [ "$(jval roc_auc_macro)" = "null" ]
jhas "one class: class 0 nulls" '{"name": "0", "support": 0, "precision": 0, "recall": null, "f1": null, "roc_auc": null, "average_precision": null}'
jhas "one class: left_out says why" '"left_out": [{"name": "0", "reason": "no positive samples: recall, f1, roc_auc and average_precision are undefined"}'
jhas "one class: left_out names class 1 without negatives" '{"name": "1", "reason": "no negative samples: roc_auc is undefined"}'
jclose "one class: macro F1 over class 1 only (F1 4/5)" macro_f1 0.8
run metrics --task binary --scores s3.csv --labels y111.csv
has "table: n/a for undefined values" "n/a"
has "table: says which classes were left out and why" "no positive samples (recall, F1, ROC-AUC, AP n/a; left out of the macro means): 0"
has "table: no negatives" "no negative samples (ROC-AUC n/a; left out of the ROC-AUC mean): 1"

# --- multiclass --------------------------------------------------------------------
# 3 classes, class 2 never in the labels but predicted once; the tie .5/.5 goes to class 0.
printf '0.8,0.1,0.1\n0.2,0.7,0.1\n0.3,0.3,0.4\n0.5,0.5,0\n' >ms.csv
printf '0\n1\n1\n0\n' >my.csv
run metrics --task multiclass --scores ms.csv --labels my.csv --json --names a,b,c
expect "multiclass: exit 0" [ "$rc" -eq 0 -a -z "$err" ]
jclose "multiclass accuracy" accuracy 0.75
jclose "multiclass macro F1 leaves class c out: (1 + 2/3)/2" macro_f1 0.83333333333333337
jclose "multiclass balanced accuracy" balanced_accuracy 0.75
jhas "multiclass confusion" '"confusion_matrix": [[2, 0, 0],[0, 1, 1],[0, 0, 0]]'
jhas "multiclass absent class: nulls" '{"name": "c", "support": 0, "precision": 0, "recall": null, "f1": null, "roc_auc": null, "average_precision": null}'
lacks "multiclass has no thresholds member" '"thresholds"'
run metrics --task multiclass --scores ms.csv --labels my.csv
has "multiclass table: left out" "left out of the macro means): 2"
has "multiclass table: predicted class" "predicted class = highest score"

# --- multilabel ----------------------------------------------------------------------
printf '0.9,0.2,0.8\n0.6,0.7,0.1\n0.1,0.4,0.6\n0.3,0.1,0.9\n' >ls.csv
printf '1,0,1\n1,0,0\n0,0,1\n0,0,0\n' >ly.csv
run metrics --task multilabel --scores ls.csv --labels ly.csv --json --threshold 0.5,0.5,0.7
expect "multilabel: exit 0" [ "$rc" -eq 0 -a -z "$err" ]
# predictions (.5,.5,.7): 1 0 1 / 1 1 0 / 0 0 0 / 0 0 1: only row 1 entirely right
jclose "multilabel subset accuracy" accuracy 0.25
jhas "multilabel per-label thresholds" '"thresholds": [0.5, 0.5, 0.69999999999999996]'
jhas "multilabel confusion per label" '"confusion_matrix": [[[2, 0], [0, 2]],[[3, 1], [0, 0]],[[1, 1], [1, 1]]]'
jhas "multilabel label 1 left out" '"left_out": [{"name": "1", "reason": "no positive samples'
run metrics --task multilabel --scores ls.csv --labels ly.csv --riadd 0 --json
# risk = label 0 (AUC 1); the others: label 2 (AUC 1/2, AP 2/3 + ... ) — label 1 has no positives
jhas "riadd member" '"riadd": {"risk_auc": 1, "map": '
run metrics --task multilabel --scores ls.csv --labels ly.csv --names DR,ARMD,MH --riadd DR
has "riadd line in the table" "RIADD score"
has "multilabel table: per-label confusion" "confusion per label"
has "multilabel table: subset accuracy note" "(subset accuracy: all labels of a sample right)"

# --- --out ------------------------------------------------------------------------------
run metrics --task binary --scores bs.csv --labels by.csv --json
want=$out
run metrics --task binary --scores bs.csv --labels by.csv --json --out m.json
expect "--out: exit 0, stdout empty" [ "$rc" -eq 0 -a -z "$out" ]
expect "--out: the file holds what stdout would" [ "$(cat m.json)" = "$want" ]
expect "--out: no temporary files" no_temp_files .
printf 'keep me\n' >keep.json
run metrics --task binary --scores bs.csv --labels y111.csv --out keep.json
expect "--out after an error: non-zero exit" [ "$rc" -ne 0 ]
expect "--out after an error: existing file untouched" [ "$(cat keep.json)" = "keep me" ]
run metrics --task binary --scores bs.csv --labels nope.csv --out new.json
expect "--out after an error: no file created" [ ! -e new.json ]
mkdir -p odir
fails "--out onto a directory" 1 "odir: is a directory" metrics --task binary --scores bs.csv --labels by.csv --out odir
fails "--out into a missing directory" 1 "no-dir/m.json" metrics --task binary --scores bs.csv --labels by.csv --out no-dir/m.json
expect "no temporary files after failures" no_temp_files .

# --- usage errors (status 2) -----------------------------------------------------------------
fails "missing --task" 2 "--task is required; expected binary, multiclass or multilabel" \
    metrics --scores bs.csv --labels by.csv
fails "bad --task" 2 "--task: unknown task 'multi'; expected one of binary, multiclass, multilabel" \
    metrics --task multi --scores bs.csv --labels by.csv
fails "missing --labels" 2 "--labels is required" metrics --task binary --scores bs.csv
fails "missing --scores" 2 "--scores is required" metrics --task binary --labels by.csv
fails "unknown option" 2 "unknown option '--thresold'; did you mean '--threshold'?" \
    metrics --task binary --scores bs.csv --labels by.csv --thresold 0.3
fails "--threshold not a number" 2 "--threshold: 'x' (item 1) is not a number" \
    metrics --task binary --scores bs.csv --labels by.csv --threshold x
fails "--threshold with multiclass" 2 "--threshold does not apply to --task multiclass" \
    metrics --task multiclass --scores ms.csv --labels my.csv --threshold 0.5
fails "--threshold count" 2 "--threshold: 2 values given, but ls.csv has 3 columns; expected one value or exactly 3" \
    metrics --task multilabel --scores ls.csv --labels ly.csv --threshold 0.5,0.5
fails "--names count" 2 "--names: 3 names given, but there are 2 classes (binary: classes 0 and 1); expected exactly 2" \
    metrics --task binary --scores bs.csv --labels by.csv --names a,b,c
fails "--names empty item" 2 "--names: name 2 of 'a,,c' is empty" \
    metrics --task multiclass --scores ms.csv --labels my.csv --names a,,c
fails "--riadd on binary" 2 "--riadd applies to --task multilabel only" \
    metrics --task binary --scores bs.csv --labels by.csv --riadd 0
fails "--riadd unknown column" 2 "--riadd: 'XX' is not a column of ls.csv; expected an index in 0..2" \
    metrics --task multilabel --scores ls.csv --labels ly.csv --riadd XX
fails "--riadd index out of range" 2 "--riadd: '3' is not a column" \
    metrics --task multilabel --scores ls.csv --labels ly.csv --riadd 3
fails "--json with a value" 2 "--json takes no value" \
    metrics --task binary --scores bs.csv --labels by.csv --json=yes
fails "stray argument" 2 "unexpected argument 'extra'" metrics --task binary --scores bs.csv --labels by.csv extra

# --- data errors (status 1) --------------------------------------------------------------------
printf '0\n1\n2\n1\n' >y2.csv
fails "binary label 2" 1 "y2.csv:3:1: '2' is not a label; expected 0 or 1" \
    metrics --task binary --scores bs.csv --labels y2.csv
printf '0\n1\n  1.5\n0\n' >y15.csv
fails "multiclass label 1.5" 1 "y15.csv:3:3: '1.5' is not an integer class; expected a class index in 0..2" \
    metrics --task multiclass --scores ms.csv --labels y15.csv
printf '0\n1\n1\n3\n' >y3.csv
fails "multiclass label out of range" 1 "y3.csv:4:1: '3' is out of range; expected a class index in 0..2 (ms.csv has 3 columns)" \
    metrics --task multiclass --scores ms.csv --labels y3.csv
printf '0\n-1\n1\n0\n' >ym.csv
fails "multiclass negative label" 1 "ym.csv:2:1: '-1' is out of range" \
    metrics --task multiclass --scores ms.csv --labels ym.csv
printf '1,0,1\n1,0,0\n0,0.5,1\n0,0,0\n' >lyh.csv
fails "multilabel label 0.5" 1 "lyh.csv:3:3: '0.5' is not a label; expected 0 or 1" \
    metrics --task multilabel --scores ls.csv --labels lyh.csv
fails "row counts differ" 1 "shape mismatch: bs.csv has 4 rows but y111.csv has 3; expected one label row per score row" \
    metrics --task binary --scores bs.csv --labels y111.csv
fails "binary scores with 3 columns" 1 "ms.csv has 3 columns; --task binary expects one column" \
    metrics --task binary --scores ms.csv --labels by.csv
fails "multiclass scores with 1 column" 1 "bs.csv has 1 column; --task multiclass expects one score per class" \
    metrics --task multiclass --scores bs.csv --labels my.csv
fails "multiclass labels with 3 columns" 1 "ly.csv has 3 columns; --task multiclass expects one integer class per row" \
    metrics --task multiclass --scores ms.csv --labels ly.csv
fails "multilabel shapes differ" 1 "shape mismatch: ls.csv is 4 x 3 but my.csv is 4 x 1" \
    metrics --task multilabel --scores ls.csv --labels my.csv
printf '0.1\nnan\n0.3\n0.4\n' >snan.csv
fails "NaN score names file:line:column" 1 "snan.csv:2:1: 'nan' is not a finite number" \
    metrics --task binary --scores snan.csv --labels by.csv
printf '0.1\n0.2,0.3\n' >rag.csv
fails "ragged scores" 1 "rag.csv:2:" metrics --task binary --scores rag.csv --labels by.csv
fails "missing file" 1 "nope.csv: cannot open" metrics --task binary --scores nope.csv --labels by.csv
: >empty.csv
fails "empty file" 1 "empty.csv: no data" metrics --task binary --scores bs.csv --labels empty.csv

# --- help ----------------------------------------------------------------------------------------
run metrics --help
expect "metrics --help: exit 0" [ "$rc" -eq 0 ]
for opt in --task --scores --labels --threshold --names --riadd --json --out --help; do
    expect "metrics --help explains $opt" grep -qE -- "^  $opt( |\$)" "$T/stdout"
done
run help metrics
expect "'focal help metrics' shows the help" grep -qF -- "--riadd COL" "$T/stdout"

finish
