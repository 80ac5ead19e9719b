"""Module-level torch oracle for issue 12's layers (used by test_nn_conv.py and test_nn_norm.py):
one call checks a module of ours against torch's on the test's device: constructor signature,
state_dict keys, strict loading both ways, forward, input and parameter gradients, buffers after
the forward, and repr; plus gradcheck in float64 over the input and every parameter."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import autograd as ag
from helpers import npy


def torch_():
    return pytest.importorskip("torch", reason="torch is the oracle for issue 12's layers")


def same_signature(ours_cls, theirs_cls):
    """Same constructor parameter names, kinds and defaults as torch's."""
    a = inspect.signature(ours_cls.__init__).parameters
    b = inspect.signature(theirs_cls.__init__).parameters
    assert list(a) == list(b), (ours_cls.__name__, list(a), list(b))
    for name in a:
        assert a[name].kind == b[name].kind, (ours_cls.__name__, name)
        assert a[name].default == b[name].default, (ours_cls.__name__, name, a[name].default, b[name].default)


def _to_torch(v):
    torch = torch_()
    return torch.from_numpy(np.array(npy(v)))


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check_module(ours, theirs, x_np, device, call=None, train=True, rtol=1e-7, atol=1e-10, grad=True):
    """ours and theirs are float64 modules built with the same arguments; torch's weights are loaded
    into ours strictly and ours back into torch, then both run on x_np."""
    torch = torch_()
    ours.to(device=device)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: ag.tensor(v.detach().numpy(), device=device) for k, v in theirs.state_dict().items()})
    theirs.load_state_dict({k: _to_torch(v) for k, v in ours.state_dict().items()})
    assert repr(ours) == repr(theirs)
    ours.train(train), theirs.train(train)
    assert ours.training is theirs.training is train
    call = call or (lambda m, x: m(x))
    x = ag.tensor(x_np, device=device, requires_grad=grad)
    tx = torch.tensor(x_np, requires_grad=grad)
    outs, touts = _flat(call(ours, x)), _flat(call(theirs, tx))
    assert len(outs) == len(touts)
    for o, t in zip(outs, touts):
        assert tuple(o.shape) == tuple(t.shape) and o.dtype.name == str(t.dtype).replace("torch.", "")
        np.testing.assert_allclose(npy(o), t.detach().numpy(), rtol=rtol, atol=atol)
    for (k, b), (tk, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert k == tk
        np.testing.assert_allclose(npy(b), tb.numpy(), rtol=rtol, atol=atol, err_msg=k)
    if not grad:
        return
    gy = np.random.default_rng(5).standard_normal(tuple(outs[0].shape))
    outs[0].backward(ag.tensor(gy, device=device))
    touts[0].backward(torch.tensor(gy))
    np.testing.assert_allclose(npy(x.grad), tx.grad.numpy(), rtol=rtol * 100, atol=atol * 100)
    tp = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(npy(p.grad), tp[n].grad.numpy(), rtol=rtol * 100, atol=atol * 100, err_msg=n)


def gradcheck_module(m, x, device, gradgrad=False):
    """gradcheck (and optionally gradgradcheck) over x and every parameter of m, float64."""
    names = [n for n, _ in m.named_parameters()]
    ps = [p.detach().clone().requires_grad_() for p in m.parameters()]
    x = ag.tensor(npy(x), device=device, requires_grad=True)

    def fn(x, *ps):
        saved = {}
        for name, t in zip(names, ps):
            mod_name, _, pname = name.rpartition(".")
            mod = m.get_submodule(mod_name)
            saved[name] = mod._parameters[pname]
            mod._parameters[pname] = t
        try:
            out = m(x)
        finally:
            for name, p in saved.items():
                mod_name, _, pname = name.rpartition(".")
                m.get_submodule(mod_name)._parameters[pname] = p
        return out[0] if isinstance(out, tuple) else out

    assert ag.gradcheck(fn, (x, *ps))
    if gradgrad:
        assert ag.gradgradcheck(fn, (x, *ps))
