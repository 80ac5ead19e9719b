"""Training-step speed: tapegrad against hand-written NumPy (the floor) and PyTorch CPU; with
`--device cuda`, against hand-written CuPy (the same floor code on the GPU) and PyTorch CUDA,
every clock reading after a device synchronize.

One process, contenders interleaved in rounds (tapegrad eager, tapegrad through `autograd.compile`,
PyTorch), medians per step and ratios to the NumPy floor;
then the per-op overhead of a tiny add with and without recording; then a check that every
contender, started from the same weights on the same batch, reaches the same losses.

    PYTHONPATH=. python benchmarks/speed.py [--quick] [--sizes wide,small] [--rounds 15] [--device cuda]
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlp  # noqa: E402  (pins threads before NumPy loads)
from mlp import np, torch, mygrad, autograd  # noqa: E402

# name: (batch, layer sizes)
SIZES = {
    "wide": (256, [784, 512, 512, 10]),
    "small": (32, [64, 64, 64, 10]),
    "tiny": (8, [16, 16, 16, 10]),
    "deep": (64, [256] * 33 + [10]),
}
TARGETS = {"wide": 1.05, "deep": 1.10, "small": 2.5, "tiny": 3.0}
#: issue 14's targets for the compiled step (autograd.compile), ratio to the NumPy floor
TARGETS_COMPILED = {"wide": 1.03, "deep": 1.05, "small": 1.4, "tiny": 1.5}
LR = 0.01


#: the device the contenders run on ("cpu", or "cuda": CuPy floor, tapegrad on CuPy, PyTorch CUDA)
DEVICE = "cpu"


def floor_xp():
    """The hand-written floor's array library: NumPy, or CuPy on --device cuda."""
    if DEVICE == "cuda":
        import cupy
        return cupy
    return np


def sync():
    """Wait for queued GPU work (CuPy's and PyTorch's) before a clock reading; nothing on the CPU."""
    if DEVICE == "cuda":
        floor_xp().cuda.Device().synchronize()
        if torch is not None:
            torch.cuda.synchronize()


#: peers beside PyTorch that are installed (MyGrad runs on NumPy only)
WITH_MYGRAD = False


def contenders(weights, x, y, linear, loss, with_torch, with_compiled=True):
    dev = {} if DEVICE == "cpu" else {"device": DEVICE}
    models = {"numpy": mlp.NumpyMLP(weights, xp=floor_xp()),
              "tapegrad": mlp.TapeMLP(weights, linear=linear, loss=loss, **dev)}
    if with_compiled:       # the same model, its step through autograd.compile (traced, then replayed)
        models["compiled"] = mlp.TapeMLP(weights, linear=linear, loss=loss, **dev)
    if with_torch:
        models["torch"] = mlp.TorchMLP(weights, device=DEVICE)
    if WITH_MYGRAD:
        models["mygrad"] = mlp.MyGradMLP(weights)
    return models


def step_fn(name, model):
    return autograd.compile(model.step) if name == "compiled" else model.step


def bench_sizes(names, rounds, target_s, linear, loss, with_torch, with_compiled=True):
    rows = []
    for name in names:
        batch, sizes = SIZES[name]
        w = mlp.init_weights(sizes)
        x, y = mlp.make_batch(batch, sizes[0], sizes[-1])
        models = contenders(w, x, y, linear, loss, with_torch, with_compiled)
        fns = {k: (lambda f=step_fn(k, m), d=m.data(x, y): f(*d, LR)) for k, m in models.items()}
        for f in fns.values():        # warm up: the compiled step traces on its first two calls
            for _ in range(3):
                f()
        res = mlp.time_rounds(fns, rounds, target_s, sync=sync)
        med = {k: mlp.median(v) for k, v in res.items()}
        rows.append((name, batch, sizes, med, {k: (min(v), max(v)) for k, v in res.items()}))
    return rows


