#!/usr/bin/env bash
# readme.sh — every fenced block of README.md is compiled, run or checked, so the
# README cannot drift from the code:
#   ```c       compiled against the built headers and libfocal.so, and run; a block
#              without main() is put inside one, with nothing declared for it
#   ```js      run with node, ONNX Runtime from tests/onnx/node_modules ("skip:" without)
#   ```python  run with /usr/bin/python3 and PYTHONPATH=<build>/python ("skip:" when
#              numpy or torch is missing, or the library is sanitized)
#   ```sh      every command: scripts/, tools/ and build/ files exist and accept the
#              options used; `cc ... pkg-config` and ```cmake blocks name what
#              install_consumer builds (that test compiles them)
#   ``` plain  `$ focal ...` lines and `focal ...` command lines (also after mpirun or
#              srun and their options, never run): the command exists,
#              every --option is one its --help lists; concrete lines are parsed by
#              the program itself (the line plus a final --help must exit 0); cheap
#              ones (loss, explain, metrics, small synth, export of a tiny run, cat)
#              run in a scratch folder and their output must equal the README's
#              (numbers to a relative 1e-5, timings ignored). A network description is built by netcheck.c.
#              Anything else is program output, counted and not checked.
#   `inline`   commands in the text are checked as synopses are; repository paths
#              in it must exist (or be made by a script in scripts/).
# Needs FOCAL_SOURCE_DIR and FOCAL_BIN; FOCAL_CC (default cc) and FOCAL_README_FLAGS
# (e.g. the sanitizer flags the library was built with); FOCAL_README_PYTHON=OFF
# skips the Python blocks; README=FILE checks another file. Prints "N passed, M
# failed" last and exits non-zero on any failure.
set -u
set -f   # README text is never a glob
src=${FOCAL_SOURCE_DIR:?FOCAL_SOURCE_DIR is not set}
bin=${FOCAL_BIN:?FOCAL_BIN is not set}
build=$(cd "$(dirname "$bin")" && pwd)
readme=${README:-$src/README.md}
cc=${FOCAL_CC:-cc}
read -r -a extra_flags <<<"${FOCAL_README_FLAGS:-}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 outputs=0 skipped=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAILED: $1"; failed=$((failed + 1)); }
skip() { echo "skip: $1"; skipped=$((skipped + 1)); }

