#!/bin/bash
# Installs the Debian packages focal needs that are missing, and says which.
#   scripts/deps.sh              what the build and the test suite need
#   scripts/deps.sh --reference  also PyTorch, torchvision, scikit-learn and numpy,
#                                for regenerating reference values and the benchmark peers
set -euo pipefail
pkgs=(cmake make gcc libc6-dev pkg-config libopenblas-openmp-dev libcjson-dev)
if [ "${1:-}" = "--reference" ]; then
    pkgs+=(python3 python3-numpy python3-torch python3-torchvision python3-sklearn)
elif [ -n "${1:-}" ]; then
    echo "deps.sh: unknown option '$1'; expected --reference or nothing" >&2
    exit 2
fi
missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all required Debian packages are installed"
    exit 0
fi
echo "deps: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null; then
    sudo=(sudo)
else
    echo "deps: need root or sudo to run apt-get; install these packages: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
