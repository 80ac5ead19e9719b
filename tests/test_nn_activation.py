"""Activation modules against torch 2.13 (issue 12): constructor defaults, repr, forward and gradient,
inplace=True writing into the input, PReLU's parameter and state_dict both ways, RReLU's random slopes."""
import numpy as np
import pytest

import autograd as ag
import nn
from helpers import npy

RNG = np.random.default_rng(12)

MODULES = [("ReLU", (), {}), ("ReLU", (), {"inplace": True}), ("ReLU6", (), {}), ("Hardtanh", (-0.5, 2.0), {}),
           ("Hardswish", (), {}), ("Hardsigmoid", (), {}), ("Hardshrink", (0.3,), {}), ("Softshrink", (), {}),
           ("Tanhshrink", (), {}), ("Softsign", (), {}), ("LogSigmoid", (), {}), ("SELU", (), {}),
           ("CELU", (0.7,), {}), ("GLU", (), {"dim": 2}), ("Softmin", (), {"dim": 1}), ("Softmax2d", (), {}),
           ("Threshold", (0.1, 20.0), {}), ("PReLU", (), {}), ("PReLU", (3,), {"init": 0.1}), ("RReLU", (), {}),
           ("LeakyReLU", (0.2, True), {}), ("ELU", (), {"alpha": 0.5, "inplace": True}), ("SiLU", (), {"inplace": True}),
           ("Mish", (), {})]


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle")


@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=[f"{m[0]}{i}" for i, m in enumerate(MODULES)])
def test_activation_module_matches_torch(name, args, kwargs, device):
    torch = _torch()
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    ours.eval(), theirs.eval()                          # RReLU: the mean slope
    ours.double(), theirs.double()
    assert repr(ours) == repr(theirs)
    if list(theirs.state_dict()):
        sd = {k: v.detach().numpy() * 1.5 for k, v in theirs.state_dict().items()}
        ours.load_state_dict({k: ag.tensor(v) for k, v in sd.items()}, strict=True)
        theirs.load_state_dict({k: torch.tensor(v) for k, v in sd.items()}, strict=True)
        back = {k: torch.from_numpy(npy(v).copy()) for k, v in ours.state_dict().items()}
        theirs.load_state_dict(back, strict=True)
        ours.to(device)
    x = RNG.standard_normal((2, 3, 4, 2)) * 3
    xo = ag.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    inplace = kwargs.get("inplace", False) or (len(args) > 1 and args[1] is True and name == "LeakyReLU")
    yo = ours(xo * 1) if inplace else ours(xo)
    yt = theirs(xt * 1) if inplace else theirs(xt)
    assert tuple(yo.shape) == tuple(yt.shape) and yo.dtype.name == str(yt.dtype).replace("torch.", "")
    np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.standard_normal(tuple(yt.shape))
    yo.backward(ag.tensor(g, device=device))
    yt.backward(torch.tensor(g))
    # 1e-6: torch's float64 kernels take some constants in float32 (hardsigmoid's 1/6, celu's alpha)
    np.testing.assert_allclose(npy(xo.grad), xt.grad.numpy(), rtol=1e-6, atol=1e-12)
    if name == "PReLU":
        np.testing.assert_allclose(npy(ours.weight.grad), theirs.weight.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", ["ReLU", "ReLU6", "Hardtanh", "Hardswish", "Hardsigmoid", "SELU", "CELU", "Threshold",
                                  "LeakyReLU", "ELU", "SiLU", "Mish", "RReLU"])
def test_inplace_writes_into_the_input(name, device):
    args = (0.5, -1.0) if name == "Threshold" else ()
    m = getattr(nn, name)(*args, inplace=True)
    m.eval()
    x = ag.tensor(RNG.standard_normal(6), device=device)
    ref = getattr(nn, name)(*args)
    ref.eval()
    want = npy(ref(x.clone()))
    v0 = x._version
    out = m(x)
    assert out is x and x._version > v0
    np.testing.assert_allclose(npy(x), want)
    leaf = ag.ones(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        m(leaf)


def test_rrelu_training_draws_slopes_in_range(device):
    ag.manual_seed(0)
    m = nn.RReLU(0.1, 0.3)
    x = -ag.ones(20000, dtype=ag.float64, device=device)
    slopes = -npy(m(x))
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and abs(slopes.mean() - 0.2) < 0.005
    assert np.all(npy(m(ag.ones(5, dtype=ag.float64, device=device))) == 1.0)


def test_errors_follow_torch():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        nn.GLU()(ag.ones(2, 3))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        nn.PReLU(4)(ag.ones(2, 3))
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.Softmax2d()(ag.ones(2, 3))
    with pytest.raises(RuntimeError, match="lambda must be greater or equal to 0"):
        nn.Softshrink(-1.0)(ag.ones(2))
