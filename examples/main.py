"""The main job: train the digits MLP end to end, then show what the tape costs for that model.

The table compares one forward pass of the trained model over the whole training set (1,437
images, eval mode in both rows) recorded for backward against the same pass under
`autograd.no_grad()`: the traced peak during the pass and what is still held after it (the output
plus, when recording, everything the tape saved for backward), measured with tracemalloc on the
NumPy backend (NumPy reports its buffers to tracemalloc) above a baseline taken just before the
pass. The last column is the memory ledger's count of bytes saved for backward,
`autograd.tape_report(out).total_bytes`.

Run: python examples/main.py [--quick] [--epochs N] [--out DIR]
"""
import gc
import time
import tracemalloc

import autograd
from common import load_digits_split, parse_args, run
from digits_mlp import build


def forward_memory(model, x, record):
    """(peak bytes during the forward, bytes still held after it, ledger bytes) above the baseline."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        if record:
            out = model(x)
        else:
            with autograd.no_grad():
                out = model(x)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    saved = autograd.tape_report(out).total_bytes if out.grad_fn is not None else 0
    return peak - base, held - base, saved


def mib(n):
    return f"{n / 2**20:8.2f} MiB"


def main(argv=None):
    t0 = time.perf_counter()
    args = parse_args(__doc__.splitlines()[0], epochs=30, lr=3e-3, batch_size=32, argv=argv)
    args.device = "cpu"              # tracemalloc sees NumPy's buffers, not a GPU's
    model, history = run("digits_mlp", build, args)

    xtr = autograd.tensor(load_digits_split(args.seed, subset=(256, 128) if args.quick else None)[0])
    model.eval()
    rows = [("tape recording", *forward_memory(model, xtr, True)),
            ("under no_grad", *forward_memory(model, xtr, False))]
    print(f"\nmemory of one forward of the digits MLP over {xtr.shape[0]} images (eval mode, NumPy backend)")
    print(f"{'':<22}{'peak during':>14}{'held after':>14}{'saved for backward':>22}")
    for name, peak, held, saved in rows:
        print(f"{name:<22}{mib(peak):>14}{mib(held):>14}{mib(saved):>22}")
    (_, p1, h1, s1), (_, p0, h0, _) = rows
    x_bytes = xtr.numel() * xtr.element_size()
    print(f"recording keeps {mib(h1 - h0).strip()} more alive until backward ({h1 / max(h0, 1):.0f}x); the peak "
          f"ratio is {p1 / max(p0, 1):.2f}x:\nthe peak comes while one layer's input and output are both alive, which "
          f"happens with or without a tape.\n"
          f"The ledger's {mib(s1).strip()} also counts the input batch ({mib(x_bytes).strip()}), "
          f"which the tape references but which existed before the pass.")
    print(f"\nmain job done in {time.perf_counter() - t0:.1f} s")
    return history, rows


if __name__ == "__main__":
    main()
