#!/bin/bash
# compare_stage2.sh — two-stage methods under `mpirun -np 3 focal compare`:
# crt and tau-norm take ce's run of each seed as their stage 1, which another
# rank may still be training when they are handed out (they wait for its
# lock, and are handed out last); the answer is the single process's, and ce
# is trained once per seed.
NAME=compare_stage2
. "$(dirname "$0")/exp_harness.sh"
# tau-norm is for softmax heads: a three-class folder set made of s's images
mkdir -p mc/common mc/mid mc/rare
i=0
for f in s/*/*.png; do
    i=$((i + 1))
    case $((i % 10)) in 0) c=rare ;; 1 | 2 | 3) c=mid ;; *) c=common ;; esac
    cp "$f" "mc/$c/$i.png"
done
args=(--data mc --size 16x16 --model "$net" --methods crt,tau-norm,ce --seeds 2 --epochs 2 --threads 1)

succeeds 1 one.txt compare "${args[@]}" --out one
expect "one process: the table has ce, crt and tau-norm" \
    test "$(tables one.txt | grep -cE '^(ce|crt|tau-norm) .* ± ')" -eq 6
succeeds 3 np3.txt compare "${args[@]}" --out np3
expect "-np 3: the same table as one process" diff <(tables one.txt) <(tables np3.txt)
expect "-np 3: every run byte-identical to the single process's" same_runs one np3
expect "-np 3: ce's runs were trained once (no stage-1 folders of their own)" test ! -e np3/runs/crt/stage1
expect "-np 3: no run failed or was found busy" test -z "$(grep -E 'failed|in use' "$T/stderr")"
finish
