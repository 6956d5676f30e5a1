#!/bin/bash
# bench_compare_mpi.sh — throughput of `focal compare` (finished runs per
# minute) on 1 rank x 1 thread and on 2 ranks x 1 thread (mpirun), in one run
# on this machine, and the ratio (ideal 2.00 on two free cores).
#
#     tools/bench_compare_mpi.sh [--focal PATH] [--n 1000] [--size 32]
#                                [--methods ce,focal,asl,cb] [--seeds 3] [--epochs 10]
#                                [--setsid]
#
# A script run by hand, never a test. The data is the quick start's synthetic
# fundus set (`focal synth --n N --size S`), the network examples/small-cnn.net;
# each configuration runs the same `focal compare ... --threads 1` into a fresh
# folder, timed from the command's start to its end (data loading, every run,
# the seed ensembles and the report included), first on one process, then under
# `mpirun --oversubscribe -np 2`. The single process and the two ranks give the
# same results (tests/mpi/compare_same.sh); only the wall time is compared.
# busy is the share of the ranks' wall time that went into runs (the rest:
# start-up, data loading, waiting for work, the ensembles and the report).
# Other load on the machine lowers the 2-rank ratio, since then the two ranks
# do not get two cores: the load average is printed above the table. Where
# the kernel groups processes by session for scheduling (autogroup, Linux's
# default on desktops and many servers), the ranks of one mpirun on a busy
# machine share a single session's CPU share, so two ranks get little more CPU
# than one process: --setsid starts every process (the single one too) in a
# session of its own, as separate cores or nodes would run them.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
focal=${FOCAL_BIN:-$src/build/focal}
n=1000 size=32 methods=ce,focal,asl,cb seeds=3 epochs=10 own=()
while [ $# -gt 0 ]; do
    case $1 in
    --focal) focal=$2; shift 2 ;;
    --n) n=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --methods) methods=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --setsid) own=(setsid); shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench_compare_mpi.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ -x "$focal" ] || { echo "bench_compare_mpi.sh: $focal is not built (cmake --build build)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "bench_compare_mpi.sh: mpirun is missing (scripts/deps.sh)" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/bench_compare_mpi.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
load=$(cut -d' ' -f1-3 /proc/loadavg)
"$focal" synth --out data --n "$n" --size "$size" --quiet >/dev/null
n_methods=$(echo "$methods" | tr ',' '\n' | grep -c .)
runs=$((n_methods * seeds))
args=(compare --data data --size "${size}x$size" --model "$src/examples/small-cnn.net" --methods "$methods"
      --seeds "$seeds" --epochs "$epochs" --threads 1)

# timed OUT CMD...: runs CMD, prints its wall seconds
timed() {
    local out=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    "$@" --out "$out" >"$out.log" 2>&1 || { echo "bench_compare_mpi.sh: $* failed:" >&2; cat "$out.log" >&2; exit 1; }
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
s1=$(timed one ${own[@]+"${own[@]}"} "$focal" "${args[@]}")
s2=$(timed two mpirun --oversubscribe -np 2 ${own[@]+"${own[@]}"} "$focal" "${args[@]}")
if ! diff <(grep -v ',seconds,' one/results.csv) <(grep -v ',seconds,' two/results.csv) >/dev/null; then
    echo "bench_compare_mpi.sh: the two configurations' results.csv differ" >&2
    exit 1
fi

echo "focal compare: $n_methods methods x $seeds seeds = $runs runs of small-cnn, $epochs epochs, on $n synthetic ${size}x$size images ($(nproc) cores${own[@]+, each process in its own session}; load average at the start: $load)"
# in_runs LOG: the seconds its runs' lines report, summed over the ranks
in_runs() {
    sed -nE 's/^\[[0-9]+\/[0-9]+\] .*\(([0-9.]+) s(, rank [0-9]+)?\)$/\1/p' "$1" | awk '{ s += $1 } END { print s }'
}
printf '%-26s %6s %10s %10s %8s %6s\n' configuration runs "wall s" runs/min ratio busy
awk -v n="$runs" -v s1="$s1" -v s2="$s2" -v b1="$(in_runs one.log)" -v b2="$(in_runs two.log)" 'BEGIN {
    printf "%-26s %6d %10.1f %10.2f %8.2f %5.0f%%\n", "1 rank x 1 thread", n, s1, n * 60 / s1, 1, 100 * b1 / s1
    printf "%-26s %6d %10.1f %10.2f %8.2f %5.0f%%\n", "2 ranks x 1 thread (MPI)", n, s2, n * 60 / s2, s1 / s2,
           100 * b2 / (2 * s2) }'
echo "same results.csv on both (all but the training seconds); busy: the share of the ranks' wall time spent in runs"
