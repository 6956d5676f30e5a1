# mpi_common.sh — what every MPI test starts with (sourced after NAME is set,
# by exp_harness.sh and train_harness.sh): the shell harness of tests/cli, a
# visible skip (exit 77) where mpirun is missing or focal is built without
# MPI, Open MPI allowed to run as root, the sanitizers told about Open MPI's
# leftovers, and `mpi NP ARGS...`.
. "$(dirname "${BASH_SOURCE[0]}")/../cli/harness.sh"

# skip WHY: a visible skip (ctest counts exit 77 as skipped)
skip() {
    echo "skip: $NAME: $1"
    exit 77
}
command -v mpirun >/dev/null || skip "mpirun is not installed (scripts/deps.sh installs Open MPI)"
# as root, Open MPI starts only when told (.ci/run says so too)
if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# A sanitized build: Open MPI leaves allocations behind at exit, some from
# components it has unloaded by then; the slow unwinder reaches the library
# frames that openmpi.supp names. (Harmless for other builds.)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/openmpi.supp:print_suppressions=0"
if ! mpirun --oversubscribe -np 2 "$FOCAL_BIN" synth --help >"$T/probe" 2>&1; then
    grep -q "built without MPI" "$T/probe" && skip "this focal is built without MPI"
    echo "$NAME: mpirun cannot start focal on 2 ranks:" >&2
    cat "$T/probe" >&2
    exit 1
fi

# mpi NP ARGS...: runs focal ARGS on NP ranks (more ranks than cores is
# allowed); sets out, err and rc as run does.
mpi() {
    local np=$1
    shift
    mpirun --oversubscribe -np "$np" "$FOCAL_BIN" "$@" >"$T/stdout" 2>"$T/stderr"
    rc=$?
    out=$(cat "$T/stdout")
    err=$(cat "$T/stderr")
}