def print_speed(rows, with_torch):
    floor = "cupy" if DEVICE == "cuda" else "numpy"
    print(f"\n## Training step (forward, loss, backward, SGD), float32, {DEVICE.upper()}: median us/step, "
          f"ratio to hand-written {'CuPy' if DEVICE == 'cuda' else 'NumPy'}")
    hdr = f"{'size':6} {'batch':>5} {'layers':>16} {floor:>9} {'tapegrad':>9} {'ratio':>6} {'target':>6}"
    compiled = "compiled" in rows[0][3] if rows else False
    if compiled:
        hdr += f" {'compiled':>9} {'ratio':>6} {'target':>6}"
    if with_torch:
        hdr += f" {'torch':>9} {'ratio':>6}"
    mg = "mygrad" in rows[0][3] if rows else False
    if mg:
        hdr += f" {'mygrad':>9} {'ratio':>6}"
    print(hdr)
    for name, batch, sizes, med, _ in rows:
        shape = f"{sizes[0]}-{sizes[1]}x{len(sizes) - 2}-{sizes[-1]}" if len(sizes) > 5 else "-".join(map(str, sizes))
        n = med["numpy"]
        line = (f"{name:6} {batch:5d} {shape:>16} {n * 1e6:9.1f} {med['tapegrad'] * 1e6:9.1f} "
                f"{med['tapegrad'] / n:5.2f}x {TARGETS[name]:5.2f}x")
        if compiled:
            line += f" {med['compiled'] * 1e6:9.1f} {med['compiled'] / n:5.2f}x {TARGETS_COMPILED[name]:5.2f}x"
        if with_torch:
            line += f" {med['torch'] * 1e6:9.1f} {med['torch'] / n:5.2f}x"
        if mg:
            line += f" {med['mygrad'] * 1e6:9.1f} {med['mygrad'] / n:5.2f}x"
        print(line)


def bench_op_overhead(rounds, n_calls):
    """us per `a + b` on 1-element tensors: not recording / recording, tapegrad and PyTorch."""
    dev = {} if DEVICE == "cpu" else {"device": DEVICE}
    a = autograd.tensor([1.0], **dev)
    b = autograd.tensor([2.0], **dev)
    ar = autograd.tensor([1.0], requires_grad=True, **dev)
    xp = floor_xp()
    na, nb = xp.array([1.0], xp.float32), xp.array([2.0], xp.float32)

    def loop(x, y):
        def f():
            for _ in range(n_calls):
                x + y
        return f

    fns = {"numpy": loop(na, nb), "tapegrad no-record": loop(a, b), "tapegrad record": loop(ar, b)}
    if torch is not None:
        fns["torch no-record"] = loop(torch.tensor([1.0], device=DEVICE), torch.tensor([2.0], device=DEVICE))
        fns["torch record"] = loop(torch.tensor([1.0], requires_grad=True, device=DEVICE),
                                   torch.tensor([2.0], device=DEVICE))
    res = mlp.time_rounds(fns, rounds, target_s=0.05, sync=sync)
    return {k: mlp.median(v) / n_calls for k, v in res.items()}


def print_overhead(ov):
    print(f"\n## Per-op overhead: a + b on 1-element float32 tensors ({DEVICE}), median us/call")
    print(f"{'contender':20} {'us/op':>7}")
    for k, v in ov.items():
        print(f"{k:20} {v * 1e6:7.2f}")
    if "torch record" in ov:
        r = ov["tapegrad record"] / ov["torch record"]
        print(f"tapegrad record / torch record = {r:.2f}x (target < 1)")


