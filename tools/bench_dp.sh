#!/bin/bash
# bench_dp.sh — data-parallel training (`mpirun -np N focal train`) measured
# on this machine at 1 and 2 ranks of 1 thread each, and modelled past it.
#
#   tools/bench_dp.sh [DATA]     (run by hand; not part of the test suite)
#
# DATA defaults to RetinaMNIST ($FOCAL_SHARED_DATA/medmnist/retinamnist.npz,
# FOCAL_SHARED_DATA defaulting to ../shared/data beside the source tree), or
# a synthetic dataset made with `focal synth` when that file is missing.
# FOCAL_BIN names the program (default build/focal), EPOCHS the epochs of
# each run (default 2), BATCH the global batch (default 32), MODEL the network
# (default: focal's default for the data: resnet-mini for 28 px images).
#
# Measured: images/s of the training steps (validation excluded) at 1 and 2
# ranks, their ratio, and the share of the 2-rank step time spent in
# MPI_Allreduce (waiting for the other rank included), as `focal train`
# reports them under mpirun.
#
# Modelled: a step of N ranks costs its compute plus one ring allreduce of the
# gradient, without overlap (as focal does it):
#   compute(N) = b · s,  b the batch per rank, s the measured seconds per image
#                of one rank (1 thread);
#   allreduce(N) = 2(N − 1)/N · 4P / bandwidth + 2(N − 1) · latency,
#                P the parameters (4 bytes each);
#   efficiency = compute / (compute + allreduce).
# Latency assumed per message: 20 µs at 10 Gbit/s (Ethernet, TCP), 5 µs at
# 100 Gbit/s (InfiniBand/RoCE, RDMA). The table gives the efficiency with the
# global batch kept at BATCH (b = BATCH/N) and with BATCH per rank (global
# N·BATCH), and the batch per rank (and global) that 90 % efficiency needs.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
bin=${FOCAL_BIN:-$src/build/focal}
epochs=${EPOCHS:-2}
batch=${BATCH:-32}
shared=${FOCAL_SHARED_DATA:-$src/../shared/data}
data=${1:-$shared/medmnist/retinamnist.npz}
if [ ! -x "$bin" ]; then
    echo "bench_dp: $bin is not built (cmake --build build; FOCAL_BIN names another)" >&2
    exit 1
fi
if ! command -v mpirun >/dev/null 2>&1; then
    echo "bench_dp: mpirun not found (Debian: openmpi-bin)" >&2
    exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/focal-bench-dp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
if [ ! -e "$data" ]; then
    echo "bench_dp: $data not found; using 'focal synth' data (400 images of 64 px)"
    "$bin" synth --out "$tmp/synth" --n 400 --size 64 >/dev/null || exit 1
    data=$tmp/synth
fi
model=()
[ -n "${MODEL:-}" ] && model=(--model "$MODEL")

# train N: one run on N ranks of one thread; prints focal's "data parallel:" line
train() {
    mpirun --oversubscribe --bind-to none -np "$1" "$bin" train --data "$data" --threads 1 --epochs "$epochs" \
        --batch "$batch" --seed 1 "${model[@]}" --out "$tmp/r$1" >"$tmp/out$1" 2>"$tmp/err$1" || {
        echo "bench_dp: the $1-rank run failed:" >&2
        cat "$tmp/err$1" >&2
        exit 1
    }
    grep '^data parallel:' "$tmp/out$1"
}

echo "data: $data; batch $batch, $epochs epochs, 1 thread per rank; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
line1=$(train 1) || exit 1
line2=$(train 2) || exit 1
echo "$line1"
echo "$line2"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (a load above the cores slows the 2-rank run most)"

awk -v l1="$line1" -v l2="$line2" -v batch="$batch" '
function field(line, pat,   m) { return match(line, pat) ? substr(line, RSTART, RLENGTH) + 0 : -1 }
BEGIN {
    ips1 = field(l1, "[0-9.]+ img/s"); ips2 = field(l2, "[0-9.]+ img/s")
    share = field(l2, "[0-9.]+% of it")
    match(l2, /summing [0-9]+/); P = substr(l2, RSTART + 8, RLENGTH - 8) + 0
    if (ips1 <= 0 || ips2 <= 0 || P <= 0) { print "bench_dp: could not read the runs'"'"' lines" > "/dev/stderr"; exit 1 }
    printf "\n%-34s %12s\n", "measured (this machine)", "value"
    printf "%-34s %12.1f\n", "1 rank, img/s", ips1
    printf "%-34s %12.1f\n", "2 ranks, img/s", ips2
    printf "%-34s %11.2fx   (target >= 1.7x)\n", "speed-up on 2 ranks", ips2 / ips1
    printf "%-34s %11.1f%%\n", "2 ranks: step time in MPI_Allreduce", share
    printf "%-34s %12d\n", "parameters P", P
    printf "%-34s %9.2f MB\n", "allreduce volume per step (4P)", 4e-6 * P
    s = 1 / ips1
    printf "%-34s %9.2f ms\n", "compute per image, one rank", 1e3 * s
    printf "\nmodel: ring allreduce 2(N-1)/N * 4P / bandwidth + 2(N-1) * latency; no overlap with compute;\n"
    printf "latency 20 us at 10 Gbit/s, 5 us at 100 Gbit/s; compute per rank = (batch per rank) * %.2f ms\n\n", 1e3 * s
    printf "%6s %10s %13s %17s %17s %17s\n", "ranks", "network", "allreduce ms", "eff. batch " batch "/N", \
        "eff. " batch "/rank", "90%: per rank"
    split("8 64 512", ns, " "); split("10 100", gb, " ")
    for (i = 1; i <= 3; i++) for (j = 1; j <= 2; j++) {
        N = ns[i]; bw = gb[j] * 1e9 / 8; lat = gb[j] == 10 ? 20e-6 : 5e-6
        ar = 2 * (N - 1) / N * 4 * P / bw + 2 * (N - 1) * lat
        strong = (batch / N) * s; weak = batch * s
        need = 9 * ar / s
        printf "%6d %7d Gb/s %13.2f", N, gb[j], 1e3 * ar
        if (N <= batch) printf " %16.1f%%", 100 * strong / (strong + ar); else printf " %17s", "(< 1 per rank)"
        printf " %16.1f%% %8d (%6d)\n", 100 * weak / (weak + ar), int(need) + 1, N * (int(need) + 1)
    }
    printf "\n90%%: the batch per rank (global batch) at which compute is 9x the allreduce.\n"
}'
