#!/bin/bash
# cli_hostile.sh — inputs that must be refused up front with a message that
# helps: a network larger than memory or --max-memory, a semicolon-separated
# table, a dataset of one class, a cache folder that cannot be made; the
# --on-bad-image skip hint only where skipping helps; thousands of skipped
# images summarised (all of them with --skipped-list).
NAME=cli_hostile
. "$(dirname "$0")/harness.sh"
cd "$T" || exit 1
IMG="$FOCAL_SOURCE_DIR/tests/fixtures/images/rgb8.png"

lacks() { ! grep -qF -- "$1" "$T/stderr"; }

awk 'BEGIN { for (i = 0; i < 60; i++) printf "%d,%d,%d\n", i % 7, i % 3, i % 2 }' > t.csv

# --- memory -----------------------------------------------------------------------------
printf 'flatten\ndense 16777216\ndense 16777216\ndense classes\n' > huge.net
fails "a network beyond any machine's memory is refused" 2 "the limit is" \
    train --data t.csv --model huge.net --epochs 1 --out r1 --quiet
expect "... saying what it needs" grep -qE "huge.net: the network needs [0-9.]+ GiB for batch 32" "$T/stderr"
expect "... and where the limit comes from" grep -qF "physical memory; set another with --max-memory" "$T/stderr"
expect "... before writing a model" test ! -e r1/model.safetensors
fails "--max-memory below what mlp needs" 2 "the limit is 1.0 KiB (the memory limit set)" \
    train --data t.csv --max-memory 1K --epochs 1 --out r2 --quiet
fails "--max-memory that is not a size" 2 "--max-memory: '4X' is not a memory size" \
    train --data t.csv --max-memory 4X --out r3
run train --data t.csv --max-memory 1G --epochs 1 --quiet --out r4
expect "--max-memory 1G trains mlp" test "$rc" -eq 0 -a -s r4/model.safetensors
run train --help
expect "train --help documents --max-memory" grep -qF -- "--max-memory SIZE" "$T/stdout"
expect "train --help documents --skipped-list" grep -qF -- "--skipped-list FILE" "$T/stdout"

# --- tables ----------------------------------------------------------------------------
printf 'a;b;label\n1;2;0\n3;4;1\n5;6;0\n' > semi.csv
fails "a semicolon-separated table" 1 "semi.csv:1: one column, whose first line is separated by semicolons; fields must be comma-separated" \
    train --data semi.csv --out r5

# --- image data --------------------------------------------------------------------------
mkdir -p one/only
for i in 1 2 3 4 5 6; do cp "$IMG" one/only/$i.png; done
fails "a dataset of one class" 1 "one: every one of its 6 samples is of the one class 'only'" \
    train --data one --cache none --out r6
expect "... before a run folder is written" test ! -e r6

mkdir -p two/a two/b
for i in $(seq 1 12); do cp "$IMG" two/a/$i.png; cp "$IMG" two/b/$i.png; done
fails "a cache folder that cannot be made names --cache none" 1 "decode without a cache with --cache none" \
    train --data two --cache /dev/null/cache --out r7 --quiet
expect "... without the skip hint" lacks "--on-bad-image skip"
FOCAL_TEST_DECODE_NOMEM=3 run train --data two --cache none --out r8 --quiet
expect "an image out of memory fails the load" test "$rc" -eq 1
expect "... without the skip hint" lacks "--on-bad-image skip"
for i in $(seq 1 8); do printf 'not a png' > two/b/bad$i.png; done
fails "a bad image gives the skip hint" 1 "(--on-bad-image skip leaves such images out)" \
    train --data two --cache none --out r9 --quiet
run train --data two --cache cache --on-bad-image skip --epochs 1 --quiet --out r10
expect "skip trains" test "$rc" -eq 0
expect "skip shows the first 5" test "$(grep -c '^focal: warning: skipped ' "$T/stderr")" -eq 5
expect "... then the count and how to list them all" \
    grep -qF "... and 3 more; 8 images skipped (--on-bad-image skip; --skipped-list FILE lists them all)" "$T/stderr"
run train --data two --cache cache --on-bad-image skip --skipped-list skipped.txt --epochs 1 --quiet --out r11
expect "--skipped-list writes every skipped image" test "$(grep -c 'bad[0-9].png' skipped.txt)" -eq 8
expect "... and says where" grep -qF "the 8 skipped images are listed in skipped.txt" "$T/stderr"
expect "... and shows still only 5" test "$(grep -c '^focal: warning: skipped ' "$T/stderr")" -eq 5

finish
