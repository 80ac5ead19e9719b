"""autograd.compile: a compiled training step gives bitwise the eager step's losses, gradients and
parameters (the oracle is the same step run eagerly from the same start), on every backend.

Each test runs one model twice from the same weights and the same batches, eagerly and compiled,
and compares everything bit for bit after every call; the stats say the compiled run really
replayed (not silently fell back to eager), retraced where a guard changed, and why."""
import contextlib
import sys
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
from nn import functional as F

C = sys.modules["autograd.compile"]


@contextlib.contextmanager
def replays_cleanly(compiled_fn, replays, exact=False):
    """The body runs with every warning recorded; then, for a compiled function (None: the eager
    run, nothing checked), no autograd.compile warning was given (no graph break, no fallback),
    no call ran eagerly, and it replayed `replays` times (at least, unless exact)."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        yield
    if compiled_fn is not None:
        assert not [str(r.message) for r in rec if "autograd.compile" in str(r.message)]
        st = compiled_fn.stats
        assert (st.replays == replays if exact else st.replays >= replays) and st.eager_calls == 0, st


def arr(t):
    """A tensor's values as a NumPy array (host copy), None for None."""
    if t is None:
        return None
    return np.array(t.detach()._backend.to_numpy(t.detach()._data), copy=True)


def same(a, b):
    """Bitwise equality of two arrays (shape, dtype and bytes)."""
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


class MLP(nn.Module):
    def __init__(self, sizes, device, p=0.0):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b, device=device) for a, b in zip(sizes[:-1], sizes[1:])])
        self.drop = nn.Dropout(p) if p else None

    def forward(self, x):
        n = len(self.layers)
        for i, lin in enumerate(self.layers):
            x = lin(x)
            if i < n - 1:
                x = F.relu(x)
                if self.drop is not None:
                    x = self.drop(x)
        return x


def weights(sizes, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        k = 1 / np.sqrt(a)
        out.append((rng.uniform(-k, k, (b, a)).astype(np.float32), rng.uniform(-k, k, b).astype(np.float32)))
    return out


def build(sizes, device, p=0.0):
    m = MLP(sizes, device, p)
    with ag.no_grad():
        for lin, (W, b) in zip(m.layers, weights(sizes)):
            lin.weight.copy_(ag.tensor(W, device=device))
            lin.bias.copy_(ag.tensor(b, device=device))
    return m


def batches(n, batch, n_in, n_cls, device, seed=1):
    rng = np.random.default_rng(seed)
    return [(ag.tensor(rng.standard_normal((batch, n_in)).astype(np.float32), device=device),
             ag.tensor(rng.integers(0, n_cls, batch), device=device)) for _ in range(n)]


def make_step(model, opt, zero="inside"):
    ce = nn.CrossEntropyLoss()

    def step(x, y):
        if zero == "inside":
            opt.zero_grad()
        loss = ce(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def run_pair(sizes, device, make_opt, data, compile_kw=None, zero="inside", p=0.0, between=None, seed=0):
    """Run the same training eagerly and compiled; compare after every call. Returns the compiled
    function (for its stats)."""
    runs = []
    for compiled in (False, True):
        ag.manual_seed(seed)
        m = build(sizes, device, p)
        opt = make_opt(m.parameters())
        step = make_step(m, opt, zero)
        if compiled:
            step = ag.compile(step, **(compile_kw or {}))
        rec = []
        for i, (x, y) in enumerate(data):
            if between is not None:
                between(i, m, opt)
            if zero == "outside":
                opt.zero_grad()
            loss = step(x, y)
            rec.append((arr(loss), [arr(q) for q in m.parameters()], [arr(q.grad) for q in m.parameters()]))
        runs.append((rec, step, m, opt))
    (eager, _, _, _), (comp, step, _, _) = runs
    for i, (a, b) in enumerate(zip(eager, comp)):
        assert same(a[0], b[0]), f"call {i}: loss {a[0]} (eager) != {b[0]} (compiled)"
        for j, (pa, pb) in enumerate(zip(a[1], b[1])):
            assert same(pa, pb), f"call {i}: parameter {j} differs"
        for j, (ga, gb) in enumerate(zip(a[2], b[2])):
            assert same(ga, gb), f"call {i}: gradient {j} differs"
    return step


TINY = [16, 16, 16, 10]


def test_sgd_mlp_replays_bitwise(device):
    data = batches(7, 8, 16, 10, device)
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.05), data)
    st = step.stats
    assert st.traces == 2 and st.replays == 5 and st.eager_calls == 0, st
    assert st.graph_break is None and st.retrace_reasons == []
    assert isinstance(step(*data[0]), ag.Tensor)


def test_sgd_momentum_weight_decay_and_grads_kept(device):
    data = batches(7, 8, 16, 10, device)
    mk = lambda ps: nn.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3, nesterov=True)  # noqa: E731
    step = run_pair(TINY, device, mk, data)
    assert step.stats.replays >= 3, step.stats
    # no zero_grad at all: gradients accumulate across calls, as eager
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.01), data, zero="never")
    assert step.stats.replays >= 3, step.stats
    # zero_grad outside the compiled function
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.01), data, zero="outside")
    assert step.stats.replays >= 3, step.stats


@pytest.mark.parametrize("name,batch,sizes", [("small", 32, [64, 64, 64, 10]), ("wide", 16, [784, 512, 512, 10]),
                                              ("deep", 8, [256] * 9 + [10])])
def test_benchmark_shapes(device, name, batch, sizes):
    data = batches(4, batch, sizes[0], sizes[-1], device)
    step = run_pair(sizes, device, lambda ps: nn.optim.SGD(ps, lr=0.01), data)
    assert step.stats.replays == 2, step.stats


ADAPTIVE = {
    "Adam": lambda ps: nn.optim.Adam(ps, lr=1e-2),
    "Adam-amsgrad-wd-maximize": lambda ps: nn.optim.Adam(ps, lr=1e-2, amsgrad=True, weight_decay=1e-2,
                                                         maximize=True),
    "AdamW": lambda ps: nn.optim.AdamW(ps, lr=1e-2, betas=(0.8, 0.99)),
    "AdamW-amsgrad": lambda ps: nn.optim.AdamW(ps, lr=1e-2, amsgrad=True),
    "RMSprop": lambda ps: nn.optim.RMSprop(ps, lr=1e-2),
    "RMSprop-momentum-centered-wd": lambda ps: nn.optim.RMSprop(ps, lr=1e-2, momentum=0.9, centered=True,
                                                                weight_decay=1e-3),
    "Adadelta": lambda ps: nn.optim.Adadelta(ps),
    "Rprop": lambda ps: nn.optim.Rprop(ps, lr=1e-2),
    "Adamax-wd": lambda ps: nn.optim.Adamax(ps, lr=1e-2, weight_decay=1e-2),
    "Adagrad-lr_decay-wd": lambda ps: nn.optim.Adagrad(ps, lr=1e-2, lr_decay=0.1, weight_decay=1e-2),
    "NAdam": lambda ps: nn.optim.NAdam(ps, lr=1e-2),
    "NAdam-decoupled-wd": lambda ps: nn.optim.NAdam(ps, lr=1e-2, weight_decay=1e-2, decoupled_weight_decay=True),
}


