#!/bin/bash
# cli_crash.sh — a run survives a crash at any point: `focal train` is killed
# (SIGKILL, through the FOCAL_CRASH_AFTER hook) after each of its file-system
# steps in turn — every fsync, rename and unlink of every commit — and the next
# `focal train --resume` must end with the files of an uninterrupted run. Then a
# disk that fills up (FOCAL_FAIL_WRITE_AFTER): the real errno text, nothing
# half-written, and a rerun after "freeing space" that finishes.
NAME=cli_crash
. "$(dirname "$0")/harness.sh"

awk 'BEGIN { s = 99
  for (i = 0; i < 120; i++) {
    for (j = 0; j < 4; j++) { s = (s * 1103515245 + 12345) % 2147483648; x[j] = s / 2147483648 * 4 - 2 }
    printf "%.4f,%.4f,%.4f,%.4f,%d\n", x[0], x[1], x[2], x[3], (x[0] + 0.5 * x[1] - x[2] * x[3] > 1) } }' > "$T/t.csv"
cd "$T" || exit 1
args=(train --data t.csv --epochs 2 --batch 32 --seed 3 --threads 1 --quiet)
strip() { cut -d, -f1-10 "$1"; }   # history without the seconds column

run "${args[@]}" --out ref
expect "the uninterrupted run succeeds" test "$rc" -eq 0

# same_run DIR: DIR holds the files of ref (history without its seconds).
same_run() {
    cmp -s ref/model.safetensors "$1/model.safetensors" && cmp -s ref/metrics.json "$1/metrics.json" &&
        cmp -s ref/scores.csv "$1/scores.csv" && diff -q <(strip ref/history.csv) <(strip "$1/history.csv") >/dev/null &&
        [ ! -e "$1/.commit" ] && ! ls -a "$1" | grep -q '\.tmp\.'
}

# crash_at K: kill the run at step K, resume it; one line of outcome in res/K.
crash_at() {
    local k=$1 d=c$1
    FOCAL_CRASH_AFTER=$k "$FOCAL_BIN" "${args[@]}" --out "$d" >/dev/null 2>"$d.err1"
    local rc1=$?
    if [ "$rc1" -eq 0 ]; then echo "finished" > "res/$k"; return; fi
    if [ "$rc1" -ne 137 ]; then echo "crash run exited $rc1: $(cat "$d.err1")" > "res/$k"; return; fi
    "$FOCAL_BIN" "${args[@]}" --out "$d" --resume >/dev/null 2>"$d.err2"
    local rc2=$?
    if [ "$rc2" -ne 0 ]; then echo "resume after a crash at step $k failed ($rc2): $(cat "$d.err2")" > "res/$k"
    elif same_run "$d"; then echo "ok" > "res/$k"
    else echo "resume after a crash at step $k differs from the uninterrupted run" > "res/$k"; fi
    rm -rf "$d" "$d.err1" "$d.err2"
}

mkdir res
k=1
finished=0
while [ "$finished" -eq 0 ] && [ "$k" -le 400 ]; do
    # (the killed runs' "Killed" notices go to /dev/null)
    for j in 0 1 2 3 4 5 6 7; do crash_at $((k + j)) 2>/dev/null & done
    wait
    for j in 0 1 2 3 4 5 6 7; do grep -q '^finished' "res/$((k + j))" && finished=1; done
    k=$((k + 8))
