"""Run by tests/test_distributed.py under `mpiexec -n 2`: each scenario named on the command line runs
on every rank; rank 0 writes {scenario: [problems]} as JSON to the path in $TAPEGRAD_DIST_OUT (an empty
list means the scenario passed). Expected values are computed with NumPy on known inputs."""
import json
import os
import sys
import time

import numpy as np

import autograd as ag
import autograd.distributed as dist
import nn
import nn.functional as F
from nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi", timeout=float(os.environ.get("TAPEGRAD_DIST_TIMEOUT", "60")))
R, N = dist.get_rank(), dist.get_world_size()
problems = {}


def check(name, ok, what):
    if not ok:
        problems.setdefault(name, []).append(f"rank {R}: {what}")


def host(t):
    return t.detach().cpu().numpy() if isinstance(t, ag.Tensor) else np.asarray(t)


def close(name, got, want, what, tol=0.0):
    got, want = host(got), host(want)
    ok = got.shape == want.shape and got.dtype == want.dtype and (
        np.array_equal(got, want) if tol == 0 else np.allclose(got, want, rtol=tol, atol=tol))
    check(name, ok, f"{what}: got {got.dtype}{got.shape} {got.ravel()[:6]}, want {want.dtype}{want.shape} "
                    f"{want.ravel()[:6]}")


def rank_input(r, dtype, shape=(2, 3)):
    base = np.arange(np.prod(shape)).reshape(shape) % 5 + 1
    return (base * (r + 1) + r).astype(dtype)


# --- collectives ---------------------------------------------------------------------------------

