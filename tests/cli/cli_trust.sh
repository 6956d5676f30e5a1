#!/bin/bash
# cli_trust.sh — results that can be trusted: compare and tune keep a run only
# when everything that determines it (settings, epochs, data) is unchanged and
# say what changed otherwise; a run folder in use is locked (a second writer
# fails at once naming the holder's pid; a dead holder's lock is taken over);
# train refuses to replace a run without --resume or --overwrite.
NAME=cli_trust
. "$(dirname "$0")/harness.sh"

# table DATAFILE SEED ROWS: a learnable binary table
table() {
    awk -v s="$2" -v n="$3" 'BEGIN {
      for (i = 0; i < n; i++) {
        for (j = 0; j < 4; j++) { s = (s * 1103515245 + 12345) % 2147483648; x[j] = s / 2147483648 * 4 - 2 }
        printf "%.4f,%.4f,%.4f,%.4f,%d\n", x[0], x[1], x[2], x[3], (x[0] + 0.5 * x[1] - x[2] * x[3] > 1) } }' > "$1"
}
cd "$T" || exit 1
table t.csv 11 160
table other.csv 12 160
results() { grep -v ',seconds,' "$1/results.csv"; }   # without the training times
cmp_args=(compare --data t.csv --methods ce,focal --seeds 1 --batch 32 --threads 1)

# --- compare: a changed setting reruns, never reports the old runs -------------------------------
run "${cmp_args[@]}" --epochs 2 --out c1
expect "compare with 2 epochs succeeds" test "$rc" -eq 0
run "${cmp_args[@]}" --epochs 2 --out c1
expect "same settings: both runs skipped" test "$(grep -c 'finished before, skipped' "$T/stdout")" -eq 2
run "${cmp_args[@]}" --epochs 1 --out c1
expect "fewer epochs: compare succeeds" test "$rc" -eq 0
expect "fewer epochs: no run is skipped" test "$(grep -c 'finished before, skipped' "$T/stdout")" -eq 0
expect "fewer epochs: says what changed for each run" \
    test "$(grep -c 'settings changed since it ran: epochs 2 -> 1; rerunning' "$T/stdout")" -eq 2
run "${cmp_args[@]}" --epochs 1 --out fresh1
expect "... and the results equal a fresh compare with 1 epoch" diff <(results c1) <(results fresh1)
run "${cmp_args[@]}" --epochs 1 --gamma 0.5 --out c1
expect "another gamma: focal reruns, saying so" grep -q 'runs/focal/seed0: settings changed since it ran: loss.gamma 2 -> 0.5; rerunning' "$T/stdout"
expect "another gamma: ce (which has no gamma) is kept" test "$(grep -c 'finished before, skipped' "$T/stdout")" -eq 1
run "${cmp_args[@]}" --epochs 1 --gamma 0.5 --out fresh2
expect "... and the results equal a fresh compare with gamma 0.5" diff <(results c1) <(results fresh2)
# other data under the same file name
cp t.csv t.keep
cp other.csv t.csv
run "${cmp_args[@]}" --epochs 1 --gamma 0.5 --out c1
expect "other data: both runs rerun, naming the data" \
    test "$(grep -c 'settings changed since it ran: data\.hash' "$T/stdout")" -eq 2
run "${cmp_args[@]}" --epochs 1 --gamma 0.5 --out fresh3
expect "... and the results are the new data's" diff <(results c1) <(results fresh3)
expect "... not the old data's" test -n "$(diff <(results c1) <(results fresh2))"
cp t.keep t.csv
# --overwrite reruns everything
run "${cmp_args[@]}" --epochs 1 --gamma 0.5 --out c1 --overwrite
expect "compare --overwrite reruns every run" test "$(grep -c 'overwriting the run it held' "$T/stdout")" -eq 2
expect "run.json records the settings and their fingerprint" \
    grep -q '"fingerprint":' c1/runs/ce/seed0/run.json

# --- tune: the same rule for every fold run and the final run -------------------------------------
tune_args=(tune --data t.csv --gamma 0,2 --alpha 0.25 --folds 2 --batch 32 --threads 1)
run "${tune_args[@]}" --epochs 1 --out u1
expect "tune succeeds" test "$rc" -eq 0
run "${tune_args[@]}" --epochs 2 --out u1
expect "tune with more epochs reruns all 5 runs, saying why" \
    test "$(grep -c 'settings changed since it ran: epochs 1 -> 2; rerunning' "$T/stdout")" -eq 5
