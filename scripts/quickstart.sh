#!/bin/bash
# The README's first command: installs what is missing, builds focal, and runs
# it on examples the project ships: the focal-loss curves and a loss with its
# gradient on a small multi-label batch.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
echo "built build/focal ($(build/focal --version))"
mkdir -p out
echo
echo "\$ focal explain --pt 0.1,0.5,0.9,0.99 --gamma 2 --plot out/focal-curves.svg"
build/focal explain --pt 0.1,0.5,0.9,0.99 --gamma 2 --plot out/focal-curves.svg
echo
echo "\$ focal loss --type sigmoid-focal --alpha 0.25 --gamma 2 --logits examples/logits.csv --targets examples/targets.csv --grad out/grad.csv"
build/focal loss --type sigmoid-focal --alpha 0.25 --gamma 2 \
    --logits examples/logits.csv --targets examples/targets.csv --grad out/grad.csv
echo
echo "wrote out/focal-curves.svg (focal loss against p_t for five values of gamma) and out/grad.csv"
