#!/usr/bin/env bash
# cli_synth.sh — end-to-end tests of `focal synth`: help, option errors (exit
# 2), the dataset's layout and CSVs, byte-identical output for one seed
# whatever the thread count, refusal of a non-empty folder, --force, and no
# partial output when writing fails (exit 1). Needs FOCAL_BIN. Prints
# "N passed, M failed" last.
set -u
NAME=cli_synth
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

cd "$T" || exit 1

# no_leftovers: nothing named *.tmp.* or *.old.* in the current folder.
no_leftovers() { ! ls -a | grep -qE '\.(tmp|old)\.'; }
# lacks TEXT FILE: FILE does not contain TEXT (a basic regular expression).
lacks() { ! grep -q "$1" "$2"; }
# differs A B: the two files are not byte-identical.
differs() { ! cmp -s "$1" "$2"; }

# --- help and option errors -------------------------------------------------------
run synth --help
expect "--help exits 0" [ "$rc" -eq 0 ]
expect "--help shows the usage" grep -q "Usage: focal synth --out DIR" "$T/stdout"
expect "--help lists the rarest condition" grep -q "MHL" "$T/stdout"
fails "--out is required" 2 "--out is required" synth --n 20
fails "--n below 10" 2 "--n: '9' is out of range" synth --out d --n 9
fails "--n above 1e6" 2 "--n: '1000001' is out of range" synth --out d --n 1000001
fails "--n not a number" 2 "--n: 'many' is not an integer" synth --out d --n many
fails "--size below 16" 2 "--size: '15' is out of range" synth --out d --size 15
fails "--size above 1024" 2 "--size: '1025' is out of range" synth --out d --size 1025
fails "--seed negative" 2 "--seed: '-1' is out of range" synth --out d --seed -1
fails "--threads negative" 2 "--threads: '-1' is out of range" synth --out d --threads -1
fails "unknown option suggests" 2 "did you mean '--size'" synth --out d --sizes 32
fails "stray argument" 2 "unexpected argument 'extra'" synth --out d extra
fails "--force takes no value" 2 "--force takes no value" synth --out d --force=yes
expect "option errors wrote nothing" [ ! -e d ]

# --- a small dataset --------------------------------------------------------------
run synth --out ds --n 20 --size 32 --seed 3
expect "synth exits 0: $err" [ "$rc" -eq 0 ]
expect "no progress bar when stderr is not a terminal" [ -z "$err" ]
expect "summary names the folder" grep -q "^wrote ds: 20 images of 32x32, seed 3" "$T/stdout"
expect "summary has a Training row of 12" grep -qE "^Training +12 " "$T/stdout"
expect "summary has a Test row of 4" grep -qE "^Test +4 " "$T/stdout"
for f in RFMiD_Training_Labels.csv RFMiD_Validation_Labels.csv RFMiD_Testing_Labels.csv synth.json \
         Training/1.png Training/12.png Validation/4.png Test/4.png; do
    expect "ds/$f written" [ -s "ds/$f" ]
done
expect "no 13th training image" [ ! -e ds/Training/13.png ]
expect "no 5th test image" [ ! -e ds/Test/5.png ]
expect "PNG signature" [ "$(head -c 8 ds/Test/1.png | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]
expect "CSV header" [ "$(head -1 ds/RFMiD_Training_Labels.csv)" = "ID,Disease_Risk,DR,MH,ODC,DN,MYA,BRVO,TV,LS,CWS,MHL" ]
expect "12 training rows with IDs 1..12" \
    [ "$(tail -n +2 ds/RFMiD_Training_Labels.csv | cut -d, -f1 | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 11 12 " ]
# Disease_Risk is 1 exactly when a condition is; every value is 0 or 1; 12 columns
risk_ok() {
    awk -F, 'NR > 1 { any = 0; for (i = 3; i <= NF; i++) { if ($i != 0 && $i != 1) exit 1; if ($i == 1) any = 1 }
                      if (NF != 12 || $2 != any) exit 1 } END { exit NR < 2 }' "$1"
}
for f in ds/RFMiD_*_Labels.csv; do
    expect "$f: Disease_Risk is the OR of the conditions" risk_ok "$f"
