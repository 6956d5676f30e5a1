#!/bin/bash
# train_equivalence.sh — `mpirun -np N focal train`: N ranks with batch B/N
# each train as one process with batch B, within float32 rounding, over 20
# steps (per-step losses from --steps-csv and the saved weights): a network
# without batch norm on 2 ranks and on 3 (uneven shares of every batch, and an
# uneven last batch), a network with batch norm under --sync-bn, and images
# with augmentation; per-rank batch norm (the default) differs; the same N
# reruns bit for bit.
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

# images with augmentation: each sample is augmented as at its place in the
# whole batch, whichever rank takes it (3 ranks: 2 samples each)
run synth --out syn --n 80 --size 16
printf 'conv 4 3\nrelu\nmaxpool 2\nflatten\ndense classes\n' > conv.txt
aug=(--data syn --model conv.txt --epochs 2 --batch 6 --seed 2 --threads 1 --quiet
     --augment hflip,vflip,rotate=15,brightness=0.1)
run train "${aug[@]}" --out img1 --steps-csv img1.csv
expect "augmented images: one process trains" test "$rc" -eq 0
warned=$(grep -c 'warning:' "$T/stderr")
mpi 3 train "${aug[@]}" --out img3 --steps-csv img3.csv
expect "augmented images: 3 ranks train (rc $rc: $err)" test "$rc" -eq 0
expect "augmented images: the per-step losses equal one process's" close img3.csv img1.csv 1e-6 1e-5
weights img1/last.safetensors > w1
weights img3/last.safetensors > wn
expect "augmented images: the weights equal one process's" close wn w1 1e-5 1e-4
expect "augmented images: rank 0 alone warns ($warned warnings)" test "$(grep -c 'warning:' "$T/stderr")" -eq "$warned"

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