def collectives():
    name = "collectives"
    ins = {r: None for r in range(N)}
    red = {"SUM": lambda a: np.sum(a, 0), "PRODUCT": lambda a: np.prod(a, 0), "MAX": lambda a: np.max(a, 0),
           "MIN": lambda a: np.min(a, 0)}
    dtypes = ("float32", "float64", "int64", "int32") + (("float16",) if ag.get_default_device().type == "cpu" else ())
    for dtype in dtypes:
        allin = np.stack([rank_input(r, dtype) for r in range(N)])
        for opname, fn in red.items():
            t = ag.tensor(rank_input(R, dtype))
            v0 = t._version
            dist.all_reduce(t, getattr(dist.ReduceOp, opname))
            close(name, t, fn(allin).astype(dtype), f"all_reduce {opname} {dtype}")
            check(name, t._version > v0, f"all_reduce {opname} {dtype} did not bump the version counter")
        if dtype.startswith("float"):
            t = ag.tensor(rank_input(R, dtype))
            dist.all_reduce(t, dist.ReduceOp.AVG)
            close(name, t, (allin.astype("float64").sum(0) / N).astype(dtype), f"all_reduce AVG {dtype}", 1e-3)
        for dst in range(N):
            t = ag.tensor(rank_input(R, dtype))
            dist.reduce(t, dst, dist.ReduceOp.SUM)
            close(name, t, allin.sum(0).astype(dtype) if R == dst else rank_input(R, dtype),
                  f"reduce dst={dst} {dtype}")
        t = ag.tensor(rank_input(R, dtype))
        dist.broadcast(t, N - 1)
        close(name, t, rank_input(N - 1, dtype), f"broadcast {dtype}")
        outs = [ag.zeros(2, 3, dtype=getattr(ag, dtype)) for _ in range(N)]
        dist.all_gather(outs, ag.tensor(rank_input(R, dtype)))
        for r in range(N):
            close(name, outs[r], rank_input(r, dtype), f"all_gather[{r}] {dtype}")
        out = ag.zeros(2 * N, 3, dtype=getattr(ag, dtype))
        dist.all_gather_into_tensor(out, ag.tensor(rank_input(R, dtype)))
        close(name, out, np.concatenate([rank_input(r, dtype) for r in range(N)]), f"all_gather_into_tensor {dtype}")
        big = np.stack([rank_input(r, dtype, (N * 2,)) for r in range(N)])
        out = ag.zeros(2, dtype=getattr(ag, dtype))
        dist.reduce_scatter_tensor(out, ag.tensor(rank_input(R, dtype, (N * 2,))))
        close(name, out, big.sum(0)[R * 2:(R + 1) * 2].astype(dtype), f"reduce_scatter_tensor {dtype}")
    # bool: SUM is logical or, PRODUCT logical and
    b = ag.tensor(np.array([R == 0, False, True]))
    dist.all_reduce(b)
    close(name, b, np.array([True, False, True]), "all_reduce SUM bool")
    b = ag.tensor(np.array([R == 0, False, True]))
    dist.all_reduce(b, dist.ReduceOp.PRODUCT)
    close(name, b, np.array([N == 1, False, True]), "all_reduce PRODUCT bool")
    # gather / scatter
    gl = [ag.zeros(2, 3) for _ in range(N)] if R == 0 else None
    dist.gather(ag.tensor(rank_input(R, "float32")), gl, dst=0)
    if R == 0:
        for r in range(N):
            close(name, gl[r], rank_input(r, "float32"), f"gather[{r}]")
    t = ag.zeros(2, 3)
    dist.scatter(t, [ag.tensor(rank_input(r, "float32")) for r in range(N)] if R == 0 else None, src=0)
    close(name, t, rank_input(R, "float32"), "scatter")
    # a non-contiguous view is reduced through a staging copy and written back into the base
    base = ag.tensor(rank_input(R, "float64", (3, 4)))
    view = base.t()
    dist.all_reduce(view)
    want = np.sum([rank_input(r, "float64", (3, 4)) for r in range(N)], 0)
    close(name, base, want, "all_reduce through a transposed view")
    # async work handles
    works = [dist.all_reduce(ag.ones(4) * (R + 1), async_op=True) for _ in range(3)]
    check(name, all(w.wait() is True for w in works) and all(w.is_completed() for w in works), "async wait")
    t = ag.ones(5) * (R + 1)
    w = dist.all_reduce(t, async_op=True)
    w.wait()
    close(name, t, np.full(5, sum(range(1, N + 1)), np.float32), "async all_reduce result")
    # point to point
    if R == 0:
        dist.send(ag.tensor([7.0, 8.0]), dst=1)
        x = ag.zeros(2)
        src = dist.recv(x)
        close(name, x, np.array([1.0, 2.0], np.float32), "recv from any source")
        check(name, src == 1, f"recv returned sender {src}, want 1")
    elif R == 1:
        x = ag.zeros(2)
        dist.recv(x, src=0)
        close(name, x, np.array([7.0, 8.0], np.float32), "recv")
        dist.isend(ag.tensor([1.0, 2.0]), dst=0).wait()
    # objects
    objs = [None] * N
    dist.all_gather_object(objs, {"rank": R, "s": "x" * R})
    check(name, objs == [{"rank": r, "s": "x" * r} for r in range(N)], f"all_gather_object gave {objs}")
    lst = [R, "a"] if R == 0 else [None, None]
    dist.broadcast_object_list(lst, src=0)
    check(name, lst == [0, "a"], f"broadcast_object_list gave {lst}")
    # sub-group of rank 0 only
    g = dist.new_group([0])
    if R == 0:
        t = ag.ones(2)
        dist.all_reduce(t, group=g)
        close(name, t, np.ones(2, np.float32), "all_reduce in a one-rank group")
    dist.barrier()
    # errors name the collective
    try:
        dist.all_gather([ag.zeros(2)], ag.zeros(2))
        check(name, N == 1, "all_gather with a short list did not raise")
    except ValueError as e:
        check(name, "all_gather" in str(e), f"all_gather error does not name it: {e}")
    check(name, os.environ.get("RANK") == str(R), f"RANK env {os.environ.get('RANK')} != {R}")
    check(name, os.environ.get("OMP_NUM_THREADS") == "1" and os.environ.get("OPENBLAS_NUM_THREADS") == "1",
          "the launcher did not default each process to one BLAS thread")
    problems.setdefault(name, [])


# --- DDP -----------------------------------------------------------------------------------------

def make_model(seed):
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)).double()


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6))
    y = rng.integers(0, 3, 64)
    return ag.tensor(x), ag.tensor(y)


def opt_for(kind, params):
    if kind == "sgd":
        return nn.optim.SGD(params, lr=0.1, momentum=0.9)
    return nn.optim.Adam(params, lr=0.01)


