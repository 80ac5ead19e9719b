"""The array-level backward rules (relu, linear, cross-entropy, ...): where backward records nothing
they compute the gradient straight on arrays (graph.eager_rule), and under create_graph (or while
autograd.compile traces) the differentiable composite runs. Both must give the same numbers bit for
bit, keep the in-place modification checks, and agree with torch (tests/test_conformance.py)."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd import graph
from tests.helpers import npy


def _bits(t):
    a = npy(t)
    return a.view(np.uint64 if a.dtype == np.float64 else np.uint32 if a.dtype == np.float32 else np.uint16)


def _grads_both_ways(fn, inputs, grad=None):
    """d fn(*inputs) / d inputs, once with the array-level rules and once with the composites."""
    out = []
    for cg in (False, True):
        ins = [t.detach().requires_grad_(t.requires_grad) for t in inputs]
        y = fn(*ins)
        g = grad if grad is not None else (None if y.ndim == 0 else ag.ones_like(y))
        wrt = [t for t in ins if t.requires_grad]
        out.append(ag.grad(y, wrt, grad_outputs=g, create_graph=cg))
    return out


def _assert_bitwise(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert tuple(x.shape) == tuple(y.shape) and x.dtype == y.dtype
        np.testing.assert_array_equal(_bits(x), _bits(y))


def test_eager_rule_switch(device):
    seen = []

    def hook(g):
        seen.append(graph.eager_rule())
    x = ag.ones(3, device=device, requires_grad=True)
    y = (x * 2).relu()
    y.register_hook(hook)
    y.sum().backward()
    y = (x * 2).relu()
    y.register_hook(hook)
    y.sum().backward(create_graph=True)
    assert seen == [True, False]


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", ["plain", "ignored", "all_ignored", "inf_row", "nan"])
def test_cross_entropy_arrays_match_composite(device, dtype, reduction, case):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 5)) * 3
    t = rng.integers(0, 5, 6)
    ignore = -100
    if case == "ignored":
        t[[1, 4]] = ignore
    elif case == "all_ignored":
        ignore = 2
        t[:] = 2
    elif case == "inf_row":
        x[2] = -np.inf
        x[3, 1] = np.inf
    elif case == "nan":
        x[0, 0] = np.nan
    xt = ag.tensor(x, dtype=dtype, device=device, requires_grad=True)
    tt = ag.tensor(t, device=device)
    a, b = _grads_both_ways(lambda z: F.cross_entropy(z, tt, ignore_index=ignore, reduction=reduction), [xt])
    _assert_bitwise(a, b)
    # an infinite upstream gradient: torch's inf/nan pattern, the same both ways
    g = ag.full((6,) if reduction == "none" else (), float("inf"), dtype=dtype, device=device)
    a, b = _grads_both_ways(lambda z: F.cross_entropy(z, tt, ignore_index=ignore, reduction=reduction), [xt], g)
    _assert_bitwise(a, b)


@pytest.mark.parametrize("case", ["plain", "inf_row"])
def test_cross_entropy_stash_taken_once(device, case):
    """The forward's stashed exp(x - max) and row sums serve the first backward; a second one
    (retain_graph) recomputes them, and both give the composite's bits. nn.CrossEntropyLoss's
    direct path keeps the stash too; an input that needs no gradient keeps nothing."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3)) * 2
    if case == "inf_row":
        x[1] = -np.inf
    xt = ag.tensor(x, dtype=ag.float32, device=device, requires_grad=True)
    t = ag.tensor([2, 0, 1, 1], device=device)
    (ref,) = ag.grad(F.cross_entropy(xt, t), [xt], create_graph=True)
    for loss in (F.cross_entropy(xt, t), nn.CrossEntropyLoss()(xt, t)):
        assert loss.grad_fn.extra is not None
        (a,) = ag.grad(loss, [xt], retain_graph=True)
        assert loss.grad_fn.extra is None
        (b,) = ag.grad(loss, [xt])
        _assert_bitwise([a, b], [ref, ref])
    assert graph._stash.arrays is None
    F.cross_entropy(xt.detach(), t)
    assert graph._stash.arrays is None
    with pytest.raises(IndexError):
        F.cross_entropy(xt, ag.tensor([2, 0, 3, 1], device=device))
    assert graph._stash.arrays is None
    # a forward called alone (autograd.compile's replay) keeps nothing: no caller asked
    from autograd.ops.loss import CrossEntropyIndex
    be = xt._backend
    quiet = be.enter_quiet()                # apply's window: the inf row's max is subtracted
    try:
        CrossEntropyIndex.forward(be, xt._data, t._data, -100, "mean")
    finally:
        be.exit_quiet(quiet)
    assert graph._stash.arrays is None


