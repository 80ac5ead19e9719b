"""Peak memory of an MLP's forward pass: recording, no_grad, and a full training step.

The MLP is `depth` layers of width x width (x @ W + b, ReLU between layers, none after the last).
One activation is A = batch * width * itemsize bytes. Measured:
  * tapegrad on NumPy through tracemalloc (NumPy reports its buffers to it); figures are above
    what was live before the forward (parameters, input), so the baseline is subtracted;
  * tapegrad on CuPy through the backend's `memory_stats()`/`reset_peak()` when that exists;
  * PyTorch CPU through `torch.profiler` memory events (see `torch_memory`), with the bytes of
    its saved tensors summed by `saved_tensors_hooks` as a cross-check.
Theory (see `theory`): what backward must keep, derived from the ops' `save=` declarations;
for no_grad, the floor of two live activations (an op's input and its output).

    PYTHONPATH=. python benchmarks/memory.py [--quick] [--depths 2,4,8,16,32] [--batches 128,512]
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlp  # noqa: E402  (pins threads before NumPy loads)
from mlp import np, torch, autograd  # noqa: E402
from autograd import ops as _ops  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
MiB = 2 ** 20


# ----------------------------------------------------------------------------------------
# theory

def layer_program(i, last, linear):
    """Layer i as (op, input names, output name): the same ops TapeMLP.forward records."""
    h_in, prog = f"h{i - 1}", []
    if linear == "nn":                      # nn.Linear: one fused op, x @ W.T + b
        prog.append((_ops.Linear, (h_in, f"W{i}", f"b{i}"), f"z{i}" if not last else f"h{i}"))
        if not last:
            prog.append((_ops.Relu, (f"z{i}",), f"h{i}"))
        return prog
    if linear == "xwt":
        prog.append((_ops.Permute, (f"W{i}",), f"W{i}.T"))
        prog.append((_ops.Matmul, (h_in, f"W{i}.T"), f"m{i}"))
    else:
        prog.append((_ops.Matmul, (h_in, f"W{i}"), f"m{i}"))
    prog.append((_ops.Add, (f"m{i}", f"b{i}"), f"z{i}" if not last else f"h{i}"))
    if not last:
        prog.append((_ops.Relu, (f"z{i}",), f"h{i}"))
    return prog


def theory(depth, linear="nn"):
    """Activations (in units of A) that the recorded forward keeps alive.

    Each op's `save` names input positions and/or "out"; mapping them onto the layer program gives
    the set of saved values. Parameters, their transposed views (no new bytes) and the input h0
    were live before the forward and are not counted. With Matmul save=(0, 1), Add save=() and
    Relu save=("out",), layer i saves h(i-1) (Matmul) and h(i) (Relu, the next Matmul's input): the
    same array, counted once, so the tape holds h1..h(depth-1), plus the output the caller holds.
    """
    saved = []
    for i in range(1, depth + 1):
        for op, ins, out in layer_program(i, i == depth, linear):
            for s in op.save:
                name = out if s == "out" else ins[s]
                if name not in saved:
                    saved.append(name)
    acts = [n for n in saved if n[0] in "hmz" and n != "h0"]
    out = f"h{depth}"
    kept = acts + ([out] if out not in acts else [])
    return len(kept), saved


def step_estimate(depth, width, batch, itemsize):
    """Bytes of an ideal training step's peak: walking backward through layer i, alive are the saved
    activations of layers below, the output, the parameter gradients made so far, and two
    activation-sized gradients in flight (in and out of the layer)."""
    A = batch * width * itemsize
    P = (width * width + width) * itemsize
    return max((i - 1) * A + A + (depth - i + 1) * P + 2 * A for i in range(depth, 0, -1))


# ----------------------------------------------------------------------------------------
# tapegrad

def tape_saved_bytes(out, exclude):
    """Bytes of distinct arrays the recorded graph holds in node.saved (excluding `exclude` buffers)."""
    seen, total, stack, nodes = set(exclude), 0, [out.grad_fn], set()
    while stack:
        n = stack.pop()
        if n is None or n in nodes:
            continue
        nodes.add(n)
        for item in n.saved or ():
            arr = item[0] if type(item) is tuple else (item._data if item is not None else None)
            if arr is None:
                continue
            root = _root(arr)
            if id(root) not in seen:
                seen.add(id(root))
                total += root.nbytes
        stack.extend(e[0] for e in n.next if type(e) is tuple)
    return total


def _root(arr):
    while getattr(arr, "base", None) is not None:
        arr = arr.base
    return arr


class NumpyMeter:
    """tracemalloc: current and peak traced bytes (NumPy buffers included)."""
    name = "tracemalloc"

    def __init__(self):
        if not tracemalloc.is_tracing():
            tracemalloc.start()

    def reset(self):
        gc.collect()
        tracemalloc.reset_peak()
        return tracemalloc.get_traced_memory()[0]

    def read(self):
        return tracemalloc.get_traced_memory()

    def arrays(self):
        """Bytes of NumPy buffers alone (NumPy traces them in its own tracemalloc domain)."""
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)])
        return sum(t.size for t in snap.traces)


class BackendMeter:
    """A backend's own accounting: `memory_stats()` (a dict) and `reset_peak()`."""
    CUR = ("allocated_bytes", "allocated", "current_bytes", "current", "bytes_in_use", "used_bytes")
    PEAK = ("peak_allocated_bytes", "peak_bytes", "peak_allocated", "peak", "max_allocated_bytes")

    def __init__(self, be):
        self.be, self.name = be, f"{type(be).__name__}.memory_stats()"
        self.read()

    def reset(self):
        gc.collect()
        self.be.synchronize()
        self.be.reset_peak()
        return self.read()[0]

    def read(self):
        self.be.synchronize()
        st = self.be.memory_stats()
        cur = next((st[k] for k in self.CUR if k in st), None)
        peak = next((st[k] for k in self.PEAK if k in st), None)
        if cur is None or peak is None:
            raise RuntimeError(f"memory_stats() keys {sorted(st)} name neither current nor peak bytes "
                               f"(looked for {self.CUR} / {self.PEAK})")
        return cur, peak

    def arrays(self):
        return self.read()[0]


def cuda_meter():
    """(meter, None) for the CUDA backend, or (None, why it is skipped)."""
    import backends
    try:
        be = backends.get("cuda")
    except Exception as e:  # noqa: BLE001 -- any failure to load means: skip
        return None, f"no CUDA backend ({type(e).__name__}: {e})"
    try:
        if not be.is_available():
            return None, f"CUDA backend unavailable: {be.unavailable_reason()}"
    except Exception as e:  # noqa: BLE001
        return None, f"CUDA backend unavailable ({e})"
    if not (callable(getattr(be, "memory_stats", None)) and callable(getattr(be, "reset_peak", None))):
        return None, "CUDA backend has no memory_stats()/reset_peak() yet"
    try:
        return BackendMeter(be), None
    except Exception as e:  # noqa: BLE001
        return None, f"CUDA memory_stats() unusable: {e}"


def measure_tape(depth, width, batch, dtype, meter, device=None, linear="nn"):
    """{mode: bytes} for one configuration; all figures above the pre-forward baseline."""
    np_dtype = np.dtype(dtype)
    w = mlp.init_weights([width] * (depth + 1), dtype=np_dtype)
    model = mlp.TapeMLP(w, linear=linear, device=device, dtype=getattr(autograd, dtype))
    del w
    x, y = model.data(*mlp.make_batch(batch, width, width, dtype=np_dtype))
    params = model.params
    exclude = {id(_root(p._data)) for p in params} | {id(_root(x._data))}
    r = {}

    def once(warm):
        arr0 = meter.arrays()
        base = meter.reset()
        out = model.forward(x)
        cur, peak = meter.read()
        if not warm:
            r["rec_peak"], r["rec_kept"] = peak - base, cur - base
            r["rec_arrays"] = meter.arrays() - arr0
            r["rec_tape"] = tape_saved_bytes(out, exclude) + out.nbytes
        del out
        base = meter.reset()
        with autograd.no_grad():
            out = model.forward(x)
        cur, peak = meter.read()
        if not warm:
            r["ng_peak"], r["ng_kept"] = peak - base, cur - base
        del out
        arr0 = meter.arrays()
        base = meter.reset()
        out = model.forward(x)
        loss = model.loss(out, y)
        loss.backward()
        cur, peak = meter.read()
        grads = sum(p.grad.nbytes for p in params)
        if not warm:
            # the graph is still referenced (loss, out): its saved arrays must be gone all the same
            r["step_peak"] = peak - base
            r["after_bw"] = meter.arrays() - arr0 - grads - out.nbytes - loss.nbytes
            r["after_bw_all"] = cur - base - grads - out.nbytes - loss.nbytes
            r["grads"] = grads
        for p in params:
            p.grad = None
        del out, loss

    once(True)       # first-call caches (index arrays, code paths) are not the model's memory
    once(False)
    return r


# ----------------------------------------------------------------------------------------
# PyTorch

def torch_memory(depth, width, batch):
    """PyTorch CPU, same MLP. torch's CPU allocations are invisible to tracemalloc, so they are read
    from `torch.profiler.profile(profile_memory=True)`: each op event carries the bytes it allocated
    (self_cpu_memory_usage) and each free outside an op is a "[memory]" event with negative bytes;
    summed in time order they give the live-bytes curve, its final value and its peak. The recorded
    forward's saved tensors are also summed with `torch.autograd.graph.saved_tensors_hooks`
    (distinct storages, parameters and input excluded) plus the output: `saved+out`."""
    from torch.profiler import ProfilerActivity, profile
    w = mlp.init_weights([width] * (depth + 1))
    model = mlp.TorchMLP(w)
    del w
    x, y = model.data(*mlp.make_batch(batch, width, width))
    params = model.params

    def trace(fn):
        # the profiler's C++ side logs "profiler_start/stop" on stderr at every use: mute fd 2
        sys.stderr.flush()
        saved_fd, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        try:
            with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                keep = fn()
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            os.close(devnull)
        ev = sorted(prof.events(), key=lambda e: e.time_range.start)
        cur = peak = 0
        for e in ev:
            d = e.cpu_memory_usage if e.name == "[memory]" else e.self_cpu_memory_usage
            cur += d
            peak = max(peak, cur)
        return keep, cur, peak

    r = {}
    _, r["rec_kept"], r["rec_peak"] = trace(lambda: model.forward(x))
    with torch.no_grad():
        _, r["ng_kept"], r["ng_peak"] = trace(lambda: model.forward(x))

    def step():
        out = model.forward(x)
        loss = torch.nn.functional.cross_entropy(out, y)
        loss.backward()
        return out, loss
    (out, loss), cur, r["step_peak"] = trace(step)
    grads = sum(p.grad.nbytes for p in params)
    r["after_bw"] = cur - grads - out.nbytes
    for p in params:
        p.grad = None
    del out, loss

    skip = {p.untyped_storage().data_ptr() for p in params} | {x.untyped_storage().data_ptr()}
    seen = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in skip:
            seen[ptr] = t.untyped_storage().nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model.forward(x)
    seen.setdefault(out.untyped_storage().data_ptr(), out.untyped_storage().nbytes())
    r["saved_hook"] = sum(seen.values())
    return r


# ----------------------------------------------------------------------------------------
# report

def run(depths, batches, width, dtype, linear, with_torch, device_kinds):
    rows = []
    itemsize = np.dtype(dtype).itemsize
    for kind, meter, device in device_kinds:
        for batch in batches:
            for depth in depths:
                A = batch * width * itemsize
                n_kept, _ = theory(depth, linear)
                r = measure_tape(depth, width, batch, dtype, meter, device, linear)
                t = torch_memory(depth, width, batch) if (with_torch and kind == "cpu" and dtype == "float32") else None
                rows.append(dict(kind=kind, depth=depth, batch=batch, width=width, A=A, theory=n_kept * A,
                                 step_est=step_estimate(depth, width, batch, itemsize), tape=r, torch=t))
    return rows


def fmt(b, A):
    return f"{b / MiB:7.1f} ({b / A:4.1f})"


def print_table(rows, meter_names):
    print("\n## Peak memory of one forward pass: MiB above the pre-forward baseline, (in activations A)")
    print("A = batch*width*itemsize. rec = recording the tape, ng = no_grad, step = forward+loss+backward.")
    print("kept = still allocated after the forward (holding the output); tape walk = distinct arrays in the graph's")
    print("node.saved + output; theory = the saved set derived from the ops' save= declarations + output;")
    print("after-bw = array bytes allocated after backward while loss/output still reference the graph, minus .grad")
    print("and output; tape obj = Python objects (nodes, tensor wrappers) in 'rec kept', i.e. rec kept minus its arrays.")
    print("measured by: " + "; ".join(f"{k}: {v}" for k, v in meter_names.items()))
    hdr = (f"{'dev':4} {'depth':>5} {'batch':>5} {'A MiB':>6} | {'rec peak':>14} {'rec kept':>14} "
           f"{'tape walk':>14} {'theory':>14} | {'ng peak':>14} {'floor 2A':>8} | {'step peak':>14} {'step est':>9} "
           f"{'after-bw':>8} {'tape obj KiB':>12}")
    has_torch = any(r["torch"] for r in rows)
    if has_torch:
        hdr += f" || {'torch rec kept':>14} {'torch rec peak':>14} {'torch saved+out':>15} {'torch ng peak':>14} {'torch step':>10}"
    print(hdr)
    for row in rows:
        A, r, t = row["A"], row["tape"], row["torch"]
        line = (f"{row['kind']:4} {row['depth']:5d} {row['batch']:5d} {A / MiB:6.1f} | {fmt(r['rec_peak'], A)} "
                f"{fmt(r['rec_kept'], A)} {fmt(r['rec_tape'], A)} {fmt(row['theory'], A)} | {fmt(r['ng_peak'], A)} {2 * A / MiB:8.1f} | "
                f"{fmt(r['step_peak'], A)} {row['step_est'] / MiB:9.1f} {r['after_bw'] / MiB:8.2f} {(r['rec_kept'] - r['rec_arrays']) / 1024:12.1f}")
        if t:
            line += (f" || {fmt(t['rec_kept'], A)} {fmt(t['rec_peak'], A)} {t['saved_hook'] / MiB:9.1f} ({t['saved_hook'] / A:4.1f})"
                     f" {fmt(t['ng_peak'], A)} {t['step_peak'] / MiB:10.1f}")
        print(line)


def check_targets(rows):
    if rows and not any(r["torch"] for r in rows):
        print("torch: not measured (not installed, --no-torch, or --quick without --torch)")
    print("\n## Targets (tapegrad, per row): rec kept arrays == theory, ng peak <= 2.5 A, after-bw arrays ~ 0")
    fails = 0
    for row in rows:
        A, r = row["A"], row["tape"]
        slack = 64 * 1024 + 0.01 * A          # Python objects of the tape (nodes, tensors) are traced too
        ok = (abs(r["rec_arrays"] - row["theory"]) <= slack, r["ng_peak"] <= 2.5 * A + slack, abs(r["after_bw"]) <= slack)
        fails += not all(ok)
        print(f"{row['kind']} depth {row['depth']:3d} batch {row['batch']:4d}: "
              f"rec kept (arrays) {r['rec_arrays'] / A:5.2f}A vs theory {row['theory'] / A:.0f}A {'ok' if ok[0] else 'MISS'}; "
              f"ng peak {r['ng_peak'] / A:4.2f}A {'ok' if ok[1] else 'MISS'}; "
              f"after-bw {r['after_bw'] / MiB:+.2f} MiB {'ok' if ok[2] else 'MISS'}")
    return fails


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return None
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    groups = sorted({(r["kind"], r["batch"]) for r in rows}, key=lambda k: -k[1])
    for gi, (kind, batch) in enumerate(groups):
        rs = sorted((r for r in rows if r["kind"] == kind and r["batch"] == batch), key=lambda r: r["depth"])
        d = [r["depth"] for r in rs]
        ls, lab = ("-", "--", ":")[gi % 3], f"{kind}, batch {batch}"
        series = [("tapegrad recording", "C0", "o", [r["tape"]["rec_peak"] for r in rs]),
                  ("tapegrad no_grad", "C1", "s", [r["tape"]["ng_peak"] for r in rs]),
                  ("theory: one activation per layer", "k", "", [r["theory"] for r in rs]),
                  ("floor: 2 activations", "0.5", "", [2 * r["A"] for r in rs])]
        if rs[0]["torch"]:
            series += [("PyTorch recording", "C2", "^", [r["torch"]["rec_peak"] for r in rs]),
                       ("PyTorch no_grad", "C3", "v", [r["torch"]["ng_peak"] for r in rs])]
        for name, color, marker, ys in series:
            ax.plot(d, [v / MiB for v in ys], color=color, marker=marker or None, ls=ls,
                    lw=1 if not marker else 1.5, ms=5, label=f"{name} ({lab})")
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel("peak MiB above baseline")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_title(f"Peak memory of one MLP forward, width {rows[0]['width']}, float32 (lines: batch)")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"plot written to {os.path.relpath(path)}")
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--depths", default=None, help="comma-separated (default 2,4,8,16,32; quick 2,4)")
    ap.add_argument("--batches", default=None, help="comma-separated (default 128,512; quick 64)")
    ap.add_argument("--width", type=int, default=None, help="default 1024 (quick 128)")
    ap.add_argument("--dtype", default="float32", choices=["float16", "float32", "float64"])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda", "all"],
                    help="cpu (NumPy via tracemalloc), cuda (backend memory_stats), or all")
    ap.add_argument("--linear", default="nn", choices=["nn", "xw", "xwt"],
                    help="nn.Linear (fused x @ W.T + b, the default), or raw ops x @ W + b / x @ W.T + b")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--torch", action="store_true", help="measure PyTorch in --quick too (its profiler takes ~6 s to start)")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    depths = [int(s) for s in (args.depths or ("2,4" if args.quick else "2,4,8,16,32")).split(",")]
    batches = [int(s) for s in (args.batches or ("64" if args.quick else "128,512")).split(",")]
    width = args.width or (128 if args.quick else 1024)
    with_torch = torch is not None and not args.no_torch and (args.torch or not args.quick)

    print("# tapegrad memory benchmark")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"torch {torch.__version__ if torch is not None else 'not installed'}; {mlp.thread_note()}")
    n, saved = theory(3, args.linear)
    print(f"theory from save= declarations (Linear {_ops.Linear.save}, Matmul {_ops.Matmul.save}, "
          f"Add {_ops.Add.save}, Relu {_ops.Relu.save}"
          f"{', Permute ' + str(_ops.Permute.save) if args.linear == 'xwt' else ''}): a depth-3 MLP saves "
          f"{saved}; parameters and h0 predate the forward, so it keeps {n} activations = depth "
          f"(h1..h(depth-1) saved once each, plus the output)")
    kinds, names = [], {}
    if args.device in ("cpu", "all"):
        kinds.append(("cpu", NumpyMeter(), None))
        names["cpu"] = "tracemalloc (NumPy buffers and the tape's Python objects)"
    if args.device in ("cuda", "all"):
        meter, why = cuda_meter()
        if meter is None:
            print(f"cuda: skipped: {why}")
        else:
            kinds.append(("cuda", meter, "cuda"))
            names["cuda"] = meter.name
    if with_torch:
        names["torch"] = "torch.profiler profile_memory (op self_cpu_memory_usage + [memory] frees, in time order); " \
                         "'saved+out' = saved_tensors_hooks bytes of distinct storages + output"
    rows = run(depths, batches, width, args.dtype, args.linear, with_torch, kinds)
    if not rows:
        print("nothing measured")
        return 0
    print_table(rows, names)
    fails = check_targets(rows)
    print(f"targets: {len(rows) - fails}/{len(rows)} rows meet all three"
          + (" (some A < 64 KiB: the tape's Python objects dominate there; indicative only)"
             if any(r["A"] < 64 * 1024 for r in rows) else ""))
    if not args.no_plot:
        p = plot(rows, os.path.join(OUT, "memory_depth_quick.png" if args.quick else "memory_depth.png"))
        if p and not args.quick:
            shutil.copyfile(p, os.path.join(HERE, "memory_depth.png"))
            print("copied to benchmarks/memory_depth.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
