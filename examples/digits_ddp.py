"""The digits CNN (digits_cnn.py's model) trained data-parallel on several processes: each rank gets its
share of every epoch from a DistributedSampler, DistributedDataParallel averages gradients across ranks
during backward, and rank 0 alone evaluates, prints and writes the checkpoint.

Run on 2 processes (either form):
    python -m autograd.distributed.run --nproc-per-node 2 examples/digits_ddp.py [--epochs N]
    mpiexec -n 2 python examples/digits_ddp.py
Run on 1 process (the same program, for comparison): python examples/digits_ddp.py --single
Needs the 'distributed' extra (mpi4py + MPICH) and 'examples' (scikit-learn's bundled digits).
"""
import argparse
import os
import sys
import time

import autograd
import autograd.distributed as dist
import nn
import nn.functional as F
from common import load_digits_split
from digits_cnn import build_model
from nn.parallel import DistributedDataParallel as DDP


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=32, help="per process (the global batch is this x ranks)")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--single", action="store_true", help="train in this one process, without MPI")
    p.add_argument("--out", default="runs/digits_ddp")
    args = p.parse_args(argv)

    if not args.single:
        dist.init_process_group("mpi")
    rank = dist.get_rank() if dist.is_initialized() else 0
    world = dist.get_world_size() if dist.is_initialized() else 1

    xtr, ytr, xte, yte = load_digits_split(args.seed, images=True)
    train = nn.data.TensorDataset(autograd.tensor(xtr), autograd.tensor(ytr))
    autograd.manual_seed(args.seed + rank)        # different on purpose: DDP makes rank 0's weights win
    model = build_model()
    if dist.is_initialized():
        sampler = nn.data.DistributedSampler(train, shuffle=True, seed=args.seed)
        model = DDP(model)
    else:
        sampler = nn.data.RandomSampler(train)
    loader = nn.data.DataLoader(train, batch_size=args.batch_size, sampler=sampler)
    opt = nn.optim.AdamW(model.parameters(), lr=args.lr * world ** 0.5, weight_decay=1e-2)

    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        if isinstance(sampler, nn.data.DistributedSampler):
            sampler.set_epoch(epoch)
        model.train()
        total, seen = 0.0, 0
        for x, y in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
            seen += len(y)
        if rank == 0:                              # evaluate the wrapped module: a collective-free forward
            model.eval()
            with autograd.no_grad():
                inner = model.module if isinstance(model, DDP) else model
                acc = (inner(autograd.tensor(xte)).argmax(1) == autograd.tensor(yte)).float().mean().item()
            print(f"epoch {epoch + 1}/{args.epochs}  rank-0 train loss {total / seen:.4f}  test accuracy {acc:.3f}  "
                  f"({world} process{'es' if world > 1 else ''}, {time.perf_counter() - t0:.1f} s)", flush=True)
    if rank == 0:                                  # checkpoints: rank 0 only
        os.makedirs(args.out, exist_ok=True)
        try:
            nn.save(inner.state_dict(), os.path.join(args.out, "model.safetensors"))
        except ImportError:
            print("(no checkpoint: install the 'checkpoint' extra for safetensors)", file=sys.stderr)
    if dist.is_initialized():
        dist.destroy_process_group()
    return acc if rank == 0 else None


if __name__ == "__main__":
    main()
