# harness.sh — shared helpers of the shell tests (sourced, not run).
# The sourcing script sets NAME first; then: ok/bad count checks, run captures
# the program's stdout/stderr/status, expect and fails assert, no_temp_files
# looks for leftovers of atomic writes, finish prints "N passed, M failed"
# and returns the exit status.
if [ -z "${FOCAL_BIN:-}" ] || [ ! -x "$FOCAL_BIN" ]; then
    echo "$NAME: set FOCAL_BIN to the focal program" >&2
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/focal-$NAME.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); printf 'FAIL: %s\n' "$*" >&2; }

# run ARGS...: runs the program; sets out, err (texts) and rc.
run() {
    "$FOCAL_BIN" "$@" >"$T/stdout" 2>"$T/stderr"
    rc=$?
    out=$(cat "$T/stdout")
    err=$(cat "$T/stderr")
}

# expect DESC CONDITION-COMMAND...: the command succeeds.
expect() {
    local desc=$1
    shift
    if "$@"; then ok; else bad "$desc"; fi
}

# fails DESC STATUS TEXT ARGS...: exits with STATUS, stderr contains TEXT, stdout empty.
fails() {
    local desc=$1 want=$2 text=$3
    shift 3
    run "$@"
    if [ "$rc" -eq "$want" ] && [ -z "$out" ] && grep -qF -- "$text" "$T/stderr"; then ok
    else bad "$desc: rc=$rc (expected $want) stdout='$out' stderr='$err' (expected to contain '$text')"; fi
}

# imbalanced_table SEED: prints 600 rows x0,x1,x2,y of an imbalanced
# three-class table drawn with SEED: class 2 (x0 + x1 > 2.2) is rare.
imbalanced_table() {
    awk -v s="$1" 'BEGIN {
      for (i = 0; i < 600; i++) {
        for (j = 0; j < 3; j++) { s = (s * 1103515245 + 12345) % 2147483648; x[j] = s / 2147483648 * 4 - 2 }
        y = (x[0] + x[1] > 2.2) ? 2 : (x[2] > 0 ? 1 : 0)
        printf "%.4f,%.4f,%.4f,%d\n", x[0], x[1], x[2], y } }'
}

# no_temp_files DIR: no leftover temporary file in DIR.
no_temp_files() { ! ls -a "$1" | grep -q '\.tmp\.'; }

# finish: the closing tally; the script ends with `finish`.
finish() {
    printf '%d passed, %d failed\n' "$pass" "$fail"
    [ "$fail" -eq 0 ]
}
