#!/bin/bash
# cli_export.sh — `focal export --onnx` checked with real runtimes. Trains
# one-epoch runs (the quick start's small CNN on `focal synth` data, a network
# with every other layer kind, resnet-mini and keras-cnn on RetinaMNIST,
# keras-cnn on the ten RFMiD photographs, mlp on a UCI table with missing
# values, mlp on a multi-class table with and without post-hoc logit
# adjustment), exports each, runs onnx.checker (python3-onnx) on it and ONNX
# Runtime (onnxruntime-node) on the samples focal predict scored: the
# probabilities must equal focal's within 1e-5. The input tensors come from
# onnx_inputs, which makes them through the library as focal predict does.
# Parts without their data (../shared/data) or runtime print "skip:".
NAME=cli_export
. "$FOCAL_SOURCE_DIR/tests/cli/harness.sh"
INPUTS=${FOCAL_ONNX_INPUTS:?set FOCAL_ONNX_INPUTS to the onnx_inputs program}
HERE=$FOCAL_SOURCE_DIR/tests/onnx
DATA=${FOCAL_SHARED_DATA:-$FOCAL_SOURCE_DIR/../shared/data}
PY=/usr/bin/python3
cd "$T" || exit 1

have_checker=0
if [ -x "$PY" ] && "$PY" -c 'import onnx' 2>/dev/null; then have_checker=1
else echo "skip: onnx.checker (python3-onnx is not installed; scripts/deps.sh installs it)"; fi
have_ort=0
if command -v node >/dev/null && [ -d "$HERE/node_modules/onnxruntime-node" ]; then have_ort=1
else echo "skip: ONNX Runtime (node or tests/onnx/node_modules/onnxruntime-node missing; scripts/deps.sh installs them)"; fi

# check NAME RUNDIR OUTPUTS TASK images IMAGE... | table DATA ROWS
# exports RUNDIR, checks the file, and compares ONNX Runtime's probabilities
# with focal's on the images (or the table's first ROWS rows).
check() {
    local name=$1 dir=$2 outputs=$3 task=$4 kind=$5 t0=$SECONDS
    shift 5
    run export "$dir" --onnx "$name.onnx"
    expect "$name: export succeeds ($err)" test "$rc" -eq 0 -a -s "$name.onnx"
    [ "$rc" -eq 0 ] || return
    echo "$name: $out" | head -1
    if [ "$have_checker" -eq 1 ]; then
        if "$PY" "$HERE/check_onnx.py" "$name.onnx" "$outputs" "$task" >"$name.checker" 2>&1; then ok
        else bad "$name: onnx.checker: $(tail -3 "$name.checker")"; fi
        cat "$name.checker" | tail -1
    fi
    local refs=("$name.in.csv")
    if [ "$kind" = images ]; then
        "$INPUTS" images "$dir" "$name.in" "$@" || { bad "$name: onnx_inputs images"; return; }
        run predict --model "$dir" --images "$@" --out "$name.pred.csv" --cache none --quiet
        expect "$name: focal predict succeeds ($err)" test "$rc" -eq 0
        refs+=("$name.pred.csv")
    else
        "$INPUTS" table "$dir" "$1" "$2" "$name.in" || { bad "$name: onnx_inputs table"; return; }
    fi
    if [ "$have_ort" -eq 1 ]; then
        if node "$HERE/run_ort.js" "$name.onnx" "$name.in.npy" "${refs[@]}" >"$name.ort" 2>&1; then ok
        else bad "$name: ONNX Runtime differs from focal: $(cat "$name.ort")"; fi
        sed "s/^/$name: /" "$name.ort"
    fi
    echo "$name: checked in $((SECONDS - t0)) s (training took $train_s s)"
}

# --- the command line ---------------------------------------------------------------
run export --help
expect "help describes the input and the output" grep -q '"probabilities", float32 \[N, K\]' "$T/stdout"
fails "no --onnx" 2 "--onnx FILE is required" export somewhere
fails "no run folder" 2 "RUNDIR is required" export --onnx x.onnx
fails "an unknown option" 2 "--onx" export somewhere --onx x.onnx
fails "two run folders" 2 "unexpected argument 'b'" export a b --onnx x.onnx
fails "a folder that is not a run" 1 "nowhere" export nowhere --onnx x.onnx
expect "nothing written for a missing run" test ! -e x.onnx

# --- the quick start's network on focal synth data ----------------------------------------
"$FOCAL_BIN" synth --out synth --n 150 --size 48 --force >/dev/null
train() {
    local t0=$SECONDS
    "$FOCAL_BIN" train --epochs 1 --quiet --seed 1 --cache "$T/cache" "$@" 2>"$T/train.err" ||
        bad "train $*: $(cat "$T/train.err")"
    train_s=$((SECONDS - t0))
}
train --data synth --size 32x32 --model "$FOCAL_SOURCE_DIR/examples/small-cnn.net" --out r_small
check small-cnn r_small 10 multilabel images synth/Test

fails "an unwritable output leaves nothing" 1 "no-such-dir" export r_small --onnx no-such-dir/m.onnx
run export r_small --onnx again.onnx --quiet
expect "--quiet prints nothing" test -z "$out" -a "$rc" -eq 0
expect "the same run gives the same bytes" cmp -s small-cnn.onnx again.onnx
expect "no temporary file left" no_temp_files .

