#!/usr/bin/env python3
"""Writes tests/fixtures/optim_reference.txt: parameters after every step of
torch.optim.SGD, Adam and AdamW (with learning-rate schedules, warm-up,
gradient clipping and per-group weight decay), read by tests/nn/test_optim.c.

Run from anywhere with the system Python (torch):

    python3 tools/gen_optim_reference.py

The output path is derived from this file's location, so the script writes into
the repository it belongs to. The output is deterministic (fixed seed).

What is computed
  * The network is torch's equivalent of the libfocal description
        conv 3 1 / batchnorm / flatten / dense classes
    for 2×2×2 inputs and 2 classes: nn.Sequential(Conv2d(2, 3, 1),
    BatchNorm2d(3), Flatten(), Linear(12, 2)). Its parameters are listed with
    their state_dict names; weights of the convolution and the dense layer
    decay, biases and batch-norm γ/β do not (libfocal's FOCAL_TENSOR_WEIGHT /
    FOCAL_TENSOR_NO_DECAY). The batch-norm running statistics are buffers and
    are not optimised.
  * Decay and no-decay parameters are two param groups (weight_decay 0 for the
    second), except in cases with decay_all=1, which put every parameter in
    the decaying group.
  * A fixed sequence of float32 gradients (one per step, some large enough to
    be clipped) is assigned to .grad before every step; optimiser steps run
    with foreach=False (torch 1.13's default on CPU).
  * Schedules are those of include/focal.h, evaluated here in float64 and set
    as each group's lr before the step:
        step     lr · step_gamma^floor(t / step_size)
        cosine   min_lr + (lr − min_lr)(1 + cos(π·t / total_steps))/2
        warm-up  × (t + 1)/warmup_steps while t < warmup_steps
    (t = the number of steps already taken).
  * Clipping is torch.nn.utils.clip_grad_norm_(params, clip_norm) before the
    step. The 'norm' written is the global L2 norm of the unclipped gradient
    computed in float64 from the float32 values (torch's float32 norm is
    asserted to agree with it to 1e-6).

Format (after the '#' header lines):
    defaults <kind> key=value ...      torch's own defaults for that optimiser
    tensor <name> <numel> decay=<0|1>  the parameters, in the order values are written
    init <values>                      initial parameters (all tensors concatenated)
    grad <step> <values>               the gradient used at step <step> (0-based)
    cases <N>
    case name=... kind=... <config>    then, per step:
    step <t> lr=<lr used> norm=<norm>
    params <values>                    parameters after the step
    end
    eof <N>
Every float32 value is written as the decimal of the float64 that equals it
exactly, so strtod followed by a cast to float recovers it without rounding.
"""

import math
import os
import platform
import sys

import numpy as np
import torch
from torch import nn

FORMAT_TAG = "focal-optim-reference 1"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "optim_reference.txt")
STEPS = 9

# Config keys in the order a case line writes them; values not set by a case
# are focal_optim_defaults' values for its kind.
CONFIG_KEYS = ["kind", "lr", "momentum", "nesterov", "weight_decay", "beta1", "beta2", "eps",
               "schedule", "step_size", "step_gamma", "total_steps", "min_lr", "warmup_steps",
               "clip_norm", "decay_all"]


def base_config(kind):
    """focal_optim_defaults(kind) as documented in include/focal.h."""
    return {
        "kind": kind, "lr": 0.01 if kind == "sgd" else 0.001, "momentum": 0.0, "nesterov": 0,
        "weight_decay": 0.01 if kind == "adamw" else 0.0, "beta1": 0.9, "beta2": 0.999,
        "eps": 1e-8, "schedule": "constant", "step_size": 1, "step_gamma": 0.1,
        "total_steps": 1, "min_lr": 0.0, "warmup_steps": 0, "clip_norm": 0.0, "decay_all": 0,
    }


