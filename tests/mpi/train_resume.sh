#!/bin/bash
# train_resume.sh — `mpirun -np N focal train` and its run folder: --resume
# under mpirun continues to the same result as an uninterrupted run (dropout
# included), a resume with another rank count or --sync-bn is refused naming
# it, rank 0 alone writes, and what cannot be split fails cleanly.
NAME=train_resume
. "$(dirname "$0")/train_harness.sh"
# a constant rate: the default cosine spans the run, whose length --epochs changes
common=(--data "$T/t.csv" --seed 7 --threads 1 --quiet --batch 20 --schedule constant)
strip() { cut -d, -f1-10 "$1"; }   # history without the seconds column

# mlp has dropout: its masks are drawn per rank and epoch
mpi 2 train "${common[@]}" --epochs 3 --out full
expect "uninterrupted run (rc $rc: $err)" test "$rc" -eq 0
mpi 2 train "${common[@]}" --epochs 1 --out part
expect "first epoch" test "$rc" -eq 0
mpi 2 train "${common[@]}" --epochs 3 --out part --resume
expect "resume under mpirun (rc $rc: $err)" test "$rc" -eq 0
expect "resumed history equals the uninterrupted one" diff <(strip full/history.csv) <(strip part/history.csv)
expect "resumed best model equals the uninterrupted one" cmp -s full/model.safetensors part/model.safetensors
expect "resumed metrics equal the uninterrupted ones" cmp -s full/metrics.json part/metrics.json
expect "run.json records the rank count" grep -q '"ranks":[[:space:]]*2' full/run.json

# the weight average (--ema) is rank 0's to keep and resume, like the rest
mpi 2 train "${common[@]}" --ema 0.9 --epochs 2 --out ema_full
expect "--ema under mpirun (rc $rc: $err)" test "$rc" -eq 0
mpi 2 train "${common[@]}" --ema 0.9 --epochs 1 --out ema_part
mpi 2 train "${common[@]}" --ema 0.9 --epochs 2 --out ema_part --resume
expect "--ema: the resumed best model equals the uninterrupted one" \
    cmp -s ema_full/model.safetensors ema_part/model.safetensors

mpi 3 train "${common[@]}" --epochs 4 --out part --resume
expect "resume with 3 ranks of a 2-rank run fails" test "$rc" -ne 0
expect "... naming the rank count" grep -q 'data_parallel.ranks 2 -> 3' "$T/stderr"
run train "${common[@]}" --epochs 4 --out part --resume
expect "resume without mpirun of a 2-rank run fails" test "$rc" -eq 2
expect "... naming data_parallel" grep -q 'data_parallel' "$T/stderr"
mpi 2 train "${common[@]}" --epochs 4 --out part --resume --sync-bn
expect "resume with --sync-bn of a run without it fails" test "$rc" -ne 0
expect "... naming sync_bn" grep -q 'data_parallel.sync_bn false -> true' "$T/stderr"
expect "the refused resumes left the run as it was" diff <(strip full/history.csv) <(strip part/history.csv)

# rank 0 alone writes: rank 1 runs in another folder with the same relative paths
mkdir a b
mpirun --oversubscribe -np 1 --wdir "$T/a" "$FOCAL_BIN" train "${common[@]}" --epochs 1 --out r --steps-csv s.csv : \
    -np 1 --wdir "$T/b" "$FOCAL_BIN" train "${common[@]}" --epochs 1 --out r --steps-csv s.csv \
    >"$T/stdout" 2>"$T/stderr"
expect "two ranks in two folders train (rc $?)" test -s a/r/model.safetensors
expect "rank 0 wrote the steps" test -s a/s.csv
expect "rank 1 wrote nothing" test -z "$(ls -A b)"

# what cannot be split
mpi 3 train "${common[@]}" --batch 5 --epochs 1 --out small
expect "a batch of fewer than 2 per rank fails with usage status" test "$rc" -ne 0
expect "... saying what batch would do" grep -q 'batch >= 6' "$T/stderr"
expect "... and writes nothing" test ! -e small/run.json
mpi 2 train "${common[@]}" --epochs 1 --mixup 0.2 --out mixed
expect "mixup under mpirun is refused" grep -q 'mixup trains on one process' "$T/stderr"
expect "... and writes nothing" test ! -e mixed/run.json
mpi 2 train "${common[@]}" --epochs 1 --seeds 2 --out seeds
expect "--seeds under mpirun is refused" grep -q -- '--seeds trains one run after another' "$T/stderr"
run train --data "$T/t.csv" --seed 7 --threads 1 --batch 20 --epochs 1 --sync-bn --out single
expect "--sync-bn without mpirun trains" test "$rc" -eq 0
expect "... with a warning" grep -q -- '--sync-bn synchronises batch norm over the ranks' "$T/stderr"
run train --help
expect "train --help documents --sync-bn" grep -qF -- "--sync-bn" "$T/stdout"
expect "train --help documents mpirun" grep -qF -- "mpirun -np N focal train" "$T/stdout"
finish