@pytest.mark.parametrize("name", list(ADAPTIVE))
def test_adam_family_replays_bitwise(device, name):
    """Adam's bias corrections change every step: while tracing, they are computed by one recorded
    host function of the `step` tensor (the same float arithmetic eager does after `.item()`), so
    every replay recomputes them and the step stays bitwise eager's, over 8 calls (6 replayed)."""
    data = batches(8, 8, 16, 10, device)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        step = run_pair(TINY, device, ADAPTIVE[name], data)
    assert [str(x.message) for x in w if "autograd.compile" in str(x.message)] == []
    st = step.stats
    assert st.graph_break is None and st.eager_calls == 0 and st.replays >= 5, st


F64_OPTS = {"Adam": lambda ps: nn.optim.Adam(ps, lr=0.05, weight_decay=0.1),
            "Adamax": lambda ps: nn.optim.Adamax(ps, lr=0.05),
            "Adagrad": lambda ps: nn.optim.Adagrad(ps, lr=0.05, lr_decay=0.01),
            "NAdam": lambda ps: nn.optim.NAdam(ps, lr=0.05, weight_decay=0.1, momentum_decay=0.1)}


@pytest.mark.parametrize("name", list(F64_OPTS))
def test_adam_float64_replays_bitwise(device, name):
    """float64 parameters (the dtype test_nn_optim_torch checks against torch): the compiled step
    equals eager bit for bit over 7 steps, so it is as close to torch.optim as eager."""
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((5, 3))
    xs = [ag.tensor(rng.standard_normal((4, 5)), device=device) for _ in range(7)]
    runs = []
    for compiled in (False, True):
        w = ag.tensor(w0, device=device, requires_grad=True)
        opt = F64_OPTS[name]([w])

        def f(x):
            opt.zero_grad()
            loss = (x @ w).tanh().pow(2).mean()
            loss.backward()
            opt.step()
            return loss
        g = ag.compile(f) if compiled else f
        runs.append(([arr(g(x)) for x in xs], arr(w), arr(opt.state[w]["step"])))
        if compiled:
            assert g.stats.replays >= 4 and g.stats.graph_break is None, g.stats
    (la, wa, sa), (lb, wb, sb) = runs
    assert all(same(a, b) for a, b in zip(la, lb))
    assert same(wa, wb) and same(sa, sb) and wa.dtype == np.float64
    assert sa.dtype == np.float32 and float(sa) == 7.0          # the step count is torch's float32 tensor


def test_digits_mlp_adam_step_replays_bitwise(device):
    """examples/digits_mlp.py's model (Linear, ReLU, Dropout, Linear) and optimizer (Adam lr 3e-3)
    with a scheduler stepping lr between calls: compiled equals eager, dropout masks included."""
    data = batches(8, 32, 64, 10, device, seed=5)
    runs = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 256, device=device), nn.ReLU(), nn.Dropout(0.1),
                              nn.Linear(256, 10, device=device))
        opt = nn.optim.Adam(model.parameters(), lr=3e-3)
        sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=40)
        step = make_step(model, opt)
        if compiled:
            step = ag.compile(step)
        rec = []
        for i, (x, y) in enumerate(data):
            rec.append(arr(step(x, y)))
            if i == 5:
                sched.step()
        rec += [arr(q) for q in model.parameters()]
        runs.append(rec)
        if compiled:
            st = step.stats
            assert st.replays >= 3 and st.graph_break is None and st.eager_calls == 0, st
            assert any("hyperparameters" in r for r in st.retrace_reasons), st
    assert all(same(a, b) for a, b in zip(*runs))


#: every optimizer of nn.optim but LBFGS (whose closure branches on loss values: a graph break,
#: tested below), with settings that reach each one's branches within the calls run
EVERY_OPT = {
    "SGD": lambda ps, lr: nn.optim.SGD(ps, lr=lr, momentum=0.9, weight_decay=1e-3),
    "Adam": lambda ps, lr: nn.optim.Adam(ps, lr=lr, amsgrad=True),
    "AdamW": lambda ps, lr: nn.optim.AdamW(ps, lr=lr),
    "Adamax": lambda ps, lr: nn.optim.Adamax(ps, lr=lr),
    "NAdam": lambda ps, lr: nn.optim.NAdam(ps, lr=lr),
    # rho_t > 5 from the 6th step: 8 calls take both of RAdam's branches
    "RAdam": lambda ps, lr: nn.optim.RAdam(ps, lr=lr, weight_decay=1e-2),
    "RMSprop": lambda ps, lr: nn.optim.RMSprop(ps, lr=lr, centered=True),
    "Adagrad": lambda ps, lr: nn.optim.Adagrad(ps, lr=lr, lr_decay=0.1),
    "Adadelta": lambda ps, lr: nn.optim.Adadelta(ps, lr=lr),
    "Rprop": lambda ps, lr: nn.optim.Rprop(ps, lr=lr),
    # t0=3: the averaging (mu != 1) starts mid-run, so both of ASGD's branches replay
    "ASGD": lambda ps, lr: nn.optim.ASGD(ps, lr=lr, t0=3, weight_decay=1e-3),
    "Adafactor": lambda ps, lr: nn.optim.Adafactor(ps, lr=lr, weight_decay=1e-2),
    "Muon": lambda ps, lr: nn.optim.Muon([p for p in ps if p.ndim == 2], lr=lr),
}


def test_every_optimizer_is_covered():
    names = {n for n in nn.optim.__all__ if isinstance(getattr(nn.optim, n), type)
             and issubclass(getattr(nn.optim, n), nn.optim.Optimizer) and n != "Optimizer"}
    assert names == set(EVERY_OPT) | {"LBFGS"}


def run_opt(device, name, dtype=ag.float32, lr=1e-2, n=8, lr_between=None):
    """EVERY_OPT[name] on TINY, eagerly and compiled, from the same start: (eager records, compiled
    records, the compiled function). lr: a float, or a callable making a fresh tensor lr."""
    data = batches(n, 8, 16, 10, device)
    runs = []
    for compiled in (False, True):
        ag.manual_seed(0)
        m = build(TINY, device).to(dtype)
        lr_ = lr() if callable(lr) else lr
        opt = EVERY_OPT[name](list(m.parameters()), lr_)
        step = make_step(m, opt)
        if compiled:
            step = ag.compile(step)
        rec = []
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for i, (x, y) in enumerate(data):
                if lr_between is not None:
                    lr_between(i, lr_)
                rec.append([arr(step(x.to(dtype), y))] + [arr(q) for q in m.parameters()] +
                           [arr(t) for st in opt.state.values() for t in st.values() if isinstance(t, ag.Tensor)])
        assert [str(x.message) for x in w if "autograd.compile" in str(x.message)] == []
        runs.append(rec)
    return runs[0], runs[1], step


