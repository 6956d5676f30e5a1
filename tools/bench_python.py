#!/usr/bin/python3
"""bench_python.py — focal's Python drop-ins against the PyTorch losses they replace.

    /usr/bin/python3 tools/bench_python.py [--build build] [--threads 2] [--reps 15] [--warmup 2]

Times forward + backward (loss.backward() on the reduced loss, as in
training) on the same float32 CPU tensors, in the same process, with the same
thread count for both (torch.set_num_threads(N) and focal's N), alternating
one repetition of each side so that both see the same machine load:

    sigmoid-focal  focal.torch.sigmoid_focal_loss(x, y, alpha=0.25, gamma=2, reduction="mean")
                   vs torchvision.ops.sigmoid_focal_loss(...) with autograd
    softmax-focal  focal.torch.FocalLoss(gamma=2)(x, t)   (mean over rows)
                   vs a torch softmax focal loss: log_softmax, gather,
                   -(1 - p_t)^2 log p_t, mean (focal.nets.softmax_focal)

Shapes and inputs as tools/bench_loss.c (logits N(0,1); 5% positives; uniform
classes). Prints a table with each side's median million elements per second,
the ratio and the largest difference between the two losses and gradients.
The package is taken from BUILD/python (cmake --build assembles it there).
"""
import argparse
import os
import statistics
import sys
import time

WORKLOADS = [("sigmoid-focal", 65536, 64), ("sigmoid-focal", 1048576, 16),
             ("softmax-focal", 65536, 64), ("softmax-focal", 1048576, 16)]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(here, os.pardir, "build"), help="the CMake build folder")
    ap.add_argument("--threads", type=int, default=2, help="threads for both sides (default 2)")
    ap.add_argument("--reps", type=int, default=15, help="timed repetitions of each side (median reported)")
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(os.path.abspath(args.build), "python"))
    try:
        import torch
        import torchvision
        from torchvision.ops import sigmoid_focal_loss as tv_sigmoid_focal_loss
    except ImportError as e:
        print("bench_python: %s; install: apt-get install python3-torch python3-torchvision" % e, file=sys.stderr)
        return 3
    import focal
    import focal.torch as ft
    from focal.nets import softmax_focal

    torch.set_num_threads(args.threads)
    focal.set_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    print("focal %s (kernels %s), torch %s, torchvision %s; %d threads each; float32; median of %d; "
          "forward + backward" % (focal.__version__, focal.isa(), torch.__version__, torchvision.__version__,
                                  args.threads, args.reps))
    print("%-14s %-11s %13s %14s %11s %10s" % ("workload", "shape", "focal Melem/s", "torch Melem/s", "focal/torch",
                                               "max |diff|"))
    for name, n, c in WORKLOADS:
        x = torch.randn(n, c, generator=gen)
        if name == "sigmoid-focal":
            y = (torch.rand(n, c, generator=gen) < 0.05).float()
            ours = lambda z: ft.sigmoid_focal_loss(z, y, alpha=0.25, gamma=2, reduction="mean")  # noqa: E731
            peer = lambda z: tv_sigmoid_focal_loss(z, y, alpha=0.25, gamma=2, reduction="mean")  # noqa: E731
        else:
            y = torch.randint(0, c, (n,), generator=gen)
            crit = ft.FocalLoss(gamma=2.0)
            ours = lambda z: crit(z, y)  # noqa: E731
            peer = lambda z: softmax_focal(z, y, 2.0)  # noqa: E731
        times = {"ours": [], "peer": []}
        grads = {}
        losses = {}
        for i in range(args.warmup + args.reps):
            for side, fn in (("ours", ours), ("peer", peer)):
                z = x.detach().requires_grad_()
                t0 = time.perf_counter()
                loss = fn(z)
                loss.backward()
                t1 = time.perf_counter()
                if i >= args.warmup:
                    times[side].append(t1 - t0)
                grads[side], losses[side] = z.grad, loss.item()
        diff = max(abs(losses["ours"] - losses["peer"]), (grads["ours"] - grads["peer"]).abs().max().item())
        mo = n * c / statistics.median(times["ours"]) / 1e6
        mp = n * c / statistics.median(times["peer"]) / 1e6
        print("%-14s %-11s %13.1f %14.1f %10.1fx %10.2g" % (name, "%dx%d" % (n, c), mo, mp, mo / mp, diff),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
