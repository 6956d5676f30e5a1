#!/bin/bash
# Installs the Debian packages focal needs that are missing, and says which.
#   scripts/deps.sh              what the build and the test suite need
#   scripts/deps.sh --build      only what building focal needs (no browser, no Python)
#   scripts/deps.sh --reference  the same as the default (the suite's Python tests
#                                already need PyTorch, torchvision, scikit-learn and
#                                numpy, also used to regenerate reference values and
#                                by the benchmark peers)
# With the test suite comes ONNX Runtime for node (tests/onnx/package-lock.json),
# installed by npm into tests/onnx/node_modules without running its install
# scripts: the CPU library ships inside the package.
set -euo pipefail
cd "$(dirname "$0")/.."
# protobuf-c and the onnx.proto of libonnx-dev build `focal export --onnx`;
# Open MPI runs compare, tune and train across processes (mpirun, srun)
build=(cmake make gcc libc6-dev pkg-config libopenblas-openmp-dev libcjson-dev
       zlib1g-dev libspng-dev libturbojpeg0-dev libdnnl-dev ocl-icd-opencl-dev
       libprotobuf-c-dev protobuf-c-compiler libonnx-dev libopenmpi-dev openmpi-bin)
# the test suite renders the HTML report in a headless browser (tests/cli/cli_report.sh);
# --no-install-recommends leaves out the browser's fonts, so one comes along.
# CI fuzzes the readers with libFuzzer (scripts/fuzz.sh): clang, its runtime
# libraries (libFuzzer, sanitizers) and LLVM's OpenMP.
# tests/onnx/cli_export.sh checks exported models with onnx.checker and runs
# them in ONNX Runtime under node (a node that is already there is used).
tests=(chromium fonts-dejavu-core clang libclang-rt-14-dev libomp-dev python3-onnx)
command -v node >/dev/null || tests+=(nodejs)
command -v npm >/dev/null || tests+=(npm)
npm_tests=1
# the Python package's tests (python_package) check it against PyTorch, torchvision and
# scikit-learn with the system interpreter; without them that test prints "skip:" and passes
python=(python3 python3-numpy python3-torch python3-torchvision python3-sklearn)
case "${1:-}" in
""|--reference) pkgs=("${build[@]}" "${tests[@]}" "${python[@]}") ;;
--build)        pkgs=("${build[@]}"); npm_tests=0 ;;
*)
    echo "deps.sh: unknown option '$1'; expected --build, --reference or nothing" >&2
    exit 2
    ;;
esac
missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all required Debian packages are installed"
else
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
fi
# the npm packages the lock file names, unless they are there already
if [ "$npm_tests" -eq 1 ]; then
    lock=tests/onnx/package-lock.json installed=tests/onnx/node_modules/.package-lock.json
    if [ -f "$installed" ] && [ "$installed" -nt "$lock" ]; then
        echo "deps: ONNX Runtime for node is installed (tests/onnx/node_modules)"
    else
        echo "deps: installing ONNX Runtime for node into tests/onnx/node_modules (npm ci --ignore-scripts)"
        npm ci --prefix tests/onnx --ignore-scripts --no-audit --no-fund --loglevel=error
    fi
fi
