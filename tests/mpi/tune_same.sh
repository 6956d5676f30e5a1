#!/bin/bash
# tune_same.sh — `mpirun -np 2|3 focal tune` gives the single process's
# answer: the same gamma x alpha table, the same best setting and its test
# numbers, the same results.csv and byte-identical runs, each fold run once.
NAME=tune_same
. "$(dirname "$0")/exp_harness.sh"
args=(--data s --size 16x16 --model "$net" --gamma 0,2 --alpha 0.25,0.5 --folds 2 --epochs 3 --threads 1)

# the table and the retrained best, less the training time and the folder
summary() {
    sed -n '/^validation/,$p' "$1" | grep -v '^wrote\|training took'
}

succeeds 1 one.txt tune "${args[@]}" --out one
expect "one process: the table and the best setting" grep -q '^best: gamma [02], alpha 0\.[25]' one.txt
expect "one process: its 8 fold runs" test "$(reported one.txt mAP | wc -l)" -eq 8

for np in 2 3; do
    succeeds "$np" "np$np.txt" tune "${args[@]}" --out "np$np"
    expect "-np $np: the same table, best setting and test numbers" diff <(summary one.txt) <(summary "np$np.txt")
    expect "-np $np: the same results.csv" cmp one/results.csv "np$np/results.csv"
    expect "-np $np: every run byte-identical to the single process's" same_runs one "np$np"
    expect "-np $np: each fold run reported exactly once" diff <(reported one.txt mAP) <(reported "np$np.txt" mAP)
    expect "-np $np: every fold line names its rank" \
        test "$(grep -cE '^\[[0-9]/9\] .*, rank [0-9]+\)$' "np$np.txt")" -eq 8
    expect "-np $np: the report" test -s "np$np/report.html"
done
finish