def assert_same_runs(eager, comp):
    for i, (a, b) in enumerate(zip(eager, comp)):
        assert len(a) == len(b)
        for j, (u, v) in enumerate(zip(a, b)):
            assert same(u, v), f"call {i}: value {j} (0: loss, then parameters, then state) differs"


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("name", list(EVERY_OPT))
def test_every_optimizer_replays_bitwise(device, name, dtype):
    """Each optimizer's compiled step replays (no graph break, no eager fallback) and equals the
    eager step bit for bit (loss, parameters, every state tensor) over 8 calls, in float32 and
    with a float16 model (float16 parameters, gradients and state)."""
    if dtype == "float16":
        try:
            ag.zeros(1, dtype=ag.float16, device=device)
        except TypeError:
            pytest.skip("this backend has no float16 (the array API standard has none)")
    eager, comp, step = run_opt(device, name, getattr(ag, dtype))
    assert_same_runs(eager, comp)
    assert comp[-1][1].dtype == np.dtype(dtype)
    st = step.stats
    assert st.graph_break is None and st.eager_calls == 0 and st.replays >= 5, st


@pytest.mark.parametrize("name", list(EVERY_OPT))
def test_every_optimizer_with_a_tensor_lr_replays_bitwise(device, name):
    """A 1-element tensor lr: its value is a guard (read when the step is called), so the step
    replays; an in-place change of the tensor (lr.fill_ between calls, as a scheduler on a tensor
    lr does) retraces under the new value, and every call equals eager bit for bit."""
    def change(i, lr):
        if i == 5:
            with ag.no_grad():
                lr.fill_(5e-3)
    eager, comp, step = run_opt(device, name, lr=lambda: ag.tensor(1e-2, device=device), n=10,
                                lr_between=change)
    assert_same_runs(eager, comp)
    st = step.stats
    assert st.graph_break is None and st.eager_calls == 0 and st.replays >= 5, st
    assert any("hyperparameters" in r for r in st.retrace_reasons), st


def test_lbfgs_is_a_graph_break(device):
    """LBFGS re-evaluates its closure and branches on the loss (convergence tests, line search):
    not replayable. The first call warns once, naming the line in lbfgs.py and the user's line
    that called it, and finishes eagerly; later calls run eagerly; everything equals eager;
    fullgraph=True raises GraphBreak there instead."""
    data = batches(3, 8, 16, 10, device)
    ce = nn.CrossEntropyLoss()
    runs = []
    for compiled in (False, True):
        m = build(TINY, device)
        opt = nn.optim.LBFGS(m.parameters(), lr=0.5, max_iter=3)

        def step(x, y):
            def closure():
                opt.zero_grad()
                loss = ce(m(x), y)
                loss.backward()
                return loss
            return opt.step(closure)                      # the line the warning names
        line = step.__code__.co_firstlineno + 6
        f = ag.compile(step) if compiled else step
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            runs.append([arr(f(x, y)) for x, y in data] + [arr(q) for q in m.parameters()])
        if compiled:
            msgs = [str(x.message) for x in w if "autograd.compile" in str(x.message)]
            assert len(msgs) == 1 and "lbfgs.py" in msgs[0] and f"test_compile.py:{line})" in msgs[0], msgs
            assert f.stats.traces == 1 and f.stats.eager_calls == 2 and f.stats.replays == 0, f.stats
    assert all(same(a, b) for a, b in zip(*runs))
    g = ag.compile(step, fullgraph=True)
    with pytest.raises(C.GraphBreak, match="lbfgs.py"):
        g(*data[0])


def test_fullgraph_raises_on_graph_break(device):
    m = build(TINY, device)
    opt = nn.optim.SGD(m.parameters(), lr=0.1)
    ce = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = ce(m(x), y)
        loss.backward()
        if loss.item() > 1e9:                      # data-dependent Python
            return loss
        opt.step()
        return loss
    step = ag.compile(step, fullgraph=True)
    x, y = batches(1, 8, 16, 10, device)[0]
    with pytest.raises(C.GraphBreak, match="item"):
        step(x, y)


def test_user_graph_break_names_the_line(device):
    m = build(TINY, device)
    opt = nn.optim.SGD(m.parameters(), lr=0.1)
    ce = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = ce(m(x), y)
        if loss > 100:                                      # data-dependent Python: a graph break
            loss = loss * 0
        loss.backward()
        opt.step()
        return loss
    line = step.__code__.co_firstlineno + 3
    cstep = ag.compile(step)
    data = batches(3, 8, 16, 10, device)
    with pytest.warns(UserWarning, match=rf"Tensor.__bool__\(\) at .*test_compile.py:{line}"):
        cstep(*data[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # only one warning
        cstep(*data[1])
        cstep(*data[2])
    assert cstep.stats.eager_calls == 2 and cstep.stats.replays == 0


def test_dropout_draws_fresh_masks_from_the_same_stream(device):
    data = batches(6, 8, 16, 10, device)
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.05), data, p=0.3)
    assert step.stats.replays == 4, step.stats
    # fresh masks: the compiled step's gradients differ between two calls on the same batch
    ag.manual_seed(3)
    m = build(TINY, device, p=0.5)
    opt = nn.optim.SGD(m.parameters(), lr=0.0)
    s = ag.compile(make_step(m, opt))
    x, y = data[0]
    losses = [arr(s(x, y)) for _ in range(5)]
    assert s.stats.replays == 3
    assert len({v.tobytes() for v in losses[2:]}) == 3


def test_eval_mode_and_grad_mode_retrace(device):
    data = batches(6, 8, 16, 10, device)

    def between(i, m, opt):
        m.train(i < 3)                                    # eval from call 3: dropout off, retrace
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.05), data, p=0.3, between=between)
    assert any("module.training" in r for r in step.stats.retrace_reasons), step.stats
    assert step.stats.replays >= 2


def test_scheduler_changing_lr_retraces(device):
    data = batches(8, 8, 16, 10, device)
    sched = {}

    def between(i, m, opt):
        if i == 0:
            sched[id(opt)] = nn.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        else:
            sched[id(opt)].step()
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.1), data, between=between)
    assert any("hyperparameters" in r and "0.05" in r for r in step.stats.retrace_reasons), step.stats
    assert step.stats.replays >= 2


def test_shape_change_retraces(device):
    data = batches(4, 8, 16, 10, device) + batches(4, 5, 16, 10, device, seed=2) + batches(3, 8, 16, 10, device)
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.05), data)
    st = step.stats
    assert any("shape (8, 16) -> (5, 16)" in r for r in st.retrace_reasons), st
    assert st.traces == 4 and st.replays == 7, st                  # the batch-8 plan is kept


def test_returns_and_scalar_arguments(device):
    """Python arguments are guards (a new value retraces); returned structures keep their shape."""
    w = ag.tensor(np.ones((3, 3), np.float32), requires_grad=True)

    def f(x, scale):
        w.grad = None
        loss = ((x @ w) * scale).sum()
        loss.backward()
        with ag.no_grad():
            w.sub_(w.grad, alpha=0.1)
        return {"loss": loss, "pair": (x * 2, 7)}
    cf = ag.compile(f, mode="max-autotune", backend="inductor", dynamic=False)
    x = ag.tensor(np.arange(9, dtype=np.float32).reshape(3, 3))
    outs = [cf(x, s) for s in (1.0, 1.0, 1.0, 2.0, 2.0, 2.0)]
    assert cf.stats.replays == 2 and cf.stats.traces == 4, cf.stats
    assert any("argument" in r for r in cf.stats.retrace_reasons)
    o = outs[2]
    assert set(o) == {"loss", "pair"} and o["pair"][1] == 7
    assert same(arr(o["pair"][0]), np.arange(9, dtype=np.float32).reshape(3, 3) * 2)
    # the same arithmetic eagerly
    w2 = np.ones((3, 3), np.float32)
    xs = np.arange(9, dtype=np.float32).reshape(3, 3)
    for s in (1.0, 1.0, 1.0, 2.0, 2.0, 2.0):
        g = (xs.T @ np.full((3, 3), s, np.float32)).astype(np.float32)
        w2 = w2 - g * np.float32(0.1)
    assert np.allclose(arr(w), w2, rtol=1e-6)


