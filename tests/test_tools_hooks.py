"""Tensor hooks and retain_grad, each scenario run in tapegrad and in PyTorch and compared:
same hook calls (order, count, values), same .grad everywhere."""
import numpy as np
import pytest

import autograd as ag
from tests.helpers import npy


def _np(t):
    if t is None:
        return None
    return t.detach().numpy() if hasattr(t, "detach") and not isinstance(t, ag.Tensor) else npy(t)


def _leaf_hook_sees_sum_once(m, log):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: log.append(("x", g.clone())))
    (x * 2 + x * x + x.sin()).sum().backward()
    return {"x": x.grad}


def _leaf_hook_replaces_grad(m, log):
    x = m.tensor([1.0, -2.0], requires_grad=True)
    x.register_hook(lambda g: g * 0 + 7)
    (x * 3).sum().backward()
    return {"x": x.grad}


def _nonleaf_hook_before_flow(m, log):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.register_hook(lambda g: (log.append(("y", g.clone())), g * 2)[1])
    z = y.sin()
    z.register_hook(lambda g: log.append(("z", g.clone())))
    (z * 5).sum().backward()
    return {"x": x.grad}


def _nonleaf_used_twice_hook_once(m, log):
    x = m.tensor([0.5, 1.5], requires_grad=True)
    y = x.exp()
    y.register_hook(lambda g: log.append(("y", g.clone())))
    (y * 2 + y * y).sum().backward()
    return {"x": x.grad}


def _hooks_chain_in_order(m, log):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.register_hook(lambda g: (log.append(("first", g.clone())), g + 1)[1])
    y.register_hook(lambda g: (log.append(("second", g.clone())), g * 3)[1])
    x.register_hook(lambda g: (log.append(("leaf1", g.clone())), g * 2)[1])
    x.register_hook(lambda g: log.append(("leaf2", g.clone())))
    y.sum().backward()
    return {"x": x.grad}


def _removed_hook_not_called(m, log):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    h1 = y.register_hook(lambda g: g * 100)
    h2 = x.register_hook(lambda g: g * 100)
    y.register_hook(lambda g: log.append(("kept", g.clone())))
    h1.remove()
    h2.remove()
    h1.remove()                         # removing twice is harmless
    y.sum().backward()
    return {"x": x.grad}


def _retain_grad_after_hooks(m, log):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.register_hook(lambda g: g * 10)   # registered after retain_grad: .grad still sees it
    (y * y).sum().backward()
    return {"x": x.grad, "y": y.grad}


def _retain_grad_accumulates(m, log):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward(retain_graph=True)
    (y * y).sum().backward()
    return {"x": x.grad, "y": y.grad}


def _leaf_hook_sees_new_grad_not_accumulated(m, log):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: log.append(("x", g.clone())))
    (x * 2).sum().backward()
    (x * 5).sum().backward()
    return {"x": x.grad}


def _hook_in_autograd_grad(m, log):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.register_hook(lambda g: (log.append(("y", g.clone())), g * 2)[1])
    x.register_hook(lambda g: (log.append(("x", g.clone())), g + 1)[1])
    (gx,) = m.autograd.grad(y.sum(), x) if m.__name__ == "torch" else m.grad(y.sum(), x)
    return {"gx": gx, "x.grad": x.grad}


def _retain_grad_leaf_noop_and_multi_output(m, log):
    x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x.retain_grad()                     # a leaf: no-op
    a, b = x.unbind(0)
    a.retain_grad()
    b.register_hook(lambda g: (log.append(("b", g.clone())), -g)[1])
    (a * b).sum().backward()
    return {"x": x.grad, "a": a.grad}


SCENARIOS = [_leaf_hook_sees_sum_once, _leaf_hook_replaces_grad, _nonleaf_hook_before_flow,
             _nonleaf_used_twice_hook_once, _hooks_chain_in_order, _removed_hook_not_called,
             _retain_grad_after_hooks, _retain_grad_accumulates, _leaf_hook_sees_new_grad_not_accumulated,
             _hook_in_autograd_grad, _retain_grad_leaf_noop_and_multi_output]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.strip("_"))
def test_hooks_match_torch(scenario):
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float32)
    log_ours, log_torch = [], []
    ours = scenario(ag, log_ours)
    theirs = scenario(torch, log_torch)
    assert [k for k, _ in log_ours] == [k for k, _ in log_torch]
    for (_, a), (_, b) in zip(log_ours, log_torch):
        np.testing.assert_allclose(npy(a), b.detach().numpy(), rtol=1e-6)
    assert ours.keys() == theirs.keys()
    for k in ours:
        if theirs[k] is None:
            assert ours[k] is None, k
        else:
            np.testing.assert_allclose(npy(ours[k]), theirs[k].detach().numpy(), rtol=1e-6, err_msg=k)


def test_hook_values_by_hand():
    # independent of torch: d/dx sum(2x + x^2 + sin x) = 2 + 2x + cos x, seen once by the leaf hook
    seen = []
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(seen.append)
    (x * 2 + x * x + x.sin()).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(npy(seen[0]), 2 + 2 * np.array([1.0, 2.0]) + np.cos([1.0, 2.0]), rtol=1e-6)


def test_register_hook_needs_grad_and_handles_are_context_managers():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ag.ones(2).register_hook(print)
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        ag.ones(2).retain_grad()
    x = ag.ones(2, requires_grad=True)
    calls = []
    with x.register_hook(calls.append):
        (x * 1).sum().backward()
    (x * 1).sum().backward()
    assert len(calls) == 1
    y = x * 1
    assert not y.retains_grad
    y.retain_grad()
    y.retain_grad()                     # idempotent: one .grad contribution, not two
    assert y.retains_grad
    y.sum().backward()
    np.testing.assert_array_equal(npy(y.grad), [1.0, 1.0])
