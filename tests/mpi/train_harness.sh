# train_harness.sh — shared by tests/mpi/train_*.sh (sourced after NAME is
# set), beside mpi_common.sh's harness, skip and `mpi N ARGS`: a small table
# of three classes, and comparisons of weights and of numbers within a tolerance.
. "$(dirname "${BASH_SOURCE[0]}")/mpi_common.sh"

# A learnable table of three classes, 400 rows (240 training samples), in
# $T/t.csv: 4 features from a linear congruential generator, the class from
# two of their sums.
awk -v rows=400 'function u() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
BEGIN {
    seed = 2024
    for (r = 0; r < rows; r++) {
        a = u() * 2 - 1; b = u() * 2 - 1; c = u() * 2 - 1; d = u() * 2 - 1
        k = a + b > 0.6 ? 2 : (c - d > 0 ? 1 : 0)
        printf "%.4f,%.4f,%.4f,%.4f,%d\n", a, b, c, d, k
    }
}' > "$T/t.csv"
cd "$T" || exit 1

# weights FILE: every float32 of a safetensors file's tensors, one a line.
weights() {
    local n
    n=$(od -A n -t u8 -N 8 "$1" | tr -d ' ')
    od -A n -v -t f4 -j $((8 + n)) "$1" | tr -s ' ' '\n' | sed '/^$/d'
}

# close A B ABS REL: files of numbers, line by line, |a - b| <= ABS + REL·|b|
# for every number of every line (fields split at commas and spaces).
close() {
    paste -d'|' "$1" "$2" | awk -F'|' -v abs="$3" -v rel="$4" '
        { na = split($1, a, /[, ]+/); nb = split($2, b, /[, ]+/)
          if (na != nb) { bad = 1; print "line " NR ": " na " vs " nb " fields" > "/dev/stderr"; next }
          for (i = 1; i <= na; i++) {
              if (a[i] == b[i]) continue
              d = a[i] - b[i]; if (d < 0) d = -d; m = b[i] < 0 ? -b[i] : b[i]
              if (d > abs + rel * m) { bad = 1; print "line " NR " field " i ": " a[i] " vs " b[i] > "/dev/stderr" }
              if (d > worst) worst = d } }
        END { printf "worst difference %g over %d lines\n", worst, NR > "/dev/stderr"; exit bad || NR == 0 }'
}
