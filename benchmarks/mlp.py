"""The benchmarks' shared pieces: thread pinning, one MLP written three ways, timing in rounds.

Every contender builds the same MLP from the same NumPy initial weights: tapegrad from raw
autograd ops (or `nn.Linear`/`nn.CrossEntropyLoss` once they exist: `linear="nn"` is the seam),
a hand-written NumPy forward/backward (the floor), and PyTorch (when installed). Weights are
kept as (in, out) so that `x @ W + b` needs no transpose; PyTorch gets the transposed copy
for `F.linear`. Import this module before NumPy anywhere else: it pins BLAS/OpenMP threads.
"""
from __future__ import annotations

import os
import statistics
import time

THREADS = os.environ.get("TAPEGRAD_BENCH_THREADS", "1")
for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = THREADS

import numpy as np  # noqa: E402

import autograd  # noqa: E402

try:
    import torch  # noqa: E402
    import torch.nn.functional as F  # noqa: E402
    torch.set_num_threads(int(THREADS))
except ImportError:          # PyTorch is only a peer for context
    torch = F = None

try:
    import mygrad  # noqa: E402  (a NumPy-based peer: pip install mygrad)
except ImportError:
    mygrad = None


def thread_note():
    """One line saying how many threads each library really uses."""
    parts = [f"threads pinned to {THREADS} (OMP/MKL/OPENBLAS_NUM_THREADS"]
    if torch is not None:
        parts[0] += f", torch.set_num_threads -> {torch.get_num_threads()}"
    parts[0] += ")"
    try:
        from threadpoolctl import threadpool_info
        parts.append(", ".join(f"{i['internal_api']}={i['num_threads']}" for i in threadpool_info()))
    except ImportError:
        pass
    return "; ".join(parts)


# ----------------------------------------------------------------------------------------
# initial weights and data (NumPy, shared by every contender)

def init_weights(sizes, seed=0, dtype=np.float32):
    """PyTorch's nn.Linear init (uniform +-1/sqrt(fan_in)), W as (in, out)."""
    rng = np.random.default_rng(seed)
    out = []
    for fin, fout in zip(sizes[:-1], sizes[1:]):
        k = 1 / np.sqrt(fin)
        out.append((rng.uniform(-k, k, (fin, fout)).astype(dtype), rng.uniform(-k, k, fout).astype(dtype)))
    return out


def make_batch(batch, n_in, n_classes, seed=1, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, n_in)).astype(dtype), rng.integers(0, n_classes, batch)


# ----------------------------------------------------------------------------------------
# tapegrad

def _find_nn():
    for name in ("autograd.nn", "nn"):
        try:
            import importlib
            return importlib.import_module(name)
        except ImportError:
            pass
    return None


class TapeMLP:
    """The MLP in tapegrad. linear: "xw" (x @ W + b, W as (in, out)), "xwt" (x @ W.T + b, PyTorch's
    (out, in) layout: one more recorded transpose per layer), or "nn" (nn.Linear and
    nn.CrossEntropyLoss, when the nn package exists). loss: "index" (log_softmax picked with
    [arange, y]) or "onehot" (log_softmax times a one-hot, summed)."""

    def __init__(self, weights, linear="xw", loss="index", device=None, dtype=None):
        self.linear, self.loss_kind = linear, loss
        kw = {"device": device} if device is not None else {}
        if dtype is not None:
            kw["dtype"] = dtype
        self.kw = kw
        if linear == "nn":
            nn = _find_nn()
            if nn is None or not hasattr(nn, "Linear"):
                raise RuntimeError("linear='nn' needs the nn package (nn.Linear, nn.CrossEntropyLoss); "
                                   "it is not there yet: use linear='xw' or 'xwt'")
            self.layers = []
            for W, b in weights:
                lin = nn.Linear(W.shape[0], W.shape[1], **kw)
                with autograd.no_grad():
                    lin.weight.copy_(autograd.tensor(np.ascontiguousarray(W.T), **kw))
                    lin.bias.copy_(autograd.tensor(b, **kw))
                self.layers.append(lin)
            self.params = [p for lin in self.layers for p in (lin.weight, lin.bias)]
            self.ce = nn.CrossEntropyLoss()
        else:
            self.params = []
            for W, b in weights:
                W = np.ascontiguousarray(W.T) if linear == "xwt" else W
                self.params += [autograd.tensor(W, requires_grad=True, **kw),
                                autograd.tensor(b, requires_grad=True, **kw)]
        self._onehot = {}

    def forward(self, x):
        relu = autograd.relu
        if self.linear == "nn":
            n = len(self.layers)
            for i, lin in enumerate(self.layers):
                x = lin(x)
                if i < n - 1:
                    x = relu(x)
            return x
        p = self.params
        n = len(p) // 2
        t = self.linear == "xwt"
        for i in range(n):
            W, b = p[2 * i], p[2 * i + 1]
            x = (x @ W.T if t else x @ W) + b
            if i < n - 1:
                x = relu(x)
        return x

    def loss(self, logits, y):
        if self.linear == "nn":
            return self.ce(logits, y)
        logp = autograd.log_softmax(logits, dim=1)
        n = logits.shape[0]
        if self.loss_kind == "onehot":
            key = (id(y), n)
            oh = self._onehot.get(key)
            if oh is None:
                oh = self._onehot[key] = autograd.tensor(
                    np.eye(logits.shape[1], dtype=np.float32)[y.numpy()] / n, dtype=logits.dtype,
                    **{k: v for k, v in self.kw.items() if k == "device"})
            return -(logp * oh).sum()
        r = self._onehot.get(("arange", n))
        if r is None:
            r = self._onehot[("arange", n)] = autograd.arange(n)
        return -logp[r, y].mean()

    def step(self, x, y, lr):
        loss = self.loss(self.forward(x), y)
        loss.backward()
        with autograd.no_grad():
            for p in self.params:
                p.sub_(p.grad, alpha=lr)
                p.grad = None
        return loss

    def data(self, x, y):
        dev = {k: v for k, v in self.kw.items() if k == "device"}
        return autograd.tensor(x, **self.kw), autograd.tensor(y, **dev)