# --- every other layer kind and option: strided unbiased conv, batchnorm eps, leaky ReLU,
# --- padded max and average pooling, blocks with and without a shortcut, 1x1 conv,
# --- flatten, dropout, dense + 1-D batchnorm
cat >all.net <<'EOF'
conv 8 5 stride=2 pad=1 bias=0
batchnorm eps=1e-3 momentum=0.2
leakyrelu slope=0.1
maxpool 3 stride=2 pad=1
avgpool 3 stride=1 pad=1
block 16 stride=2
block 16
conv 8 1
relu
flatten
dropout 0.3
dense 32 bias=0
batchnorm
leakyrelu
dense classes
EOF
train --data synth --size 48x40 --model all.net --out r_all
check all-layers r_all 10 multilabel images synth/Test

# --- LDAM's normalised classifier: cosine similarities of normalised rows
printf 'conv 8 3\nrelu\nmaxpool 2\nflatten\ndense 16\nrelu\ndense-norm classes\n' >norm.net
train --data synth --size 32x32 --model norm.net --out r_norm
check dense-norm r_norm 10 multilabel images synth/Test

# --- post-hoc logit adjustment (multi-class table, mlp): the shift is a constant in the graph --
imbalanced_table 777 > m3.csv
train --data m3.csv --model mlp --epochs 2 --out r_plain
train --data m3.csv --model mlp --epochs 2 --posthoc-la 1 --out r_posthoc
check mlp-plain r_plain 3 multiclass table m3.csv 600
check mlp-posthoc r_posthoc 3 multiclass table m3.csv 600
if [ "$have_ort" -eq 1 ] && [ -s mlp-posthoc.in.csv ] && [ -s mlp-plain.in.csv ]; then
    expect "the adjusted model's probabilities differ from the plain run's (ONNX Runtime tells them apart)" \
        bash -c '! node "$0/run_ort.js" mlp-posthoc.onnx mlp-posthoc.in.npy mlp-plain.in.csv >/dev/null 2>&1' "$HERE"
fi
if [ "$have_checker" -eq 1 ] && [ -s mlp-posthoc.onnx ]; then
    expect "the graph adds logit_shift before the softmax and records tau" "$PY" -c '
import sys, onnx
m = onnx.load(sys.argv[1])
ops = [(n.op_type, list(n.input)) for n in m.graph.node]
meta = {p.key: p.value for p in m.metadata_props}
sys.exit(not (ops[-2] == ("Add", ["logits", "logit_shift"]) and ops[-1][0] == "Softmax"
              and ops[-1][1] == ["adjusted_logits"] and meta.get("posthoc_la_tau") == "1"))' mlp-posthoc.onnx
fi

# --- RetinaMNIST (multi-class, softmax): resnet-mini and keras-cnn -------------------------
npz=$DATA/medmnist/retinamnist.npz
if [ -f "$npz" ]; then
    mkdir -p retina retina-train
    "$INPUTS" pngs "$npz" retina 32 || bad "onnx_inputs pngs"
    # resnet-mini trains on 240 of the training images (as class folders), to keep the test short
    "$INPUTS" classes "$npz" retina-train 240 || bad "onnx_inputs classes"
    train --data retina-train --size 28x28 --model resnet-mini --batch 64 --out r_resnet
    check resnet-mini r_resnet 5 multiclass images retina
    train --data "$npz" --model keras-cnn --batch 64 --out r_keras
    check keras-cnn r_keras 5 multiclass images retina
else
    echo "skip: RetinaMNIST ($npz not found)"
fi

# --- the ten RFMiD photographs (multi-label, fundus crop) -----------------------------------
rfmid=$DATA/rfmid
if [ -f "$rfmid/RFMiD_Training_Labels.csv" ] && [ -f "$rfmid/images/10.png" ]; then
    # the training labels of the ten photographs there are (IDs 1-10)
    head -n 11 "$rfmid/RFMiD_Training_Labels.csv" >RFMiD_Training_Labels.csv
    train --data RFMiD_Training_Labels.csv --images "$rfmid/images" --labels Disease_Risk,DR,MH,ODC,TSLN,ARMD \
        --size 64x64 --crop --model keras-cnn --batch 8 --val-frac 0.3 --out r_rfmid
    check rfmid-keras-cnn r_rfmid 6 multilabel images "$rfmid/images"
else
    echo "skip: RFMiD photographs ($rfmid/images not found)"
fi

# --- a table with missing values (binary, one sigmoid output): mlp -----------------------------
table=$DATA/tabular/breast-cancer-wisconsin.csv
if [ -f "$table" ]; then
    train --data "$table" --model mlp --out r_mlp
    check mlp r_mlp 1 binary table "$table" 699
    if [ "$have_ort" -eq 1 ]; then
        # the comparison can fail: one probability off by 2e-5
        awk -F, -v OFS=, 'NR == 2 { $2 += 2e-5 } 1' mlp.in.csv >mlp.off.csv
        expect "a reference off by 2e-5 fails the comparison" \
            bash -c '! node "$0/run_ort.js" mlp.onnx mlp.in.npy mlp.off.csv >/dev/null 2>&1' "$HERE"
    fi
    # a table read by image layers: the [N, F] input becomes [N, F, 1, 1] for them
    printf 'conv 6 1\nbatchnorm\nrelu\ngap\ndense classes\n' >table-conv.net
    train --data "$table" --model table-conv.net --out r_tconv
    check table-conv r_tconv 1 binary table "$table" 699
    expect "the table's rows with '?' are among those compared" test "$(grep -c '?' "$table")" -gt 0
else
    echo "skip: the UCI table ($table not found)"
fi

finish