def test_forward_only_function_with_graph_runs_eagerly(device):
    w = ag.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    cf = ag.compile(lambda x: x @ w)
    x = ag.tensor(np.ones((2, 2), np.float32))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        y = [cf(x) for _ in range(3)][-1]
    assert y.requires_grad and y.grad_fn is not None          # eager: the graph is there to use
    assert any("backpropagated" in str(r.message) for r in rec)


def test_unrecordable_array_code_falls_back_safely(device):
    """An array computed by code the recorder cannot see (a raw array operator) and used later is
    refused, not frozen into the plan as a stale constant."""
    w = ag.tensor(np.ones((4,), np.float32), requires_grad=True)

    def f(x):
        from autograd.ops.unary import masked
        return masked(x * w, x._data > 0).sum().detach()    # `x._data > 0`: a raw array operator
    cf = ag.compile(f)
    xs = [ag.tensor(np.array(v, np.float32)) for v in ([1, -1, 2, -2], [-1, 1, -2, 2], [1, 1, -1, -1])] * 3
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        got = [arr(cf(x)) for x in xs]
    assert [float(g) for g in got] == [3.0, 3.0, 2.0] * 3
    assert cf.stats.replays == 0
    assert any("outside the recorded operations" in str(r.message) for r in rec)


def test_decorator_and_disable():
    @ag.compile(fullgraph=True)
    def f(x):
        return x * 2
    assert isinstance(f, C.CompiledFunction)
    g = lambda x: x  # noqa: E731
    assert ag.compile(g, disable=True) is g
    x = ag.tensor([1.0, 2.0])
    assert [float(v) for v in f(x).tolist()] == [2.0, 4.0]
    with pytest.raises(TypeError):
        ag.compile(3)


def test_inplace_on_arguments_and_versions(device):
    """A step writing into its argument writes into each call's argument, version counters move as
    in eager, and a no_grad `t[i] = v` and fill_ are replayed."""
    buf = ag.tensor(np.zeros(3, np.float32))

    def f(x):
        with ag.no_grad():
            x.mul_(2.0)
            buf.fill_(1.0)
            buf[0] = 5.0
        return x + buf
    cf = ag.compile(f)
    for i in range(5):
        x = ag.tensor(np.full(3, float(i), np.float32))
        v0 = x._version
        out = cf(x)
        assert same(arr(x), np.full(3, 2.0 * i, np.float32))
        assert same(arr(out), np.array([2.0 * i + 5, 2.0 * i + 1, 2.0 * i + 1], np.float32))
        assert x._version == v0 + 1
    assert cf.stats.replays == 3, cf.stats
    assert same(arr(buf), np.array([5, 1, 1], np.float32))


def test_replaced_parameter_retraces(device):
    data = batches(6, 8, 16, 10, device)

    def between(i, m, opt):
        if i == 4:                           # a new Parameter object in the model and the optimizer
            old = m.layers[0].weight
            new = nn.Parameter(old.detach() * 0.5)
            m.layers[0].weight = new
            opt.param_groups[0]["params"][0] = new
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.05), data, between=between)
    assert any("state changed" in r for r in step.stats.retrace_reasons), step.stats


def test_ignored_targets_replay_without_a_branch(device):
    """Cross-entropy's eager backward branches on whether some target is ignore_index; while
    tracing it takes a branch-free form (bitwise the same on both branches), so a plan traced on
    batches without ignored targets replays a batch with some, equal to eager (dropout on, so the
    generator stream is checked too)."""
    data = batches(5, 8, 16, 10, device)
    x, y = batches(1, 8, 16, 10, device, seed=7)[0]
    yi = arr(y)
    yi[[1, 4]] = -100
    data = data + [(x, ag.tensor(yi, device=device))] + batches(3, 8, 16, 10, device, seed=9)
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.05), data, p=0.2)
    st = step.stats
    assert st.traces == 2 and st.replays == 7 and st.eager_calls == 0, st


def test_data_dependent_branch_in_a_backward_rule_is_a_guard(device):
    """logsumexp's backward branches on whether every result is finite: a plan traced on finite
    batches must not replay a batch with an inf (it retraces; that batch's rule uses raw array
    code, so it and the later calls run as eager traces), and the numbers equal eager's throughout."""
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(8)]
    xs[5][1, 2] = np.inf
    runs = []
    for compiled in (False, True):
        w = ag.tensor(np.ones((3,), np.float32), device=device, requires_grad=True)
        opt = nn.optim.SGD([w], lr=0.1)

        def f(x):
            opt.zero_grad()
            loss = (x * w).logsumexp(1).sum()
            loss.backward()
            opt.step()
            return loss
        g = ag.compile(f) if compiled else f
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs.append([(arr(g(ag.tensor(x, device=device))), arr(w), arr(w.grad)) for x in xs])
    assert all(same(a, b) for ra, rb in zip(*runs) for a, b in zip(ra, rb))
    assert np.isinf(runs[0][5][0]) and np.isfinite(runs[0][4][0])
    st = g.stats
    assert st.replays == 3, st                       # calls 3, 4, 5; call 6 would take the other branch
    assert any("data-dependent check" in r for r in st.retrace_reasons), st


def test_clamp_and_max_pool_replay_bitwise(device):
    """clamp's rule and max_pool2d's index arithmetic go through the array namespace, so a step
    using them replays (it fell back to eager before), bitwise as eager."""
    rng = np.random.default_rng(4)
    xs = [ag.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), device=device) for _ in range(6)]
    runs = []
    for compiled in (False, True):
        w = ag.tensor(rng.standard_normal((3, 1, 1)).astype(np.float32) * 0 + 1.5, device=device,
                      requires_grad=True)
        opt = nn.optim.SGD([w], lr=0.1)

        def f(x):
            opt.zero_grad()
            y = F.max_pool2d((x * w).clamp(-1.0, 0.75), 3, stride=2, padding=1)
            loss = (y * y).sum() + F.max_pool2d(x * w, 2, ceil_mode=True).sum()
            loss.backward()
            opt.step()
            return loss
        g = ag.compile(f) if compiled else f
        with replays_cleanly(g if compiled else None, 4, exact=True):
            runs.append([(arr(g(x)), arr(w), arr(w.grad)) for x in xs])
    assert all(same(a, b) for ra, rb in zip(*runs) for a, b in zip(ra, rb))