def ddp_equals_single(kind):
    name = f"ddp_{kind}"
    X, Y = data()
    ds = nn.data.TensorDataset(X, Y)
    sampler = nn.data.DistributedSampler(ds, shuffle=True, seed=3)
    loader = nn.data.DataLoader(ds, batch_size=8, sampler=sampler)
    model = DDP(make_model(seed=100 + R))           # different seeds: rank 0's weights must win
    ref = make_model(seed=100)                      # the single-process reference starts from rank 0's
    check(name, all(np.array_equal(host(a), host(b)) for a, b in zip(model.parameters(), ref.parameters())),
          "initial parameters are not rank 0's")
    opt, ropt = opt_for(kind, model.parameters()), opt_for(kind, ref.parameters())
    # each rank's batches; the reference trains on the union of every rank's batch of the step
    per_rank = [list(nn.data.DistributedSampler(ds, N, r, shuffle=True, seed=3)) for r in range(N)]
    steps = 0
    for epoch in range(2):
        sampler.set_epoch(epoch)
        per_rank = []
        for r in range(N):
            s = nn.data.DistributedSampler(ds, N, r, shuffle=True, seed=3)
            s.set_epoch(epoch)
            per_rank.append(list(s))
        for i, (x, y) in enumerate(loader):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
            idx = [j for r in range(N) for j in per_rank[r][i * 8:(i + 1) * 8]]
            ropt.zero_grad()
            # mean over the union = the average of the ranks' means (equal batch sizes)
            F.cross_entropy(ref(X[ag.tensor(idx)]), Y[ag.tensor(idx)]).backward()
            ropt.step()
            steps += 1
    for (n, p), q in zip(model.module.named_parameters(), ref.parameters()):
        close(name, p, q, f"parameter {n} after {steps} steps", 1e-6)
    # identical on every rank
    for n, p in model.module.named_parameters():
        outs = [ag.zeros_like(p) for _ in range(N)]
        dist.all_gather(outs, p.detach())
        check(name, all(np.array_equal(host(o), host(p)) for o in outs), f"{n} differs across ranks")
    check(name, list(model.state_dict())[0].startswith("module."), "state_dict keys lack the module. prefix")
    check(name, steps >= 5, f"only {steps} steps")
    problems.setdefault(name, [])


def no_sync():
    name = "no_sync"
    X, Y = data()
    model, ref = DDP(make_model(7)), make_model(7)
    opt, ropt = nn.optim.SGD(model.parameters(), lr=0.1), nn.optim.SGD(ref.parameters(), lr=0.1)
    for step in range(3):
        opt.zero_grad()
        ropt.zero_grad()
        for micro in range(3):
            rows = [(step * 9 + micro * 3 + r) % 64 for r in range(N)]
            x, y = X[ag.tensor([rows[R]])], Y[ag.tensor([rows[R]])]
            if micro < 2:
                with model.no_sync():
                    F.cross_entropy(model(x), y).backward()
            else:
                F.cross_entropy(model(x), y).backward()
            F.cross_entropy(ref(X[ag.tensor(rows)]), Y[ag.tensor(rows)]).backward()
        opt.step()
        ropt.step()
    for (n, p), q in zip(model.module.named_parameters(), ref.parameters()):
        close(name, p, q, f"no_sync accumulation: {n}", 1e-9)
    problems.setdefault(name, [])


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4).double()
        self.unused = nn.Linear(4, 4).double()

    def forward(self, x):
        return self.a(x)


def unused():
    name = "unused"
    x = ag.randn(3, 4, dtype=ag.float64)
    m = DDP(Branchy(), find_unused_parameters=True)
    for _ in range(2):
        m.zero_grad()
        m(x).sum().backward()
    check(name, m.module.unused.weight.grad is None, "a parameter unused on every rank got a gradient")
    check(name, m.module.a.weight.grad is not None, "the used parameter has no gradient")
    m2 = DDP(Branchy())
    m2(x).sum().backward()
    try:
        m2(x)
        check(name, False, "a parameter without gradient did not raise at the next forward")
    except RuntimeError as e:
        check(name, "find_unused_parameters" in str(e) and "unused.weight" in str(e), f"error: {e}")
    problems.setdefault(name, [])