# ----------------------------------------------------------------------------------------
# hand-written NumPy: the floor

class NumpyMLP:
    """Forward and backward by hand: matmuls, bias add and ReLU in place, the softmax-CE gradient,
    in-place SGD. Nothing is allocated that the arithmetic does not need. `xp=cupy` makes it the
    hand-written CuPy floor (the same code on the GPU); the loss stays a 0-d array (no host sync)."""

    def __init__(self, weights, xp=np):
        self.xp = xp
        self.params = [(xp.array(W), xp.array(b)) for W, b in weights]

    def data(self, x, y):
        return self.xp.asarray(x), self.xp.asarray(y)

    def step(self, x, y, lr):
        xp = self.xp
        ps = self.params
        n = len(ps)
        acts = [x]
        h = x
        for i, (W, b) in enumerate(ps):
            h = h @ W
            h += b
            if i < n - 1:
                xp.maximum(h, 0, out=h)
            acts.append(h)
        # softmax cross-entropy on the logits h, and its gradient (p - onehot) / N
        N = h.shape[0]
        r = xp.arange(N)
        m = h.max(axis=1, keepdims=True)
        e = xp.exp(h - m)
        s = e.sum(axis=1, keepdims=True)
        loss = xp.mean(xp.log(s[:, 0]) + m[:, 0] - h[r, y])
        e /= s
        e[r, y] -= 1
        e /= N
        g = e
        for i in range(n - 1, -1, -1):
            W, b = ps[i]
            a = acts[i]
            dW = a.T @ g
            db = g.sum(axis=0)
            if i:
                g = g @ W.T
                g *= a > 0
            dW *= lr
            W -= dW
            db *= lr
            b -= db
        return loss


# ----------------------------------------------------------------------------------------
# PyTorch

class TorchMLP:
    def __init__(self, weights, device="cpu"):
        self.device = device
        self.params = []
        for W, b in weights:
            self.params += [torch.tensor(W.T.copy(), requires_grad=True, device=device),
                            torch.tensor(b, requires_grad=True, device=device)]

    def data(self, x, y):
        return torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(self.device)

    def forward(self, x):
        p = self.params
        n = len(p) // 2
        for i in range(n):
            x = F.linear(x, p[2 * i], p[2 * i + 1])
            if i < n - 1:
                x = F.relu(x)
        return x

    def step(self, x, y, lr):
        loss = F.cross_entropy(self.forward(x), y)
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p.sub_(p.grad, alpha=lr)
                p.grad = None
        return loss


# ----------------------------------------------------------------------------------------
# MyGrad (a NumPy-based autodiff peer)

class MyGradMLP:
    """The MLP in MyGrad, as its docs write one: `mygrad.matmul`, `relu`, `softmax_crossentropy`
    (mean over the batch), `backward()`, and SGD on the parameters' arrays (`W.data -= lr * W.grad`)."""

    def __init__(self, weights):
        self.params = [(mygrad.tensor(W.copy()), mygrad.tensor(b.copy())) for W, b in weights]
        from mygrad.nnet.activations import relu
        from mygrad.nnet.losses import softmax_crossentropy
        self._relu, self._ce = relu, softmax_crossentropy

    def data(self, x, y):
        return x, y

    def step(self, x, y, lr):
        ps = self.params
        n = len(ps)
        h = x
        for i, (W, b) in enumerate(ps):
            h = mygrad.matmul(h, W) + b
            if i < n - 1:
                h = self._relu(h)
        loss = self._ce(h, y)
        loss.backward()
        for W, b in ps:
            W.data -= lr * W.grad
            b.data -= lr * b.grad
        return loss


def as_float(loss):
    """A step's loss as a Python float (a 0-d NumPy/CuPy array, a tensor, or a float)."""
    if isinstance(loss, float):
        return loss
    return float(loss.item()) if hasattr(loss, "item") else float(loss)


# ----------------------------------------------------------------------------------------
# timing

def time_rounds(contenders, rounds, target_s=0.15, min_calls=1, sync=None):
    """contenders: {name: zero-arg callable}. Calibrate calls per round so each contender runs
    ~target_s, then interleave: every round runs each contender once (rotating the order).
    `sync` (a GPU's synchronize) runs before each clock reading, so queued GPU work is counted.
    Returns {name: [seconds per call, one per round]}."""
    sync = sync or (lambda: None)
    names = list(contenders)
    calls = {}
    for nm in names:
        f = contenders[nm]
        f()
        sync()
        t0 = time.perf_counter()
        f()
        sync()
        dt = max(time.perf_counter() - t0, 1e-7)
        calls[nm] = max(min_calls, int(target_s / dt))
    out = {nm: [] for nm in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for nm in order:
            f, k = contenders[nm], calls[nm]
            sync()
            t0 = time.perf_counter()
            for _ in range(k):
                f()
            sync()
            out[nm].append((time.perf_counter() - t0) / k)
    return out


def median(xs):
    return statistics.median(xs)