def test_digits_cnn_step_replays_bitwise(device):
    """examples/digits_cnn.py's model (Conv2d, BatchNorm2d, ReLU, MaxPool2d, Dropout, Linear) and
    optimizer (AdamW): compiled equals eager over 6 calls (3 traces: AdamW creates its state, then 3
    replays), running statistics too."""
    def model():
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Dropout(0.3), nn.Linear(16 * 2 * 2, 10)).to(device)
    rng = np.random.default_rng(2)
    data = [(ag.tensor(rng.standard_normal((8, 1, 8, 8)).astype(np.float32), device=device),
             ag.tensor(rng.integers(0, 10, 8), device=device)) for _ in range(6)]
    runs = []
    for compiled in (False, True):
        ag.manual_seed(0)
        m = model()
        step = make_step(m, nn.optim.AdamW(m.parameters(), lr=3e-3, weight_decay=1e-2))
        if compiled:
            step = ag.compile(step)
        runs.append([arr(step(x, y)) for x, y in data] + [arr(t) for t in m.state_dict().values()])
        if compiled:
            assert step.stats.replays == 3 and step.stats.eager_calls == 0, step.stats
    assert all(same(a, b) for a, b in zip(*runs))


def test_sgd_update_of_a_dead_gradient_scales_in_place(device):
    """`p.sub_(p.grad, alpha=lr); p.grad = None` (benchmarks/mlp.py's step): the gradient is dead
    after the update, so the replay scales it in place (`g *= lr; W -= g`: no temporary, which on
    large layers is a fresh allocation and its page faults per replay); a gradient that stays in
    .grad is never written (test_sgd_momentum_weight_decay_and_grads_kept compares the .grad)."""
    data = batches(5, 8, 16, 10, device)
    runs = []
    for compiled in (False, True):
        m = build(TINY, device)
        ce = nn.CrossEntropyLoss()

        def step(x, y, lr):
            loss = ce(m(x), y)
            loss.backward()
            with ag.no_grad():
                for p in m.parameters():
                    p.sub_(p.grad, alpha=lr)
                    p.grad = None
            return loss
        f = ag.compile(step) if compiled else step
        runs.append([arr(f(x, y, 0.05)) for x, y in data] + [arr(q) for q in m.parameters()])
        if compiled:
            assert f.stats.replays == 3, f.stats
            if hasattr(m.layers[0].weight._data, "base"):      # NumPy / CuPy arrays
                assert f.replay_source()[0].count(" *= 0.05") == 6
    assert all(same(a, b) for a, b in zip(*runs))


# --- device graphs: mode="reduce-overhead" (CUDA graphs on CuPy) ----------------------------------

def test_mode_and_options_are_checked_as_torch():
    f = lambda x: x  # noqa: E731
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast, should be one of: default, lite, reduce-overhead"):
        ag.compile(f, mode="fast")
    with pytest.raises(RuntimeError, match="Either mode or options can be specified"):
        ag.compile(f, mode="reduce-overhead", options={"triton.cudagraphs": True})
    assert ag.compile(f, mode="reduce-overhead").cuda_graphs
    assert ag.compile(f, mode="max-autotune").cuda_graphs
    assert ag.compile(f, options={"triton.cudagraphs": True}).cuda_graphs
    for kw in ({}, {"mode": "default"}, {"mode": "max-autotune-no-cudagraphs"}, {"options": {}}):
        assert not ag.compile(f, **kw).cuda_graphs


def _emulated_graphs(be):
    """A stand-in for Backend.capture_graph with a device graph's semantics, for host backends:
    the capture does not run the work (it is traced on scratch copies), the outputs are static
    arrays that every launch rewrites in place, and a launch reads the very arrays it was given."""
    calls = {"captures": 0, "launches": 0}

    def capture(fn, args):
        calls["captures"] += 1
        outs = tuple(be.asarray(o, copy=True) for o in fn(*[be.asarray(a, copy=True) for a in args]))

        def launch():
            calls["launches"] += 1
            for o, r in zip(outs, fn(*args)):
                o[...] = r
        return launch, outs
    return capture, calls


def test_reduce_overhead_replays_through_a_graph_bitwise(device, monkeypatch):
    """The graph path's bookkeeping (static copies of the arguments and of the .grad arrays read,
    refreshed before each launch; parameters updated in place by the graph; outputs read from the
    static buffers, the returned loss a copy), checked with an emulated capture on the host:
    bitwise eager over 7 calls, gradients kept across calls (no zero_grad) and a momentum state."""
    x0 = batches(1, 8, 16, 10, device)[0][0]
    be = x0._backend
    capture, calls = _emulated_graphs(be)
    monkeypatch.setattr(be, "capture_graph", capture, raising=False)
    data = batches(7, 8, 16, 10, device)
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.05, momentum=0.9), data,
                    compile_kw={"mode": "reduce-overhead"}, zero="never")
    assert step.graph_status() == ["captured"], step.graph_status()
    assert calls == {"captures": 1, "launches": step.stats.replays} and step.stats.replays >= 3, (calls, step.stats)
    # the returned losses are not the graph's static buffer: each keeps its value
    x, y = data[0]
    l1, l2 = step(x, y), step(x, y)
    assert arr(l1).tobytes() != arr(l2).tobytes()
    # an argument changed in place between calls is read anew (copied into the static input)
    with ag.no_grad():
        x.mul_(0.0)
    l3 = step(x, y)
    assert arr(l3).tobytes() != arr(l2).tobytes()


def test_reduce_overhead_falls_back_with_the_reason(device, monkeypatch):
    """Without device graphs (NumPy, array_api_strict) the plain replay runs and graph_status says
    why; a step drawing random numbers is never captured; a failing capture leaves the plain
    replay, with the error in graph_status."""
    data = batches(5, 8, 16, 10, device)
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.05), data, compile_kw={"mode": "reduce-overhead"})
    assert step.stats.replays == 3
    assert len(step.graph_status()) == 1 and "no device graphs" in step.graph_status()[0], step.graph_status()
    be = data[0][0]._backend
    capture, calls = _emulated_graphs(be)
    monkeypatch.setattr(be, "capture_graph", capture, raising=False)
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.05), data, p=0.3,
                    compile_kw={"mode": "reduce-overhead"})
    assert step.stats.replays == 3 and calls["captures"] == 0
    assert "random" in step.graph_status()[0], step.graph_status()

    def failing(fn, args):
        raise RuntimeError("operation not permitted when stream is capturing")
    monkeypatch.setattr(be, "capture_graph", failing, raising=False)
    step = run_pair(TINY, device, lambda ps: nn.optim.SGD(ps, lr=0.05), data, compile_kw={"mode": "reduce-overhead"})
    assert step.stats.replays == 3
    assert step.graph_status() == ["the capture failed: RuntimeError: operation not permitted when stream is "
                                   "capturing"], step.graph_status()