CASES = [
    ("sgd-plain", "sgd", dict(lr=0.1)),
    ("sgd-momentum", "sgd", dict(lr=0.05, momentum=0.9)),
    ("sgd-nesterov", "sgd", dict(lr=0.05, momentum=0.9, nesterov=1)),
    ("sgd-wd", "sgd", dict(lr=0.1, weight_decay=0.05)),
    ("sgd-momentum-wd", "sgd", dict(lr=0.05, momentum=0.8, weight_decay=0.02)),
    ("sgd-wd-decay-all", "sgd", dict(lr=0.05, momentum=0.9, weight_decay=0.05, decay_all=1)),
    ("sgd-step", "sgd", dict(lr=0.1, momentum=0.9, schedule="step", step_size=3, step_gamma=0.5)),
    ("sgd-cosine-clip", "sgd", dict(lr=0.1, momentum=0.9, nesterov=1, schedule="cosine",
                                    total_steps=STEPS, min_lr=0.001, clip_norm=1.5)),
    ("sgd-warmup", "sgd", dict(lr=0.2, schedule="constant", warmup_steps=4)),
    ("adam", "adam", dict(lr=0.01)),
    ("adam-wd", "adam", dict(lr=0.01, weight_decay=0.1)),
    ("adam-betas-eps", "adam", dict(lr=0.02, beta1=0.5, beta2=0.99, eps=1e-3)),
    ("adam-clip", "adam", dict(lr=0.01, clip_norm=1.0)),
    ("adam-cosine-warmup", "adam", dict(lr=0.01, schedule="cosine", total_steps=STEPS + 3,
                                        min_lr=1e-4, warmup_steps=3)),
    ("adamw", "adamw", dict(lr=0.01, weight_decay=0.1)),
    ("adamw-defaults", "adamw", dict()),
    ("adamw-decay-all", "adamw", dict(lr=0.01, weight_decay=0.5, decay_all=1)),
    ("adamw-step-warmup-clip", "adamw", dict(lr=0.02, weight_decay=0.2, schedule="step",
                                             step_size=2, step_gamma=0.7, warmup_steps=3,
                                             clip_norm=2.0)),
]


def schedule_lr(cfg, t):
    """The rate of step t (0-based), as include/focal.h defines it."""
    lr = cfg["lr"]
    if cfg["schedule"] == "step":
        lr = cfg["lr"] * cfg["step_gamma"] ** (t // cfg["step_size"])
    elif cfg["schedule"] == "cosine":
        lr = cfg["min_lr"] + (cfg["lr"] - cfg["min_lr"]) * (
            1.0 + math.cos(math.pi * t / cfg["total_steps"])) / 2.0
    if t < cfg["warmup_steps"]:
        lr = lr * (t + 1) / cfg["warmup_steps"]
    return lr


def exact(v):
    """A float32 value as the decimal of the float64 equal to it."""
    return repr(float(v))


def values(arr):
    return " ".join(exact(v) for v in np.asarray(arr, dtype=np.float32).ravel())


def build_network():
    torch.manual_seed(20240611)
    net = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 2))
    with torch.no_grad():
        # γ and β away from their 1/0 start, so that their updates are visible.
        net[1].weight.copy_(1.0 + 0.2 * torch.randn(3))
        net[1].bias.copy_(0.1 * torch.randn(3))
    named = list(net.named_parameters())
    decay = [1 if (name.endswith("weight") and not isinstance(net[int(name.split(".")[0])],
                                                               nn.BatchNorm2d)) else 0
             for name, _ in named]
    return net, named, decay


def gradient_sequence(named):
    """STEPS gradients (a list of float32 arrays per tensor); scales vary so that
    clipping at 1-2 is active on some steps and not on others."""
    rng = np.random.default_rng(7)
    scales = [0.3, 2.5, 0.1, 1.0, 4.0, 0.05, 0.7, 3.0, 0.2]
    seq = []
    for t in range(STEPS):
        seq.append([(scales[t] * rng.standard_normal(tuple(p.shape)) / math.sqrt(7.0))
                    .astype(np.float32) for _, p in named])
    return seq


