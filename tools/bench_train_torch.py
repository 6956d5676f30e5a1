#!/usr/bin/python3
"""bench_train_torch.py — the PyTorch peer of tools/bench_train.c.

    /usr/bin/python3 tools/bench_train_torch.py --threads N [--rows A,B,...] --desc PRESET=TEXT ...

Times whole training steps in float32 on the CPU with N torch threads, for the
rows bench_train.c times in the library: the same network (built from the same
description text by tools/focal_torch.py, so layer sizes and state_dict names
match), the same input size, batch, loss and optimiser:

    keras-cnn rows    torchvision.ops.sigmoid_focal_loss(alpha=0.25, gamma=2,
                      reduction='mean'), torch.optim.Adam(lr=1e-3)
    resnet-mini rows  softmax focal loss, gamma 2, mean over rows
                      (log_softmax, gather, -(1 - p_t)^2 log p_t),
                      torch.optim.SGD(lr=0.01, momentum=0.9) with weight decay
                      5e-4 on conv and dense weights only

Each step is optimizer.zero_grad(set_to_none=True), forward, loss, backward,
optimizer.step(), timed as a whole with time.perf_counter; after untimed
warm-up steps the median of the timed steps is reported. The data are one
synthetic batch (inputs N(0,1); sigmoid targets 0/1 with 10% positives;
softmax classes uniform) drawn from torch's generator and reused every step;
the initialisation is torch's default. Neither matches the C side bit for bit,
and throughput does not depend on them.

The descriptions are passed in, as bench_train.c does, with --desc
PRESET=TEXT (TEXT may be @FILE to read it from a file); the preset names are
the first word of each row's name.

Each row runs in its own Python process (this script re-executed with
--one-row NAME), so that the peak resident memory it reports
(resource.getrusage ru_maxrss, which includes torch itself) is that row's own;
start_rss_kib is the peak once torch is imported, before the network exists.

Output, on stdout, one machine-readable line each (bench_train.c parses them):
    info torch=<version> torchvision=<version> threads=<N>
    row=<name> c=<C> h=<H> w=<W> batch=<B> median_s=<s> min_s=<s> max_s=<s>
        loss_first=<v> loss_last=<v> maxrss_kib=<KiB> start_rss_kib=<KiB>
        nivcsw_per_step=<involuntary context switches per timed step>
        load1=<1-minute load average at the row's start>        (one line)
    row_failed=<name> error=<message>
If torch or torchvision cannot be imported it prints
    unavailable=<reason>; install: apt-get install python3-torch python3-torchvision
and exits with status 3. Bad arguments exit with status 2 (argparse).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchpeer import (EXIT_UNAVAILABLE, int_at_least, report_info,  # noqa: E402
                       report_unavailable)

# name: (preset, (C, H, W), batch, classes, head, warm-up steps, timed steps);
# the rows of bench_train.c's table, in its order.
ROWS = {
    "keras-cnn-96x144": ("keras-cnn", (3, 96, 144), 32, 45, "sigmoid", 3, 10),
    "keras-cnn-300x450": ("keras-cnn", (3, 300, 450), 16, 45, "sigmoid", 2, 5),
    "resnet-mini-28x28": ("resnet-mini", (3, 28, 28), 64, 5, "softmax", 3, 10),
    "resnet-mini-64x64": ("resnet-mini", (3, 64, 64), 64, 5, "softmax", 2, 6),
}
POSITIVE_RATE = 0.1
EXIT_ROW_FAILED = 4     # the row's process already printed row_failed=


def parse_desc(arg):
    """argparse type for --desc PRESET=TEXT or PRESET=@FILE: (preset, text)."""
    name, sep, text = arg.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected PRESET=TEXT or PRESET=@FILE, got '{arg[:40]}'")
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise argparse.ArgumentTypeError(f"{text[1:]}: {e.strerror}")
    return name, text


def run_row(name, desc, threads, seed):
    """Runs one row in this process and prints its row= line. Returns the exit status."""
    try:
        import resource
        import torch
        import torch.nn.functional as F
        import torchvision
        from torchvision.ops import sigmoid_focal_loss
        import focal_torch  # beside this script, on sys.path since the top
    except ImportError as e:
        return report_unavailable(e)

    preset, (c, h, w), batch, classes, head, warmup, steps = ROWS[name]
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    report_info(torch, torchvision)
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # interpreter + torch imported
    try:
        net, _ = focal_torch.build_network(desc, c, h, w, classes)
        net.train()
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(batch, c, h, w, generator=gen, dtype=torch.float32)
        if head == "sigmoid":
            y = (torch.rand(batch, classes, generator=gen) < POSITIVE_RATE).to(torch.float32)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)

            def loss_fn(logits):
                return sigmoid_focal_loss(logits, y, alpha=0.25, gamma=2, reduction="mean")
        else:
            y = torch.randint(0, classes, (batch,), generator=gen, dtype=torch.int64)
            no_decay = focal_torch.no_decay_names(net)
            named = list(net.named_parameters())
            groups = [
                {"params": [p for n, p in named if n not in no_decay], "weight_decay": 5e-4},
                {"params": [p for n, p in named if n in no_decay], "weight_decay": 0.0},
            ]
            opt = torch.optim.SGD(groups, lr=0.01, momentum=0.9)

            def loss_fn(logits):
                return focal_torch.softmax_focal(logits, y, 2.0)

        times, losses = [], []
        load1 = os.getloadavg()[0]
        csw0 = 0
        for i in range(warmup + steps):
            if i == warmup:
                csw0 = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x))
            loss.backward()
            opt.step()
            t1 = time.perf_counter()
            if i >= warmup:
                times.append(t1 - t0)
            losses.append(loss.item())
    except Exception as e:  # reported to bench_train as this row's failure
        msg = " ".join(str(e).split())[:300]
        print(f"row_failed={name} error={type(e).__name__}: {msg}", flush=True)
        return EXIT_ROW_FAILED
    ru = resource.getrusage(resource.RUSAGE_SELF)
    rss, csw = ru.ru_maxrss, (ru.ru_nivcsw - csw0) / steps
    print(f"row={name} c={c} h={h} w={w} batch={batch} median_s={statistics.median(times):.9g} "
          f"min_s={min(times):.9g} max_s={max(times):.9g} loss_first={losses[0]:.9g} "
          f"loss_last={losses[-1]:.9g} maxrss_kib={rss} start_rss_kib={start_rss} "
          f"nivcsw_per_step={csw:.3g} load1={load1:.2f}", flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description="PyTorch peer of bench_train: whole training steps")
    ap.add_argument("--threads", type=int_at_least(1), required=True, help="torch.set_num_threads(N)")
    ap.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows (default: all)")
    ap.add_argument("--desc", type=parse_desc, action="append", default=[], metavar="PRESET=TEXT",
                    help="a preset's description text, or @FILE (bench_train passes them)")
    ap.add_argument("--seed", type=int, default=0, help="seed of torch's data and initialisation")
    ap.add_argument("--one-row", metavar="NAME", help=argparse.SUPPRESS)
    args = ap.parse_args()

    descs = dict(args.desc)
    rows = [r for r in args.rows.split(",") if r] if args.one_row is None else [args.one_row]
    for r in rows:
        if r not in ROWS:
            ap.error(f"unknown row '{r}'; valid: {', '.join(ROWS)}")
        if ROWS[r][0] not in descs:
            ap.error(f"row '{r}' needs --desc {ROWS[r][0]}=TEXT (bench_train passes it)")

    if args.one_row is not None:
        return run_row(args.one_row, descs[ROWS[args.one_row][0]], args.threads, args.seed)

    # One process per row; this one imports nothing heavy, so a child starts small.
    for r in rows:
        preset = ROWS[r][0]
        cmd = [sys.executable, os.path.abspath(__file__), "--one-row", r, "--threads", str(args.threads),
               "--seed", str(args.seed), "--desc", f"{preset}={descs[preset]}"]
        sys.stdout.flush()
        rc = subprocess.run(cmd).returncode
        if rc == EXIT_UNAVAILABLE:
            return EXIT_UNAVAILABLE
        if rc not in (0, EXIT_ROW_FAILED):
            how = f"killed by signal {-rc}" if rc < 0 else f"exited with status {rc}"
            print(f"row_failed={r} error=the row's process {how}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