def test_split_arange_and_causal_attention_replay_bitwise(device):
    """Pieces of split/chunk/unbind (one multi-output forward that bypasses apply), autograd.arange
    inside the step (array arithmetic the namespace proxy cannot see: recorded as one constant
    call) and scaled_dot_product_attention(is_causal=True) (its dead-row branch taken branch-free
    while recording) replay, bitwise eager."""
    rng = np.random.default_rng(6)
    xs = [ag.tensor(rng.standard_normal((2, 5, 12)).astype(np.float32), device=device) for _ in range(6)]
    runs = []
    for compiled in (False, True):
        w = ag.tensor(rng.standard_normal((12, 12)).astype(np.float32) * 0 + 0.1, device=device, requires_grad=True)
        opt = nn.optim.AdamW([w], lr=1e-2)

        def f(x):
            opt.zero_grad()
            q, k, v = (x @ w).split(4, dim=2)
            a, b = x.chunk(2, dim=1)[0], x.unbind(0)[1]
            pos = ag.arange(0, x.shape[1], device=x.device)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            loss = (y * y).sum() + (a * pos.reshape(1, -1, 1)[:, :3]).sum() + b.mean()
            loss.backward()
            opt.step()
            return loss
        g = ag.compile(f) if compiled else f
        with replays_cleanly(g if compiled else None, 3):
            runs.append([(arr(g(x)), arr(w), arr(w.grad)) for x in xs])
    assert all(same(a, b) for ra, rb in zip(*runs) for a, b in zip(ra, rb))


def _gpt_runs(device, n=5):
    """examples/gpt.py's model and training step in a tiny config, eagerly and compiled, from the
    same weights and batches: (eager records, compiled records, the compiled step)."""
    import os
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
    import gpt
    cfg = gpt.GPTConfig(block_size=8, vocab_size=32, n_layer=1, n_head=2, n_embd=16, dropout=0.0, bias=True)
    rng = np.random.default_rng(8)
    data = [(ag.tensor(rng.integers(0, 32, (2, 8)), device=device), ag.tensor(rng.integers(0, 32, (2, 8)), device=device))
            for _ in range(n)]
    runs = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = gpt.GPT(cfg).to(device)
        opt = model.configure_optimizers(0.1, 1e-2, (0.9, 0.95))

        def step(x, y):
            _, loss = model(x, y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss
        f = ag.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs.append([[arr(f(x, y))] + [arr(p) for p in model.parameters()] for x, y in data])
    return runs[0], runs[1], f


def test_gpt_step_compiled_equals_eager(device):
    """examples/gpt.py's step (embeddings, causal attention, LayerNorm, GELU, tied head, cross-entropy
    with ignore_index=-1, clip_grad_norm_, AdamW groups): compiled, bitwise eager over 5 steps."""
    eager, comp, _ = _gpt_runs(device)
    assert_same_runs(eager, comp)


def test_gpt_step_replays(device):
    _, _, f = _gpt_runs(device)
    assert f.stats.graph_break is None and f.stats.replays >= 2, f.stats


def test_profile_memory_reports_the_eager_peak_under_compile(device):
    """profile_memory inside a replayed call reports what it reports for the eager step (the
    replay records no tape; the plan re-emits the trace's saved-for-backward events): the same
    peak, the same events, back to zero at the end."""
    data = batches(5, 16, 16, 10, device)
    reports = []
    for compiled in (False, True):
        m = build(TINY, device)
        step = make_step(m, nn.optim.SGD(m.parameters(), lr=0.05))
        if compiled:
            step = ag.compile(step)
        for x, y in data[:4]:
            step(x, y)
        with ag.profile_memory() as pm:
            step(*data[4])
        reports.append((pm.peak, pm.current, [(e.delta, e.op, e.kind) for e in pm.timeline]))
        if compiled:
            assert step.stats.replays == 3, step.stats
    (pe, ce, ee), (pc, cc, ec) = reports
    assert pe > 0 and ce == 0 and pc == pe and cc == ce and ec == ee


def test_replay_frees_activations_no_later_than_eager(device):
    """Host memory (tracemalloc, which sees NumPy's buffers) during and after a step: the replay's
    peak is at most the eager step's (each buffer is freed after its last use), and nothing the
    step computed stays alive after it returns."""
    import tracemalloc
    sizes = [256, 512, 512, 10]
    data = batches(4, 64, 256, 10, device)
    peaks, leftovers = [], []
    for compiled in (False, True):
        m = build(sizes, device)
        step = make_step(m, nn.optim.SGD(m.parameters(), lr=0.01))
        if compiled:
            step = ag.compile(step)
        for x, y in data[:3]:
            step(x, y)
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            loss = step(*data[3])
            after, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        if device != "cpu" and after == before:
            pytest.skip(f"tracemalloc does not see the {device} backend's buffers")
        del loss
        peaks.append(peak - before)
        leftovers.append(after - before)
        if compiled:
            assert step.stats.replays == 2, step.stats
    (pe, pc), (le, lc) = peaks, leftovers
    assert pe > 512 * 64 * 4 * 3, pe           # the activations were seen
    assert pc <= pe, (pc, pe)
    assert lc <= le + 4096, (lc, le)            # the .grad arrays (kept by both) and the loss, no more


def test_cupy_capture_graph_follows_cupys_capture_api():
    """CupyBackend.capture_graph's calls, on a stand-in of CuPy's documented stream-capture API (no
    GPU here): fn runs between begin_capture and end_capture on a fresh non-blocking stream that
    first waits for the current stream, with a private pool's allocator; launch() launches the
    graph on the current stream; an error inside fn ends the capture and propagates."""
    import contextlib
    import types
    from backends.cupy_backend import CupyBackend
    log = []

    class Graph:
        def launch(self, stream=None):
            log.append(("launch", stream.name))

    class Stream:
        def __init__(self, non_blocking=False, name="side"):
            self.name, self.capturing = name, False
            log.append(("stream", non_blocking))

        def record(self):
            log.append(("record", self.name))
            return "event"

        def wait_event(self, event):
            log.append(("wait", self.name, event))

        def __enter__(self):
            log.append("with stream")
            return self

        def __exit__(self, *exc):
            log.append("end with stream")

        def begin_capture(self):
            self.capturing = True
            log.append("begin_capture")

        def end_capture(self):
            self.capturing = False
            log.append("end_capture")
            return Graph()

    class MemoryPool:
        def malloc(self, nbytes):
            raise AssertionError("not called by the stand-in")

    @contextlib.contextmanager
    def using_allocator(allocator):
        assert isinstance(allocator.__self__, MemoryPool)
        log.append("private pool")
        try:
            yield
        finally:
            log.append("default pool")

    current = Stream(name="current")
    log.clear()
    be = CupyBackend()
    be._cp = types.SimpleNamespace(cuda=types.SimpleNamespace(
        MemoryPool=MemoryPool, Stream=Stream, get_current_stream=lambda: current, using_allocator=using_allocator))
    be._reason = ""

    def fn(a, b):
        log.append(("fn", a, b))
        return (a + b,)
    launch, outs = be.capture_graph(fn, [1, 2])
    assert outs == (3,)
    assert log == [("stream", True), ("record", "current"), ("wait", "side", "event"), "private pool", "with stream",
                   "begin_capture", ("fn", 1, 2), "end_capture", "end with stream", "default pool"], log
    log.clear()
    launch()
    assert log == [("launch", "current")]

    def bad(a):
        raise RuntimeError("operation not permitted when stream is capturing")
    log.clear()
    with pytest.raises(RuntimeError, match="not permitted"):
        be.capture_graph(bad, [1])
    assert "end_capture" in log and log[-1] == "default pool"


def test_numpy_fast_matrix_transpose_is_numpys():
    """backends/_np_fast.py's matrix_transpose (the `.mT` view for an ndarray, NumPy's wrapper
    costing ~0.5 us on each matmul_t / Linear of a replay): the same view and the same errors."""
    from backends._np_fast import namespace
    ns = namespace()
    for a in (np.arange(6.0).reshape(2, 3), np.arange(24, dtype=np.float32).reshape(2, 3, 4), np.zeros((0, 2)),
              np.arange(6.0).reshape(2, 3)[:, ::2]):
        r1, r2 = np.matrix_transpose(a), ns.matrix_transpose(a)
        assert r1.shape == r2.shape and r1.strides == r2.strides and r1.dtype == r2.dtype
        assert (a.size == 0 or np.shares_memory(r2, a)) and np.array_equal(r1, r2)
    for bad in (np.arange(3.0), np.float32(1.0), [[1.0, 2.0]]):
        outs = []
        for f in (np.matrix_transpose, ns.matrix_transpose):
            try:
                outs.append(("ok", f(bad)))
            except Exception as e:  # noqa: BLE001 - the same error is the contract
                outs.append(("error", type(e)))
        assert outs[0][0] == outs[1][0] and (outs[0][0] == "ok" or outs[0][1] is outs[1][1])


def test_numpy_fast_wrappers_are_numpys():
    """backends/_np_fast.py's reshape, astype and take_along_axis (NumPy's Python wrappers skipped
    for an ndarray): the same values, dtypes, shapes, memory sharing and errors as NumPy's."""
    from backends._np_fast import namespace
    ns = namespace()
    rng = np.random.default_rng(1)
    z = rng.standard_normal((8, 10)).astype(np.float32)
    cases = [("reshape", (z, (80,)), {}), ("reshape", (z, (2, -1)), {}), ("reshape", (z.T, (80,)), {}),
             ("reshape", (z, (3, 3)), {}), ("reshape", (np.float32(2.0), (1,)), {}),
             ("astype", (z, np.float64), {}), ("astype", (z, np.float32), {"copy": False}),
             ("astype", (np.arange(4), np.int8), {}), ("astype", ([1, 2], np.int8), {}),
             ("astype", (np.int64(3), np.float32), {}), ("astype", (3, np.float32), {})]
    for idx in (rng.integers(0, 10, (8, 1)), rng.integers(-10, 10, (8, 3)), rng.integers(0, 10, (8, 1)).astype(np.uint8),
                np.full((8, 1), 10), np.full((8, 1), -11), rng.integers(0, 10, (1, 2)), rng.integers(0, 8, (3, 10))):
        cases += [("take_along_axis", (z, idx), {"axis": 1}), ("take_along_axis", (z, idx), {"axis": -1})]
    cases.append(("take_along_axis", (z, rng.integers(0, 8, (3, 10))), {"axis": 0}))
    for name, args, kw in cases:
        outs = []
        for f in (getattr(np, name), getattr(ns, name)):
            try:
                outs.append(("ok", f(*args, **kw)))
            except Exception as e:  # noqa: BLE001 - the same error is the contract
                outs.append(("error", (type(e), str(e))))
        (k1, r1), (k2, r2) = outs
        assert k1 == k2, (name, kw, outs)
        if k1 == "ok":
            assert type(r1) is type(r2) and r1.dtype == r2.dtype and r1.shape == r2.shape, (name, kw)
            assert np.array_equal(r1, r2)
            if isinstance(args[0], np.ndarray):
                assert np.shares_memory(r1, args[0]) == np.shares_memory(r2, args[0])
        else:
            assert r1 == r2, (name, kw)


@pytest.mark.parametrize("kind", ["nll", "bce"])
def test_nll_and_bce_range_checks_replay_and_still_raise(device, kind):
    """nll_loss's target range check and binary_cross_entropy's [0, 1] check go through the array
    namespace, so the step replays (a Tensor's bool() would end the trace) and each replay
    re-decides the check: a later batch with a bad target or probability retraces and raises as
    eager does."""
    rng = np.random.default_rng(9)
    xs = [ag.tensor(rng.standard_normal((6, 5)).astype(np.float32), device=device) for _ in range(6)]
    if kind == "nll":
        ys = [ag.tensor(rng.integers(0, 4, 6), device=device) for _ in range(6)]
        bad = ag.tensor(np.array([0, 1, 4, 2, 0, 1]), device=device)
        head, loss_fn, err = nn.LogSoftmax(dim=1), nn.NLLLoss(), IndexError
    else:
        ys = [ag.tensor((rng.random((6, 4)) > 0.5).astype(np.float32), device=device) for _ in range(6)]
        bad = ag.tensor(np.full((6, 4), 1.5, np.float32), device=device)
        head, loss_fn, err = nn.Sigmoid(), nn.BCELoss(), RuntimeError
    runs = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 4), head).to(device)
        opt = nn.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        f = ag.compile(step) if compiled else step
        with replays_cleanly(f if compiled else None, 3):
            runs.append([(arr(f(x, y)), [arr(p) for p in model.parameters()]) for x, y in zip(xs, ys)])
            with pytest.raises(err):
                f(xs[0], bad)
        if compiled:
            assert any("data-dependent check" in r for r in f.stats.retrace_reasons), f.stats
    for (la, pa), (lb, pb) in zip(*runs):
        assert same(la, lb) and all(same(a, b) for a, b in zip(pa, pb))