def test_cross_entropy_float16_takes_the_composite(device):
    if device == "array_api_strict":
        pytest.skip("the array API standard has no float16")
    x = ag.tensor(np.linspace(-3, 3, 12).reshape(3, 4), dtype=ag.float16, device=device, requires_grad=True)
    t = ag.tensor([0, 3, 1], device=device)
    a, b = _grads_both_ways(lambda z: F.cross_entropy(z, t), [x])
    _assert_bitwise(a, b)
    assert a[0].dtype == ag.float16


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_relu_arrays_match_composite(device, dtype):
    x = ag.tensor([-1.0, 0.0, 2.0, float("nan"), float("inf"), -0.0], dtype=dtype, device=device,
                  requires_grad=True)
    g = ag.tensor([float("inf"), 1.0, float("nan"), 2.0, -3.0, float("inf")], dtype=dtype, device=device)
    a, b = _grads_both_ways(lambda z: z.relu(), [x], g)
    _assert_bitwise(a, b)
    assert npy(a[0])[0] == 0 and np.isnan(npy(a[0])[2]) and npy(a[0])[3] == 2   # torch: select, not g * mask


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xshape", [(4, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("x_grad", [True, False])
def test_linear_arrays_match_composite(device, bias, xshape, x_grad):
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal(xshape), dtype=ag.float32, device=device, requires_grad=x_grad)
    w = ag.tensor(rng.standard_normal((5, 3)), dtype=ag.float32, device=device, requires_grad=True)
    ins = [x, w]
    if bias:
        ins.append(ag.tensor(rng.standard_normal(5), dtype=ag.float32, device=device, requires_grad=True))
    a, b = _grads_both_ways(lambda *z: F.linear(*z), ins)
    _assert_bitwise(a, b)
    if bias:                                   # the bias gradient is the rows' sum, of b's shape
        assert tuple(a[-1].shape) == (5,)


def test_linear_module_step_bitwise(device):
    """A small MLP's parameter gradients: array-level rules against the composites."""
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4)).to(device)
    x = ag.randn(5, 6, device=device)
    t = ag.tensor([0, 3, 1, 2, 3], device=device)
    ps = list(model.parameters())
    res = []
    for cg in (False, True):
        loss = F.cross_entropy(model(x), t)
        res.append(ag.grad(loss, ps, create_graph=cg))
    _assert_bitwise(*res)


def test_in_place_modification_still_detected(device):
    x = ag.tensor([1.0, -2.0], device=device, requires_grad=True)
    y = (x * 1).relu()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    lin = nn.Linear(3, 2).to(device)
    h = lin(ag.ones(4, 3, device=device, requires_grad=True))
    with ag.no_grad():
        lin.weight.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        h.sum().backward()
    z = ag.randn(3, 4, device=device, requires_grad=True) * 1
    loss = F.cross_entropy(z, ag.tensor([0, 1, 2], device=device))
    z.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_second_backward_through_freed_graph_still_raises(device):
    x = ag.randn(3, 4, device=device, requires_grad=True)
    loss = F.cross_entropy(F.linear(x, ag.randn(2, 4, device=device, requires_grad=True)).relu(),
                           ag.tensor([0, 1, 1], device=device))
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_cross_entropy_module_direct_path_matches_functional(device):
    """nn.CrossEntropyLoss takes F.cross_entropy's fused case by the same predicate: the same bits
    for int64 and uint8 targets, and F's error for a target of the wrong shape."""
    rng = np.random.default_rng(7)
    x = ag.tensor(rng.standard_normal((5, 4)), dtype=ag.float32, device=device, requires_grad=True)
    for dtype in (ag.int64, ag.uint8):
        t = ag.tensor([3, 0, 1, 1, 2], dtype=dtype, device=device)
        for reduction in ("mean", "sum", "none"):
            a = nn.CrossEntropyLoss(reduction=reduction)(x, t)
            b = F.cross_entropy(x, t, reduction=reduction)
            assert a.grad_fn.name == b.grad_fn.name == "cross_entropy_index"
            _assert_bitwise([a], [b])
    with pytest.raises(ValueError, match="expected target of shape"):
        nn.CrossEntropyLoss()(x, ag.tensor([[1], [0], [2], [3], [1]], device=device))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_target_written_after_forward(device, reduction):
    """A target written in place between forward and backward: the rule does not use what the
    forward found about it (all targets counted), so eager and composite still agree."""
    x = ag.tensor(np.linspace(-2, 2, 12).reshape(4, 3), dtype=ag.float64, device=device, requires_grad=True)
    out = []
    for cg in (False, True):
        t = ag.tensor([2, 0, 1, 1], device=device)
        loss = F.cross_entropy(x, t, reduction=reduction)
        t[1] = -100
        g = None if reduction != "none" else ag.ones(4, dtype=ag.float64, device=device)
        out.append(ag.grad(loss, [x], grad_outputs=g, create_graph=cg))
    _assert_bitwise(*out)