done
kills=0
for f in res/*; do
    r=$(cat "$f")
    case $r in
        ok) kills=$((kills + 1)) ;;
        finished) ;;
        *) bad "$r" ;;
    esac
done
expect "killed at each of the run's file-system steps and resumed ($kills crash points; a 2-epoch run has over 50)" \
    test "$kills" -ge 50
ok_all=1
for f in res/*; do r=$(cat "$f"); [ "$r" = ok ] || [ "$r" = finished ] || ok_all=0; done
expect "every crash point resumed to the uninterrupted run's model, metrics, scores and history" test "$ok_all" -eq 1

# --- the same for focal compare: killed at every step, then run again -------------------------------
cargs=(compare --data t.csv --methods ce --seeds 1 --epochs 1 --batch 32 --threads 1 --quiet)
run "${cargs[@]}" --out cref
expect "the uninterrupted compare succeeds" test "$rc" -eq 0
results() { grep -v ',seconds,' "$1/results.csv"; }
same_compare() {
    diff -q <(results cref) <(results "$1") >/dev/null &&
        cmp -s cref/runs/ce/seed0/model.safetensors "$1/runs/ce/seed0/model.safetensors" &&
        cmp -s cref/runs/ce/seed0/scores.csv "$1/runs/ce/seed0/scores.csv" && [ -s "$1/report.html" ]
}
compare_crash_at() {
    local k=$1 d=x$1
    FOCAL_CRASH_AFTER=$k "$FOCAL_BIN" "${cargs[@]}" --out "$d" >/dev/null 2>"$d.err1"
    local rc1=$?
    if [ "$rc1" -eq 0 ]; then echo "finished" > "cres/$k"; return; fi
    if [ "$rc1" -ne 137 ]; then echo "compare crash run exited $rc1: $(cat "$d.err1")" > "cres/$k"; return; fi
    "$FOCAL_BIN" "${cargs[@]}" --out "$d" >/dev/null 2>"$d.err2"
    local rc2=$?
    if [ "$rc2" -ne 0 ]; then echo "compare after a crash at step $k failed ($rc2): $(cat "$d.err2")" > "cres/$k"
    elif same_compare "$d"; then echo "ok" > "cres/$k"
    else echo "compare after a crash at step $k differs from the uninterrupted compare" > "cres/$k"; fi
    rm -rf "$d" "$d.err1" "$d.err2"
}
mkdir cres
k=1
finished=0
while [ "$finished" -eq 0 ] && [ "$k" -le 400 ]; do
    for j in 0 1 2 3 4 5 6 7; do compare_crash_at $((k + j)) 2>/dev/null & done
    wait
    for j in 0 1 2 3 4 5 6 7; do grep -q '^finished' "cres/$((k + j))" && finished=1; done
    k=$((k + 8))
done
kills=0
ok_all=1
for f in cres/*; do
    r=$(cat "$f")
    case $r in
        ok) kills=$((kills + 1)) ;;
        finished) ;;
        *) bad "$r"; ok_all=0 ;;
    esac
done
expect "compare killed at each step of its run and results ($kills crash points; over 40)" test "$kills" -ge 40
expect "every crashed compare, run again, ends with the uninterrupted compare's results" test "$ok_all" -eq 1

# a compare whose disk fills, run again after space is freed
for n in 2000 100000; do
    FOCAL_FAIL_WRITE_AFTER=$n "$FOCAL_BIN" "${cargs[@]}" --out cfull$n >"$T/stdout" 2>"$T/stderr"
    rc=$?
    expect "compare, disk full after $n bytes: exit 1 (got $rc)" test "$rc" -eq 1
    expect "compare, disk full after $n bytes: No space left on device ($(cat "$T/stderr"))" \
        grep -q "No space left on device" "$T/stderr"
    run "${cargs[@]}" --out "cfull$n"
    expect "compare, disk full after $n bytes: the rerun finishes ($err)" test "$rc" -eq 0
    expect "compare, disk full after $n bytes: ... with the uninterrupted compare's results" same_compare "cfull$n"
done

# --- a full disk ---------------------------------------------------------------------------------
# writes fail with ENOSPC after N bytes; the message gives the real cause, the
# folder keeps its last commit, and a rerun (space freed) finishes the run.
for n in 1000 60000 200000 299600; do
    FOCAL_FAIL_WRITE_AFTER=$n "$FOCAL_BIN" "${args[@]}" --out full$n >"$T/stdout" 2>"$T/stderr"
    rc=$?
    expect "disk full after $n bytes: exit 1 (got $rc)" test "$rc" -eq 1
    expect "disk full after $n bytes: the message says No space left on device ($(cat "$T/stderr"))" \
        grep -q "write failed: No space left on device" "$T/stderr"
    expect "disk full after $n bytes: no staging folder or temporary file left" \
        test ! -e "full$n/.commit" -a -z "$(ls -a "full$n" | grep '\.tmp\.')"
    run "${args[@]}" --out "full$n" --resume
    expect "disk full after $n bytes: the rerun finishes ($err)" test "$rc" -eq 0
    expect "disk full after $n bytes: ... with the uninterrupted run's files" same_run "full$n"
done
finish
