#!/usr/bin/env python3
"""Writes tests/fixtures/train_reference_<net>.safetensors: a few training steps of
small networks in PyTorch, read by tests/train/test_train_reference.c to check
focal's forward pass, every parameter gradient, the batch-norm running
statistics and the optimisers, step by step.

Run from anywhere with the system Python (torch, torchvision, numpy):

    python3 tools/gen_train_reference.py

The output paths are derived from this file's location. The output is
deterministic (fixed seeds, single thread, float32 throughout as in focal).

What each file holds (safetensors; the format is written here directly):
  input                      F32 (N, C, H, W)   the batch
  target                     F32 (N, classes)   sigmoid head: multi-label 0/1
                             I32 (N)            softmax head: class indices
  init/<name>                F32                every parameter and buffer of the
                                                network before training, named as
                                                focal_model_tensor names them
  <opt>/step<k>/loss         F64 (1)            the loss of step k (k = 0..K-1),
                                                computed in float32 by torch
  <opt>/step<k>/logits       F32 (N, classes)   training-mode forward of step k
  <opt>/step<k>/grad/<name>  F32                d loss / d parameter at step k
  <opt>/step<k>/<buffer>     F32                batch-norm running statistics
                                                after step k's forward
  <opt>/final/<name>         F32                parameters after the K updates
for <opt> in sgd and adam, each run from the same initial tensors.
The header metadata (all strings) describes the network (description text,
input shape, classes, head), the loss, each optimiser's settings, K, the
parameters kept out of weight decay, the versions used, and, as "noise.*",
how far these float32 values are from the same step recomputed in float64
(max |f32 − f64| / max |f64| over each quantity): the part of any difference
that is float32 rounding alone. "check.finite_differences" is the worst
relative disagreement, at step 0, between the float64 autograd gradients and
central differences of the float64 loss at three elements of every parameter
(asserted below 1e-5).

Networks: conv with kernel sizes 1, 2, 3 and 5, strides 1 and 2, default and
explicit padding, with and without bias; batch norm over images and over flat
features, with default and explicit momentum/eps; ReLU and leaky ReLU; max
and average pooling with and without padding; flatten, global average
pooling, dense; residual blocks with an identity shortcut, a channel-changing
one and a strided one. No dropout (the generators differ). Batch-norm
weights, biases and running statistics start away from 1/0 so that a missing
γ or β term cannot hide. No bias feeds a batch norm directly: its gradient
would be rounding noise, which Adam would turn into arbitrary updates.

Losses: sigmoid head — torchvision.ops.sigmoid_focal_loss(alpha=0.25,
gamma=2, reduction="mean"); softmax head — mean over rows of
−(1 − p_t)^2 log p_t (focal's softmax-focal with no smoothing or weights).
Optimisers: torch.optim.SGD(lr 0.05, momentum 0.9, weight decay 1e-4 on conv
and dense weights, none on biases and batch-norm parameters — focal's default
split) and torch.optim.Adam(lr 1e-3, no weight decay).
"""

import copy
import json
import os
import platform
import struct
import sys

import numpy as np
import torch
import torchvision
from torchvision.ops import sigmoid_focal_loss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import focal_torch  # noqa: E402

FORMAT_TAG = "focal-train-reference 1"
STEPS = 5
BATCH = 8
IN_SHAPE = (3, 12, 12)

NETWORKS = [
    {
        "name": "cnn_sigmoid",
        "seed": 1234,
        "classes": 4,
        "head": "sigmoid",
        "desc": """# plain CNN, multi-label sigmoid-focal head
conv 8 3                          # 8x12x12, bias, default pad 1
relu
batchnorm
conv 12 5 stride=2 pad=1 bias=0   # 12x5x5
batchnorm momentum=0.2 eps=1e-3
leakyrelu slope=0.1
maxpool 2 stride=1                # 12x4x4
conv 10 2 pad=0 bias=0            # 10x3x3
avgpool 3 stride=2 pad=1          # 10x2x2, padded zeros counted
flatten                           # 40
batchnorm momentum=0.05           # per feature over the batch
dense 16
leakyrelu
dense classes
""",
    },
    {
        "name": "resnet_softmax",
        "seed": 4321,
        "classes": 5,
        "head": "softmax",
        "desc": """# small ResNet, softmax-focal head
conv 8 3 bias=0                   # 8x12x12
batchnorm
relu
block 8                           # identity shortcut
maxpool 3 stride=2 pad=1          # 8x6x6
block 12                          # channels change: 1x1 conv + BN shortcut
block 16 stride=2                 # 16x3x3, strided shortcut
conv 16 1                         # 1x1 with bias
leakyrelu
gap
dense classes
""",
    },
]

