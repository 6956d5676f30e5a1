#!/usr/bin/env bash
# cli_loss.sh — end-to-end tests of `focal loss`, `focal --help` and
# `focal --version`: hand-computed values, output shapes, --grad files, --probs,
# and every error path with its message and exit status (2 usage, 1 data/IO).
# Needs FOCAL_BIN (the focal program); FOCAL_SOURCE_DIR (the repository) is
# used for the examples when set. Prints "N passed, M failed" last.
set -u
NAME=cli_loss
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"


# close A B: A is a number within relative tolerance $RTOL (default 1e-9) of B.
close() {
    awk -v a="$1" -v b="$2" -v t="${RTOL:-1e-9}" 'BEGIN {
        if (a !~ /^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/) exit 1
        d = a - b; if (d < 0) d = -d
        s = b < 0 ? -b : b; if (s == 0) s = 1
        exit !(d <= t * s) }'
}

# value DESC EXPECTED ARGS...: exit 0, nothing on stderr, stdout one number
# close to EXPECTED (relative tolerance $RTOL).
value() {
    local desc=$1 want=$2
    shift 2
    run "$@"
    if [ "$rc" -eq 0 ] && [ -z "$err" ] && close "$out" "$want"; then ok
    else bad "$desc: rc=$rc stdout='$out' stderr='$err', expected $want"; fi
}


cd "$T" || exit 1
printf '0\n' >x0.csv
printf '1\n' >y1.csv
printf '0,0\n' >z00.csv
printf '0\n' >t0.csv
LN2=0.69314718055994531

# --- known values -------------------------------------------------------------
value "bce at logit 0, target 1 = ln 2" $LN2 loss --type bce --logits x0.csv --targets y1.csv
expect "loss printed with 10 significant digits" [ "$out" = "0.6931471806" ]
value "sigmoid-focal gamma 2 at logit 0 = ln2/4" 0.17328679514 \
    loss --type sigmoid-focal --logits x0.csv --targets y1.csv
value "sigmoid-focal alpha 0.25 at logit 0 = ln2/16" 0.043321698785 \
    loss --type sigmoid-focal --logits x0.csv --targets y1.csv --alpha 0.25
value "sigmoid-focal gamma 0 = bce" $LN2 \
    loss --type sigmoid-focal --gamma 0 --logits x0.csv --targets y1.csv
value "softmax ce of [0,0], class 0 = ln 2" $LN2 loss --type ce --logits z00.csv --targets t0.csv
value "softmax-focal gamma 2 of [0,0] = ln2/4" 0.17328679514 \
    loss --type softmax-focal --logits z00.csv --targets t0.csv

# p = (0.75, 0.25) from logits (ln 3, 0): CE = -ln 0.75; smoothing 0.2 gives
# q = (0.9, 0.1): 0.9 (-ln 0.75) + 0.1 (-ln 0.25).
printf '1.0986122886681098,0\n' >z3.csv
value "ce of p=(0.75,0.25)" 0.28768207245 loss --type ce --logits z3.csv --targets t0.csv
value "ce with label smoothing 0.2" 0.39754330133 \
    loss --type ce --logits z3.csv --targets t0.csv --label-smoothing 0.2

# --- the long-tail losses -----------------------------------------------------------
# balanced softmax of [0,0], class 0, prior (3,1): −log(3/4), the ce of p = (0.75, 0.25)
value "balanced-softmax with prior 3,1" 0.28768207245 \
    loss --type balanced-softmax --logits z00.csv --targets t0.csv --prior 3,1
# la, τ = 0.5, prior (2,1): −log(√2/(√2+1)) = log(1 + 1/√2)
value "la tau 0.5 with prior 2,1" 0.53479999674 \
    loss --type la --logits z00.csv --targets t0.csv --prior 2,1 --tau 0.5
printf '0.2\n0.1\n' >prior21.csv
value "la reads the prior from a file (counts and frequencies agree)" 0.53479999674 \
    loss --type la --logits z00.csv --targets t0.csv --prior prior21.csv --tau 0.5
# ldam, counts (16,1), m = 1, s = 2: Δ_0 = (1/16)^(1/4) = 0.5; u = 2·(−0.5, 0): log(1 + e)
value "ldam margin 1 scale 2" 1.3132616875 \
    loss --type ldam --logits z00.csv --targets t0.csv --prior 16,1 --margin 1 --scale 2
