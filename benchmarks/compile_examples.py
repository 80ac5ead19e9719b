"""The examples' training steps, eager against `autograd.compile`, interleaved.

examples/digits_mlp.py (Linear 64-256, ReLU, Dropout, Linear 256-10, Adam) and
examples/digits_cnn.py (Conv2d, BatchNorm2d, ReLU, MaxPool2d x2, Flatten, Dropout, Linear, AdamW),
batch 32, on random batches of the examples' shapes (no scikit-learn needed); examples/gpt.py's
GPT (nanoGPT's model and step: AdamW with decay groups, gradient clipping, zero_grad(set_to_none))
in a small config (2 layers x 48 wide, 4 heads, 8 sequences of 32 tokens, vocabulary 64). Each round times
`--steps` calls of the eager step, then of the compiled step (warmed up: its traces are done
before timing), alternating which goes first; medians of the per-round means. Then a check that
both runs, started from the same weights and seed, gave bitwise the same losses.

    PYTHONPATH=. python benchmarks/compile_examples.py [--rounds 9] [--steps 20] [--models mlp,cnn,gpt]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mlp  # noqa: E402  (pins BLAS threads before NumPy loads, as speed.py)
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
sys.path.insert(0, os.path.join(HERE, ".."))

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402


GPT_CONFIG = dict(block_size=32, vocab_size=64, n_layer=2, n_head=4, n_embd=48, dropout=0.0, bias=True)
GPT_BATCH = 8


def build(name):
    if name == "gpt":
        import gpt
        model = gpt.GPT(gpt.GPTConfig(**GPT_CONFIG))
        return model, model.configure_optimizers(0.1, 1e-3, (0.9, 0.95)), (GPT_BATCH, GPT_CONFIG["block_size"])
    if name == "mlp":
        from digits_mlp import build_model
        model = build_model()
        return model, nn.optim.Adam(model.parameters(), lr=3e-3), (32, 64)
    from digits_cnn import build_model
    model = build_model()
    return model, nn.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2), (32, 1, 8, 8)


def make_step(model, opt, name="mlp"):
    if name == "gpt":                      # examples/gpt.py's training step
        def gpt_step(x, y):
            _, loss = model(x, y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss
        return gpt_step
    ce = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = ce(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def pair(name, n_batches):
    rng = np.random.default_rng(0)
    steps, shape = {}, None
    for kind in ("eager", "compiled"):
        ag.manual_seed(0)
        model, opt, shape = build(name)
        model.train()
        s = make_step(model, opt, name)
        steps[kind] = ag.compile(s) if kind == "compiled" else s
    if name == "gpt":
        v = GPT_CONFIG["vocab_size"]
        data = [(ag.tensor(rng.integers(0, v, shape)), ag.tensor(rng.integers(0, v, shape))) for _ in range(n_batches)]
    else:
        data = [(ag.tensor(rng.standard_normal(shape).astype(np.float32)), ag.tensor(rng.integers(0, 10, shape[0])))
                for _ in range(n_batches)]
    return steps, data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--models", default="mlp,cnn,gpt")
    args = ap.parse_args(argv)
    print(f"BLAS/OpenMP threads pinned to {mlp.THREADS}")
    for name in args.models.split(","):
        steps, data = pair(name, args.steps)
        losses = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for k, f in steps.items():              # the same dropout draws for both: reseeded
                ag.manual_seed(1)
                losses[k] = [f(*data[i]).item() for i in range(min(4, len(data)))]
        for w in caught:
            if "autograd.compile" in str(w.message):
                print(f"{name}: {w.message}")
        same = losses["eager"] == losses["compiled"]
        times = {"eager": [], "compiled": []}
        for r in range(args.rounds):
            order = ("eager", "compiled") if r % 2 == 0 else ("compiled", "eager")
            for k in order:
                f = steps[k]
                t0 = time.perf_counter()
                for x, y in data:
                    f(x, y)
                times[k].append((time.perf_counter() - t0) / len(data) * 1e6)
        st = steps["compiled"].stats
        e, c = statistics.median(times["eager"]), statistics.median(times["compiled"])
        print(f"{name}: eager {e:.0f} us/step, compiled {c:.0f} us/step, speed-up {e / c:.2f}x "
              f"(rounds {args.rounds} x {args.steps} steps; compiled: {st.traces} traces, {st.replays} replays, "
              f"{st.eager_calls} eager calls; first {len(losses['eager'])} losses equal: {same})")


if __name__ == "__main__":
    main()