SGD = {"lr": 0.05, "momentum": 0.9, "nesterov": 0, "weight_decay": 1e-4, "decay_all": 0}
ADAM = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}
ALPHA, GAMMA = 0.25, 2.0


def loss_of(head, logits, target):
    """The batch loss of the head's focal loss (mean reduction)."""
    if head == "sigmoid":
        return sigmoid_focal_loss(logits, target, alpha=ALPHA, gamma=GAMMA, reduction="mean")
    return focal_torch.softmax_focal(logits, target, GAMMA)


def perturb_batchnorm(net, gen):
    """Moves every batch norm's γ, β and running statistics off their
    defaults (γ 1, β 0, mean 0, var 1)."""
    with torch.no_grad():
        for mod in net.modules():
            if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                c = mod.num_features
                mod.weight.copy_(0.6 + 0.8 * torch.rand(c, generator=gen))
                mod.bias.copy_(0.4 * torch.rand(c, generator=gen) - 0.2)
                mod.running_mean.copy_(0.2 * torch.randn(c, generator=gen))
                mod.running_var.copy_(0.5 + torch.rand(c, generator=gen))


def make_optimiser(kind, net, no_decay):
    """torch.optim.SGD with weight decay on every parameter not in no_decay,
    or torch.optim.Adam, with the settings above."""
    if kind == "sgd":
        decay = [p for n, p in net.named_parameters() if n not in no_decay]
        plain = [p for n, p in net.named_parameters() if n in no_decay]
        return torch.optim.SGD([{"params": decay, "weight_decay": SGD["weight_decay"]},
                                {"params": plain, "weight_decay": 0.0}],
                               lr=SGD["lr"], momentum=SGD["momentum"], nesterov=bool(SGD["nesterov"]))
    return torch.optim.Adam(net.parameters(), lr=ADAM["lr"], betas=(ADAM["beta1"], ADAM["beta2"]),
                            eps=ADAM["eps"], weight_decay=ADAM["weight_decay"])


def rel_dev(a, b):
    """max |a − b| / max |b| (b the float64 value)."""
    a, b = a.detach().double(), b.detach().double()
    scale = b.abs().max().item()
    return (a - b).abs().max().item() / scale if scale > 0 else (a - b).abs().max().item()


def float64_noise(snapshot, x, target, head, logits, loss, net, noise):
    """Recomputes one step in float64 from `snapshot` (a copy of the float32
    network taken before the step's forward) and raises noise[quantity] to
    the worst relative deviation of the float32 logits, loss and net's
    parameter gradients from it."""
    net64 = snapshot.double()
    logits64 = net64(x.double())
    loss64 = loss_of(head, logits64, target.double() if head == "sigmoid" else target)
    loss64.backward()
    grads64 = dict(net64.named_parameters())
    worst = {"logits": rel_dev(logits, logits64), "loss": rel_dev(loss, loss64)}
    worst["grad"] = max(rel_dev(p.grad, grads64[n].grad) for n, p in net.named_parameters())
    for k, v in worst.items():
        noise[k] = max(noise.get(k, 0.0), v)
    return net64


def check_finite_differences(net64, x, target, head, h=1e-6, per_tensor=3):
    """Asserts that autograd's float64 gradients in net64 (after backward)
    agree with central differences of the float64 loss at a few elements of
    every parameter; returns the worst |autograd − difference| / max(|a|, 1e-3)."""
    gen = torch.Generator().manual_seed(0)
    x64 = x.double()
    t64 = target.double() if head == "sigmoid" else target
    worst = 0.0
    with torch.no_grad():
        for name, p in net64.named_parameters():
            flat, gflat = p.data.view(-1), p.grad.view(-1)
            for i in torch.randperm(flat.numel(), generator=gen)[:per_tensor].tolist():
                old = flat[i].item()
                flat[i] = old + h
                lp = loss_of(head, net64(x64), t64).item()
                flat[i] = old - h
                lm = loss_of(head, net64(x64), t64).item()
                flat[i] = old
                a, d = gflat[i].item(), (lp - lm) / (2 * h)
                err = abs(a - d) / max(abs(a), 1e-3)
                assert err < 1e-5, "%s[%d]: autograd %.9g, central difference %.9g" % (name, i, a, d)
                worst = max(worst, err)
    return worst