def overlap():
    """all-reduce starts during backward: the first bucket is launched before the last layer's (the
    first in the model) gradient exists. Buckets of one parameter each (bucket_cap_mb tiny)."""
    name = "overlap"
    log = []

    class Spy(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            log.append(("spy", sum(b.work is not None for b in m._buckets)))
            return g

    lin1, lin2 = nn.Linear(4, 4).double(), nn.Linear(4, 2).double()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.l2 = lin1, lin2

        def forward(self, x):
            return self.l2(Spy.apply(self.l1(x)))

    m = DDP(Net(), bucket_cap_mb=1e-6)
    m(ag.randn(2, 4, dtype=ag.float64)).sum().backward()
    check(name, len(m._buckets) == 4, f"{len(m._buckets)} buckets, want one per parameter")
    check(name, log and log[0][1] >= 1, f"no all-reduce had started when backward reached the middle: {log}")
    problems.setdefault(name, [])


def crash():
    """rank 1 raises in the middle of training; rank 0 is blocked in an all-reduce."""
    model = DDP(make_model(1))
    X, Y = data()
    for step in range(10):
        if step == 3 and R == 1:
            raise ValueError("deliberate failure on rank 1 at step 3")
        F.cross_entropy(model(X[:8]), Y[:8]).backward()


def hang():
    """rank 1 stops calling collectives; rank 0's all-reduce times out (TAPEGRAD_DIST_TIMEOUT)."""
    if R == 1:
        time.sleep(120)
    dist.all_reduce(ag.ones(3))


def syncbn():
    """SyncBatchNorm on 2 ranks, each with half of a batch, equals BatchNorm2d on the whole batch:
    outputs, input and parameter gradients, running stats; convert_sync_batchnorm keeps the weights."""
    name = "syncbn"
    rng = np.random.default_rng(21)
    full = rng.standard_normal((4 * N, 3, 5, 5))
    g_out = rng.standard_normal((4 * N, 3, 5, 5))
    ref = nn.BatchNorm2d(3).double()
    with ag.no_grad():
        ref.weight.copy_(ag.tensor([1.0, 2.0, 0.5], dtype=ag.float64))
        ref.bias.copy_(ag.tensor([0.1, -0.2, 0.3], dtype=ag.float64))
    sync = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(3).double()))[0]
    check(name, isinstance(sync, nn.SyncBatchNorm), f"convert_sync_batchnorm gave {type(sync).__name__}")
    with ag.no_grad():
        sync.weight.copy_(ref.weight)
        sync.bias.copy_(ref.bias)
    x_all = ag.tensor(full, requires_grad=True)
    y_all = ref(x_all)
    y_all.backward(ag.tensor(g_out))
    part = slice(4 * R, 4 * (R + 1))
    x = ag.tensor(full[part], requires_grad=True)
    y = sync(x)
    y.backward(ag.tensor(g_out[part]))
    close(name, y, host(y_all)[part], "output", 1e-10)
    close(name, x.grad, host(x_all.grad)[part], "input gradient", 1e-10)
    for p in ("weight", "bias"):
        got = getattr(sync, p).grad.detach().clone()
        dist.all_reduce(got)                         # parameter grads are per-rank sums (DDP averages them)
        close(name, got, host(getattr(ref, p).grad), f"{p} gradient summed over ranks", 1e-10)
    close(name, sync.running_mean, host(ref.running_mean), "running_mean", 1e-12)
    close(name, sync.running_var, host(ref.running_var), "running_var", 1e-12)
    problems.setdefault(name, [])


SCENARIOS = {"collectives": collectives, "ddp_sgd": lambda: ddp_equals_single("sgd"),
             "ddp_adam": lambda: ddp_equals_single("adam"), "no_sync": no_sync, "unused": unused,
             "overlap": overlap, "syncbn": syncbn, "crash": crash, "hang": hang}

if __name__ == "__main__":
    for sc in sys.argv[1:]:
        SCENARIOS[sc]()
    gathered = [None] * N
    dist.all_gather_object(gathered, problems)
    if R == 0:
        merged = {}
        for p in gathered:
            for k, v in p.items():
                merged.setdefault(k, []).extend(v)
        with open(os.environ["TAPEGRAD_DIST_OUT"] + ".tmp", "w") as f:
            json.dump(merged, f)
        os.replace(os.environ["TAPEGRAD_DIST_OUT"] + ".tmp", os.environ["TAPEGRAD_DIST_OUT"])
    dist.destroy_process_group()
