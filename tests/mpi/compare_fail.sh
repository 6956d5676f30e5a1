#!/bin/bash
# compare_fail.sh — a run that fails on one rank of a 3-rank `focal compare`
# (here: its run folder is locked by another process, as a second writer of
# the same folder would find it) is named with its rank, the other runs finish,
# the command exits non-zero and writes no results; run again once the folder
# is free, it redoes only that run and gives the single process's answer.
NAME=compare_fail
. "$(dirname "$0")/exp_harness.sh"
args=(--data s --size 16x16 --model "$net" --methods ce,focal,asl --seeds 2 --epochs 3 --threads 1)

succeeds 1 ref.txt compare "${args[@]}" --out ref

# this shell holds the lock of focal/seed1's run folder (flock, as focal does)
mkdir -p cmp/runs/focal/seed1
exec 9>cmp/runs/focal/seed1/.lock
flock -n 9
mpi 3 compare "${args[@]}" --out cmp
expect "the failed run makes the command fail (rc $rc)" test "$rc" -ne 0
expect "the library says the folder is in use" grep -q "cmp/runs/focal/seed1: in use by another focal process" "$T/stderr"
expect "the failed run is named, with its rank" \
    grep -qE "^focal: compare: method focal, seed 1 failed, rank [0-2]; the other runs go on" "$T/stderr"
expect "the failures are counted" grep -q "compare: 1 of 6 runs failed (named above), the others finished" "$T/stderr"
expect "the five other runs finished" test "$(find cmp/runs -name metrics.json | wc -l)" -eq 5
expect "... and were reported" test "$(grep -cE '^\[[0-9]/6\] ' "$T/stdout")" -eq 5
expect "no results of an incomplete comparison" test ! -e cmp/results.csv -a ! -e cmp/report.html
expect "the locked folder was not written" test -z "$(ls cmp/runs/focal/seed1)"
exec 9>&-

succeeds 3 again.txt compare "${args[@]}" --out cmp
expect "run again: the five finished runs are skipped" test "$(grep -c 'finished before, skipped' again.txt)" -eq 5
expect "run again: focal seed 1 is trained" grep -qE '^\[[0-9]/6\] focal +seed 1  val mAP [0-9.]+  \(' again.txt
expect "run again: results.csv is the single process's but for the training seconds" \
    diff <(without_seconds ref/results.csv) <(without_seconds cmp/results.csv)
expect "run again: every run byte-identical to the single process's" same_runs ref cmp
finish
