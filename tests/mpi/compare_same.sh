#!/bin/bash
# compare_same.sh — `mpirun -np 2|3 focal compare` gives the single process's
# answer: the same table (all but the training-time column), the same
# results.csv (all but its training-time rows) and byte-identical runs, each
# run trained once, by the rank its line names.
NAME=compare_same
. "$(dirname "$0")/exp_harness.sh"
args=(--data s --size 16x16 --model "$net" --methods ce,focal,asl --seeds 2 --epochs 3 --threads 1)

succeeds 1 one.txt compare "${args[@]}" --out one
expect "one process: no rank in its lines" test "$(grep -c ', rank [0-9]' one.txt)" -eq 0
expect "one process: two tables of 3 methods" test "$(tables one.txt | grep -cE '^(ce|focal|asl) .* ± ')" -eq 6
expect "one process: its 6 runs" test "$(reported one.txt val | wc -l)" -eq 6

for np in 2 3; do
    succeeds "$np" "np$np.txt" compare "${args[@]}" --out "np$np"
    expect "-np $np: the same table as one process" diff <(tables one.txt) <(tables "np$np.txt")
    expect "-np $np: the same results.csv but for the training seconds" \
        diff <(without_seconds one/results.csv) <(without_seconds "np$np/results.csv")
    expect "-np $np: results.csv still has its training-time rows" grep -q ',seconds,' "np$np/results.csv"
    expect "-np $np: every run byte-identical to the single process's" same_runs one "np$np"
    expect "-np $np: each of the 6 runs reported exactly once" diff <(reported one.txt val) <(reported "np$np.txt" val)
    expect "-np $np: every run line names its rank" \
        test "$(grep -cE '^\[[0-9]/6\] .*, rank [0-9]+\)$' "np$np.txt")" -eq 6
    expect "-np $np: no run was trained twice (none found finished before)" \
        test "$(grep -c 'finished before' "np$np.txt")" -eq 0
    expect "-np $np: the ensembles come after all runs" \
        test "$(grep -n '^\[ensemble\]' "np$np.txt" | head -1 | cut -d: -f1)" -gt \
             "$(grep -n '^\[6/6\]' "np$np.txt" | cut -d: -f1)"
    expect "-np $np: one header, from rank 0" test "$(grep -c '^compare: 3 methods x 2 seeds' "np$np.txt")" -eq 1
    expect "-np $np: the report" test -s "np$np/report.html"
    expect "-np $np: the experiment folder's lock is released" test ! -e "np$np/.lock"
done
# rank 0 trains too, and the others get work
expect "-np 3: more than one rank trained" \
    test "$(grep -oE 'rank [0-9]+\)$' np3.txt | sort -u | wc -l)" -ge 2

# run again on 2 ranks: nothing is trained, the answer is the same
succeeds 2 again.txt compare "${args[@]}" --out np2
expect "again: all 6 runs finished before, skipped" test "$(grep -c 'finished before, skipped' again.txt)" -eq 6
expect "again: the same table" diff <(tables one.txt) <(tables again.txt)
finish