run "${tune_args[@]}" --epochs 2 --out u2
expect "... and its table equals a fresh tune's" diff <(grep -v seconds u1/results.csv) <(grep -v seconds u2/results.csv)

# --- overwrite by slip ------------------------------------------------------------------------------
tr_args=(train --data t.csv --epochs 1 --batch 32 --threads 1 --quiet)
run "${tr_args[@]}" --out r1
cp r1/model.safetensors model.keep
fails "train onto a folder holding a run is refused" 2 "r1: holds a run already (run.json)" \
    "${tr_args[@]}" --seed 9 --out r1
expect "... naming --resume and --overwrite" grep -q -- "--resume continues it, --overwrite replaces it" "$T/stderr"
expect "... and the run is untouched" cmp -s model.keep r1/model.safetensors
fails "--resume and --overwrite together" 2 "give one of them" "${tr_args[@]}" --out r1 --resume --overwrite
run train --data t.csv --epochs 1 --batch 32 --threads 1 --seed 9 --out r1 --overwrite
expect "--overwrite replaces it (rc $rc, $err)" test "$rc" -eq 0
expect "... saying so" grep -q "r1: overwriting the run it held" "$T/stdout"
expect "... with the new run" grep -q '"seed":[[:space:]]*"9"' r1/run.json
expect "the lock is gone when the run ends" test ! -e r1/.lock
expect "train --help documents --overwrite" sh -c "'$FOCAL_BIN' train --help | grep -q -- '--overwrite'"

# --- two writers, one folder -------------------------------------------------------------------------
table big.csv 7 20000
# wait_lock DIR PID: DIR/.lock names PID (at most 10 s)
wait_lock() {
    for _ in $(seq 1 200); do
        [ "$(cat "$1/.lock" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
"$FOCAL_BIN" train --data big.csv --epochs 40 --batch 16 --threads 1 --out k --quiet 2>/dev/null &
pid=$!
expect "the first writer holds k/.lock with its pid" wait_lock k "$pid"
t0=$(date +%s)
fails "a second writer fails at once, naming the folder and the holder" 1 "k: in use by another focal process (pid $pid)" \
    train --data big.csv --epochs 40 --batch 16 --threads 1 --out k --quiet --resume
fails "... also with --overwrite" 1 "k: in use by another focal process (pid $pid)" \
    train --data big.csv --epochs 40 --batch 16 --threads 1 --out k --quiet --overwrite
expect "... within seconds" test $(($(date +%s) - t0)) -lt 10
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
expect "the killed writer left its lock file" test -e k/.lock
run train --data big.csv --epochs 1 --batch 16 --threads 1 --out k --quiet --resume
expect "a dead writer's lock is taken over ($err)" test "$rc" -eq 0
expect "... and released at the end" test ! -e k/.lock

# two writers started together: exactly one runs, the other is refused
"$FOCAL_BIN" train --data t.csv --epochs 3 --batch 16 --threads 1 --out both --quiet 2>both1.err &
p1=$!
"$FOCAL_BIN" train --data t.csv --epochs 3 --batch 16 --threads 1 --out both --quiet 2>both2.err &
p2=$!
wait "$p1"; r1=$?
wait "$p2"; r2=$?
expect "two writers at once: one succeeds, one fails (exit $r1 and $r2)" test $((r1 + r2)) -eq 1 -o $((r1 + r2)) -eq 2
expect "... and the one that failed says why" sh -c "cat both1.err both2.err | grep -q 'in use by another focal process\|holds a run already'"
expect "... not both succeed" test "$r1" -ne 0 -o "$r2" -ne 0

# an experiment folder is locked too
"$FOCAL_BIN" compare --data big.csv --methods ce --seeds 1 --epochs 40 --batch 16 --threads 1 --out e1 --quiet 2>/dev/null &
pid=$!
expect "compare holds e1/.lock" wait_lock e1 "$pid"
fails "a second compare on the same folder fails, naming the holder" 1 "e1: in use by another focal process (pid $pid)" \
    compare --data big.csv --methods ce --seeds 1 --epochs 40 --batch 16 --threads 1 --out e1 --quiet
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
finish
