#!/usr/bin/env bash
# cli_explain.sh — end-to-end tests of `focal explain`: table values (natural
# log and log10, alpha, p_t = 1), errors with their messages and exit status,
# and the --plot SVG (structure, labels, legend, atomic write). Needs FOCAL_BIN.
# Prints "N passed, M failed" last.
set -u
NAME=cli_explain
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# row P: the table row (columns separated by blanks) whose p_t column is P.
row() { awk -v p="$1" '!/^#/ && $1 == p { $1 = $1; print }' "$T/stdout"; }

# row_is DESC P "P CE FL MOD RATIO": the row for P reads exactly so.
row_is() {
    local got
    got=$(row "$2")
    if [ "$got" = "$3" ]; then ok; else bad "$1: row '$got', expected '$3'"; fi
}

cd "$T" || exit 1

# --- the table -------------------------------------------------------------------------
# gamma 2, natural log: CE = -ln p, FL = (1-p)^2 CE, ratio = 1/(1-p)^2.
run explain --pt 0.1,0.5,0.9,0.99
expect "explain exit 0" [ "$rc" -eq 0 ]
expect "explain prints nothing on stderr" [ -z "$err" ]
expect "header row" grep -qE '^ *p_t +CE +FL +\(1-p_t\)\^gamma +CE/FL$' "$T/stdout"
expect "header names gamma 2 and alpha off" grep -qF "# gamma = 2, alpha off (1)" "$T/stdout"
expect "header names the natural log" grep -qF "# natural log (nats)" "$T/stdout"
row_is "p_t 0.1" 0.1 "0.1 2.30259 1.86509 0.81 1.23457"
row_is "p_t 0.5" 0.5 "0.5 0.693147 0.173287 0.25 4"
row_is "p_t 0.9" 0.9 "0.9 0.105361 0.00105361 0.01 100"
row_is "p_t 0.99" 0.99 "0.99 0.0100503 1.00503e-06 0.0001 10000"
expect "4 data rows" [ "$(grep -vcE '^#|p_t' "$T/stdout")" -eq 4 ]
expect "columns are right-aligned to one width" \
    [ "$(grep -v '^#' "$T/stdout" | awk '{ print length($0) }' | sort -u | wc -l)" -eq 1 ]

run explain
expect "default --pt is 0.1,0.5,0.9,0.99" \
    [ "$(awk '!/^#/ && $1 != "p_t" { printf "%s,", $1 }' "$T/stdout")" = "0.1,0.5,0.9,0.99," ]

# log base 10: CE(0.1) = 1 exactly, FL = 0.81; ratios unchanged.
run explain --pt 0.1,0.5 --log-base 10
expect "log10 exit 0" [ "$rc" -eq 0 ]
expect "log10 header says so" grep -qF "log base 10: CE and FL are the natural-log values divided by ln 10" "$T/stdout"
row_is "log10 p_t 0.1" 0.1 "0.1 1 0.81 0.81 1.23457"
row_is "log10 p_t 0.5" 0.5 "0.5 0.30103 0.0752575 0.25 4"

# p_t = 1: CE = FL = 0; the ratio is the limit 1/(alpha (1-p_t)^gamma).
run explain --pt 1,0.5 --gamma 2
row_is "p_t 1 with gamma 2" 1 "1 0 0 0 inf"
run explain --pt 1,0.5 --gamma 0
row_is "p_t 1 with gamma 0" 1 "1 0 0 1 1"
row_is "gamma 0: FL = CE" 0.5 "0.5 0.693147 0.693147 1 1"

# alpha 0.25: FL = 0.25 (1-p)^gamma CE, CE unweighted.
run explain --pt 0.5 --alpha 0.25
expect "alpha header" grep -qF "# gamma = 2, alpha = 0.25" "$T/stdout"
row_is "alpha 0.25 at p_t 0.5" 0.5 "0.5 0.693147 0.0433217 0.25 16"
run explain --pt 0.5 --alpha 0
row_is "alpha 0: FL is 0 and the ratio infinite" 0.5 "0.5 0.693147 0 0.25 inf"
run explain --pt 0.5 --gamma 0.5
row_is "gamma 0.5" 0.5 "0.5 0.693147 0.490129 0.707107 1.41421"

# --- errors ------------------------------------------------------------------------------
fails "p_t 0" 2 "--pt: '0' (item 1) is out of range; expected a probability in (0, 1]" explain --pt 0
fails "p_t above 1" 2 "--pt: '1.5' (item 2) is out of range; expected a probability in (0, 1]" explain --pt 0.5,1.5
fails "p_t not a number" 2 "--pt: 'abc' (item 1) is not a number" explain --pt abc
fails "p_t empty item" 2 "--pt: item 2 of '0.1,,0.5' is empty" explain --pt 0.1,,0.5
fails "p_t nan" 2 "--pt: 'nan' (item 1) is not a finite number" explain --pt nan
fails "bad log base" 2 "--log-base: '2' is not a supported base; expected e or 10" explain --log-base 2
fails "gamma negative" 2 "explain: sigmoid-focal: gamma is -1; expected a finite value >= 0" explain --gamma -1
fails "gamma malformed" 2 "focal: --gamma: '2x' is not a number" explain --gamma 2x
fails "alpha above 1" 2 "explain: sigmoid-focal: alpha is 2; expected a value in [0,1] (< 0 turns it off)" explain --alpha 2
fails "unknown option" 2 "unknown option '--pts'; did you mean '--pt'?" explain --pts 0.5
fails "stray argument" 2 "unexpected argument '0.5'" explain 0.5

