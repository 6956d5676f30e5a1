# exp_harness.sh — what the MPI tests of `focal compare` and `focal tune` share
# (sourced after NAME is set), beside mpi_common.sh's harness, skip and `mpi`:
# the data every test starts with, and the checks that two experiment folders
# hold the same runs and results.
. "$(dirname "${BASH_SOURCE[0]}")/mpi_common.sh"

# succeeds NP FILE ARGS...: runs focal ARGS on NP ranks (1: one process, no
# launcher), keeps its output in FILE and expects it to succeed.
succeeds() {
    local np=$1 file=$2
    shift 2
    if [ "$np" = 1 ]; then run "$@"; else mpi "$np" "$@"; fi
    cp "$T/stdout" "$file"
    expect "$1 on $np rank(s) succeeds (rc $rc: $err)" test "$rc" -eq 0
}

# Every test starts in the scratch folder with the quick start's kind of data
# in s (the synthetic fundus set: multi-label, ten conditions), 200 images of
# 16x16 that train in a second, and net, the quick start's small network.
cd "$T" || exit 1
"$FOCAL_BIN" synth --out s --n 200 --size 16 --quiet >/dev/null || exit 1
net=$FOCAL_SOURCE_DIR/examples/small-cnn.net

# without_seconds CSV: results.csv less its training-time rows, the one
# column that differs between runs of the same settings.
without_seconds() {
    grep -v ',seconds,' "$1"
}

# same_runs A B: every run folder under A/runs has its twin under B/runs, with
# the same weights, metrics and scores, byte for byte; says which differs.
same_runs() {
    local a=$1 b=$2 f n=0
    for f in $(cd "$a" && find runs -name metrics.json | sort); do
        local d=${f%/metrics.json}
        for k in model.safetensors metrics.json scores.csv; do
            [ -e "$a/$d/$k" ] || continue
            if ! cmp -s "$a/$d/$k" "$b/$d/$k"; then
                echo "$d/$k differs" >&2
                return 1
            fi
        done
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] && [ "$n" -eq "$(cd "$b" && find runs -name metrics.json | wc -l)" ]
}

# tables FILE: the printed tables and verdicts of an experiment, less the
# training-time column (the last, or the one before compare's signed
# "Δ vs ce") and the lines naming the folder.
tables() {
    sed -n '/^validation/,$p' "$1" | grep -v '^wrote' |
        sed -E 's/ +[0-9.]+( ± +[0-9.]+)?( +[-+][0-9.]+( ± +[0-9.]+)?)?$/\2/'
}

# reported FILE WORD: the runs an experiment's output reported finished, one
# line each, what comes before "  WORD " ("ce seed 0"; tune: "gamma 0 alpha
# 0.25 fold 1"), sorted.
reported() {
    grep -E '^\[[0-9]+/[0-9]+\] ' "$1" | sed -E "s/^\[[0-9]+\/[0-9]+\] +//; s/  $2 .*//; s/ +/ /g" | sort
}
