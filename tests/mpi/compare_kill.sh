#!/bin/bash
# compare_kill.sh — one rank of a 2-rank `focal compare` is killed (SIGKILL)
# while it trains, first a worker (rank 1), then the rank that hands out the
# runs (rank 0): the launcher ends the job; the same command run again redoes
# only what is missing (the killed run resumes from its last epoch) and ends
# with the results of an uninterrupted single process.
NAME=compare_kill
. "$(dirname "$0")/exp_harness.sh"
args=(--data s --size 16x16 --model "$net" --methods ce,focal --seeds 3 --epochs 12 --threads 1)

succeeds 1 ref.txt compare "${args[@]}" --out ref

# rank_of PID: the MPI rank of a running process, or nothing
rank_of() {
    tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p'
}

# a worker (rank 1), then the rank that hands out the runs (rank 0)
for r in 1 0; do
    mpirun --oversubscribe -np 2 "$FOCAL_BIN" compare "${args[@]}" --out k$r >killed$r.txt 2>&1 &
    job=$!
    victim=""
    for _ in $(seq 600); do   # up to a minute: rank $r training, after at least one epoch of its run
        for lock in k$r/runs/*/seed*/.lock; do
            [ -e "$lock" ] || continue
            pid=$(cat "$lock" 2>/dev/null)
            if [ -n "$pid" ] && [ "$(rank_of "$pid")" = "$r" ] && [ -s "$(dirname "$lock")/history.csv" ] &&
                ls k$r/runs/*/seed*/metrics.json >/dev/null 2>&1; then
                victim=$pid
                kill -KILL "$pid"
                break 2
            fi
        done
        sleep 0.1
    done
    wait "$job"
    rc=$?
    expect "kill rank $r: it was caught training, and killed" test -n "$victim"
    expect "kill rank $r: the killed job exits non-zero (rc $rc)" test "$rc" -ne 0
    expect "kill rank $r: the launcher says which rank died, and of what" grep -qE "rank $r .*(signal 9|Killed)" killed$r.txt
    # finished: metrics.json committed, or in a commit the kill caught after its
    # manifest (the commit point), which the next run completes before anything else
    finished=$( (cd k$r && find runs -path '*/seed*/metrics.json' -not -path '*/.commit/*' | sed 's|/metrics.json||'
                 cd k$r && for m in runs/*/seed*/.commit/MANIFEST; do
                     [ -e "$m" ] && grep -q metrics.json "$m" && dirname "$(dirname "$m")"
                 done) | sort -u)
    expect "kill rank $r: some runs had finished" test -n "$finished"
    expect "kill rank $r: some had not" test "$(echo "$finished" | wc -l)" -lt 6
    expect "kill rank $r: no results from the killed job" test ! -e k$r/results.csv

    succeeds 2 again$r.txt compare "${args[@]}" --out k$r
    skipped=$(grep 'finished before, skipped' again$r.txt | sed -E 's/^\[[0-9]+\/[0-9]+\] +//; s/ +seed /\/seed/; s/ .*//; s|^|runs/|' | sort)
    expect "kill rank $r: run again: exactly the runs finished before are skipped" test "$skipped" = "$finished"
    expect "kill rank $r: run again: every run is reported" test "$(grep -c '^\[[0-9]/6\]' again$r.txt)" -eq 6
    expect "kill rank $r: run again: results.csv is the uninterrupted run's but for the training seconds" \
        diff <(without_seconds ref/results.csv) <(without_seconds k$r/results.csv)
    expect "kill rank $r: run again: every run byte-identical to the uninterrupted run's" same_runs ref k$r
    expect "kill rank $r: run again: no lock left behind" test -z "$(find k$r -name .lock)"
done
finish