# db at logit 0, target 1, π = 0.5 (no bias): r = 1, r̂ = 0.1 + σ(10·0.8); (1/2)^2 ln 2 r̂
value "db at logit 0, target 1, prior 0.5" 0.1905573629 \
    loss --type db --logits x0.csv --targets y1.csv --prior 0.5
fails "la without --prior" 2 "--type la needs --prior" \
    loss --type la --logits z00.csv --targets t0.csv
fails "--prior with the wrong count" 2 "--prior: 3 values given, but z00.csv has 2 classes" \
    loss --type ldam --logits z00.csv --targets t0.csv --prior 1,2,3
fails "db refuses counts" 2 "db: class prior 0 is 40; expected a frequency in (0,1)" \
    loss --type db --logits x0.csv --targets y1.csv --prior 40
fails "a zero prior" 2 "la: class prior 1 is 0" \
    loss --type la --logits z00.csv --targets t0.csv --prior 1,0
fails "a negative tau" 2 "la: tau is -1" \
    loss --type la --logits z00.csv --targets t0.csv --prior 1,1 --tau -1
run loss --type ce --logits z00.csv --targets t0.csv --prior 1,1
expect "--prior on ce: a warning naming the kinds that use it" \
    grep -qF -- "--prior is ignored by --type ce; it is used by la, balanced-softmax, ldam, db" "$T/stderr"

# 2×2 zeros with targets (1,0 / 0,1): every element costs ln 2.
printf '0,0\n0,0\n' >x22.csv
printf '1,0\n0,1\n' >y22.csv
printf '1,0\n-1,1\n' >y22i.csv
value "reduction mean" $LN2 loss --type bce --logits x22.csv --targets y22.csv
value "reduction sum" 2.7725887222 loss --type bce --logits x22.csv --targets y22.csv --reduction sum
value "reduction positives" 1.3862943611 loss --type bce --logits x22.csv --targets y22.csv --reduction positives
value "ignored element leaves the mean" $LN2 loss --type bce --logits x22.csv --targets y22i.csv
value "ignored element leaves the sum" 2.0794415417 \
    loss --type bce --logits x22.csv --targets y22i.csv --reduction sum
printf '1,1\n' >y11.csv
value "class weights (1,3)" 1.3862943611 \
    loss --type bce --logits z00.csv --targets y11.csv --class-weights 1,3
# enough elements (300 x 100) for the work to be split into several chunks
awk 'BEGIN { srand(7); for (i = 0; i < 300; i++) { for (j = 0; j < 100; j++)
    printf "%s%.6f", (j ? "," : ""), 8 * rand() - 4; print "" } }' >xbig.csv
awk 'BEGIN { srand(8); for (i = 0; i < 300; i++) { for (j = 0; j < 100; j++)
    printf "%s%d", (j ? "," : ""), rand() < 0.1; print "" } }' >ybig.csv
run loss --type sigmoid-focal --logits xbig.csv --targets ybig.csv --grad g1.csv --threads 1
one=$out
run loss --type sigmoid-focal --logits xbig.csv --targets ybig.csv --grad g2.csv --threads 2
expect "--threads 1 and 2 give the same loss, digit for digit" [ "$rc" -eq 0 -a -n "$one" -a "$out" = "$one" ]
expect "--threads 1 and 2 give the same gradient file" cmp -s g1.csv g2.csv

printf '0,0\n0,0\n' >s22.csv
printf '0\n7\n' >c07.csv
value "softmax ignore-index 7 drops the row" $LN2 \
    loss --type ce --logits s22.csv --targets c07.csv --ignore-index 7
printf '0\n-100\n' >c0i.csv
value "softmax default ignore index -100" $LN2 loss --type ce --logits s22.csv --targets c0i.csv

# --- --reduction none: shapes ----------------------------------------------------
printf '0,1,2\n-1,0,3\n' >x23.csv
printf '1,0,1\n0,-1,0\n' >y23.csv
run loss --type sigmoid-focal --logits x23.csv --targets y23.csv --reduction none
expect "none (sigmoid): exit 0" [ "$rc" -eq 0 ]
expect "none (sigmoid): 2 rows" [ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ]
expect "none (sigmoid): 3 fields per row" \
    [ "$(printf '%s\n' "$out" | awk -F, 'NF != 3 { bad = 1 } END { print bad + 0 }')" -eq 0 ]
