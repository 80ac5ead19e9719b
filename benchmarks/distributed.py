"""Distributed benchmarks on 2 MPI ranks (loopback): all-reduce latency and bandwidth over message sizes,
the digits CNN's training step on 1 vs 2 processes, and what overlapping the all-reduce with backward
saves. Medians of repeated, interleaved measurements.

    python -m autograd.distributed.run --nproc-per-node 2 benchmarks/distributed.py      # 2 ranks
    python benchmarks/distributed.py --single                                             # 1-rank step time

Rank 0 prints a markdown table (and appends nothing anywhere: copy figures into RESULTS.md).
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path[:0] = [_ROOT, os.path.join(_ROOT, "examples")]

import autograd as ag  # noqa: E402
import autograd.distributed as dist  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
from nn.parallel import DistributedDataParallel as DDP  # noqa: E402


def median_time(fn, reps, warm=3):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def allreduce_table(rank):
    rows = []
    for kib in (1, 16, 256, 1024, 4096, 16384, 65536):
        n = kib * 1024 // 4
        t = ag.ones(n)
        reps = 200 if kib <= 256 else (30 if kib <= 4096 else 8)
        dist.barrier()
        s = median_time(lambda: dist.all_reduce(t), reps)
        rows.append((kib, s))
    if rank == 0:
        print("| message | all-reduce median | bus bandwidth |")
        print("|---|---|---|")
        for kib, s in rows:
            size = f"{kib} KiB" if kib < 1024 else f"{kib // 1024} MiB"
            # ring all-reduce moves 2 (n - 1) / n of the message per rank: bus bandwidth as nccl-tests
            bw = kib * 1024 * 2 * (dist.get_world_size() - 1) / dist.get_world_size() / s / 1e9
            print(f"| {size} | {s * 1e6:.1f} µs | {bw:.2f} GB/s |")


def cnn_setup(world, rank, batch):
    from common import load_digits_split
    from digits_cnn import build_model
    xtr, ytr, _, _ = load_digits_split(0, images=True)
    ag.manual_seed(0)
    model = build_model()
    x = ag.tensor(xtr[rank * batch:(rank + 1) * batch])
    y = ag.tensor(ytr[rank * batch:(rank + 1) * batch])
    return model, x, y


def step_times(rank, world, batch, reps):
    model, x, y = cnn_setup(world, rank, batch)
    ddp = DDP(model) if world > 1 else model
    opt = nn.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)

    def overlapped():
        opt.zero_grad()
        F.cross_entropy(ddp(x), y).backward()
        opt.step()

    params = [p for p in model.parameters()]

    def after_backward():                     # the same communication, started only after backward
        opt.zero_grad()
        with ddp.no_sync():
            F.cross_entropy(ddp(x), y).backward()
        flat = ag.cat([p.grad.reshape(-1) for p in params])
        dist.all_reduce(flat)
        flat /= world
        off = 0
        for p in params:
            n = p.numel()
            p.grad.copy_(flat[off:off + n].reshape(p.shape))
            off += n
        opt.step()

    if world == 1:
        return {"step": median_time(overlapped, reps)}
    a, b = [], []
    for _ in range(5):                           # interleaved rounds
        dist.barrier()
        a.append(median_time(overlapped, reps // 5, warm=2))
        dist.barrier()
        b.append(median_time(after_backward, reps // 5, warm=2))
    return {"step": statistics.median(a), "after": statistics.median(b)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--single", action="store_true")
    ap.add_argument("--batch", type=int, default=64, help="per-process batch of the CNN step")
    ap.add_argument("--reps", type=int, default=50)
    args = ap.parse_args()
    if args.single:
        t = step_times(0, 1, args.batch, args.reps)["step"]
        print(f"digits CNN step, 1 process, batch {args.batch}: {t * 1e3:.2f} ms")
        return
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    allreduce_table(rank)
    t = step_times(rank, world, args.batch, args.reps)
    if rank == 0:
        print(f"\ndigits CNN step, {world} processes, batch {args.batch} each: DDP (all-reduce overlapped with "
              f"backward) {t['step'] * 1e3:.2f} ms; all-reduce after backward {t['after'] * 1e3:.2f} ms")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
