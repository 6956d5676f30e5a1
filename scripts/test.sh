#!/bin/bash
# Builds focal with warnings as errors and runs the whole test suite.
#   scripts/test.sh             release build in build/
#   scripts/test.sh --sanitize  AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
case "${1:-}" in
"")
    dir=build
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DFOCAL_WERROR=ON >/dev/null
    ;;
--sanitize)
    dir=build-asan
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DFOCAL_WERROR=ON -DFOCAL_SANITIZE=ON \
        -DFOCAL_BUILD_BENCH=OFF >/dev/null
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ;;
*)
    echo "test.sh: unknown option '$1'; expected --sanitize or nothing" >&2
    exit 2
    ;;
esac
cmake --build "$dir" -j"$jobs"
cd "$dir"
ctest --output-on-failure -j"$jobs"
