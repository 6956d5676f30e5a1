#!/usr/bin/python3
"""bench_loss_torch.py — the PyTorch peer of tools/bench_loss.c.

    /usr/bin/python3 tools/bench_loss_torch.py --threads N [--reps R] [--warmup W]

Times, in float32 on the CPU with N torch threads, forward + backward (autograd)
of the losses bench_loss.c times in the library, on the same shapes and the same
input distributions (logits N(0,1); sigmoid targets hard 0/1 with 5% positives;
softmax classes uniform), each side drawing its own random data:

    sigmoid-focal  torchvision.ops.sigmoid_focal_loss(x, y, alpha=0.25, gamma=2, reduction='mean')
    softmax-focal  log_softmax, gather, -(1 - p_t)^2 log p_t, mean
    bce            F.binary_cross_entropy_with_logits(x, y)       (mean)
    ce             F.cross_entropy(x, t)                          (mean)

x requires grad; its gradient is reset to None before every repetition, as
optimizer.zero_grad() does, and each repetition is one loss + .backward().

Output, on stdout, one machine-readable line each (the C program parses them):
    info torch=<version> torchvision=<version> threads=<N>
    workload=<name> n=<rows> c=<classes> median_s=<s> min_s=<s> max_s=<s> loss=<value>
If torch or torchvision cannot be imported it prints
    unavailable=<reason>; install: apt-get install python3-torch python3-torchvision
and exits with status 3. Bad arguments exit with status 2 (argparse).
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchpeer import int_at_least, report_info, report_unavailable  # noqa: E402

# (name, rows, classes): the rows of bench_loss.c's table, in its order.
WORKLOADS = [
    ("sigmoid-focal", 65536, 64),
    ("sigmoid-focal", 1048576, 16),
    ("softmax-focal", 65536, 64),
    ("softmax-focal", 1048576, 16),
    ("bce", 65536, 64),
    ("ce", 65536, 64),
]
POSITIVE_RATE = 0.05


def make_case(torch, F, sigmoid_focal_loss, name, n, c, gen):
    """Returns (x, target, loss_fn) for one workload: x (n, c) float32 leaf that
    requires grad, target as the loss expects it, loss_fn(x, target) -> scalar."""
    x = torch.randn(n, c, generator=gen, dtype=torch.float32).requires_grad_()
    if name in ("sigmoid-focal", "bce"):
        y = (torch.rand(n, c, generator=gen) < POSITIVE_RATE).to(torch.float32)
    else:
        y = torch.randint(0, c, (n,), generator=gen, dtype=torch.int64)

    if name == "sigmoid-focal":
        def fn(x, y):
            return sigmoid_focal_loss(x, y, alpha=0.25, gamma=2, reduction="mean")
    elif name == "softmax-focal":
        import focal_torch  # beside this script; needs torch, imported by now

        def fn(x, y):
            return focal_torch.softmax_focal(x, y, 2.0)
    elif name == "bce":
        def fn(x, y):
            return F.binary_cross_entropy_with_logits(x, y)
    elif name == "ce":
        def fn(x, y):
            return F.cross_entropy(x, y)
    else:
        raise ValueError(f"unknown workload {name}")
    return x, y, fn


def time_case(x, y, fn, warmup, reps):
    """Seconds per forward+backward for each of `reps` timed repetitions after
    `warmup` untimed ones, and the loss value of the last one."""
    times = []
    loss_value = float("nan")
    for i in range(warmup + reps):
        x.grad = None
        t0 = time.perf_counter()
        loss = fn(x, y)
        loss.backward()
        t1 = time.perf_counter()
        if i >= warmup:
            times.append(t1 - t0)
        loss_value = loss.item()
    return times, loss_value


def main():
    ap = argparse.ArgumentParser(description="PyTorch peer of bench_loss: fused loss fwd+bwd timings")
    ap.add_argument("--threads", type=int_at_least(1), required=True, help="torch.set_num_threads(N)")
    ap.add_argument("--reps", type=int_at_least(1), default=15, help="timed repetitions (median reported)")
    ap.add_argument("--warmup", type=int_at_least(0), default=2, help="untimed repetitions first")
    ap.add_argument("--seed", type=int, default=0, help="seed of torch's random inputs")
    args = ap.parse_args()

    try:
        import torch
        import torch.nn.functional as F
        import torchvision
        from torchvision.ops import sigmoid_focal_loss
    except ImportError as e:
        return report_unavailable(e)

    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    report_info(torch, torchvision)
    for name, n, c in WORKLOADS:
        x, y, fn = make_case(torch, F, sigmoid_focal_loss, name, n, c, gen)
        times, loss = time_case(x, y, fn, args.warmup, args.reps)
        print(f"workload={name} n={n} c={c} median_s={statistics.median(times):.9g} "
              f"min_s={min(times):.9g} max_s={max(times):.9g} loss={loss:.9g}", flush=True)
        del x, y
    return 0


if __name__ == "__main__":
    sys.exit(main())
