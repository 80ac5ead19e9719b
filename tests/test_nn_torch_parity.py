"""nn divergences from torch 2.13 found by the issue-10 sweep (items 5, 6, 16, 17, 26, 31, 33), each
checked against torch where installed: values, exact shapes and dtypes, gradients, and the errors."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from helpers import npy, sample

RNG = np.random.default_rng(10)


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle")


def _same(ours, theirs, exact=False):
    """Equal shape, dtype name and values (NaN equal to NaN) of a tapegrad and a torch tensor."""
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    a, b = npy(ours), theirs.detach().numpy()
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12, equal_nan=True)


# --- max_pool2d: gradient by selection (#5), twice differentiable (#26), torch's options and errors ----

POOLS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=1),
         dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1)), dict(kernel_size=3, stride=2, ceil_mode=True),
         dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)]


@pytest.mark.parametrize("kw", POOLS)
def test_max_pool_inf_upstream_gradient_is_routed_not_multiplied(kw):
    torch = _torch()
    x_np = RNG.permutation(2 * 7 * 7).reshape(1, 2, 7, 7) * 0.5
    x, tx = ag.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, ty = F.max_pool2d(x, **kw), torch.nn.functional.max_pool2d(tx, **kw)
    _same(y, ty, exact=True)
    g = RNG.standard_normal(tuple(ty.shape))
    g.flat[::3] = np.inf                       # an inf upstream: 0 * inf must not reach other inputs
    gx, = ag.grad(y, x, ag.tensor(g))
    tgx, = torch.autograd.grad(ty, tx, torch.tensor(g))
    _same(gx, tgx, exact=True)


@pytest.mark.parametrize("kw", POOLS[:4])
def test_max_pool_double_backward(kw):
    torch = _torch()
    x_np = RNG.permutation(2 * 6 * 6).reshape(2, 1, 6, 6) * 0.25
    x, tx = ag.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    gx, = ag.grad(F.max_pool2d(x, **kw).sum(), x, create_graph=True)
    tgx, = torch.autograd.grad(torch.nn.functional.max_pool2d(tx, **kw).sum(), tx, create_graph=True)
    assert gx.requires_grad and tgx.requires_grad
    ggx, = ag.grad((gx * gx).sum(), x)             # second derivative w.r.t. x: zeros, as torch
    tggx, = torch.autograd.grad((tgx * tgx).sum(), tx)
    _same(ggx, tggx, exact=True)
    assert ag.gradgradcheck(lambda x: F.max_pool2d(x, **kw), (sample((2, 1, 6, 6), domain="distinct"),))


def test_max_pool_options_vs_torch():
    torch = _torch()
    x_np = RNG.standard_normal((2, 3, 5, 6))
    x_np[0, 0, :2, :2] = np.nan
    x_np[1, 1, :3, :] = -np.inf                  # an all -inf window picks its first real element
    for kw in POOLS:
        y, idx = F.max_pool2d(ag.tensor(x_np), return_indices=True, **kw)
        ty, tidx = torch.nn.functional.max_pool2d(torch.tensor(x_np), return_indices=True, **kw)
        _same(y, ty, exact=True)
        _same(idx, tidx, exact=True)
    xi = RNG.integers(-50, 50, (1, 2, 4, 4))
    _same(F.max_pool2d(ag.tensor(xi), 2), torch.nn.functional.max_pool2d(torch.tensor(xi), 2), exact=True)
    _same(F.max_pool2d(ag.tensor(x_np[0]), 2), torch.nn.functional.max_pool2d(torch.tensor(x_np[0]), 2))
    m, tm = nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)
    for a, b in zip(m(ag.tensor(x_np)), tm(torch.tensor(x_np))):
        _same(a, b, exact=True)


@pytest.mark.parametrize("kw,msg", [(dict(kernel_size=0), "kernel size should be greater than zero"),
                                    (dict(kernel_size=2, stride=0), "stride should not be zero"),
                                    (dict(kernel_size=2, padding=-1), "pad must be non-negative"),
                                    (dict(kernel_size=2, dilation=0), "dilation should be greater than zero"),
                                    (dict(kernel_size=2, padding=2), "pad should be at most half"),
                                    (dict(kernel_size=5), "Output size is too small")])
def test_max_pool_bad_arguments(kw, msg):
    with pytest.raises(RuntimeError, match="max_pool2d: .*" + msg):
        F.max_pool2d(ag.ones(1, 1, 4, 4), **kw)


def test_avg_pool_bad_arguments():
    with pytest.raises(RuntimeError, match="avg_pool2d: stride should not be zero"):
        F.avg_pool2d(ag.ones(1, 1, 4, 4), 2, stride=0)
    with pytest.raises(RuntimeError, match="avg_pool2d: pad must be non-negative"):
        F.avg_pool2d(ag.ones(1, 1, 4, 4), 2, padding=-1)
    with pytest.raises(RuntimeError, match="avg_pool2d: kernel size should be greater than zero"):
        F.avg_pool2d(ag.ones(1, 1, 4, 4), 0)
    with pytest.raises(RuntimeError, match="avg_pool2d: .*Output size is too small"):
        F.avg_pool2d(ag.ones(1, 1, 4, 4), 5)


# --- cross_entropy / nll_loss with every target ignored (#6) -------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 2, 3)])
def test_cross_entropy_every_target_ignored(reduction, weighted, smoothing, shape):
    torch = _torch()
    x_np = RNG.standard_normal(shape)
    t_np = np.full(shape[:1] + shape[2:], -100)
    w_np = RNG.uniform(0.5, 2.0, shape[1])
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    x, tx = ag.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    w, tw = (ag.tensor(w_np), torch.tensor(w_np)) if weighted else (None, None)
    loss = F.cross_entropy(x, ag.tensor(t_np), weight=w, **kw)
    tloss = torch.nn.functional.cross_entropy(tx, torch.tensor(t_np), weight=tw, **kw)
    _same(loss, tloss)                                 # mean of nothing: nan, as torch
    g, = ag.grad(loss.sum(), x)
    tg, = torch.autograd.grad(tloss.sum(), tx)
    _same(g, tg)                                       # the gradient is 0, not nan
    if smoothing == 0:
        lp, tlp = F.log_softmax(x, 1), torch.nn.functional.log_softmax(tx, 1)
        loss = F.nll_loss(lp, ag.tensor(t_np), weight=w, reduction=reduction)
        tloss = torch.nn.functional.nll_loss(tlp, torch.tensor(t_np), weight=tw, reduction=reduction)
        _same(loss, tloss)
        _same(ag.grad(loss.sum(), x)[0], torch.autograd.grad(tloss.sum(), tx)[0])


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_some_targets_ignored_vs_torch(weighted, smoothing):
    torch = _torch()
    x_np = RNG.standard_normal((5, 3))
    t_np = np.array([0, -100, 2, -100, 1])
    w_np = RNG.uniform(0.5, 2.0, 3)
    for reduction in ["mean", "sum", "none"]:
        kw = dict(reduction=reduction, label_smoothing=smoothing)
        x, tx = ag.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
        w, tw = (ag.tensor(w_np), torch.tensor(w_np)) if weighted else (None, None)
        loss = F.cross_entropy(x, ag.tensor(t_np), weight=w, **kw)
        tloss = torch.nn.functional.cross_entropy(tx, torch.tensor(t_np), weight=tw, **kw)
        _same(loss, tloss)
        g = RNG.standard_normal(tuple(tloss.shape))
        g.flat[0] = np.inf if reduction == "none" else g.flat[0]     # ignored rows still get 0 (row 0 is valid)
        _same(ag.grad(loss, x, ag.tensor(g))[0], torch.autograd.grad(tloss, tx, torch.tensor(g))[0])


# --- one_hot (#16) -------------------------------------------------------------------------------

def test_one_hot_vs_torch():
    torch = _torch()
    for t_np, n in [(np.array([0, 2, 1]), -1), (np.array([[0, 2], [1, 1]]), 4), (np.array(2), 3),
                    (np.zeros(0, dtype=np.int64), 3)]:
        _same(F.one_hot(ag.tensor(t_np), n), torch.nn.functional.one_hot(torch.tensor(t_np), n), exact=True)


@pytest.mark.parametrize("arg,n,msg", [([0, 5], 3, "Class values must be smaller than num_classes"),
                                       ([-1, 1], 3, "Class values must be non-negative"),
                                       ([-1, 1], -1, "Class values must be non-negative"),
                                       ([0, 1], 0, "Class values must be smaller than num_classes"),
                                       ([0.0, 1.0], 3, "index tensor of type LongTensor"),
                                       ("int32", 3, "index tensor of type LongTensor"),
                                       ("bool", 3, "index tensor of type LongTensor"),
                                       ("empty", -1, "Can not infer total number of classes from empty tensor")])
def test_one_hot_errors(arg, n, msg):
    t = {"int32": ag.tensor([0, 1], dtype=ag.int32), "bool": ag.tensor([True, False]),
         "empty": ag.zeros(0, dtype=ag.int64)}.get(arg) if isinstance(arg, str) else ag.tensor(arg)
    with pytest.raises(RuntimeError, match="one_hot: .*" + msg):
        F.one_hot(t, n)


# --- binary_cross_entropy (#17) ------------------------------------------------------------------

@pytest.mark.parametrize("x,y,msg", [([np.nan, 0.5], [1.0, 0.0], "all elements of input should be between 0 and 1"),
                                     ([1.5, 0.5], [1.0, 0.0], "all elements of input should be between 0 and 1"),
                                     ([0.3, 0.5], [2.0, -1.0], "all elements of target should be between 0 and 1"),
                                     ([0.3, 0.5], [np.nan, 0.0], "all elements of target should be between 0 and 1")])
def test_bce_out_of_range_raises_as_torch(x, y, msg):
    torch = _torch()
    with pytest.raises(RuntimeError, match=msg):
        torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(y))
    with pytest.raises(RuntimeError, match="binary_cross_entropy: " + msg):
        F.binary_cross_entropy(ag.tensor(x, dtype=ag.float32), ag.tensor(y, dtype=ag.float32))


def test_bce_dtypes_and_edges_vs_torch():
    torch = _torch()
    a, b = np.array([0.0, 0.3, 1.0], np.float32), np.array([1.0, 0.5, 1.0], np.float32)
    w = np.array([1.0, 2.0, 0.5])
    for kw in [dict(), dict(reduction="none"), dict(reduction="sum")]:
        _same(F.binary_cross_entropy(ag.tensor(a), ag.tensor(b), **kw),
              torch.nn.functional.binary_cross_entropy(torch.tensor(a), torch.tensor(b), **kw))
    # a float64 weight with float32 data: torch computes in float32
    _same(F.binary_cross_entropy(ag.tensor(a), ag.tensor(b), weight=ag.tensor(w)),
          torch.nn.functional.binary_cross_entropy(torch.tensor(a), torch.tensor(b), weight=torch.tensor(w)))
    _same(F.binary_cross_entropy(ag.zeros(0), ag.zeros(0)),
          torch.nn.functional.binary_cross_entropy(torch.zeros(0), torch.zeros(0)))
    with pytest.raises(RuntimeError, match="binary_cross_entropy: .*float32.*float64"):
        F.binary_cross_entropy(ag.tensor(a), ag.tensor(b, dtype=ag.float64))


# --- F.pad (#33) ---------------------------------------------------------------------------------

PADS = [("constant", (1, 2)), ("constant", (-1, 2, 0, 1)), ("constant", (2, -3, 1, 1, 1, 0)),
        ("reflect", (1, 2)), ("reflect", (-1, 2, 2, 1)), ("reflect", (3, 3, 2, 0)), ("reflect", (1, 2, 0, 1, 3, -1)),
        ("replicate", (2, 5)), ("replicate", (1, -1, 3, 2)), ("replicate", (1, 1, 1, 1, 1, 1)),
        ("circular", (1, 2)), ("circular", (4, -1, 1, 3)), ("circular", (-2, 3, 2, -1, 1, 1))]


@pytest.mark.parametrize("mode,pad", PADS)
@pytest.mark.parametrize("batched", [False, True])
def test_pad_vs_torch(mode, pad, batched):
    torch = _torch()
    k = len(pad) // 2
    shape = (2,) * batched + (3,) + (4, 5, 6)[3 - k:]     # (C, *spatial), batched or not
    x_np = RNG.standard_normal(shape)
    x, tx = ag.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    kw = dict(value=1.5) if mode == "constant" else {}
    y, ty = F.pad(x, pad, mode, **kw), torch.nn.functional.pad(tx, pad, mode, **kw)
    _same(y, ty, exact=True)
    g = RNG.standard_normal(tuple(ty.shape))
    _same(ag.grad(y, x, ag.tensor(g))[0], torch.autograd.grad(ty, tx, torch.tensor(g))[0])
    assert ag.gradcheck(lambda x: F.pad(x, pad, mode, **kw), (sample(shape),))
    assert ag.gradgradcheck(lambda x: F.pad(x, pad, mode, **kw), (sample(shape),))


def test_pad_dtypes_vs_torch():
    torch = _torch()
    xi = RNG.integers(-9, 9, (2, 3, 4))
    for mode, kw in [("constant", dict(value=2.7)), ("reflect", {}), ("replicate", {}), ("circular", {})]:
        _same(F.pad(ag.tensor(xi), (1, 2), mode, **kw), torch.nn.functional.pad(torch.tensor(xi), (1, 2), mode, **kw),
              exact=True)
    xb = xi > 0
    _same(F.pad(ag.tensor(xb), (1, 1), value=True), torch.nn.functional.pad(torch.tensor(xb), (1, 1), value=True),
          exact=True)
    xf = RNG.standard_normal((3, 4)).astype(np.float32)
    _same(F.pad(ag.tensor(xf), (1, 1, 0, 2)), torch.nn.functional.pad(torch.tensor(xf), (1, 1, 0, 2)), exact=True)
    _same(F.pad(ag.tensor(3.0), ()), torch.nn.functional.pad(torch.tensor(3.0), ()), exact=True)


@pytest.mark.parametrize("args,err,msg", [
    (((3, 4), (1, 1, 1)), RuntimeError, "Padding length must be divisible by 2"),
    (((3, 4), (1,) * 6), RuntimeError, "Padding length should be less than or equal to two times the input dimension"),
    (((3, 4), (-3, -2)), RuntimeError, "resulting in an empty dimension|length must be non-negative"),
    (((3, 4), (1.5, 1)), TypeError, "must be tuple of ints"),
    (((3, 4), (1, 1), "foo"), NotImplementedError, "Unrecognised padding mode foo"),
    (((3, 4), (1, 1), "reflect", 1.0), RuntimeError, "Padding mode \"reflect\" doesn't take in value argument"),
    (((3, 4), (4, 0), "reflect"), RuntimeError, "Padding size should be less than the corresponding input dimension"),
    (((3, 4), (5, 0), "circular"), RuntimeError, "Padding value causes wrapping around more than once"),
    (((4,), (1, 1), "replicate"), NotImplementedError, "Padding size 2 is not supported for 1D input tensor"),
    (((3, 4), (1, 1, 1, 1), "replicate"), NotImplementedError, "Padding size 4 is not supported for 2D input tensor"),
])
def test_pad_errors(args, err, msg):
    shape, *rest = args
    with pytest.raises(err, match="pad: .*(" + msg + ")"):
        F.pad(ag.ones(*shape), *rest)


# --- conv2d / linear argument and dtype checks (#31) --------------------------------------------

@pytest.mark.parametrize("kw,msg", [(dict(kernel_size=0), "kernel size should be greater than zero"),
                                    (dict(kernel_size=2, stride=0), "non-positive stride is not supported"),
                                    (dict(kernel_size=2, padding=-1), "negative padding is not supported"),
                                    (dict(kernel_size=2, dilation=0), "dilation should be greater than zero")])
def test_conv2d_bad_arguments(kw, msg):
    m = nn.Conv2d(1, 1, **kw)                          # torch accepts these at construction ...
    with pytest.raises(RuntimeError, match="conv2d: " + msg):
        m(ag.ones(1, 1, 4, 4))                         # ... and raises in forward
    k = kw.pop("kernel_size")
    with pytest.raises(RuntimeError, match="conv2d: " + msg):
        F.conv2d(ag.ones(1, 1, 4, 4), ag.ones(1, 1, k, k), **kw)


def test_conv2d_groups_must_be_positive():
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(1, 1, 2, groups=0)
    with pytest.raises(RuntimeError, match="conv2d: non-positive groups is not supported"):
        F.conv2d(ag.ones(1, 1, 4, 4), ag.ones(1, 1, 2, 2), groups=0)


def test_linear_and_conv2d_refuse_mixed_float_dtypes():
    f32, f64 = ag.float32, ag.float64
    with pytest.raises(RuntimeError, match="linear: .*same dtype.*float32.*float64"):
        F.linear(ag.ones(2, 3, dtype=f32), ag.ones(4, 3, dtype=f64))
    with pytest.raises(RuntimeError, match="linear: .*same dtype.*float64.*float32"):
        F.linear(ag.ones(2, 3, dtype=f64), ag.ones(4, 3, dtype=f32))
    with pytest.raises(RuntimeError, match="linear: .*bias.*float64.*float32"):
        F.linear(ag.ones(2, 3, dtype=f32), ag.ones(4, 3, dtype=f32), ag.ones(4, dtype=f64))
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=3.*float64.*float32"):
        nn.Linear(3, 4)(ag.ones(2, 3, dtype=f64))
    with pytest.raises(RuntimeError, match="conv2d: .*float32.*float64"):
        F.conv2d(ag.ones(1, 1, 4, 4, dtype=f32), ag.ones(1, 1, 2, 2, dtype=f64))
    with pytest.raises(RuntimeError, match="conv2d: .*float32.*bias.*float64"):
        F.conv2d(ag.ones(1, 1, 4, 4, dtype=f32), ag.ones(1, 1, 2, 2, dtype=f32), ag.ones(1, dtype=f64))
    with pytest.raises(RuntimeError, match=r"Conv2d\(1, 1\).*float64.*float32"):
        nn.Conv2d(1, 1, 2)(ag.ones(1, 1, 4, 4, dtype=f64))


@pytest.mark.parametrize("dtype", ["uint16", "complex64", "uint32"])
def test_load_names_the_file_and_the_unsupported_dtype(tmp_path, dtype):
    sn = pytest.importorskip("safetensors.numpy")
    p = tmp_path / "w.safetensors"
    sn.save_file({"layer.weight": np.zeros(3, dtype)}, str(p))
    with pytest.raises(ValueError, match=f"nn.load: .*w.safetensors.*layer.weight.*{dtype}"):
        nn.load(p)


# --- further divergences found while checking the functions above --------------------------------

@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_padding_modes_vs_torch(mode, padding):
    torch = _torch()
    m = nn.Conv2d(2, 3, (3, 2), padding=padding, padding_mode=mode, dtype=ag.float64)
    t = torch.nn.Conv2d(2, 3, (3, 2), padding=padding, padding_mode=mode, dtype=torch.float64)
    t.load_state_dict({k: torch.tensor(npy(v)) for k, v in m.state_dict().items()})
    x_np = RNG.standard_normal((2, 2, 5, 6))
    x, tx = ag.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, ty = m(x), t(tx)
    _same(y, ty)
    g = RNG.standard_normal(tuple(ty.shape))
    _same(ag.grad(y, x, ag.tensor(g))[0], torch.autograd.grad(ty, tx, torch.tensor(g))[0])
    assert repr(m) == repr(t)


def test_conv2d_constructor_errors_as_torch():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")


def test_loss_dtype_rules_vs_torch():
    torch = _torch()
    a, b = np.ones(3, np.float32), np.array([0.5, 1.0, 0.0])
    for f in ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy_with_logits"]:
        _same(getattr(F, f)(ag.tensor(a), ag.tensor(b)),                    # float32 with float64: promoted
              getattr(torch.nn.functional, f)(torch.tensor(a), torch.tensor(b)))
    x = ag.randn(4, 3)
    with pytest.raises(RuntimeError, match="cross_entropy: expected target dtype to be Long or Byte, but got int32"):
        F.cross_entropy(x, ag.tensor([0, 1, 2, 0], dtype=ag.int32))
    with pytest.raises(RuntimeError, match="nll_loss: expected target dtype to be Long or Byte"):
        F.nll_loss(x, ag.tensor([0, 1, 2, 0], dtype=ag.int32))
    with pytest.raises(RuntimeError, match="cross_entropy: expected scalar type float32 but found float64"):
        F.cross_entropy(x, ag.tensor([0, 1, 2, 0]), weight=ag.ones(3, dtype=ag.float64))
    with pytest.raises(RuntimeError, match="nll_loss: expected scalar type float32 but found float64"):
        F.nll_loss(x, ag.tensor([0, 1, 2, 0]), weight=ag.ones(3, dtype=ag.float64))


def test_small_argument_checks_as_torch():
    with pytest.raises(RuntimeError, match="linear: both arguments to linear need to be at least 1D"):
        F.linear(ag.tensor(1.0), ag.ones(4, 1))
    with pytest.raises(RuntimeError, match="one_hot: Can not infer total number of classes from empty tensor"):
        F.one_hot(ag.zeros(0, dtype=ag.int64), 0)
    with pytest.raises(NotImplementedError, match="max_pool2d.*not implemented for 'bool'"):
        F.max_pool2d(ag.ones(1, 1, 4, 4, dtype=ag.bool), 2)
