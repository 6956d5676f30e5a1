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
import struct
import sys

import numpy as np
import torch
from torch import nn

DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U8": "u1"}


def read_safetensors(path):
    """Returns ({name: numpy array}, {metadata key: value}) for a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("%s: truncated" % path)
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError("%s: header says %d bytes, file has %d" % (path, n, len(data) - 8))
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        if not 0 <= begin <= end <= len(body):
            raise ValueError("%s: tensor %s: offsets %r out of range" % (path, name, t["data_offsets"]))
        arr = np.frombuffer(body[begin:end], dtype=DTYPES[t["dtype"]])
        tensors[name] = arr.reshape(t["shape"]).copy()
    return tensors, meta


class GAP(nn.Module):
    """Global average pool to (N, C), as focal's `gap`."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


class BasicBlock(nn.Module):
    """conv3-BN-ReLU-conv3-BN + shortcut (1x1 conv + BN when the shape changes), add, ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (self.shortcut(x) if self.shortcut is not None else x))


def parse_line(line):
    """Tokens of one description line: (kind, positional args, {key: value})."""
    toks = line.split()
    pos = [t for t in toks[1:] if "=" not in t]
    keys = dict(t.split("=", 1) for t in toks[1:] if "=" in t)
    return toks[0], pos, keys


def conv_out(size, k, stride, pad):
    return (size + 2 * pad - k) // stride + 1


def build(desc, c, h, w, classes):
    """The torch equivalent of a focal description for c x h x w inputs."""
    layers = []
    flat = False
    for raw in desc.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, pos, keys = parse_line(line)
        if kind == "conv":
            oc, k = int(pos[0]), int(pos[1])
            stride, pad = int(keys.get("stride", 1)), int(keys.get("pad", k // 2))
            layers.append(nn.Conv2d(c, oc, k, stride, pad, bias=keys.get("bias", "1") == "1"))
            c, h, w = oc, conv_out(h, k, stride, pad), conv_out(w, k, stride, pad)
        elif kind == "batchnorm":
            bn = nn.BatchNorm1d if flat else nn.BatchNorm2d
            layers.append(bn(c, eps=float(keys.get("eps", 1e-5)), momentum=float(keys.get("momentum", 0.1))))
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "leakyrelu":
            layers.append(nn.LeakyReLU(float(keys.get("slope", 0.01))))
        elif kind in ("maxpool", "avgpool"):
            k = int(pos[0])
            stride, pad = int(keys.get("stride", k)), int(keys.get("pad", 0))
            if kind == "maxpool":
                layers.append(nn.MaxPool2d(k, stride, pad))
            else:
                layers.append(nn.AvgPool2d(k, stride, pad, count_include_pad=True))
            h, w = conv_out(h, k, stride, pad), conv_out(w, k, stride, pad)
        elif kind == "gap":
            layers.append(GAP())
            h = w = 1
            flat = True
        elif kind == "dropout":
            layers.append(nn.Dropout(float(pos[0])))
        elif kind == "flatten":
            layers.append(nn.Flatten())
            c, h, w = c * h * w, 1, 1
            flat = True
        elif kind == "dense":
            n = classes if pos[0] == "classes" else int(pos[0])
            layers.append(nn.Linear(c, n, bias=keys.get("bias", "1") == "1"))
            c = n
        elif kind == "block":
            oc, stride = int(pos[0]), int(keys.get("stride", 1))
            layers.append(BasicBlock(c, oc, stride))
            c, h, w = oc, conv_out(h, 3, stride, 1), conv_out(w, 3, stride, 1)
        else:
            raise ValueError("unknown layer %r" % kind)
    return nn.Sequential(*layers)


def load_network(path):
    """(torch network in eval mode with the checkpoint's weights, metadata)."""
    tensors, meta = read_safetensors(path)
    if meta.get("format") != "focal-checkpoint":
        raise ValueError("%s: not a focal checkpoint" % path)
    c, h, w = (int(v) for v in meta["input"].split(","))
    net = build(meta["description"], c, h, w, int(meta["classes"]))
    want = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
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
        if bool(args.input) != bool(args.expect) and args.expect:
            sys.exit("--expect needs --input")
        worst = check(args.checkpoint, args.input, args.expect, args.tol, args.seed, args.batch)
    else:
        ap.error("give a checkpoint or --dir")
    print("worst max abs difference: %.3g (tolerance %.3g)" % (worst, args.tol))
    sys.exit(0 if worst <= args.tol else 1)


if __name__ == "__main__":
    main()