def test_argument_check_after_a_write_is_hoisted(device):
    """BatchNorm writes its running statistics before nll_loss checks the targets: the check
    depends on the targets only, so the replay computes it before the first write (a check after a
    write could not retrace cleanly); the step replays, and a batch with a bad target retraces and
    raises as eager, with the running statistics as eager leaves them."""
    rng = np.random.default_rng(10)
    xs = [ag.tensor(rng.standard_normal((6, 5)).astype(np.float32), device=device) for _ in range(6)]
    ys = [ag.tensor(rng.integers(0, 4, 6), device=device) for _ in range(6)]
    bad = ag.tensor(np.array([0, 1, 7, 2, 0, 1]), device=device)
    runs = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4),
                              nn.LogSoftmax(dim=1)).to(device)
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.nll_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss
        f = ag.compile(step) if compiled else step
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            rec = [arr(f(x, y)) for x, y in zip(xs, ys)]
            with pytest.raises(IndexError):
                f(xs[0], bad)
            rec += [arr(f(xs[1], ys[1]))] + [arr(t) for t in model.state_dict().values()]
        runs.append(rec)
        if compiled:
            assert not [str(m.message) for m in w if "autograd.compile" in str(m.message)]
            assert f.stats.replays == 3 and f.stats.eager_calls == 0, f.stats    # calls 4-6
            assert f.stats.retrace_reasons == ["a data-dependent check in the step came out differently (e.g. a "
                                               "target equal to ignore_index, a non-finite value)"], f.stats
    assert all(same(a, b) for a, b in zip(*runs))


