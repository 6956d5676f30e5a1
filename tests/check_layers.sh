#!/bin/bash
# The library's layering, checked from #include lines: a file under src/X/
# may include the public header focal/Y.h and internal headers Y/... only for
# Y = X or a layer below X. Layers from the bottom: base; loss, image, eval;
# data, nn; train (folders on one level may not use each other). The umbrella
# "focal.h" is for programs, not for the library. report/ and export/ may
# include the library's public headers but nothing under src/; cli/ may
# include them.
# Prints every offending line and exits 1 if there is one.
set -uo pipefail
src="${FOCAL_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
declare -A level=([base]=0 [loss]=1 [image]=1 [eval]=1 [data]=2 [nn]=2 [train]=3)
bad=0 checked=0
check() { # file, its layer, included layer, the line
    local f=$1 own=$2 inc=$3 line=$4
    checked=$((checked + 1))
    if [[ -z "${level[$inc]+x}" ]]; then
        echo "$f: includes '$line': no layer '$inc' (expected one of ${!level[*]})"
        bad=$((bad + 1))
    elif [[ "$inc" != "$own" && ${level[$inc]} -ge ${level[$own]} ]]; then
        echo "$f: $own (layer ${level[$own]}) includes '$line' from $inc (layer ${level[$inc]}): only its own folder and lower layers"
        bad=$((bad + 1))
    fi
}
for dir in "$src"/src/*/; do
    own=$(basename "$dir")
    if [[ -z "${level[$own]+x}" ]]; then
        echo "src/$own: a folder that is not a layer; add it to tests/check_layers.sh and CMakeLists.txt"
        bad=$((bad + 1))
        continue
    fi
    for f in "$dir"*.c "$dir"*.h; do
        [[ -e "$f" ]] || continue
        rel=${f#"$src"/}
        while IFS= read -r line; do
            inc=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1/' <<<"$line")
            case "$inc" in
            focal.h)
                echo "$rel: includes the umbrella \"focal.h\"; include the subsystem headers it uses"
                bad=$((bad + 1)) ;;
            focal/*.h) x=${inc#focal/}; check "$rel" "$own" "${x%.h}" "$inc" ;;
            */*) check "$rel" "$own" "${inc%%/*}" "$inc" ;;
            *) echo "$rel: includes '$inc' without its folder; write \"<folder>/$inc\""
               bad=$((bad + 1)) ;;
            esac
        done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
    done
done
for prog in report export; do   # the program's libraries: public headers only
    [[ -d "$src/$prog" ]] || continue
    while IFS= read -r hit; do
        echo "$hit: $prog/ uses the library's public headers only"
        bad=$((bad + 1))
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(base|loss|image|eval|data|nn|train)/' "$src"/$prog/*.[ch] 2>/dev/null | cut -d: -f1,2)
done
for f in "$src"/cli/*.[ch]; do
    while IFS= read -r hit; do
        echo "${f#"$src"/}:$hit: the program uses the library's public headers only"
        bad=$((bad + 1))
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(base|loss|image|eval|data|nn|train)/' "$f" | cut -d: -f1)
done
[[ $checked -gt 0 ]] || { echo "check_layers: no #include lines found under $src/src"; exit 1; }
echo "check_layers: $checked includes checked, $bad outside the layering"
if [[ $bad -eq 0 ]]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; exit 1; fi
