#!/usr/bin/python3
"""Checks a focal checkpoint against PyTorch.

Reads the safetensors file with numpy (no `safetensors` package needed),
builds the equivalent torch network from the "description" metadata with the
same state_dict names (sequential layers are named by their 0-based index
among the description's layers; `block` is a ResNet basic block with children
conv1, bn1, conv2, bn2 and, when the shape changes, shortcut = Sequential(1x1
conv without bias, BN)), checks that every tensor name and shape matches
exactly, loads the weights and runs the network in eval mode.

With --input (raw little-endian float32, N x C x H x W) and --expect (raw
float32 logits, N x classes, from libfocal) it prints the largest absolute
difference between our logits and PyTorch's (float32 and float64) and exits
non-zero above --tol. Without --input it runs a seeded random batch and
prints the logits.

`FOCAL_KEEP_CHECKPOINT_DIR=1 build/tests/test_checkpoint` writes
NAME.safetensors, NAME.input.f32 and NAME.logits.f32 files into a directory
it prints; --dir checks every such triple in it.

Run: /usr/bin/python3 tools/check_checkpoint.py --dir DIR
     /usr/bin/python3 tools/check_checkpoint.py model.safetensors --input x.f32 --expect logits.f32
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import focal_torch  # noqa: E402  (the translator from focal's text format to torch)
from focal.run import read_safetensors  # noqa: E402  (the package's reader; needs numpy, not libfocal)

def load_network(path):
    """(torch network in eval mode with the checkpoint's weights, metadata)."""
    tensors, meta = read_safetensors(path)
    if meta.get("format") != "focal-checkpoint":
        raise ValueError("%s: not a focal checkpoint" % path)
    c, h, w = (int(v) for v in meta["input"].split(","))
    net, _ = focal_torch.build_network(meta["description"], c, h, w, int(meta["classes"]))
    want = dict(focal_torch.state_tensors(net))
    missing = sorted(set(want) - set(tensors))
    extra = sorted(set(tensors) - set(want))
    if missing or extra:
        raise ValueError("%s: names differ from torch's state_dict: missing %s, extra %s" % (path, missing, extra))
    for k, v in want.items():
        if tuple(v.shape) != tensors[k].shape:
            raise ValueError("%s: %s has shape %s, torch wants %s" % (path, k, tensors[k].shape, tuple(v.shape)))
    state = {k: torch.from_numpy(tensors[k]) for k in want}
    result = net.load_state_dict(state, strict=False)
    assert not result.unexpected_keys
    assert all(k.endswith("num_batches_tracked") for k in result.missing_keys)
    net.eval()
    return net, meta, (c, h, w)


def check(path, input_path, expect_path, tol, seed, batch):
    """Runs one checkpoint; returns the max abs difference (0 if nothing to compare)."""
    net, meta, (c, h, w) = load_network(path)
    classes = int(meta["classes"])
    if input_path:
        x = np.fromfile(input_path, dtype="<f4")
        if x.size % (c * h * w):
            raise ValueError("%s: %d floats is not a multiple of %dx%dx%d" % (input_path, x.size, c, h, w))
        x = x.reshape(-1, c, h, w)
    else:
        x = np.random.default_rng(seed).uniform(-1, 1, size=(batch, c, h, w)).astype(np.float32)
    with torch.no_grad():
        y32 = net(torch.from_numpy(x)).numpy()
        y64 = net.double()(torch.from_numpy(x).double()).numpy()
    name = os.path.basename(path)
    nparams = sum(v.numel() for v in net.parameters())
    if not expect_path:
        print("%s: %d parameters, head %s, logits for %d random inputs (seed %d):" %
              (name, nparams, meta["head"], x.shape[0], seed))
        print(np.array2string(y32, precision=6))
        return 0.0
    ours = np.fromfile(expect_path, dtype="<f4").reshape(-1, classes)
    if ours.shape != y32.shape:
        raise ValueError("%s: %s logits, torch gives %s" % (expect_path, ours.shape, y32.shape))
    d32 = float(np.max(np.abs(ours - y32)))
    d64 = float(np.max(np.abs(ours.astype(np.float64) - y64)))
    scale = float(np.max(np.abs(y64)))
    verdict = "ok" if d32 <= tol else "FAIL"
    print("%-26s %9d params  %d x %s  max|ours-torch32| %.3g  max|ours-torch64| %.3g  (max|logit| %.3g)  %s" %
          (name, nparams, x.shape[0], "x".join(map(str, (c, h, w))), d32, d64, scale, verdict))
    return d32


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", nargs="?", help="a focal .safetensors checkpoint")
    ap.add_argument("--input", help="raw float32 input, N x C x H x W")
    ap.add_argument("--expect", help="raw float32 logits from libfocal, N x classes")
    ap.add_argument("--dir", help="check every NAME.safetensors with NAME.input.f32 and NAME.logits.f32 in DIR")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest absolute difference accepted (1e-4)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random input without --input")
    ap.add_argument("--batch", type=int, default=2, help="random inputs without --input")
    args = ap.parse_args()
    torch.manual_seed(0)
    print("torch %s, numpy %s" % (torch.__version__, np.__version__))
    worst = 0.0
    if args.dir:
        paths = sorted(p for p in glob.glob(os.path.join(args.dir, "*.safetensors")) if ".optim." not in p)
        if not paths:
            sys.exit("no checkpoints in %s" % args.dir)
        for p in paths:
            stem = p[:-len(".safetensors")]
            inp, exp = stem + ".input.f32", stem + ".logits.f32"
            worst = max(worst, check(p, inp if os.path.exists(inp) else None,
                                     exp if os.path.exists(exp) else None, args.tol, args.seed, args.batch))
    elif args.checkpoint:
        if args.expect and not args.input:
            sys.exit("--expect needs --input")
        worst = check(args.checkpoint, args.input, args.expect, args.tol, args.seed, args.batch)
    else:
        ap.error("give a checkpoint or --dir")
    print("worst max abs difference: %.3g (tolerance %.3g)" % (worst, args.tol))
    sys.exit(0 if worst <= args.tol else 1)


if __name__ == "__main__":
    main()