def run(spec):
    """Builds one network, trains it STEPS steps with each optimiser from the
    same initial tensors, and returns (tensors, metadata, float32 noise,
    finite-difference check) for its reference file. (Batch norm's
    num_batches_tracked is not reset between the runs; with a fixed momentum
    PyTorch does not use it.)"""
    torch.manual_seed(spec["seed"])
    gen = torch.Generator().manual_seed(spec["seed"] + 1)
    net, _ = focal_torch.build_network(spec["desc"], *IN_SHAPE, spec["classes"])
    perturb_batchnorm(net, gen)
    net.train()
    init = [(k, v.detach().clone()) for k, v in focal_torch.state_tensors(net)]
    param_names = [n for n, _ in net.named_parameters()]
    buffer_names = [k for k, _ in init if k not in param_names]
    no_decay = focal_torch.no_decay_names(net)

    x = torch.randn(BATCH, *IN_SHAPE, generator=gen)
    if spec["head"] == "sigmoid":
        target = (torch.rand(BATCH, spec["classes"], generator=gen) < 0.3).float()
    else:
        target = torch.randint(0, spec["classes"], (BATCH,), generator=gen, dtype=torch.int32)

    tensors = [("input", x), ("target", target)]
    tensors += [("init/" + k, v) for k, v in init]
    noise, fd_worst = {}, 0.0
    for opt_kind in ("sgd", "adam"):
        net.load_state_dict({k: v.clone() for k, v in init}, strict=False)
        opt = make_optimiser(opt_kind, net, no_decay)
        for k in range(STEPS):
            pre = "%s/step%d/" % (opt_kind, k)
            opt.zero_grad(set_to_none=False)
            snapshot = copy.deepcopy(net)
            logits = net(x)
            loss = loss_of(spec["head"], logits, target)
            loss.backward()
            net64 = float64_noise(snapshot, x, target, spec["head"], logits, loss, net, noise)
            if k == 0:
                fd_worst = max(fd_worst, check_finite_differences(net64, x, target, spec["head"]))
            tensors.append((pre + "loss", torch.tensor([loss.item()], dtype=torch.float64)))
            tensors.append((pre + "logits", logits.detach().clone()))
            for name, p in net.named_parameters():
                tensors.append((pre + "grad/" + name, p.grad.detach().clone()))
            opt.step()
            for b in buffer_names:
                tensors.append((pre + b, net.state_dict()[b].detach().clone()))
        for name, p in net.named_parameters():
            tensors.append(("%s/final/%s" % (opt_kind, name), p.detach().clone()))

    versions = "python %s, torch %s, torchvision %s, numpy %s" % (
        platform.python_version(), torch.__version__, torchvision.__version__, np.__version__)
    meta = {
        "format": FORMAT_TAG,
        "generator": "python3 tools/gen_train_reference.py",
        "versions": versions,
        "description": spec["desc"],
        "input_shape": ",".join(str(d) for d in IN_SHAPE),
        "batch": str(BATCH),
        "classes": str(spec["classes"]),
        "head": spec["head"],
        "loss": "sigmoid-focal" if spec["head"] == "sigmoid" else "softmax-focal",
        "loss.alpha": repr(ALPHA) if spec["head"] == "sigmoid" else "-1",
        "loss.gamma": repr(GAMMA),
        "loss.reduction": "mean",
        "steps": str(STEPS),
        "optimisers": "sgd,adam",
        "no_decay": ",".join(n for n in param_names if n in no_decay),
    }
    for k, v in SGD.items():
        meta["sgd." + k] = repr(v)
    for k, v in ADAM.items():
        meta["adam." + k] = repr(v)
    for k, v in noise.items():
        meta["noise." + k] = "%.3g" % v
    meta["check.finite_differences"] = "%.3g" % fd_worst
    return tensors, meta, noise, fd_worst


DTYPES = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"), torch.int32: ("I32", "<i4")}


def write_safetensors(path, tensors, meta):
    """Writes (name, tensor) pairs and string metadata as a safetensors file.
    8-byte tensors come first so every tensor starts aligned to its element."""
    order = sorted(range(len(tensors)), key=lambda i: -tensors[i][1].element_size())
    header, blobs, offset = {}, [], 0
    for i in order:
        name, t = tensors[i]
        if name in header:
            raise ValueError("duplicate tensor name " + name)
        dt, npdt = DTYPES[t.dtype]
        raw = t.detach().contiguous().numpy().astype(npdt, copy=False).tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
    for spec in NETWORKS:
        tensors, meta, noise, fd_worst = run(spec)
        path = os.path.normpath(os.path.join(out_dir, "train_reference_%s.safetensors" % spec["name"]))
        write_safetensors(path, tensors, meta)
        print("wrote %s (%d tensors, %d bytes); float32 vs float64: %s; "
              "float64 autograd vs central differences: %.2g" % (
                  os.path.relpath(path), len(tensors), os.path.getsize(path),
                  ", ".join("%s %.2g" % kv for kv in sorted(noise.items())), fd_worst))


if __name__ == "__main__":
    main()