expect "none (sigmoid): first element = ln2/4" close "$(printf '%s\n' "$out" | head -1 | cut -d, -f1)" 0.17328679514
printf '0,0,0\n1,2,3\n5,5,5\n' >s33.csv
printf '0\n2\n1\n' >c33.csv
run loss --type ce --logits s33.csv --targets c33.csv --reduction none
expect "none (softmax): 3 lines" [ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ]
expect "none (softmax): one field per line" \
    [ "$(printf '%s\n' "$out" | awk -F, 'NF != 1 { bad = 1 } END { print bad + 0 }')" -eq 0 ]
expect "none (softmax): row 1 = ln 3" close "$(printf '%s\n' "$out" | head -1)" 1.0986122887

# --- --grad -------------------------------------------------------------------------
value "focal loss with --grad" 0.17328679514 \
    loss --type sigmoid-focal --logits x0.csv --targets y1.csv --grad g.csv
expect "grad file written" [ -f g.csv ]
expect "focal gradient at x=0, y=1, gamma=2 is -0.29828679514" close "$(cat g.csv)" -0.29828679514
expect "grad printed with 9 significant digits" [ "$(cat g.csv)" = "-0.298286795" ]
value "ce with --grad" $LN2 loss --type ce --logits z00.csv --targets t0.csv --grad gce.csv
expect "ce gradient = p - onehot = (-0.5, 0.5)" [ "$(cat gce.csv)" = "-0.5,0.5" ]
run loss --type sigmoid-focal --logits x23.csv --targets y23.csv --grad g23.csv
expect "grad shape 2 x 3" [ "$(awk -F, 'NF != 3 { bad = 1 } END { print NR * (1 - bad) }' g23.csv)" -eq 2 ]
expect "grad is 0 where the target is ignored" [ "$(sed -n 2p g23.csv | cut -d, -f2)" = "0" ]
expect "no temporary files after --grad" no_temp_files .

# --- --probs -------------------------------------------------------------------------
printf '0.5\n' >p5.csv
printf '1\n' >p1.csv
printf '0\n' >p0.csv
value "--probs p=0.5 (sigmoid) = ln 2" $LN2 loss --type bce --probs --logits p5.csv --targets y1.csv
RTOL=1e-6 value "--probs p=1 is clamped to 1-1e-7" 1.00000005e-07 \
    loss --type bce --probs --logits p1.csv --targets y1.csv
value "--probs p=0 is clamped to 1e-7" 16.118095650958 loss --type bce --probs --logits p0.csv --targets y1.csv
printf '0.5,0.5\n' >pp.csv
value "--probs softmax (0.5,0.5) = ln 2" $LN2 loss --type ce --probs --logits pp.csv --targets t0.csv
printf '0.2,0.2\n' >pq.csv
run loss --type ce --probs --logits pq.csv --targets t0.csv
expect "--probs softmax renormalises a row (0.2,0.2)" close "$out" $LN2
expect "--probs softmax warns about a row not summing to 1" grep -qF "sums to 0.4, not 1" "$T/stderr"
printf '0,1.5\n' >pbad.csv
fails "--probs rejects 1.5" 1 "pbad.csv:1:3: '1.5' is not a probability" \
    loss --type ce --probs --logits pbad.csv --targets t0.csv

# --- warnings -----------------------------------------------------------------------
run loss --type ce --logits z00.csv --targets t0.csv --alpha 0.5
expect "softmax --alpha rescales" close "$out" 0.34657359028
expect "softmax --alpha warns and names --class-weights" grep -qF "per-class weighting is --class-weights" "$T/stderr"
run loss --type bce --logits x0.csv --targets y1.csv --beta 3
expect "unused option: value unchanged" close "$out" $LN2
expect "unused option warns" grep -qF "warning: --beta is ignored by --type bce; it is used by focal-star" "$T/stderr"
run loss --type bce --logits x0.csv --targets y1.csv --gamma 2
expect "--gamma is ignored by bce (no focusing term)" close "$out" $LN2
expect "--gamma with bce warns" grep -qF "warning: --gamma is ignored by --type bce" "$T/stderr"
run loss --type ce --logits z00.csv --targets t0.csv --gamma 2
expect "--gamma is ignored by ce" close "$out" $LN2