# --- the blocks ------------------------------------------------------------------------
# blocks/NNN holds a block's text; index lines are "NNN<TAB>lang<TAB>first line".
mkdir -p "$work/blocks"
if ! awk -v dir="$work/blocks" -v idx="$work/index" '
    !inb && /^[ \t]*```/ {
        lang = $0; sub(/^[ \t]*```/, "", lang); gsub(/[ \t]/, "", lang)
        n++; f = sprintf("%s/%03d", dir, n); printf "" > f
        printf "%03d\t%s\t%d\n", n, lang == "" ? "-" : lang, NR + 1 >> idx
        inb = 1; start = NR; next
    }
    inb && /^[ \t]*```[ \t]*$/ { inb = 0; close(f); next }
    inb { print > f }
    END { if (inb) { printf "line %d: the block opened here is never closed\n", start > "/dev/stderr"; exit 1 } }
' "$readme"; then
    bad "README.md: fenced blocks are unbalanced"
fi
[ -s "$work/index" ] || { bad "README.md: no fenced blocks found"; touch "$work/index"; }

# --- the focal program -----------------------------------------------------------------
commands=$("$bin" --help | awk '/^Commands/ { on = 1; next } on && /^$/ { on = 0 } on { print $1 }')
[ -n "$commands" ] && ok "focal --help lists commands: $(echo $commands)" || bad "focal --help lists no commands"
mkdir -p "$work/help"
# help_of CMD: the file holding `focal CMD --help`.
help_of() {
    local f="$work/help/$1"
    [ -f "$f" ] || "$bin" "$1" --help >"$f" 2>&1
    echo "$f"
}
# defined_options FILE: the --options FILE defines (at the start of a line, after a
# comma or after a run of blanks, not one mentioned in prose).
defined_options() {
    grep -oE -- '(^[[:space:]]*|, |   |\[)--[a-z][a-z0-9-]*' "$1" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}
# options_of WORD...: the --options among the words, without values or brackets.
options_of() {
    local w
    for w in "$@"; do
        w=${w#[}
        case $w in --[a-z]*) ;; *) continue ;; esac
        w=${w%%[]=]*}
        echo "$w"
    done | sort -u
}

# The scratch folder commands run in: the examples, and the file the README's
# error example reads (row 2 has 'abc' at column 5).
run_dir=$work/run
mkdir -p "$run_dir"
ln -s "$src/examples" "$run_dir/examples"
mkdir -p "$run_dir/out"   # the quick start makes out/ before its commands
printf '0.1,0.2,0.3\n0.4,abc,0.6\n0.7,0.8,0.9\n1,2,3\n' >"$run_dir/bad.csv"
mkdir -p "$work/bin"
ln -s "$bin" "$work/bin/focal"

# same_output WANT GOT: equal line by line, numbers to a relative 1e-5 (absolute
# 1e-9), "N.N s" timings ignored. Prints the first difference.
same_output() {
    awk -v want="$1" -v got="$2" '
        function norm(s) { gsub(/[0-9]+(\.[0-9]+)? s([^a-z]|$)/, "T s", s); return s }
        function nums(s, a,   n) {
            n = 0
            while (match(s, /-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/)) {
                a[++n] = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
            }
            return n
        }
        function skel(s) { gsub(/-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/, "#", s); return s }
        BEGIN {
            nw = 0; while ((getline l < want) > 0) w[++nw] = norm(l)
            ng = 0; while ((getline l < got) > 0) g[++ng] = norm(l)
            for (i = 1; i <= (nw > ng ? nw : ng); i++) {
                if (skel(w[i]) != skel(g[i])) { printf "line %d: README \"%s\", program \"%s\"\n", i, w[i], g[i]; exit 1 }
                n = nums(w[i], a); nums(g[i], b)
                for (k = 1; k <= n; k++) {
                    d = a[k] - b[k]; if (d < 0) d = -d
                    m = a[k] < 0 ? -a[k] : a[k]
                    if (d > 1e-9 && d > 1e-5 * m) { printf "line %d: README %s, program %s\n", i, a[k], b[k]; exit 1 }
                }
            }
        }'
}

# check_focal WHERE KIND WORD...: a focal command line. KIND: synopsis (only the
# options are checked against --help), parse (the program must also accept the line,
# with --help appended) or run (the line runs; WHERE.want holds the README's output).
check_focal() {
    local where=$1 kind=$2
    shift 2
    local cmd=${2:-}
    if [ -z "$cmd" ] || ! grep -qxF -- "$cmd" <<<"$commands"; then
        bad "$where: 'focal $cmd' is not a focal command (focal --help lists: $(echo $commands))"
        return
    fi
    local help defined opt unknown=""
    help=$(help_of "$cmd")
    defined=$(defined_options "$help")
    for opt in $(options_of "${@:3}"); do
        grep -qxF -- "$opt" <<<"$defined" || unknown="$unknown $opt"
    done
    if [ -n "$unknown" ]; then
        bad "$where: focal $cmd --help does not list:$unknown"
        return
    fi
    case $kind in
    synopsis)
        ok "$where: focal $cmd: every option is in its --help (synopsis)"
        ;;
    parse)
        local out
        if out=$(cd "$run_dir" && "$bin" "${@:2}" --help 2>&1 >/dev/null) &&
            [ -z "$out" ]; then
            ok "$where: focal $cmd: the program accepts every option (not run: needs ../shared/data or takes minutes)"
        else
            bad "$where: focal $cmd refuses the line: $out"
        fi
        ;;
    run)
        local rc want_rc=0 diff
        head -1 "$want_file" | grep -q '^focal: ' && want_rc=nonzero
        (cd "$run_dir" && PATH="$work/bin:$PATH" timeout 60 "$bin" "${@:2}") >"$want_file.got" 2>&1
        rc=$?
        if [ "$want_rc" = 0 ] && [ "$rc" -ne 0 ]; then
            bad "$where: focal $cmd exits $rc: $(head -3 "$want_file.got")"
        elif [ "$want_rc" != 0 ] && [ "$rc" -eq 0 ]; then
            bad "$where: focal $cmd succeeds, the README shows an error"
        elif [ ! -s "$want_file" ]; then
            ok "$where: focal $cmd runs (exit $rc)"
        elif diff=$(same_output "$want_file" "$want_file.got"); then
            ok "$where: focal $cmd runs (exit $rc) and prints what the README shows"
        else
            bad "$where: focal $cmd prints other than the README: $diff"
        fi
        ;;
    esac
}

# make_run NAME: a run folder NAME in the scratch folder for the commands that read
# one (focal export): resnet-mini, one epoch on 100 synthetic 3x28x28 images.
make_run() {
    [[ $1 =~ ^[A-Za-z0-9_-]+$ ]] || return 1
    [ -f "$run_dir/$1/run.json" ] && return 0
    (cd "$run_dir" && { [ -d synth28 ] || "$bin" synth --out synth28 --n 100 --size 28 --quiet; } &&
        "$bin" train --data synth28 --out "$1" --epochs 1 --batch 16 --cache none --quiet) \
        >"$work/make_run.log" 2>&1 || { bad "making the run folder $1: $(tail -3 "$work/make_run.log")"; return 1; }
    echo "note: made the run folder $1 (1 epoch on 100 synthetic 28x28 images) for the commands that read it"
}

# cheap WORD...: whether a focal line is quick enough to run here.
cheap() {
    case ${2:-} in
    loss | explain | metrics) return 0 ;;
    export) make_run "${3:-}"; return ;;
    synth)
        local n=2000 size=64 i j
        for ((i = 3; i <= $#; i++)); do
            case ${!i} in
            --n) j=$((i + 1)); n=${!j} ;;
            --size) j=$((i + 1)); size=${!j} ;;
            esac
        done
        [[ $n =~ ^[0-9]+$ && $size =~ ^[0-9]+$ ]] && [ $((n * size * size)) -le $((2000 * 64 * 64)) ]
        return
        ;;
    esac
    return 1
}

# check_file_cmd WHERE WORD...: a line that runs a file of the repository or the
# build (scripts/..., build/tools/..., /usr/bin/python3 tools/...): it exists, and
# each --option appears in its usage (its --help, or the script's own text).
check_file_cmd() {
    local where=$1
    shift
    local words=("$@") file path text opt why unknown=""
    if [ "${words[0]}" = /usr/bin/python3 ] || [ "${words[0]}" = python3 ]; then
        words=("${words[@]:1}")
    fi
    file=${words[0]}
    case $file in
    build/*) path=$build/${file#build/} ;;
    *) path=$src/$file ;;
    esac
    if [ ! -f "$path" ]; then
        if [[ $file == build/tools/* ]] && [ -f "$src/tools/${file#build/tools/}.c" ]; then
            skip "$where: $file is not built here (FOCAL_BUILD_BENCH=OFF)"
        else
            bad "$where: $file does not exist"
        fi
        return
    fi
    case $file in
    build/*) text=$("$path" --help 2>&1) ;;
    *) text=$(cat "$path") ;;
    esac
    for opt in $(options_of "${words[@]:1}"); do
        grep -qE -- "(^|[^a-z-])$opt([^a-z-]|$)" <<<"$text" || unknown="$unknown $opt"
    done
    if [ -n "$unknown" ]; then
        bad "$where: $file does not accept:$unknown"
    else
        case $file in
        scripts/*) why="installs packages and builds" ;;
        tools/*) why="a reference generator, checker or benchmark on PyTorch" ;;
        *) why="a benchmark of minutes" ;;
        esac
        ok "$where: $file exists and accepts its options (not run: $why)"
    fi
}

# check_line WHERE KIND LINE: one command line of a sh block or a plain block.
check_line() {
    local where=$1 kind=$2 line=$3 words
    read -r -a words <<<"$line"
    local k
    for k in "${!words[@]}"; do   # a comment ends the command
        [[ ${words[$k]} == '#'* ]] && { words=("${words[@]:0:$k}"); break; }
    done
    [ ${#words[@]} -gt 0 ] || return
    case ${words[0]} in
    focal | build/focal)
        words[0]=focal
        if [ "$kind" = run ] && ! cheap "${words[@]}"; then kind=parse; fi
        check_focal "$where" "$kind" "${words[@]}"
        ;;
    mpirun | srun)
        # an MPI launcher: its own options, then the focal line it starts,
        # checked as a synopsis or parsed by the program, never run here
        for k in "${!words[@]}"; do
            [[ ${words[$k]} == focal || ${words[$k]} == build/focal ]] && break
        done
        if [[ ${words[$k]} != focal && ${words[$k]} != build/focal ]]; then
            bad "$where: $line: ${words[0]} starts no focal command"
            return
        fi
        words=(focal "${words[@]:$((k + 1))}")
        [ "$kind" = synopsis ] || kind=parse
        check_focal "$where" "$kind" "${words[@]}"
        ;;
    cat)
        if [ "$kind" = run ] && [ -f "$run_dir/${words[1]}" ]; then
            if diff=$(same_output "$want_file" "$run_dir/${words[1]}"); then
                ok "$where: ${words[1]}, written by the command before, holds what the README shows"
            else
                bad "$where: ${words[1]} differs from the README: $diff"
            fi
        else
            bad "$where: $line: no such file from the commands before it"
        fi
        ;;
    scripts/* | build/* | tools/* | /usr/bin/python3 | python3)
        check_file_cmd "$where" "${words[@]}"
        ;;
    cc)
        local mod found=0
        for mod in $(grep -oE 'pkg-config [^)]*' <<<"$line" | awk '{ print $NF }') \
            $(grep -oE '# or [a-z-]+' <<<"$line" | awk '{ print $NF }'); do
            found=1
            if [ -f "$build/$mod.pc" ] && grep -qE "pkg-config --cflags --libs $mod\)" "$src/tests/install_consumer.sh"; then
                ok "$where: pkg-config module $mod is built (checked by install_consumer)"
            else
                bad "$where: pkg-config module $mod is not built or not checked by install_consumer"
            fi
        done
        [ $found = 1 ] || bad "$where: a cc line without pkg-config: $line"
        ;;
    *)
        bad "$where: '${words[0]}' is not a command this test knows how to check"
        ;;
    esac
}

# check_cmake_line WHERE LINE: `cmake --build DIR --target T` names a target of the
# build, and every --option is one cmake --help lists.
check_cmake_line() {
    local where=$1 words opt unknown="" target=""
    read -r -a words <<<"$2"
    local usage
    usage=$({ cmake --help; cmake --build; cmake --install; } 2>&1)   # the last two print their usage
    for opt in $(options_of "${words[@]:1}"); do
        grep -qE -- "(^|[^a-z-])$opt([^a-z-]|$)" <<<"$usage" || unknown="$unknown $opt"
    done
    [ -n "$unknown" ] && { bad "$where: cmake does not know:$unknown"; return; }
    for ((k = 1; k < ${#words[@]}; k++)); do
        [ "${words[$k]}" = --target ] && target=${words[$((k + 1))]:-}
    done
    if [ -n "$target" ] && ! cmake --build "$build" --target help 2>/dev/null |
        grep -qE "(^|[ .:/])$target([ :]|$)"; then
        if [ -f "$src/tools/$target.c" ]; then
            skip "$where: the target $target is not built here (FOCAL_BUILD_BENCH=OFF)"
        else
            bad "$where: the build has no target $target"
        fi
        return
    fi
    ok "$where: $2: cmake accepts the options${target:+, the target $target exists}"
}

# --- C ---------------------------------------------------------------------------------
check_c() {
    local where=$1 f=$2 c=$work/c/$3 what
    mkdir -p "$c"
    if grep -qE '\bmain[[:space:]]*\(' "$f"; then
        cp "$f" "$c/snippet.c"
        what="whole program"
    else
        # A fragment: its #include lines at file scope, the rest as main's body.
        { grep -E '^[[:space:]]*#' "$f"; echo "int main(void)"; echo "{";
          grep -vE '^[[:space:]]*#' "$f"; echo "return 0;"; echo "}"; } >"$c/snippet.c"
        what="fragment, wrapped in main()"
    fi
    if ! "$cc" -std=c11 -Wall -Wextra -Werror "${extra_flags[@]}" -I"$src/include" "$c/snippet.c" \
        -o "$c/prog" -L"$build" -lfocal -Wl,-rpath,"$build" -lm >"$c/cc.log" 2>&1; then
        bad "$where: C block ($what) does not compile:"
        sed 's/^/    /' "$c/cc.log" | head -20
        return
    fi
    ok "$where: C block compiles ($what)"
    if (cd "$c" && timeout 60 ./prog) >"$c/run.log" 2>&1; then
        ok "$where: C block runs: $(tail -1 "$c/run.log")"
    else
        bad "$where: C block exits non-zero:"
        sed 's/^/    /' "$c/run.log" | head -20
    fi
}

# --- Python ----------------------------------------------------------------------------
check_python() {
    local where=$1 f=$2
    if [ "${FOCAL_README_PYTHON:-ON}" = OFF ]; then
        skip "$where: Python block not run (the library is built with sanitizers)"
        return
    fi
    if ! /usr/bin/python3 -c 'import numpy, torch' 2>/dev/null; then
        skip "$where: Python block not run (numpy or torch is not importable)"
        return
    fi
    if (cd "$work" && PYTHONPATH="$build/python" OMP_NUM_THREADS=2 timeout 120 /usr/bin/python3 "$f") >"$f.log" 2>&1; then
        ok "$where: Python block runs: $(tail -1 "$f.log")"
    else
        bad "$where: Python block fails:"
        sed 's/^/    /' "$f.log" | tail -15
    fi
}

# --- JavaScript ------------------------------------------------------------------------
# Run with node as an ES module in the scratch folder (beside the files the commands
# before it wrote), with ONNX Runtime from tests/onnx/node_modules (scripts/deps.sh).
check_js() {
    local where=$1 f=$2 modules=$src/tests/onnx/node_modules
    if ! command -v node >/dev/null || [ ! -d "$modules/onnxruntime-node" ]; then
        skip "$where: JavaScript block not run (node or tests/onnx/node_modules/onnxruntime-node missing; scripts/deps.sh installs them)"
        return
    fi
    [ -e "$run_dir/node_modules" ] || ln -s "$modules" "$run_dir/node_modules"
    cp "$f" "$run_dir/block.mjs"
    if (cd "$run_dir" && timeout 60 node block.mjs) >"$f.log" 2>&1; then
        ok "$where: JavaScript block runs under node ($(wc -l <"$f.log") lines of output)"
    else
        bad "$where: JavaScript block fails:"
        sed 's/^/    /' "$f.log" | tail -15
    fi
}

# --- cmake -----------------------------------------------------------------------------
check_cmake() {
    local where=$1 f=$2 t line missing=""
    while IFS= read -r line; do
        line=${line%%#*}
        line=$(echo $line)
        [ -z "$line" ] && continue
        case $line in
        find_package*) grep -qF -- "$line" "$src/tests/install_consumer.sh" || missing="$missing '$line'" ;;
        esac
    done <"$f"
    for t in $(grep -oE 'focal::[a-z_]+' "$f" | sort -u); do
        grep -qF -- "PRIVATE $t)" "$src/tests/install_consumer.sh" || missing="$missing $t"
    done
    if [ -n "$missing" ]; then
        bad "$where: cmake block uses what install_consumer does not build:$missing"
    else
        ok "$where: cmake block (find_package and every target it names) checked by install_consumer"
    fi
}

# --- network descriptions --------------------------------------------------------------
netcheck=""
# A plain block is a network description when at least two of its lines start with
# a layer name (a misspelt layer on another line then fails the build).
is_network() {
    awk '{ sub(/#.*/, "") } NF == 0 { next }
         $1 ~ /^(conv|batchnorm|relu|leakyrelu|maxpool|avgpool|block|dropout|gap|flatten|dense)$/ { n++ }
         END { exit !(n >= 2) }' "$1"
}
check_network() {
    local where=$1 f=$2 out
    if [ -z "$netcheck" ]; then
        netcheck=$work/netcheck
        "$cc" -std=c11 -Wall -Wextra -Werror "${extra_flags[@]}" -I"$src/include" "$here/netcheck.c" -o "$netcheck" \
            -L"$build" -lfocal -Wl,-rpath,"$build" -lm >"$work/netcheck.log" 2>&1 ||
            { bad "netcheck.c does not compile: $(cat "$work/netcheck.log")"; return; }
    fi
    if out=$("$netcheck" "$f" 3 32 32 5 "the network block of $where" 2>&1); then
        ok "$where: network description builds for 3x32x32 input, 5 classes ($out)"
    else
        bad "$where: network description is refused: $out"
    fi
}

# --- command blocks --------------------------------------------------------------------
# sh: every line (comments dropped, "\" continuations joined) is a command.
check_sh() {
    local where=$1 f=$2 line cur="" n=0 start=$3 lno=$3
    while IFS= read -r line || [ -n "$line" ]; do
        [ -z "$cur" ] && start=$lno
        lno=$((lno + 1))
        if [[ $line == *\\ ]]; then cur="$cur ${line%\\}"; continue; fi
        cur="$cur $line"
        cur=$(echo "$cur" | sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//')
        want_file=$work/empty.want
        : >"$want_file"
        [ -n "$cur" ] && { check_line "README.md:$start" run "$cur"; n=$((n + 1)); }
        cur=""
    done <"$f"
    [ $n -gt 0 ] || bad "$where: sh block without a command"
}

# A line of a plain block that starts a command: "focal <word>" (not a table row such
# as "focal   0.416 ± 0.024"), build/focal, a benchmark or a script.
command_re='^(focal [a-z]|build/focal( |$)|build/tools/[a-z_]+|scripts/[a-z_]+\.sh)'

# plain: "$ " lines are commands, the lines after them their output; without any,
# lines starting "focal " (with indented or "\" continuation lines) are commands as
# run or synopses; anything else is output.
check_plain() {
    local where=$1 f=$2 first=$3 dollar=0 found=0 i n line cur start kind
    mapfile -t L <"$f"
    n=${#L[@]}
    grep -q '^\$ ' "$f" && dollar=1
    i=0
    while [ $i -lt $n ]; do
        line=${L[$i]}
        start=$((first + i))
        if { [ $dollar = 1 ] && [[ $line == '$ '* ]]; } ||
            { [ $dollar = 0 ] && [[ $line =~ $command_re ]]; }; then
            found=1
            cur=${line#\$ }
            i=$((i + 1))
            # continuation lines
            while [ $i -lt $n ]; do
                if [[ $cur == *\\ ]]; then
                    cur="${cur%\\} ${L[$i]}"
                elif [ $dollar = 0 ] && [[ ${L[$i]} =~ ^[[:space:]]+[^[:space:]] ]]; then
                    cur="$cur ${L[$i]}"
                else
                    break
                fi
                i=$((i + 1))
            done
            # the output shown, up to the next command
            : >"$work/out.$start.want"
            while [ $i -lt $n ] && ! { [ $dollar = 1 ] && [[ ${L[$i]} == '$ '* ]]; }; do
                [ $dollar = 1 ] && printf '%s\n' "${L[$i]}" >>"$work/out.$start.want"
                [ $dollar = 0 ] && [[ ${L[$i]} =~ $command_re ]] && break
                i=$((i + 1))
            done
            # drop trailing blank lines of the shown output
            sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$work/out.$start.want"
            if [[ $cur =~ \[|\||\.\.\.|… ]]; then kind=synopsis
            elif [ $dollar = 1 ]; then kind=run
            else kind=parse; fi
            want_file=$work/out.$start.want
            check_line "README.md:$start" "$kind" "$cur"
            continue
        fi
        i=$((i + 1))
    done
    [ $found = 1 ]
}

while IFS=$'\t' read -r id lang first; do
    f=$work/blocks/$id
    where="README.md:$first"
    case $lang in
    c) check_c "$where" "$f" "$id" ;;
    python) check_python "$where" "$f" ;;
    js | javascript) check_js "$where" "$f" ;;
    sh | bash | console) check_sh "$where" "$f" "$first" ;;
    cmake) check_cmake "$where" "$f" ;;
    -)
        if is_network "$f"; then
            check_network "$where" "$f"
        elif ! check_plain "$where" "$f" "$first"; then
            echo "output: $where ($(wc -l <"$f") lines), not checked"
            outputs=$((outputs + 1))
        fi
        ;;
    *) bad "$where: a '$lang' block, which this test does not know how to check" ;;
    esac
done <"$work/index"

# --- inline commands and paths --------------------------------------------------------
# `code` spans outside the blocks: a command (focal, scripts/, tools/, build/tools/,
# cmake) is checked as a synopsis is; a path of the repository (or of a src/ layer
# folder: `nn/optim.c`) must exist. Index lines: "line<TAB>span".
perl -0777 -ne '
    s/(^[ \t]*```.*?^[ \t]*```[ \t]*$)/ (my $b = $1) =~ s{[^\n]}{}g; $b /msge;
    while (/`([^`]+)`/g) {
        my ($x, $at) = ($1, $-[0]);
        my $line = 1 + (substr($_, 0, $at) =~ tr/\n//);
        $x =~ s/\s+/ /g;
        print "$line\t$x\n";
    }' "$readme" >"$work/inline"
paths=0
while IFS=$'\t' read -r first span; do
    where="README.md:$first"
    case $span in
    "focal "[a-z]* | scripts/* | build/tools/* | tools/*.py* | "/usr/bin/python3 tools/"* | "cmake --"*)
        want_file=$work/empty.want
        : >"$want_file"
        while [ -n "$span" ]; do   # "a && b": each command in turn
            piece=${span%%&&*}
            [ "$piece" = "$span" ] && span="" || span=${span#*&&}
            piece=$(echo $piece)
            case $piece in
            cmake*) check_cmake_line "$where" "$piece" ;;
            tools/* | scripts/* | build/tools/* | /usr/bin/python3*) check_file_cmd "$where" $piece ;;
            *) check_line "$where" synopsis "$piece" ;;
            esac
        done
        ;;
    src/* | include/* | tests/* | examples/* | python/* | cli/* | report/* | .ci/* | \
    base/*.[ch] | loss/*.[ch] | image/*.[ch] | eval/*.[ch] | data/*.[ch] | nn/*.[ch] | train/*.[ch])
        [[ $span == *' '* || $span == *'<'* ]] && continue
        case $span in
        src/* | include/* | tests/* | examples/* | python/* | cli/* | report/* | .ci/*) path=$span ;;
        *) path=src/$span ;;
        esac
        if (cd "$src" && set +f && compgen -G "$path" >/dev/null); then
            paths=$((paths + 1))
        elif maker=$(cd "$src" && grep -rlF -- "$path" scripts 2>/dev/null | head -1) && [ -n "$maker" ]; then
            skip "$where: \`$span\` is made by $maker, not there yet"
        else
            bad "$where: \`$span\` names $path, which does not exist"
        fi
        ;;
    esac
done <"$work/inline"
ok "$paths repository paths named in the text exist"

echo "$(wc -l <"$work/index") blocks; $outputs output blocks, not checked; $skipped checks skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
