#!/bin/bash
# Builds the libFuzzer harnesses of tests/fuzz/ with clang (FOCAL_FUZZ=ON, in
# build-fuzz/) and runs each for a while on a scratch copy of its corpus.
#   scripts/fuzz.sh [SECONDS] [HARNESS...]   default: 25 s each, every harness
# Prints a table of executions, coverage (libFuzzer's cov:) and crashes per
# harness; exits 1 if any harness crashed, its input kept under
# build-fuzz/crashes/<harness>/ (minimise with: build-fuzz/tests/fuzz_<harness>
# -minimize_crash=1 -runs=10000 FILE). New inputs found stay in the scratch
# corpus build-fuzz/corpus/<harness>/; the committed corpus is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-25}
case "$seconds" in
'' | *[!0-9]*)
    echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2
    exit 2
    ;;
esac
shift || true
all=(csv table rfmid npz idx image imgcache checkpoint optim netdesc runjson history metrics scores)
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")
for h in "${harnesses[@]}"; do
    if [ ! -f "tests/fuzz/$h.c" ]; then
        echo "fuzz.sh: no harness '$h'; expected one of: ${all[*]}" >&2
        exit 2
    fi
done
for tool in clang cmake; do
    if ! command -v "$tool" >/dev/null; then
        echo "fuzz.sh: $tool not found; run scripts/deps.sh" >&2
        exit 1
    fi
done

dir=build-fuzz
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DFOCAL_FUZZ=ON \
    -DFOCAL_DNNL=OFF -DFOCAL_MULTI_ISA=OFF -DFOCAL_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$jobs" --target fuzz_all >/dev/null

# The memory bound every harness states; leaks count as crashes.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
root=$(pwd)
# The harnesses write each input to a file in $TMPDIR and read it back: in
# memory (/dev/shm) that is about four times the executions per second of a
# disk, where the file system's journal takes the time.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    TMPDIR=$(mktemp -d /dev/shm/focal-fuzz.XXXXXX)
    trap 'rm -rf "$TMPDIR"' EXIT
else
    mkdir -p "$dir/tmp"
    TMPDIR=$root/$dir/tmp
fi
export TMPDIR
failed=0
rows=()
for h in "${harnesses[@]}"; do
    corpus=$dir/corpus/$h
    crashes=$dir/crashes/$h
    log=$dir/logs/$h.log
    rm -rf "$corpus"
    mkdir -p "$corpus" "$crashes" "$dir/logs"
    cp tests/fuzz/corpus/"$h"/* "$corpus"/
    case $h in
    checkpoint | optim) d=tests/fuzz/safetensors.dict ;;
    *) d=tests/fuzz/$h.dict ;;
    esac
    dict=()
    [ -f "$d" ] && dict=(-dict="$d")
    set +e
    "$dir/tests/fuzz_$h" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$crashes/" >"$log" 2>&1
    rc=$?
    set -e
    # a crash while reading the seeds comes before any stats or coverage line
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
    cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -1 | cut -d' ' -f2)
    found=$(grep -c 'Test unit written to' "$log" || true)
    if [ $rc -ne 0 ] || [ $found -gt 0 ]; then
        failed=1
        [ $found -gt 0 ] || found="rc $rc"
        echo "fuzz.sh: $h crashed; log $log, input(s) in $crashes/" >&2
        grep -m1 -E 'ERROR|broken promise|runtime error' "$log" >&2 || true
    fi
    rows+=("$(printf '%-12s %12s %8s %8s' "$h" "${execs:-?}" "${cov:-?}" "$found")")
done
printf '%-12s %12s %8s %8s\n' harness executions cov crashes
printf '%s\n' "${rows[@]}"
exit $failed
