"""Issue 12, convolution, pooling, resampling and padding layers against torch 2.13 on every backend:
constructor signatures and defaults, state_dict both ways, forward and gradients, repr, gradcheck.
The functional forms are checked op by op in tests/opinfo_conv.py (test_conformance)."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from conv_oracle import check_module, gradcheck_module, same_signature, torch_
from helpers import npy

RNG = np.random.default_rng(12)

CLASSES = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Fold", "Unfold",
           "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "MaxUnpool1d", "MaxUnpool2d",
           "MaxUnpool3d", "LPPool1d", "LPPool2d", "LPPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "Upsample",
           "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle", "ChannelShuffle"] + [
           f"{k}Pad{n}d" for k in ("Zero", "Constant", "Reflection", "Replication", "Circular") for n in (1, 2, 3)]


@pytest.mark.parametrize("name", CLASSES)
def test_constructor_signature_matches_torch(name):
    torch = torch_()
    same_signature(getattr(nn, name), getattr(torch.nn, name))


def _pair(cls_name, *args, **kw):
    torch = torch_()
    ours = getattr(nn, cls_name)(*args, **kw)
    theirs = getattr(torch.nn, cls_name)(*args, **kw)
    if list(theirs.parameters()):
        ours, theirs = ours.double(), theirs.double()
    return ours, theirs


CONV = [
    ("Conv1d", (2, 4, 3), {}, (2, 2, 9)),
    ("Conv1d", (4, 2, 3), dict(stride=2, padding=1, groups=2, bias=False), (2, 4, 8)),
    ("Conv1d", (2, 3, 3), dict(padding="same", dilation=2, padding_mode="reflect"), (2, 2, 9)),
    ("Conv1d", (2, 3, 4), dict(padding="same", padding_mode="circular"), (2, 7)),
    ("Conv1d", (2, 3, 3), dict(padding=2, padding_mode="replicate"), (1, 2, 6)),
    ("Conv2d", (2, 3, (2, 3)), dict(padding=(1, 2), padding_mode="circular"), (1, 2, 5, 6)),
    ("Conv2d", (2, 2, 3), dict(padding="valid"), (2, 5, 5)),
    ("Conv3d", (2, 4, 2), dict(stride=(1, 2, 1), padding=1), (2, 2, 3, 4, 3)),
    ("Conv3d", (2, 2, 3), dict(padding="same", groups=2, padding_mode="replicate"), (1, 2, 3, 3, 4)),
    ("ConvTranspose1d", (2, 4, 3), dict(stride=2, padding=1, output_padding=1), (2, 2, 5)),
    ("ConvTranspose1d", (4, 2, 2), dict(groups=2, dilation=2, bias=False), (4, 6)),
    ("ConvTranspose2d", (3, 2, 3), dict(stride=2, padding=1), (2, 3, 4, 3)),
    ("ConvTranspose2d", (2, 4, (2, 3)), dict(stride=(2, 1), output_padding=(1, 0), groups=2, dilation=(1, 2)),
     (1, 2, 3, 3)),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2, padding=1), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("cls,args,kw,shape", CONV, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV)])
def test_conv_modules_vs_torch(cls, args, kw, shape, device):
    ours, theirs = _pair(cls, *args, **kw)
    check_module(ours, theirs, RNG.standard_normal(shape), device)


def test_conv_transpose_output_size(device):
    ours, theirs = _pair("ConvTranspose2d", 2, 3, 3, stride=2, padding=1)
    for size in [(7, 5), (8, 6), [1, 3, 8, 5]]:
        check_module(ours, theirs, RNG.standard_normal((1, 2, 4, 3)), device,
                     call=lambda m, x, size=size: m(x, output_size=size))
    with pytest.raises(ValueError, match="output size"):
        ours(ag.randn(1, 2, 4, 3, dtype=ag.float64, device=device), output_size=(9, 5))


@pytest.mark.parametrize("cls,args,kw,shape", [CONV[1], CONV[9], CONV[12], CONV[5]], ids=lambda v: str(v)[:20])
def test_conv_modules_gradcheck(cls, args, kw, shape, device):
    m = getattr(nn, cls)(*args, **kw).double().to(device=device)
    small = tuple(max(2, s // 2) if i >= 2 else s for i, s in enumerate(shape))
    if cls.startswith("Conv1d") and kw.get("stride") == 2:
        small = shape[:2] + (5,)
    gradcheck_module(m, RNG.standard_normal(small), device)


def test_conv_init_and_errors():
    torch = torch_()
    m, t = nn.ConvTranspose2d(4, 6, 3, groups=2), torch.nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert tuple(m.weight.shape) == tuple(t.weight.shape) == (4, 3, 3, 3)
    bound = 1 / np.sqrt(3 * 9)                 # fan_in of a transposed weight is its dim 1 x kernel
    w = npy(nn.ConvTranspose2d(40, 60, 3).weight)
    assert np.abs(w).max() <= 1 / np.sqrt(60 * 9) + 1e-7 and np.abs(npy(m.bias)).max() <= bound + 1e-7
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose1d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv1d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv3d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(RuntimeError, match=r"Conv1d\(2, 3\).*\(1, 3, 5\)"):
        nn.Conv1d(2, 3, 2)(ag.randn(1, 3, 5))


POOL = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 8)),
    ("MaxPool1d", (2,), dict(dilation=2, return_indices=True), (3, 7)),
    ("MaxPool3d", (2,), dict(stride=1, padding=1), (1, 2, 3, 3, 4)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False, ceil_mode=True), (2, 3, 8)),
    ("AvgPool2d", (3,), dict(stride=2, ceil_mode=True, divisor_override=4), (1, 2, 6, 5)),
    ("AvgPool3d", ((2, 3, 2),), dict(padding=1), (1, 2, 3, 4, 3)),
    ("LPPool1d", (2.0, 3), dict(stride=2), (2, 3, 7)),
    ("LPPool2d", (3, 2), dict(ceil_mode=True), (1, 2, 5, 5)),
    ("LPPool3d", (1.5, 2), {}, (1, 1, 2, 4, 4)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 7)),
    ("AdaptiveAvgPool2d", ((None, 4),), {}, (1, 2, 5, 7)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 6, 6)),
    ("AdaptiveAvgPool3d", ((2, 1, 3),), {}, (1, 2, 3, 4, 5)),
    ("AdaptiveMaxPool1d", (4,), dict(return_indices=True), (2, 3, 9)),
    ("AdaptiveMaxPool2d", ((3, 2),), dict(return_indices=True), (1, 2, 7, 5)),
    ("AdaptiveMaxPool3d", (2,), {}, (1, 1, 3, 5, 4)),
    ("Upsample", (), dict(scale_factor=2, mode="nearest"), (1, 2, 3, 4)),
    ("Upsample", (), dict(size=(5, 7), mode="bilinear", align_corners=True), (1, 2, 3, 4)),
    ("Upsample", (), dict(scale_factor=1.5, mode="bicubic"), (1, 1, 4, 4)),
    ("Upsample", (), dict(size=7, mode="linear"), (2, 3, 4)),
    ("Upsample", (), dict(scale_factor=(2, 1, 1.5), mode="trilinear"), (1, 1, 2, 3, 2)),
    ("Upsample", (), dict(scale_factor=2.5, mode="nearest-exact", recompute_scale_factor=True), (1, 2, 5)),
    ("UpsamplingNearest2d", (), dict(scale_factor=3), (1, 1, 2, 3)),
    ("UpsamplingBilinear2d", (), dict(size=(4, 5)), (1, 2, 3, 3)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 2)),
    ("PixelUnshuffle", (3,), {}, (1, 2, 6, 3)),
    ("ChannelShuffle", (3,), {}, (2, 6, 2, 3)),
    ("Fold", ((4, 5), 2), dict(padding=1, stride=2), (2, 8, 9)),
    ("Unfold", ((2, 3),), dict(dilation=(2, 1), padding=1), (2, 3, 5, 4)),
]


@pytest.mark.parametrize("cls,args,kw,shape", POOL, ids=[f"{c[0]}-{i}" for i, c in enumerate(POOL)])
def test_pool_and_resampling_modules_vs_torch(cls, args, kw, shape, device):
    ours, theirs = _pair(cls, *args, **kw)
    x = RNG.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + 0.05      # distinct values: no ties
    check_module(ours, theirs, x, device)


@pytest.mark.parametrize("cls,args,kw,shape", [POOL[3], POOL[9], POOL[13], POOL[17], POOL[18], POOL[26]],
                         ids=lambda v: str(v)[:24])
def test_pool_modules_gradcheck(cls, args, kw, shape, device):
    m = getattr(nn, cls)(*args, **kw)
    x = RNG.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + 0.05
    gradcheck_module(m, x, device, gradgrad=not cls.startswith(("Adaptive", "Max")))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_max_unpool_inverts_max_pool(n, device):
    torch = torch_()
    shape = (2, 3) + (6, 4, 4)[:n]
    x_np = RNG.permutation(int(np.prod(shape))).reshape(shape) * 1.0
    pool, tpool = getattr(nn, f"MaxPool{n}d")(2, return_indices=True), getattr(torch.nn, f"MaxPool{n}d")(2, return_indices=True)
    unpool, tunpool = _pair(f"MaxUnpool{n}d", 2)
    y, idx = pool(ag.tensor(x_np, device=device))
    ty, tidx = tpool(torch.tensor(x_np))
    np.testing.assert_array_equal(npy(idx), tidx.numpy())
    check_module(unpool, tunpool, npy(y), device, call=lambda m, v: m(v, ag.tensor(npy(idx), device=device)
                                                                     if isinstance(v, ag.Tensor) else tidx))
    size = tuple(s + 1 for s in shape[2:])
    check_module(unpool, tunpool, npy(y), device,
                 call=lambda m, v: m(v, ag.tensor(npy(idx), device=device) if isinstance(v, ag.Tensor) else tidx,
                                     output_size=size))


PADS = [(k, n) for k in ("Zero", "Constant", "Reflection", "Replication", "Circular") for n in (1, 2, 3)]


@pytest.mark.parametrize("kind,n", PADS, ids=[f"{k}Pad{n}d" for k, n in PADS])
def test_padding_modules_vs_torch(kind, n, device):
    args = ((1, 2) * n,) if kind != "Constant" else ((2, 1) * n, 1.5)
    ours, theirs = _pair(f"{kind}Pad{n}d", *args)
    check_module(ours, theirs, RNG.standard_normal((2, 2) + (3, 4, 3)[:n]), device)
    ours, theirs = _pair(f"{kind}Pad{n}d", 1, *args[1:])             # an int pads every side
    assert ours.padding == theirs.padding
    check_module(ours, theirs, RNG.standard_normal((2,) + (3, 4, 3)[:n]), device)        # unbatched


def test_resampling_errors_and_values(device):
    x = ag.randn(1, 2, 3, 4, device=device)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="Anti-alias"):
        F.interpolate(x, size=(5, 5), mode="nearest", antialias=True)
    with pytest.raises(NotImplementedError, match="4D input"):
        F.interpolate(ag.randn(1, 2, 3, device=device), size=5, mode="bilinear")
    # nearest upsampling by an integer factor repeats each pixel: a closed form
    y = F.interpolate(x, scale_factor=2)
    np.testing.assert_array_equal(npy(y), npy(x).repeat(2, axis=2).repeat(2, axis=3))
    # a pixel shuffle round trip is the identity
    z = ag.randn(2, 8, 3, 5, device=device)
    np.testing.assert_array_equal(npy(F.pixel_unshuffle(F.pixel_shuffle(z, 2), 2)), npy(z))


def test_fold_of_unfold_counts_overlaps(device):
    """fold(unfold(x)) multiplies each pixel by the number of windows that cover it (torch's docs)."""
    x = ag.randn(1, 2, 5, 6, dtype=ag.float64, device=device)
    k = dict(kernel_size=(2, 3), padding=1, stride=1)
    y = F.fold(F.unfold(x, **k), (5, 6), **k)
    ones = ag.ones(1, 2, 5, 6, dtype=ag.float64, device=device)
    count = F.fold(F.unfold(ones, **k), (5, 6), **k)
    np.testing.assert_allclose(npy(y), npy(x) * npy(count), rtol=1e-12)


def test_grid_sample_identity_and_gradients(device):
    torch = torch_()
    x_np = RNG.standard_normal((2, 3, 4, 5))
    theta = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (2, 1, 1))
    grid = F.affine_grid(ag.tensor(theta, device=device), (2, 3, 4, 5), align_corners=False)
    y = F.grid_sample(ag.tensor(x_np, device=device), grid, align_corners=False)
    np.testing.assert_allclose(npy(y), x_np, rtol=1e-12, atol=1e-12)        # the identity warp
    # gradients w.r.t. input and grid against torch, and gradcheck through affine_grid
    th = RNG.standard_normal((1, 2, 3)) * 0.3 + theta[:1]
    xs = RNG.standard_normal((1, 2, 3, 3))
    for pm in ("zeros", "border", "reflection"):
        def ours(x, t, pm=pm):
            return F.grid_sample(x, F.affine_grid(t, (1, 2, 2, 3), align_corners=False), padding_mode=pm,
                                 align_corners=False)
        a, b = ag.tensor(xs, device=device, requires_grad=True), ag.tensor(th, device=device, requires_grad=True)
        ta, tb = torch.tensor(xs, requires_grad=True), torch.tensor(th, requires_grad=True)
        out = ours(a, b)
        tout = torch.nn.functional.grid_sample(ta, torch.nn.functional.affine_grid(tb, (1, 2, 2, 3), align_corners=False),
                                               padding_mode=pm, align_corners=False)
        np.testing.assert_allclose(npy(out), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
        out.sum().backward()
        tout.sum().backward()
        np.testing.assert_allclose(npy(a.grad), ta.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(npy(b.grad), tb.grad.numpy(), rtol=1e-8, atol=1e-10)
        assert ag.gradcheck(ours, (ag.tensor(xs, device=device, requires_grad=True),
                                   ag.tensor(th, device=device, requires_grad=True)))


def test_deprecated_upsample_aliases_warn_and_match_torch(device):
    torch = torch_()
    x_np = RNG.standard_normal((1, 2, 3, 4))
    for name, kw in [("upsample", dict(scale_factor=2, mode="bilinear")), ("upsample_nearest", dict(size=(5, 6))),
                     ("upsample_bilinear", dict(scale_factor=2))]:
        with pytest.warns(UserWarning, match="deprecated"):
            y = getattr(F, name)(ag.tensor(x_np, device=device), **kw)
        with pytest.warns(UserWarning):
            ty = getattr(torch.nn.functional, name)(torch.tensor(x_np), **kw)
        np.testing.assert_allclose(npy(y), ty.numpy(), rtol=1e-12)


def test_grid_sample_and_affine_grid_warn_without_align_corners(device):
    theta = ag.tensor(np.array([[[1.0, 0, 0], [0, 1.0, 0]]]), device=device)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        grid = F.affine_grid(theta, (1, 1, 2, 3))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(ag.randn(1, 1, 2, 3, dtype=ag.float64, device=device), grid)


def test_max_pool_window_without_input_elements(device):
    """A window over padding and dilation gaps only: torch gives the lowest value and the window's first
    (out of range) position; its backward then writes out of bounds, so ours (a zero gradient) is
    checked against the forward only."""
    torch = torch_()
    x_np = RNG.standard_normal((2, 3, 1))
    kw = dict(kernel_size=2, stride=2, padding=1, dilation=2, ceil_mode=True, return_indices=True)
    x = ag.tensor(x_np, device=device, requires_grad=True)
    y, idx = F.max_pool1d(x, **kw)
    ty, tidx = torch.nn.functional.max_pool1d(torch.tensor(x_np), **kw)
    np.testing.assert_array_equal(npy(y), ty.numpy())
    np.testing.assert_array_equal(npy(idx), tidx.numpy())
    y.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), np.zeros_like(x_np))


@pytest.mark.parametrize("shape", [(1, 2, 2), (1, 1, 2, 3, 2)])
def test_nearest_1d_3d_do_not_short_cut_an_unchanged_size(shape, device):
    """torch's 1-D and 3-D nearest kernels index an unchanged size through the given scale (its 2-D
    kernel copies it); ours follows the forward. (torch's backward there short-cuts, inconsistent
    with its own forward, so only values are compared.)"""
    torch = torch_()
    x_np = RNG.standard_normal(shape)
    y = F.interpolate(ag.tensor(x_np, device=device), scale_factor=1.3)
    np.testing.assert_array_equal(npy(y), torch.nn.functional.interpolate(torch.tensor(x_np), scale_factor=1.3).numpy())
