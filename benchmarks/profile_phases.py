"""Where an eager training step's time goes, unprofiled: per phase and per backward rule.

    PYTHONPATH=. python benchmarks/profile_phases.py [--size tiny] [--steps 3000]

Phases (medians over steps, us): forward (3 nn.Linear, 2 relu), loss (nn.CrossEntropyLoss),
backward (`loss.backward()`), SGD (`p.sub_(p.grad, alpha=lr); p.grad = None`), against the
hand-written NumPy step. Rules: each op's backward rule timed inside the walk (perf_counter around
`op.backward`); backward minus the rules is the engine (walk, gradient routing, leaf .grad, freeing
the graph). Costs inside a whole step are 1.5-2x what timeit gives for the same call in isolation
(cache pressure): compare variants by swapping a function in one process, whole steps interleaved.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlp  # noqa: E402
from speed import SIZES, LR  # noqa: E402

import autograd  # noqa: E402


def _median(v):
    v = sorted(v)
    return v[len(v) // 2]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="tiny", choices=list(SIZES))
    ap.add_argument("--steps", type=int, default=3000)
    args = ap.parse_args(argv)
    batch, sizes = SIZES[args.size]
    w = mlp.init_weights(sizes)
    m = mlp.TapeMLP(w, linear="nn")
    x, y = m.data(*mlp.make_batch(batch, sizes[0], sizes[-1]))
    nm = mlp.NumpyMLP(w)
    xn, yn = mlp.make_batch(batch, sizes[0], sizes[-1])
    pc = time.perf_counter
    warm = args.steps // 10

    phases = {k: [] for k in ("forward", "loss", "backward", "sgd", "step")}
    for i in range(args.steps + warm):
        t0 = pc()
        out = m.forward(x)
        t1 = pc()
        loss = m.loss(out, y)
        t2 = pc()
        loss.backward()
        t3 = pc()
        with autograd.no_grad():
            for p in m.params:
                p.sub_(p.grad, alpha=LR)
                p.grad = None
        t4 = pc()
        if i >= warm:
            for k, v in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0)):
                phases[k].append(v)
    floor = []
    for i in range(args.steps + warm):
        t0 = pc()
        nm.step(xn, yn, LR)
        if i >= warm:
            floor.append(pc() - t0)
    fl = _median(floor) * 1e6
    print(f"{args.size}: " + ", ".join(f"{k} {_median(v) * 1e6:.1f}" for k, v in phases.items())
          + f" us | NumPy step {fl:.1f} us | ratio {_median(phases['step']) * 1e6 / fl:.2f}x")

    # per rule, timed inside the walk
    ops, stack = {}, [m.loss(m.forward(x), y).grad_fn]
    while stack:
        node = stack.pop()
        ops[node.op.name] = node.op
        stack += [e[0] for e in node.next if type(e) is tuple]
    times, orig = {}, {}

    def timed(op):
        f = orig[op.name] = op.backward

        def rule(ctx, *g):
            t0 = pc()
            r = f(ctx, *g)
            times.setdefault(op.name, []).append(pc() - t0)
            return r
        return rule
    for op in ops.values():
        op.backward = timed(op)
    try:
        bw = []
        for i in range(args.steps + warm):
            loss = m.loss(m.forward(x), y)
            t0 = pc()
            loss.backward()
            if i >= warm:
                bw.append(pc() - t0)
            for p in m.params:
                p.grad = None
    finally:
        for op in ops.values():
            op.backward = orig[op.name]
    total = 0.0
    for name, v in times.items():
        per = len(v) / (args.steps + warm)
        med = _median(v[int(warm * per):]) * 1e6
        total += per * med
        print(f"  rule {name:24s} x{per:.0f} per step  {med:6.2f} us median")
    b = _median(bw) * 1e6
    print(f"  backward {b:.1f} us = rules {total:.1f} + engine {b - total:.1f}")


if __name__ == "__main__":
    main()
