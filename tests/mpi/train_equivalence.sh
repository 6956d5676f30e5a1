#!/bin/bash
# train_equivalence.sh — `mpirun -np N focal train`: N ranks with batch B/N
# each train as one process with batch B, within float32 rounding, over 20
# steps (per-step losses from --steps-csv and the saved weights): a network
# without batch norm on 2 ranks and on 3 (uneven shares of every batch, and an
# uneven last batch), and a network with batch norm under --sync-bn; per-rank
# batch norm (the default) differs; the same N reruns bit for bit.
NAME=train_equivalence
. "$(dirname "$0")/train_harness.sh"

printf 'flatten\ndense 16\nrelu\ndense 16\nrelu\ndense classes\n' > plain.txt
# biases before batch norm do not change its output; their gradient is
# rounding noise, which Adam would scale up to full steps
printf 'flatten\ndense 16 bias=0\nbatchnorm\nrelu\ndense 16 bias=0\nbatchnorm\nrelu\ndense classes\n' > bn.txt
common=(--data t.csv --epochs 2 --seed 5 --threads 1 --quiet)

# one process and N ranks: 240 training samples are 10 batches of 24 per
# epoch (2 ranks: 12 + 12); of 26, 9 batches and a last one of 6 (3 ranks:
# 8 + 9 + 9, then 2 + 2 + 2)
for setup in "2 24 plain" "3 26 plain" "3 26 bn --sync-bn" "2 24 bn --sync-bn"; do
    set -- $setup
    n=$1 b=$2 model=$3 sync=${4:-}
    tag="$n ranks, batch $b, $model${sync:+ $sync}"
    run train "${common[@]}" --model "$model.txt" --batch "$b" --out "one_$n$model" --steps-csv "one_$n$model.csv"
    expect "$tag: one process trains" test "$rc" -eq 0
    mpi "$n" train "${common[@]}" --model "$model.txt" --batch "$b" $sync --out "dp_$n$model" \
        --steps-csv "dp_$n$model.csv"
    expect "$tag: mpirun trains (rc $rc: $err)" test "$rc" -eq 0
    expect "$tag: 20 steps" test "$(wc -l < "dp_$n$model.csv")" -eq 21
    expect "$tag: the per-step losses equal one process's" close "dp_$n$model.csv" "one_$n$model.csv" 1e-6 1e-5
    weights "one_$n$model/last.safetensors" > w1
    weights "dp_$n$model/last.safetensors" > wn
    expect "$tag: the weights equal one process's" close wn w1 1e-5 1e-4
done

# per-rank batch norm: each rank normalises its own 12 samples
mpi 2 train "${common[@]}" --model bn.txt --batch 24 --out dp_local --steps-csv dp_local.csv
expect "per-rank batch norm trains" test "$rc" -eq 0
apart() { ! close "$@" 2>/dev/null; }
expect "per-rank batch norm differs from one process's" apart dp_local.csv one_2bn.csv 1e-6 1e-5

# the same N, seed and threads: the same bits (mlp has dropout)
for k in 1 2; do
    mpi 3 train --data t.csv --epochs 2 --seed 5 --threads 1 --quiet --batch 26 --out same$k --steps-csv same$k.csv
    expect "rerun $k trains" test "$rc" -eq 0
done
expect "reruns: the same per-step losses" cmp -s same1.csv same2.csv
expect "reruns: the same weights" cmp -s <(weights same1/last.safetensors) <(weights same2/last.safetensors)
expect "reruns: the same best model" cmp -s same1/model.safetensors same2/model.safetensors
expect "reruns: the same history" diff <(cut -d, -f1-10 same1/history.csv) <(cut -d, -f1-10 same2/history.csv)
finish
