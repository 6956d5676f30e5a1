#!/bin/bash
# bench_compare_mpi.sh — throughput of `focal compare` (finished runs per
# minute) on 1 rank x 1 thread and on 2 ranks x 1 thread (mpirun), in one run
# on this machine, and the ratio (ideal 2.00 on two free cores), beside the
# ratio the machine itself allows two processes.
#
#     tools/bench_compare_mpi.sh [--focal PATH] [--n 1000] [--size 32]
#                                [--methods ce,focal,asl,cb] [--seeds 3] [--epochs 30]
#                                [--reps 3] [--setsid]
#
# A script run by hand, never a test. The data is the quick start's synthetic
# fundus set (`focal synth --n N --size S`), the network examples/small-cnn.net;
# each configuration runs the same `focal compare ... --threads 1` into a fresh
# folder, timed from the command's start to its end (data loading, every run,
# the seed ensembles and the report included):
#   1 rank    one process;
#   2 ranks   `mpirun --oversubscribe -np 2`;
#   2 alone   two independent single processes of the same command at once,
#             each into its own folder: twice the work, no MPI. 2 x (1 rank) /
#             (2 alone) is the throughput two cores give two processes that
#             share nothing but the machine (its caches and memory): the
#             ceiling for the 2-rank ratio, below 2 where the runs' working
#             sets contend for the shared cache.
# The three are interleaved, --reps times; each ratio is taken within one
# repetition and the table shows medians (and the range of the 2-rank ratio),
# since the machine's speed drifts between minutes. The single process and the
# two ranks give the same results (checked here on the first repetition, and
# by tests/mpi/compare_same.sh); only the wall time is compared.
# busy is the share of the ranks' wall time that went into runs (the rest:
# start-up, data loading, waiting for work, the ensembles and the report).
# Other load on the machine lowers the ratios, since then the processes do
# not get two cores: the load average is printed above the table. Where the
# kernel groups processes by session for scheduling (autogroup, Linux's
# default on desktops and many servers), the ranks of one mpirun on a busy
# machine share a single session's CPU share, so two ranks get little more CPU
# than one process: --setsid starts every process in a session of its own, as
# separate cores or nodes would run them.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
focal=${FOCAL_BIN:-$src/build/focal}
n=1000 size=32 methods=ce,focal,asl,cb seeds=3 epochs=30 reps=3 own=()
while [ $# -gt 0 ]; do
    case $1 in
    --focal) focal=$2; shift 2 ;;
    --n) n=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --methods) methods=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
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
# lone_pair --out OUT: two single processes of the command at once, into
# OUTa and OUTb (timed as one command: until both have ended)
lone_pair() {
    local a b
    ${own[@]+"${own[@]}"} "$focal" "${args[@]}" --out "$2a" >"$2a.log" 2>&1 &
    a=$!
    ${own[@]+"${own[@]}"} "$focal" "${args[@]}" --out "$2b" >"$2b.log" 2>&1 &
    b=$!
    wait "$a" && wait "$b" || { cat "$2a.log" "$2b.log"; return 1; }
}
# in_runs LOG: the seconds its runs' lines report, summed over the ranks
in_runs() {
    sed -nE 's/^\[[0-9]+\/[0-9]+\] .*\(([0-9.]+) s(, rank [0-9]+)?\)$/\1/p' "$1" | awk '{ s += $1 } END { print s }'
}
rows=()
for ((r = 1; r <= reps; r++)); do
    s1=$(timed one$r ${own[@]+"${own[@]}"} "$focal" "${args[@]}")
    s2=$(timed two$r mpirun --oversubscribe -np 2 ${own[@]+"${own[@]}"} "$focal" "${args[@]}")
    sp=$(timed pair$r lone_pair)
    if [ "$r" = 1 ] && ! diff <(grep -v ',seconds,' one1/results.csv) <(grep -v ',seconds,' two1/results.csv) >/dev/null; then
        echo "bench_compare_mpi.sh: the two configurations' results.csv differ" >&2
        exit 1
    fi
    rows+=("$s1 $s2 $sp $(in_runs one$r.log) $(in_runs two$r.log)")
    rm -rf one$r two$r pair$r"a" pair$r"b"
done

echo "focal compare: $n_methods methods x $seeds seeds = $runs runs of small-cnn, $epochs epochs, on $n synthetic ${size}x$size images ($(nproc) cores${own[@]+, each process in its own session}; load average at the start: $load)"
printf '%s\n' "${rows[@]}" | awk -v n="$runs" '
function median(a, k,   i, j, t) {   # sorts a[1..k] in place
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ k++; s1[k] = $1; s2[k] = $2; sp[k] = $3; r2[k] = $1 / $2; rp[k] = 2 * $1 / $3; of[k] = ($1 / $2) / (2 * $1 / $3)
  b1[k] = 100 * $4 / $1; b2[k] = 100 * $5 / (2 * $2) }
END {
    m1 = median(s1, k); m2 = median(s2, k); mp = median(sp, k); lo = r2[1]; hi = r2[1]
    for (i = 2; i <= k; i++) { if (r2[i] < lo) lo = r2[i]; if (r2[i] > hi) hi = r2[i] }
    mr2 = median(r2, k); mrp = median(rp, k); mof = median(of, k); mb1 = median(b1, k); mb2 = median(b2, k)
    printf "%-34s %6s %10s %10s %8s %6s\n", "configuration", "runs", "wall s", "runs/min", "ratio", "busy"
    printf "%-34s %6d %10.1f %10.2f %8.2f %5.0f%%\n", "1 rank x 1 thread", n, m1, n * 60 / m1, 1, mb1
    printf "%-34s %6d %10.1f %10.2f %8.2f %5.0f%%\n", "2 ranks x 1 thread (MPI)", n, m2, n * 60 / m2, mr2, mb2
    printf "%-34s %6d %10.1f %10.2f %8.2f %6s\n", "2 lone processes (machine ceiling)", 2 * n, mp, 2 * n * 60 / mp, mrp, ""
    printf "medians of %d interleaved repetitions; 2-rank ratio %.2f-%.2f, %.0f%% of the ceiling measured beside it\n",
           k, lo, hi, 100 * mof
}'
echo "same results.csv on 1 and 2 ranks (all but the training seconds); busy: the share of the ranks' wall time spent in runs"