def test_walk_order_chain_then_branches(device):
    """The walk keeps its one pending node out of the heap while the tape is a chain, and orders
    by the heap once it branches: a node runs only after every consumer sent its gradient."""
    torch = pytest.importorskip("torch", reason="torch is the oracle for the gradients")
    xv = np.array([0.3, -1.2, 2.0])

    def f(lib, x):
        y = (x * 2).relu() * x          # a chain into a branch: y feeds three consumers
        a = y.exp()
        b = a * y + y.sin()
        return (b * 3).sum()
    x = ag.tensor(xv, dtype=ag.float64, device=device, requires_grad=True)
    f(ag, x).backward()
    xt = torch.tensor(xv, requires_grad=True)
    f(torch, xt).backward()
    np.testing.assert_allclose(npy(x.grad), xt.grad.numpy(), rtol=1e-12, atol=0)


def test_the_ledger_counts_what_cross_entropy_stashes(device):
    """tape_report is the exact ledger of what the tape keeps: the cross-entropy node holds its
    logits (N, C) and targets (N,) int64, and, for the array-level rule, exp(x - max) (N, C) and the
    row sums (N,): all counted; after backward only the targets, which the node's parameters still
    reference while the graph lives."""
    n, c = 8, 10
    x = ag.randn(n, c, requires_grad=True, device=device)
    z = x.exp()                                    # a recorded op before, so the logits are saved
    loss = nn.functional.cross_entropy(z, ag.tensor(np.arange(n) % c, device=device))
    rows = {r.op: r for r in ag.tape_report(loss).rows}
    ce = rows["cross_entropy_index"]
    # (+ the loss's sum, a 0-d float32 where the backend makes 0-d results arrays, not scalars)
    assert ce.saved_bytes - (n * c * 4 + n * 8 + n * c * 4 + n * 4) in (0, 4), ag.tape_report(loss).table()
    loss.backward()
    assert {r.op: r.saved_bytes for r in ag.tape_report(loss).rows} == {"exp": 0, "cross_entropy_index": n * 8}


def test_a_stash_belongs_to_the_thread_that_asked():
    """want_stash / stash / keep_stash are per thread: a forward running in another thread between a
    caller's want_stash and its keep_stash cannot hand that caller its arrays."""
    import threading
    from autograd import graph
    graph.want_stash()
    seen = []

    def other():
        graph.want_stash()
        graph.stash("theirs")
        seen.append(graph._stash.arrays)
        graph.keep_stash(None)
    th = threading.Thread(target=other)
    th.start()
    th.join()
    graph.stash("mine")
    assert seen == [("theirs",)] and graph._stash.arrays == ("mine",)
    graph.keep_stash(None)
    assert graph._stash.arrays is None


def test_create_graph_frees_what_cross_entropy_kept(device):
    """Under create_graph the differentiable composite runs and recomputes the softmax: what the
    forward kept for the array-level rule is dropped then, not held for as long as the graph lives."""
    x = ag.randn(6, 5, requires_grad=True, device=device)
    z = x.exp()
    loss = F.cross_entropy(z, ag.tensor(np.arange(6) % 5, device=device))
    assert loss.grad_fn.extra is not None
    (gx,) = ag.grad(loss, [x], create_graph=True)
    assert loss.grad_fn.extra is None and gx.requires_grad
    rows = {r.op: r.saved_bytes for r in ag.tape_report(loss).rows}
    assert rows["cross_entropy_index"] == 6 * 5 * 4 + 6 * 8      # logits and targets (retained), no stash
