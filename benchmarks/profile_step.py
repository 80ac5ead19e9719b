"""cProfile of tapegrad's training step (the input to PROFILE.md).

    PYTHONPATH=. python benchmarks/profile_step.py [--size small] [--steps 2000] [--top 25]

Prints, per function: % of total time (own time, then cumulative), calls per step and us per call.
cProfile inflates cheap Python calls, so read the shares, not the absolute times; the unprofiled
us/step is printed first for scale.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlp  # noqa: E402
from speed import SIZES, LR  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="small", choices=list(SIZES))
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--linear", default="nn", choices=["xw", "xwt", "nn"])
    ap.add_argument("--loss", default="index", choices=["index", "onehot"])
    ap.add_argument("--sort", default="tottime", choices=["tottime", "cumtime"])
    args = ap.parse_args(argv)
    batch, sizes = SIZES[args.size]
    w = mlp.init_weights(sizes)
    m = mlp.TapeMLP(w, linear=args.linear, loss=args.loss)
    x, y = m.data(*mlp.make_batch(batch, sizes[0], sizes[-1]))
    for _ in range(50):
        m.step(x, y, LR)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        m.step(x, y, LR)
    plain = (time.perf_counter() - t0) / args.steps
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(args.steps):
        m.step(x, y, LR)
    pr.disable()
    st = pstats.Stats(pr)
    total = st.total_tt
    print(f"# tapegrad {args.size} (batch {batch}, {sizes}), linear={args.linear}, loss={args.loss}: "
          f"{plain * 1e6:.0f} us/step unprofiled, {total / args.steps * 1e6:.0f} us/step under cProfile")
    rows = []
    for (fn, line, name), (cc, nc, tt, ct, _) in st.stats.items():
        rows.append((tt if args.sort == "tottime" else ct, tt, ct, nc, f"{os.path.relpath(fn) if fn != '~' else ''}:{line}({name})"))
    rows.sort(reverse=True)
    print(f"{'own%':>6} {'cum%':>6} {'calls/step':>10} {'us/call':>8}  function")
    for _, tt, ct, nc, where in rows[:args.top]:
        print(f"{100 * tt / total:6.1f} {100 * ct / total:6.1f} {nc / args.steps:10.1f} {tt / nc * 1e6:8.2f}  {where}")


if __name__ == "__main__":
    main()