# --- usage errors (status 2) -------------------------------------------------------------
fails "unknown option" 2 "unknown option '--gama'; did you mean '--gamma'?" \
    loss --type bce --logits x0.csv --targets y1.csv --gama 2
fails "malformed number" 2 "focal: --gamma: 'abc' is not a number" \
    loss --type sigmoid-focal --logits x0.csv --targets y1.csv --gamma abc
fails "non-finite number" 2 "focal: --alpha: 'nan' is not a finite number" \
    loss --type bce --logits x0.csv --targets y1.csv --alpha nan
fails "gamma out of range: the library's message" 2 "focal: sigmoid-focal: gamma is -1; expected a finite value >= 0" \
    loss --type sigmoid-focal --logits x0.csv --targets y1.csv --gamma -1
fails "focal-star needs gamma > 0" 2 "focal: focal-star: gamma is 0; FL* needs gamma > 0" \
    loss --type focal-star --logits x0.csv --targets y1.csv --gamma 0
fails "alpha out of range" 2 "focal: bce: alpha is 1.5; expected a value in [0,1] (< 0 turns it off)" \
    loss --type bce --logits x0.csv --targets y1.csv --alpha 1.5
fails "margin out of range" 2 "focal: asl: margin is 1; expected a value in [0,1)" \
    loss --type asl --logits x0.csv --targets y1.csv --margin 1
fails "bad --type" 2 "--type: 'focal' is not a loss type; expected one of: bce, sigmoid-focal, focal-star, asl, sigmoid-poly1, ce, softmax-focal, softmax-poly1" \
    loss --type focal --logits x0.csv --targets y1.csv
fails "missing --type" 2 "--type is required" loss --logits x0.csv --targets y1.csv
fails "missing --targets" 2 "--targets is required" loss --type bce --logits x0.csv
fails "bad --reduction" 2 "focal: --reduction: unknown reduction 'avg'; expected one of none, sum, mean, positives" \
    loss --type bce --logits x0.csv --targets y1.csv --reduction avg
fails "bad --threads" 2 "--threads: 'two' is not an integer" \
    loss --type bce --logits x0.csv --targets y1.csv --threads two
fails "bad --ignore-index" 2 "--ignore-index: '1.5' is not an integer" \
    loss --type ce --logits z00.csv --targets t0.csv --ignore-index 1.5
fails "option without its value" 2 "--gamma needs a value" \
    loss --type bce --logits x0.csv --targets y1.csv --gamma
fails "flag given a value" 2 "--probs takes no value" \
    loss --type bce --logits x0.csv --targets y1.csv --probs=yes
fails "stray argument" 2 "unexpected argument 'extra'" \
    loss --type bce --logits x0.csv --targets y1.csv extra
fails "class weights: wrong count" 2 "--class-weights: 2 values given, but x23.csv has 3 classes (columns); expected exactly 3" \
    loss --type bce --logits x23.csv --targets y23.csv --class-weights 1,2
fails "class weights: bad item" 2 "--class-weights: 'x' (item 2) is not a number" \
    loss --type bce --logits x23.csv --targets y23.csv --class-weights 1,x,3
fails "class weights: negative, the library's message" 2 "focal: bce: class weight 0 is -1; expected a finite value >= 0" \
    loss --type bce --logits x23.csv --targets y23.csv --class-weights -1,1,1
fails "unknown command" 2 "unknown command 'fit'" fit
expect "unknown command lists the commands" grep -qF "commands are: loss, explain, synth, train, eval, predict, metrics" "$T/stderr"
fails "no command" 2 "no command given"
fails "unknown top-level option" 2 "unknown option '--frobnicate'" --frobnicate

# --- data errors (status 1) ---------------------------------------------------------------
printf '0,1\n0,abc\n' >bad.csv
fails "CSV error names file:line:col" 1 "bad.csv:2:3: 'abc' is not a number" \
    loss --type bce --logits bad.csv --targets y22.csv
printf '0,1\n0\n' >ragged.csv
fails "ragged CSV" 1 "ragged.csv:2:2: row has 1 field; expected 2" \
    loss --type bce --logits ragged.csv --targets y22.csv