def test_avg_and_adaptive_avg_pool_replay_bitwise(device):
    """avg_pool2d's divisor and adaptive_avg_pool2d's window matrices are computed from shapes with
    raw array arithmetic: `compile.recorded` helpers, recorded as one call each (constants of the
    plan), so a ResNet-style head (AdaptiveAvgPool2d(1)) and avg pooling replay, bitwise eager."""
    rng = np.random.default_rng(11)
    xs = [ag.tensor(rng.standard_normal((3, 2, 7, 7)).astype(np.float32), device=device) for _ in range(6)]
    ys = [ag.tensor(rng.integers(0, 3, 3), device=device) for _ in range(6)]
    runs = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(3, stride=2, padding=1,
                              count_include_pad=False), nn.AdaptiveAvgPool2d((2, 1)), nn.Flatten(),
                              nn.Linear(8, 3)).to(device)
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        step = make_step(model, opt)
        f = ag.compile(step) if compiled else step
        with replays_cleanly(f if compiled else None, 4, exact=True):
            runs.append([arr(f(x, y)) for x, y in zip(xs, ys)] + [arr(p) for p in model.parameters()])
    assert all(same(a, b) for a, b in zip(*runs))


@pytest.mark.parametrize("clip", ["norm", "norm_inf", "value"])
def test_gradient_clipping_replays_bitwise(device, clip):
    """clip_grad_norm_ (2-norm and inf-norm) and clip_grad_value_ between backward and the
    optimizer step (the GPT example's step), with zero_grad(set_to_none=False): bitwise eager, and
    the .grad tensors (made afresh by each step, then written in place) carry eager's versions."""
    data = batches(6, 8, 16, 10, device)
    runs = []
    for compiled in (False, True):
        m = build(TINY, device)
        opt = nn.optim.AdamW(m.parameters(), lr=1e-2)
        ce = nn.CrossEntropyLoss()

        def step(x, y):
            opt.zero_grad(set_to_none=False)
            loss = ce(m(x), y)
            loss.backward()
            if clip == "value":
                nn.utils.clip_grad_value_(m.parameters(), 0.01)
            else:
                nn.utils.clip_grad_norm_(m.parameters(), 0.5, norm_type=2.0 if clip == "norm" else float("inf"))
            opt.step()
            return loss
        f = ag.compile(step) if compiled else step
        runs.append([[arr(f(x, y))] + [arr(p) for p in m.parameters()] + [arr(p.grad) for p in m.parameters()]
                     + [np.array([p.grad._version for p in m.parameters()])] for x, y in data])
        if compiled:
            assert f.stats.replays >= 3 and f.stats.eager_calls == 0 and f.stats.graph_break is None, f.stats
    assert_same_runs(*runs)           # the .grad tensors' versions too (the clip's in-place write)


def test_leaky_relu_softplus_and_embedding_replay_bitwise(device):
    """LeakyReLU's and Softplus's backward masks and nn.functional.embedding's index-range check go
    through the array namespace (recorded), so a step using them replays, bitwise eager, and an
    out-of-range index in a later batch still raises as eager does."""
    rng = np.random.default_rng(12)
    xs = [ag.tensor(rng.integers(0, 11, (4, 3)), device=device) for _ in range(6)]
    ys = [ag.tensor(rng.integers(0, 3, 4), device=device) for _ in range(6)]
    runs = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.Sequential(nn.Embedding(11, 5), nn.Flatten(), nn.Linear(15, 8), nn.LeakyReLU(0.1),
                              nn.Linear(8, 8), nn.Softplus(beta=2.0, threshold=1.0), nn.Linear(8, 3)).to(device)
        step = make_step(model, nn.optim.SGD(model.parameters(), lr=0.1))
        f = ag.compile(step) if compiled else step
        with replays_cleanly(f if compiled else None, 4, exact=True):
            runs.append([arr(f(x, y)) for x, y in zip(xs, ys)] + [arr(p) for p in model.parameters()])
            with pytest.raises(IndexError, match="embedding: index out of range"):
                f(ag.tensor(np.full((4, 3), 11), device=device), ys[0])
    assert all(same(a, b) for a, b in zip(*runs))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("bias", [True, False])
def test_hot_rules_trace_as_one_kernel_each_and_replay_bitwise(device, dtype, reduction, bias):
    """While tracing, cross-entropy's forward is recorded as one call that also returns the exp and
    row sums it keeps, and cross-entropy's, relu's and Linear's rules as one recorded call each of
    their eager array-level code (no softmax recomputed, no MatmulT / SumTo / masked steps). The
    Python branches inside those kernels (every target counted or some ignored; the kept sums finite
    or not) are decided again by each replay: a plan traced on plain batches replays batches with
    ignored targets, an inf logit, a NaN, bitwise the eager step throughout."""
    rng = np.random.default_rng(5)
    npdt = np.dtype(dtype)
    xs, ys = [], []
    for i in range(9):
        x = rng.standard_normal((6, 5)).astype(npdt)
        y = rng.integers(0, 4, 6)
        if i == 4:
            y[[0, 3]] = -100                  # ignored targets
        if i == 5:
            x[2, 1] = np.inf                  # a row of inf / nan logits
        if i == 6:
            x[1, 0] = np.nan
        if i == 7:
            y[:] = -100                       # every target ignored (mean: nan)
        xs.append(x)
        ys.append(y)
    W1 = rng.standard_normal((7, 5)).astype(npdt)
    W2 = rng.standard_normal((4, 7)).astype(npdt)
    runs = []
    for compiled in (False, True):
        ag.manual_seed(0)
        l1 = nn.Linear(5, 7, bias=bias, device=device, dtype=getattr(ag, dtype))
        l2 = nn.Linear(7, 4, bias=bias, device=device, dtype=getattr(ag, dtype))
        with ag.no_grad():
            l1.weight.copy_(ag.tensor(W1, device=device))
            l2.weight.copy_(ag.tensor(W2, device=device))
        params = list(l1.parameters()) + list(l2.parameters())
        opt = nn.optim.SGD(params, lr=0.01)
        ce = nn.CrossEntropyLoss(reduction=reduction)

        def f(x, y):
            opt.zero_grad()
            loss = ce(l2(F.relu(l1(x))), y)
            (loss if reduction != "none" else loss.sum()).backward()
            opt.step()
            return loss
        g = ag.compile(f) if compiled else f
        rec = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for x, y in zip(xs, ys):
                loss = g(ag.tensor(x, device=device), ag.tensor(y, device=device))
                rec.append([arr(loss)] + [arr(p) for p in params] + [arr(p.grad) for p in params])
        runs.append(rec)
    for i, (a, b) in enumerate(zip(*runs)):
        for j, (u, v) in enumerate(zip(a, b)):
            assert same(u, v), f"call {i}: item {j} differs"
    assert any(np.isnan(r[0]).any() for r in runs[0])          # the non-finite batches did reach the loss
    st = g.stats
    assert st.traces == 2 and st.replays == 7 and st.eager_calls == 0, st
    src = "\n".join(g.replay_source())
    for kernel in ("ce_grad_traced", "relu_grad", "linear_grads"):
        assert kernel in src, kernel
    for step in ("softmax", "matmul_t", "sum_to", "masked"):
        assert step not in src, step
