#!/bin/bash
# The README's first command: installs what is missing, builds focal, makes the
# synthetic RFMiD-shaped fundus dataset, and answers "which loss works on this
# data?" with `focal compare`: five methods, three seeds each, a table of
# mean ± std and an HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
echo "built build/focal ($(build/focal --version))"
mkdir -p out
echo
echo "\$ focal synth --out out/synth --n 1000 --size 32 --force"
build/focal synth --out out/synth --n 1000 --size 32 --force
echo
echo "\$ focal compare --data out/synth --size 32x32 --model examples/small-cnn.net \\"
echo "      --methods ce,focal,asl,cb,oversample --seeds 3 --epochs 10 --out out/compare"
build/focal compare --data out/synth --size 32x32 --model examples/small-cnn.net \
    --methods ce,focal,asl,cb,oversample --seeds 3 --epochs 10 --cache out/cache --out out/compare