def run_case(cfg, net, named, decay, init, grads):
    with torch.no_grad():
        for (_, p), v in zip(named, init):
            p.copy_(torch.from_numpy(v))
    params = [p for _, p in named]
    if cfg["decay_all"]:
        groups = [{"params": params, "weight_decay": cfg["weight_decay"]}]
    else:
        groups = [{"params": [p for p, d in zip(params, decay) if d],
                   "weight_decay": cfg["weight_decay"]},
                  {"params": [p for p, d in zip(params, decay) if not d], "weight_decay": 0.0}]
    kind = cfg["kind"]
    if kind == "sgd":
        opt = torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg["momentum"],
                              nesterov=bool(cfg["nesterov"]), foreach=False)
    elif kind == "adam":
        opt = torch.optim.Adam(groups, lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]),
                               eps=cfg["eps"], foreach=False)
    else:
        opt = torch.optim.AdamW(groups, lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]),
                                eps=cfg["eps"], foreach=False)
    out = []
    for t in range(STEPS):
        lr = schedule_lr(cfg, t)
        for g in opt.param_groups:
            g["lr"] = lr
        for p, gv in zip(params, grads[t]):
            p.grad = torch.from_numpy(gv.copy())
        norm = math.sqrt(math.fsum(float(x) * float(x)
                                   for gv in grads[t] for x in gv.ravel().astype(np.float64)))
        if cfg["clip_norm"] > 0:
            tnorm = float(torch.nn.utils.clip_grad_norm_(params, cfg["clip_norm"]))
            assert abs(tnorm - norm) <= 1e-6 * norm, (tnorm, norm)
        opt.step()
        now = np.concatenate([p.detach().numpy().ravel() for p in params])
        assert np.all(np.isfinite(now))
        out.append((lr, norm, now.copy()))
    return out


def config_line(name, cfg):
    parts = ["name=" + name]
    for k in CONFIG_KEYS:
        v = cfg[k]
        parts.append("%s=%s" % (k, repr(v) if isinstance(v, float) else v))
    return "case " + " ".join(parts)


def torch_defaults():
    """Defaults read from torch itself (SGD's lr has no default in torch)."""
    p = [nn.Parameter(torch.zeros(1))]
    lines = []
    sgd = torch.optim.SGD(p, lr=0.1).defaults
    lines.append("defaults sgd momentum=%r nesterov=%d weight_decay=%r dampening=%r"
                 % (float(sgd["momentum"]), int(sgd["nesterov"]), float(sgd["weight_decay"]),
                    float(sgd["dampening"])))
    for name, cls in (("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)):
        d = cls(p).defaults
        lines.append("defaults %s lr=%r beta1=%r beta2=%r eps=%r weight_decay=%r"
                     % (name, float(d["lr"]), float(d["betas"][0]), float(d["betas"][1]),
                        float(d["eps"]), float(d["weight_decay"])))
    return lines


def main():
    torch.set_default_dtype(torch.float32)
    net, named, decay = build_network()
    init = [p.detach().numpy().copy() for _, p in named]
    grads = gradient_sequence(named)

    versions = "python %s, torch %s, numpy %s" % (
        platform.python_version(), torch.__version__, np.__version__)
    lines = [
        "# %s | generated by: python3 tools/gen_optim_reference.py | %s" % (FORMAT_TAG, versions),
        "# Parameters after every step of torch.optim.SGD / Adam / AdamW (foreach=False) on the",
        "# network 'conv 3 1 / batchnorm / flatten / dense classes' (2x2x2 inputs, 2 classes), with",
        "# schedules, warm-up and clip_grad_norm_ as include/focal.h defines them. See the script",
        "# for the format. Do not edit: regenerate.",
    ]
    lines += torch_defaults()
    for (name, p), d in zip(named, decay):
        lines.append("tensor %s %d decay=%d" % (name, p.numel(), d))
    lines.append("init " + values(np.concatenate([v.ravel() for v in init])))
    for t, g in enumerate(grads):
        lines.append("grad %d %s" % (t, values(np.concatenate([v.ravel() for v in g]))))
    lines.append("cases %d" % len(CASES))
    for name, kind, overrides in CASES:
        cfg = base_config(kind)
        for k, v in overrides.items():
            assert k in cfg, k
            cfg[k] = v
        lines.append(config_line(name, cfg))
        for t, (lr, norm, now) in enumerate(run_case(cfg, net, named, decay, init, grads)):
            lines.append("step %d lr=%r norm=%r" % (t, lr, norm))
            lines.append("params " + values(now))
        lines.append("end")
    lines.append("eof %d" % len(CASES))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s: %d cases of %d steps" % (os.path.relpath(OUT), len(CASES), STEPS),
          file=sys.stderr)


if __name__ == "__main__":
    main()