done
expect "no temporary folder left" no_leftovers

# --- determinism ----------------------------------------------------------------
run synth --out same --n 20 --size 32 --seed 3 --threads 1 --quiet
expect "one thread exits 0" [ "$rc" -eq 0 ]
expect "same seed, one thread: identical files" diff -r ds same
run synth --out other --n 20 --size 32 --seed 4 --threads 2 --quiet
expect "another seed exits 0" [ "$rc" -eq 0 ]
expect "another seed: different images" differs ds/Training/1.png other/Training/1.png

# --- existing folders ---------------------------------------------------------------
fails "a non-empty folder is refused" 1 "ds: exists and is not empty" synth --out ds --n 20 --size 32 --seed 4
expect "the refusal suggests --force" grep -q -- "--force" "$T/stderr"
expect "the refused folder is unchanged" diff -r ds same
run synth --out ds --n 20 --size 32 --seed 4 --force --quiet
expect "--force replaces a synth folder" [ "$rc" -eq 0 ]
expect "--force wrote the new dataset" diff -r ds other
expect "--force left no old copy" no_leftovers
mkdir mine && echo "keep me" >mine/notes.txt
fails "--force refuses a foreign folder" 1 "synth.json" synth --out mine --n 20 --size 32 --force
expect "the foreign folder is kept" [ "$(cat mine/notes.txt)" = "keep me" ]
mkdir empty
run synth --out empty --n 10 --size 16 --quiet
expect "an empty folder is filled" test "$rc" -eq 0 -a -s empty/Test/2.png
echo x >afile
fails "--out is a file" 1 "afile: exists and is not a directory" synth --out afile --n 10
fails "--out below a file" 1 "afile/sub" synth --out afile/sub --n 10
expect "nothing created below the file" [ "$(cat afile)" = "x" ]

# --- the progress bar, on a terminal only -----------------------------------------------
if command -v script >/dev/null 2>&1; then
    script -qec "'$FOCAL_BIN' synth --out tty --n 10 --size 16" /dev/null >"$T/tty.log" 2>&1
    expect "a terminal shows the progress bar" grep -q "synth \[#*\.*\] 10/10" "$T/tty.log"
    script -qec "'$FOCAL_BIN' synth --out tty2 --n 10 --size 16 --quiet" /dev/null >"$T/tty.log" 2>&1
    expect "--quiet hides the progress bar" lacks "synth \[" "$T/tty.log"
    expect "--quiet still writes the dataset" [ -s tty2/Test/2.png ]
else
    echo "$NAME: skip: progress bar on a terminal (no 'script' program)"
fi

# --- failures leave nothing behind ---------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
    mkdir ro && chmod 555 ro
    fails "unwritable parent" 1 "Permission denied" synth --out ro/ds --n 10
    expect "nothing written in the unwritable parent" [ -z "$(ls -A ro)" ]
    chmod 755 ro
else
    echo "$NAME: skip: unwritable parent (running as root, which may write anywhere)"
fi
# A file-size limit makes the first image write fail (EFBIG; SIGXFSZ ignored).
( trap '' XFSZ; ulimit -f 8; "$FOCAL_BIN" synth --out big --n 10 --size 256 >"$T/stdout" 2>"$T/stderr" )
rc=$?
expect "a failed write exits 1 (got $rc: $(cat "$T/stderr"))" [ "$rc" -eq 1 ]
expect "the failure names the file" grep -q "big.tmp.*\.png: write failed" "$T/stderr"
expect "a failed run leaves no folder" [ ! -e big ]
expect "a failed run leaves no temporary folder" no_leftovers

finish