def same_loss_check(names, steps, linear, loss, with_torch, with_compiled=True):
    print(f"\n## Same-loss check: every contender from the same weights and batch, {steps} SGD steps")
    worst = 0.0
    for name in names:
        batch, sizes = SIZES[name]
        w = mlp.init_weights(sizes)
        x, y = mlp.make_batch(batch, sizes[0], sizes[-1])
        models = contenders(w, x, y, linear, loss, with_torch, with_compiled)
        losses = {}
        for k, m in models.items():
            d = m.data(x, y)
            f = step_fn(k, m)
            losses[k] = np.array([mlp.as_float(f(*d, LR)) for _ in range(steps)])
        if "compiled" in losses and not np.array_equal(losses["compiled"], losses["tapegrad"]):
            print(f"{name}: compiled losses differ from eager (bitwise): {losses['compiled']} vs {losses['tapegrad']}")
            worst = max(worst, 1.0)
        ref = losses["numpy"]
        diffs = {k: float(np.max(np.abs(v - ref))) for k, v in losses.items() if k != "numpy"}
        worst = max(worst, *diffs.values())
        print(f"{name:6} loss {ref[0]:.6f} -> {ref[-1]:.6f}; max |loss - numpy|: "
              + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
    ok = worst < 1e-4
    print(f"same-loss check: max |loss difference| after {steps} steps = {worst:.2e} "
          f"({'OK' if ok else 'FAILED'}, tolerance 1e-4)")
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a few rounds of short runs (smoke test)")
    ap.add_argument("--sizes", default="wide,small,tiny,deep", help=f"comma-separated from {list(SIZES)}")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 15, quick 3)")
    ap.add_argument("--linear", default="nn", choices=["xw", "xwt", "nn"],
                    help="tapegrad's linear layer: x @ W + b, x @ W.T + b, or nn.Linear (when it exists)")
    ap.add_argument("--loss", default="index", choices=["index", "onehot"], help="how tapegrad picks log p[y]")
    ap.add_argument("--steps", type=int, default=None, help="steps of the same-loss check (default 20, quick 3)")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    ap.add_argument("--no-mygrad", action="store_true", help="leave MyGrad out even if installed")
    ap.add_argument("--no-compile", action="store_true", help="leave out the autograd.compile'd step")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                    help="cuda: tapegrad on CuPy against hand-written CuPy and PyTorch CUDA (synchronized timing)")
    args = ap.parse_args(argv)
    global DEVICE
    DEVICE = args.device
    if DEVICE == "cuda" and not autograd.cuda.is_available():
        ap.error(f"--device cuda: CUDA is not available here ({autograd.cuda.unavailable_reason()})")
    names = [s.strip() for s in args.sizes.split(",") if s.strip()]
    bad = [s for s in names if s not in SIZES]
    if bad:
        ap.error(f"unknown sizes {bad}; choose from {list(SIZES)}")
    rounds = args.rounds or (3 if args.quick else 15)
    target_s = 0.01 if args.quick else 0.15
    steps = args.steps or (3 if args.quick else 20)
    with_torch = torch is not None and not args.no_torch
    global WITH_MYGRAD
    WITH_MYGRAD = mygrad is not None and not args.no_mygrad and DEVICE == "cpu"
    if with_torch and DEVICE == "cuda" and not torch.cuda.is_available():
        print("PyTorch has no CUDA here: left out")
        with_torch = False

    print("# tapegrad speed benchmark")
    print(f"device {DEVICE}; python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"torch {torch.__version__ if torch is not None else 'not installed'}, "
          f"mygrad {mygrad.__version__ if WITH_MYGRAD else 'not installed or left out'}")
    print(mlp.thread_note())
    print(f"tapegrad model: linear={args.linear}, loss={args.loss}; rounds={rounds}, ~{target_s}s per contender "
          f"per round")
    rows = bench_sizes(names, rounds, target_s, args.linear, args.loss, with_torch, not args.no_compile)
    print_speed(rows, with_torch)
    ov = bench_op_overhead(rounds, 200 if args.quick else 2000)
    print_overhead(ov)
    ok = same_loss_check(names, steps, args.linear, args.loss, with_torch, not args.no_compile)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