# --- the plot ------------------------------------------------------------------------------
run explain --plot fig1.svg
expect "plot: exit 0" [ "$rc" -eq 0 ]
expect "plot: table still printed" [ -n "$(row 0.5)" ]
expect "plot: file written" [ -s fig1.svg ]
expect "plot: XML declaration first" [ "$(head -1 fig1.svg)" = '<?xml version="1.0" encoding="UTF-8"?>' ]
expect "plot: an <svg> root with the namespace" grep -qF '<svg xmlns="http://www.w3.org/2000/svg"' fig1.svg
expect "plot: ends with </svg>" [ "$(tail -1 fig1.svg)" = "</svg>" ]
expect "plot: one <svg> element" [ "$(grep -c '<svg' fig1.svg)" -eq 1 ]
expect "plot: x axis title" grep -qF '>probability of ground truth class</text>' fig1.svg
expect "plot: y axis title" grep -qF 'class="y-label"' fig1.svg
expect "plot: y axis title says loss" grep -qE 'class="y-label"[^>]*>loss</text>' fig1.svg
expect "plot: title" grep -qF 'class="title"' fig1.svg
expect "plot: five legend entries" [ "$(grep -c 'class="legend-entry"' fig1.svg)" -eq 5 ]
for g in 0 0.5 1 2 5; do
    expect "plot: legend names gamma = $g" grep -qF ">γ = $g</text>" fig1.svg
done
expect "plot: five curves" [ "$(grep -c '<path class="series"' fig1.svg)" -eq 5 ]
expect "plot: five distinct colours" \
    [ "$(grep '<path class="series"' fig1.svg | grep -o 'stroke="#[0-9a-f]*"' | sort -u | wc -l)" -eq 5 ]
for tick in 0.0 0.2 0.4 0.6 0.8; do
    expect "plot: x tick label $tick" grep -qF ">$tick</text>" fig1.svg
done
expect "plot: x tick label 1.0" grep -qF '>1.0</text>' fig1.svg
expect "plot: y tick labels 0 .. 5" grep -qF '>5</text>' fig1.svg
expect "plot: y tick label 0" grep -qE '<text[^>]*text-anchor="end"[^>]*>0</text>' fig1.svg
expect "plot: no NaN or Inf coordinates" bash -c "! grep -qiE 'nan|inf' fig1.svg"
# crude well-formedness: every element that opens also closes
for tag in svg g text title; do
    expect "plot: <$tag> balanced" [ "$(grep -o "<$tag[ >]" fig1.svg | wc -l)" -eq "$(grep -o "</$tag>" fig1.svg | wc -l)" ]
done
expect "plot: no stray '&' outside entities" bash -c "! grep -qE '&[^a-z#]' fig1.svg"
expect "plot: no temporary files left" no_temp_files .

run explain --gamma 3 --plot fig3.svg
expect "plot --gamma 3: six legend entries" [ "$(grep -c 'class="legend-entry"' fig3.svg)" -eq 6 ]
expect "plot --gamma 3: the user's curve is named" grep -qF '>γ = 3 (--gamma)</text>' fig3.svg
expect "plot --gamma 3: and dashed" grep -qF 'stroke-dasharray' fig3.svg
run explain --gamma 2 --alpha 0.25 --log-base 10 --plot fig4.svg
expect "plot with alpha: title names alpha" grep -qF 'α = 0.25' fig4.svg
expect "plot with log10: y title says so" grep -qF '>loss (log base 10)</text>' fig4.svg

# never a partial or stale plot
printf 'old\n' >keep.svg
run explain --pt 2 --plot keep.svg
expect "bad --pt: exit 2" [ "$rc" -eq 2 ]
expect "bad --pt: existing plot untouched" [ "$(cat keep.svg)" = "old" ]
run explain --pt 0 --plot never.svg
expect "bad --pt: no plot created" [ ! -e never.svg ]
fails "plot into a missing directory" 1 "no-dir/fig.svg" explain --plot no-dir/fig.svg
mkdir -p pdir
fails "plot onto a directory" 1 "pdir: is a directory" explain --plot pdir
expect "no temporary files after failures" no_temp_files .

# --- help ----------------------------------------------------------------------------------
run explain --help
expect "explain --help exit 0" [ "$rc" -eq 0 ]
for opt in --pt --gamma --alpha --log-base --plot; do
    expect "explain --help explains $opt" grep -qE -- "^  $opt " "$T/stdout"
done
expect "explain --help states the p_t default" grep -qF "default 0.1,0.5,0.9,0.99" "$T/stdout"

finish