fails "missing file" 1 "nope.csv: cannot open" loss --type bce --logits nope.csv --targets y1.csv
: >empty.csv
fails "empty file" 1 "empty.csv: no data" loss --type bce --logits empty.csv --targets y1.csv
fails "shape mismatch names both files and shapes" 1 \
    "shape mismatch: x23.csv is 2 x 3 but y22.csv is 2 x 2" \
    loss --type bce --logits x23.csv --targets y22.csv
fails "softmax rows mismatch" 1 "shape mismatch: s33.csv is 3 x 3 but t0.csv has 1 rows" \
    loss --type ce --logits s33.csv --targets t0.csv
fails "softmax targets must be one column" 1 "y22.csv has 2 columns; softmax types (--type ce) expect one integer class per row" \
    loss --type ce --logits s22.csv --targets y22.csv
printf '0\n5\n' >c05.csv
fails "softmax target out of range" 1 "c05.csv:2:1: '5' is out of range; expected a class index in 0..1" \
    loss --type ce --logits s22.csv --targets c05.csv
printf '0\n\n  1.5\n' >c15.csv
fails "softmax target not an integer" 1 "c15.csv:3:3: '1.5' is not an integer class" \
    loss --type ce --logits s22.csv --targets c15.csv
printf '1,0\n0,2\n' >y2.csv
fails "sigmoid target > 1" 1 "y2.csv:2:3: '2' is out of range; expected a target in [0, 1]" \
    loss --type bce --logits x22.csv --targets y2.csv

# --- --grad is never written on error ---------------------------------------------------
printf 'keep me\n' >keep.csv
run loss --type ce --logits s22.csv --targets c05.csv --grad keep.csv
expect "error after --grad: non-zero exit" [ "$rc" -ne 0 ]
expect "error after --grad: existing file untouched" [ "$(cat keep.csv)" = "keep me" ]
run loss --type bce --logits bad.csv --targets y22.csv --grad new.csv
expect "error after --grad: no file created" [ ! -e new.csv ]
fails "--grad into a missing directory" 1 "no-dir/g.csv" \
    loss --type bce --logits x0.csv --targets y1.csv --grad no-dir/g.csv
mkdir -p gdir
fails "--grad onto a directory" 1 "gdir: is a directory" \
    loss --type bce --logits x0.csv --targets y1.csv --grad gdir
expect "no temporary files after failures" no_temp_files .

# --- help and version ------------------------------------------------------------------------
run --version
expect "--version exit 0" [ "$rc" -eq 0 ]
expect "--version text" [ "$out" = "focal 0.1.0" ]
run --help
expect "--help exit 0" [ "$rc" -eq 0 ]
expect "--help lists loss" grep -qE '^  loss ' "$T/stdout"
expect "--help lists explain" grep -qE '^  explain ' "$T/stdout"
run loss --help
expect "loss --help exit 0" [ "$rc" -eq 0 ]
for opt in --type --logits --targets --alpha --class-weights --gamma --beta --gamma-pos \
    --gamma-neg --margin --epsilon --reduction --label-smoothing --ignore-index --grad \
    --probs --threads --prior --tau --scale --db-alpha --db-lambda --db-kappa; do
    expect "loss --help explains $opt" grep -qE -- "^  $opt( |\$)" "$T/stdout"
done
expect "loss --help documents the --probs clamping" grep -qF "clamped to [1e-07, 1 - 1e-07]" "$T/stdout"
expect "loss --help states defaults" grep -qF "default mean" "$T/stdout"
run help loss
expect "'focal help loss' exit 0" [ "$rc" -eq 0 ]
expect "'focal help loss' shows the loss help" grep -qF -- "--label-smoothing" "$T/stdout"

# --- the README examples ---------------------------------------------------------------------
if [ -n "${FOCAL_SOURCE_DIR:-}" ] && [ -d "$FOCAL_SOURCE_DIR/examples" ]; then
    E=$FOCAL_SOURCE_DIR/examples
    # expected values computed independently, straight from the definitions
    RTOL=1e-8 value "example: sigmoid focal alpha 0.25" 0.067434556941 \
        loss --type sigmoid-focal --logits "$E/logits.csv" --targets "$E/targets.csv" --alpha 0.25
    RTOL=1e-8 value "example: softmax ce" 0.33549622827 \
        loss --type ce --logits "$E/logits.csv" --targets "$E/classes.csv"
fi

finish
