"""Layers: forward and gradients against torch (same weights copied in), gradcheck in float64 for
inputs and parameters, train/eval behaviour, default init statistics, errors."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from helpers import npy, sample


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle for layer numerics")


def _copy_to_torch(m, t):
    torch = _torch()
    t.load_state_dict({k: torch.tensor(npy(v)) for k, v in m.state_dict().items()})


def _compare(m, t, x_np, train=True, atol=1e-10):
    """Forward, input grad and parameter grads of module m (ours) vs t (torch), float64."""
    torch = _torch()
    m.train(train), t.train(train)
    x = ag.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    y, ty = m(x), t(tx)
    np.testing.assert_allclose(npy(y), ty.detach().numpy(), atol=atol, rtol=1e-9)
    gy = np.random.default_rng(5).standard_normal(tuple(y.shape))
    y.backward(ag.tensor(gy))
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(npy(x.grad), tx.grad.numpy(), atol=atol, rtol=1e-9)
    tp = dict(t.named_parameters())
    for n, p in m.named_parameters():
        np.testing.assert_allclose(npy(p.grad), tp[n].grad.numpy(), atol=atol, rtol=1e-9, err_msg=n)


def _gradcheck_module(m, x):
    params = list(m.parameters())
    ps = [p.detach().clone().requires_grad_() for p in params]
    assert ag.gradcheck(lambda x, *ps: _functional_call(m, dict(zip([n for n, _ in m.named_parameters()], ps)), x),
                        (x, *ps))


def _functional_call(m, params, x):
    """Call m with its parameters replaced by the given tensors (so gradcheck can vary them)."""
    originals = {}
    for name, t in params.items():
        mod_name, _, pname = name.rpartition(".")
        mod = m.get_submodule(mod_name)
        originals[name] = mod._parameters[pname]
        mod._parameters[pname] = t
    try:
        return m(x)
    finally:
        for name, p in originals.items():
            mod_name, _, pname = name.rpartition(".")
            m.get_submodule(mod_name)._parameters[pname] = p


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    torch = _torch()
    m = nn.Linear(4, 3, bias=bias).double()
    t = torch.nn.Linear(4, 3, bias=bias).double()
    _copy_to_torch(m, t)
    _compare(m, t, RNG.standard_normal((5, 4)))
    _compare(m, t, RNG.standard_normal((2, 5, 4)))
    _gradcheck_module(m, sample((2, 4)))


def test_linear_numpy_and_errors():
    m = nn.Linear(3, 2)
    x = ag.randn(4, 3)
    np.testing.assert_allclose(npy(m(x)), npy(x) @ npy(m.weight).T + npy(m.bias), rtol=1e-5)
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=3.*\(4, 5\)"):
        m(ag.randn(4, 5))


CONV_CASES = [
    dict(cin=3, cout=4, k=3, stride=1, padding=0, dilation=1, groups=1),
    dict(cin=2, cout=4, k=3, stride=2, padding=1, dilation=1, groups=2),
    dict(cin=4, cout=2, k=(2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1), groups=1),
    dict(cin=4, cout=4, k=3, stride=1, padding="same", dilation=2, groups=4),
    dict(cin=1, cout=2, k=1, stride=1, padding=0, dilation=1, groups=1),
]


@pytest.mark.parametrize("c", CONV_CASES, ids=lambda c: f"k{c['k']}s{c['stride']}p{c['padding']}d{c['dilation']}g{c['groups']}")
def test_conv2d_vs_torch(c):
    torch = _torch()
    kw = dict(stride=c["stride"], padding=c["padding"], dilation=c["dilation"], groups=c["groups"])
    m = nn.Conv2d(c["cin"], c["cout"], c["k"], **kw).double()
    t = torch.nn.Conv2d(c["cin"], c["cout"], c["k"], **kw).double()
    _copy_to_torch(m, t)
    _compare(m, t, RNG.standard_normal((2, c["cin"], 7, 6)))


def test_conv2d_gradcheck_and_numpy():
    m = nn.Conv2d(2, 2, 2, stride=2, padding=1, groups=1).double()
    _gradcheck_module(m, sample((1, 2, 4, 3)))
    m = nn.Conv2d(2, 4, (2, 1), dilation=(2, 1), groups=2, bias=False).double()
    _gradcheck_module(m, sample((2, 2, 4, 2), seed=1))
    # closed form: direct sum over the kernel
    x, w = RNG.standard_normal((1, 2, 5, 5)), RNG.standard_normal((3, 2, 3, 3))
    out = npy(F.conv2d(ag.tensor(x), ag.tensor(w)))
    ref = np.zeros((1, 3, 3, 3))
    for i in range(3):
        for j in range(3):
            ref[0, :, i, j] = np.einsum("ocab,cab->o", w, x[0, :, i:i + 3, j:j + 3])
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    assert ag.gradgradcheck(lambda x, w: F.conv2d(x, w, stride=2), (sample((1, 1, 4, 4)), sample((1, 1, 2, 2), seed=2)))


def test_conv2d_errors():
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 4\).*\(2, 2, 5, 5\)"):
        nn.Conv2d(3, 4, 3)(ag.randn(2, 2, 5, 5))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(RuntimeError, match="conv2d: .*Kernel size can't be greater than actual input size"):
        nn.Conv2d(1, 1, 5)(ag.randn(1, 1, 3, 3))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=(2, 3), stride=1)])
def test_pools_vs_torch(kw):
    torch = _torch()
    x = RNG.standard_normal((2, 3, 6, 7))
    _compare(nn.MaxPool2d(**kw), torch.nn.MaxPool2d(**kw), x)
    _compare(nn.AvgPool2d(**kw), torch.nn.AvgPool2d(**kw), x)
    if kw.get("padding"):
        _compare(nn.AvgPool2d(**kw, count_include_pad=False), torch.nn.AvgPool2d(**kw, count_include_pad=False), x)


def test_pools_gradcheck_and_ties():
    x = sample((1, 2, 4, 4), domain="distinct")
    assert ag.gradcheck(lambda x: F.max_pool2d(x, 2), (x,))
    assert ag.gradcheck(lambda x: F.avg_pool2d(x, 3, 1, 1), (x,))
    # ties: the whole gradient goes to one element per window (as torch), not split
    z = ag.zeros(1, 1, 2, 2, requires_grad=True)
    F.max_pool2d(z, 2).sum().backward()
    assert sorted(npy(z.grad).ravel().tolist()) == [0, 0, 0, 1]


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 2, 3))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_vs_torch(cls, shape, momentum):
    torch = _torch()
    m = getattr(nn, cls)(3, momentum=momentum).double()
    t = getattr(torch.nn, cls)(3, momentum=momentum).double()
    with ag.no_grad():
        m.weight.copy_(ag.tensor(RNG.standard_normal(3)))
        m.bias.copy_(ag.tensor(RNG.standard_normal(3)))
    _copy_to_torch(m, t)
    for step in range(3):
        _compare(m, t, RNG.standard_normal(shape) * 2 + 1, train=True)
        for k, v in t.state_dict().items():
            np.testing.assert_allclose(npy(m.state_dict()[k]), v.numpy(), rtol=1e-12, err_msg=k)
    _compare(m, t, RNG.standard_normal(shape), train=False)
    assert int(m.num_batches_tracked) == 3


def test_batchnorm_gradcheck_and_eval():
    m = nn.BatchNorm1d(3).double()
    with ag.no_grad():
        m.weight.copy_(ag.tensor([0.5, 1.5, -1.0]))
    _gradcheck_module(m, sample((5, 3)))
    m.eval()
    _gradcheck_module(m, sample((5, 3)))
    # eval uses the running stats: with fresh stats (0, 1) the output is weight * x / sqrt(1 + eps) + bias
    m2 = nn.BatchNorm1d(2).eval()
    x = ag.randn(4, 2)
    with ag.no_grad():
        np.testing.assert_allclose(npy(m2(x)), npy(x) / math.sqrt(1 + 1e-5), rtol=1e-6)
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\).*\(2, 4, 3, 3\)"):
        nn.BatchNorm2d(3)(ag.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(ag.randn(1, 3))


def test_layernorm():
    torch = _torch()
    m = nn.LayerNorm((3, 4)).double()
    t = torch.nn.LayerNorm((3, 4)).double()
    with ag.no_grad():
        m.weight.copy_(ag.tensor(RNG.standard_normal((3, 4))))
        m.bias.copy_(ag.tensor(RNG.standard_normal((3, 4))))
    _copy_to_torch(m, t)
    _compare(m, t, RNG.standard_normal((2, 3, 4)))
    _gradcheck_module(m, sample((2, 3, 4)))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        m(ag.randn(2, 4, 3))


def test_dropout_train_eval():
    d = nn.Dropout(0.25)
    x = ag.ones(200, 50)
    y = npy(d(x))
    assert set(np.unique(y).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
    assert abs((y == 0).mean() - 0.25) < 0.03
    d.eval()
    assert d(x) is x
    assert float(nn.Dropout(1.0)(x).abs().sum()) == 0
    with pytest.raises(ValueError):
        nn.Dropout(1.5)
    # the gradient is the same mask, scaled
    xg = ag.ones(30, 30, requires_grad=True)
    d.train()
    out = d(xg)
    out.sum().backward()
    np.testing.assert_array_equal(npy(xg.grad), npy(out))
    ag.manual_seed(3)
    a = npy(nn.Dropout(0.5)(x))
    ag.manual_seed(3)
    np.testing.assert_array_equal(a, npy(nn.Dropout(0.5)(x)))


def test_embedding():
    torch = _torch()
    m = nn.Embedding(5, 3, padding_idx=1).double()
    assert float(abs(m.weight[1]).sum()) == 0
    t = torch.nn.Embedding(5, 3, padding_idx=1).double()
    _copy_to_torch(m, t)
    idx = np.array([[0, 1, 4], [4, 4, 2]])
    y, ty = m(ag.tensor(idx)), t(torch.tensor(idx))
    np.testing.assert_array_equal(npy(y), ty.detach().numpy())
    gy = RNG.standard_normal((2, 3, 3))
    y.backward(ag.tensor(gy))
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(npy(m.weight.grad), t.weight.grad.numpy(), rtol=1e-12)
    w = sample((4, 2))
    assert ag.gradcheck(lambda w: F.embedding(ag.tensor([3, 0, 3]), w), (w,))
    with pytest.raises(IndexError, match=r"index out of range.*\[0, 5\)"):
        m(ag.tensor([0, 5]))


def test_default_init_statistics():
    ag.manual_seed(0)
    m = nn.Linear(400, 300)
    w, b = npy(m.weight), npy(m.bias)
    bound = 1 / math.sqrt(400)
    assert w.min() >= -bound and w.max() <= bound and w.max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert b.min() >= -bound and b.max() <= bound
    c = nn.Conv2d(4, 8, 3)
    cb = 1 / math.sqrt(4 * 9)
    assert np.abs(npy(c.weight)).max() <= cb and np.abs(npy(c.weight)).max() > 0.9 * cb
    e = npy(nn.Embedding(1000, 20).weight)
    assert abs(e.mean()) < 0.02 and abs(e.std() - 1) < 0.02
    bn = nn.BatchNorm2d(3)
    assert npy(bn.weight).tolist() == [1, 1, 1] and npy(bn.running_var).tolist() == [1, 1, 1]
    ag.manual_seed(7)
    a = npy(nn.Linear(3, 3).weight)
    ag.manual_seed(7)
    np.testing.assert_array_equal(a, npy(nn.Linear(3, 3).weight))


def test_fused_linear_gradchecks_with_batch_dims_and_without_bias():
    import numpy as np
    from autograd.ops.linalg import linear
    rng = np.random.default_rng(5)
    w = ag.tensor(rng.standard_normal((3, 4)), dtype=ag.float64, requires_grad=True)
    b = ag.tensor(rng.standard_normal(3), dtype=ag.float64, requires_grad=True)
    for shape in [(4,), (2, 4), (2, 5, 4)]:
        x = ag.tensor(rng.standard_normal(shape), dtype=ag.float64, requires_grad=True)
        out = linear(x, w, b)
        np.testing.assert_allclose(np.asarray(out.detach()), np.asarray(x.detach()) @ np.asarray(w.detach()).T
                                   + np.asarray(b.detach()), rtol=1e-12)
        assert ag.gradcheck(linear, (x, w, b))
        assert ag.gradgradcheck(linear, (x, w, b))
        assert ag.gradcheck(lambda a, m: linear(a, m), (x, w))


def _gelu_tanh_grad_vs_torch(dtype):
    torch = _torch()
    vals = [-300.0, -10.0, 0.0, 10.0, 300.0]
    x = ag.tensor(vals, dtype=getattr(ag, dtype), requires_grad=True)
    g, = ag.grad(F.gelu(x, approximate="tanh").sum(), x)
    t = torch.tensor(vals, dtype=getattr(torch, dtype), requires_grad=True)
    tg, = torch.autograd.grad(torch.nn.functional.gelu(t, approximate="tanh").sum(), t)
    assert tuple(g.shape) == tuple(tg.shape) and g.dtype.name == dtype
    np.testing.assert_array_equal(npy(g), tg.numpy())          # 0 at -300 and 1 at +300, never nan


def test_gelu_tanh_grad_saturates_float32():
    _gelu_tanh_grad_vs_torch("float32")


def test_gelu_tanh_grad_saturates_float16(device):
    if device == "array_api_strict":
        pytest.skip("array_api_strict has no float16")
    _gelu_tanh_grad_vs_torch("float16")
