#!/bin/bash
# make.sh — regenerates tests/data/report/experiment, the experiment folder
# tests/cli_report.sh writes reports of: a `focal compare` of three losses x two
# seeds on a small synthetic multi-label dataset (`focal synth`), kept without
# the model files and without a report (only what `focal report` reads:
# results.json and each run's history.csv, metrics.json, scores.csv, run.json).
#   tests/data/report/make.sh BUILD/focal
set -euo pipefail
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH/TO/focal" >&2
    exit 2
fi
focal=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$focal" synth --out synth --n 240 --size 16 --seed 5 --quiet >/dev/null
"$focal" compare --data synth --out experiment --methods ce,focal,asl --seeds 2 --epochs 5 --model mlp \
    --cache none --threads 1 --quiet
find experiment -name '*.safetensors' -delete
rm -f experiment/report.html experiment/report.md experiment/report-*.svg experiment/results.csv
rm -rf "$here/experiment"
cp -r experiment "$here/experiment"
echo "wrote $here/experiment"
