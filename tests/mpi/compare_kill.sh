#!/bin/bash
# compare_kill.sh — one rank of a 2-rank `focal compare` is killed (SIGKILL)
# while it trains: the launcher ends the job; the same command run again
# redoes only what is missing (the killed run resumes from its last epoch)
# and ends with the results of an uninterrupted single process.
NAME=compare_kill
. "$(dirname "$0")/exp_harness.sh"
args=(--data s --size 16x16 --model "$net" --methods ce,focal --seeds 3 --epochs 20 --threads 1)

succeeds 1 ref.txt compare "${args[@]}" --out ref

# rank_of PID: the MPI rank of a running process, or nothing
rank_of() {
    tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p'
}

mpirun --oversubscribe -np 2 "$FOCAL_BIN" compare "${args[@]}" --out cmp >killed.txt 2>&1 &
job=$!
victim=""
for _ in $(seq 600); do   # up to a minute: rank 1 training, after at least one epoch of its run
    for lock in cmp/runs/*/seed*/.lock; do
        [ -e "$lock" ] || continue
        pid=$(cat "$lock" 2>/dev/null)
        if [ -n "$pid" ] && [ "$(rank_of "$pid")" = 1 ] && [ -s "$(dirname "$lock")/history.csv" ] &&
            ls cmp/runs/*/seed*/metrics.json >/dev/null 2>&1; then
            victim=$pid
            kill -KILL "$pid"
            break 2
        fi
    done
    sleep 0.1
done
wait "$job"
rc=$?
expect "rank 1 was caught training (and killed)" test -n "$victim"
expect "the killed job exits non-zero (rc $rc)" test "$rc" -ne 0
expect "the launcher says which rank died, and of what" grep -qE "rank 1 .*(signal 9|Killed)" killed.txt
finished=$(cd cmp && find runs -name metrics.json | sed 's|/metrics.json||' | sort)
expect "some runs had finished" test -n "$finished"
expect "some had not" test "$(echo "$finished" | wc -l)" -lt 6
expect "no results from the killed job" test ! -e cmp/results.csv

succeeds 2 again.txt compare "${args[@]}" --out cmp
skipped=$(grep 'finished before, skipped' again.txt | sed -E 's/^\[[0-9]+\/[0-9]+\] +//; s/ +seed /\/seed/; s/ .*//; s|^|runs/|' | sort)
expect "run again: exactly the runs finished before are skipped" test "$skipped" = "$finished"
expect "run again: every run is reported" test "$(grep -c '^\[[0-9]/6\]' again.txt)" -eq 6
expect "run again: results.csv is the uninterrupted run's but for the training seconds" \
    diff <(without_seconds ref/results.csv) <(without_seconds cmp/results.csv)
expect "run again: every run byte-identical to the uninterrupted run's" same_runs ref cmp
expect "run again: no lock left behind" test -z "$(find cmp -name .lock)"
finish
