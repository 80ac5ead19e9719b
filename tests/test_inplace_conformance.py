"""In-place methods conform like their out-of-place ops (issue 10: items 12, 29, 32 for `x.op_()`),
plus the leftovers of items 26 (double backward), 31/32 (errors, warnings) found around them.

The table INPLACE lists every in-place Tensor method (the binary ones, fill_/zero_/copy_, and every
`Tensor.<name>_` declared with `@op(inplace=True)`); each runs on constants of every dtype and is
checked against torch 2.13 (value, dtype, shape, or the error where torch raises) and, without
torch, against our own out-of-place op cast back to the tensor's dtype. Every case also checks
torch's in-place contract: `x.f_() is x`, the version counter bumps, and no NumPy warning escapes.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from autograd.ops import OPS
from tests.helpers import npy


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is the oracle for this check")


DTYPES = ("float64", "float32", "float16", "int64", "uint8", "bool")

# host data per dtype: extremes where the dtype has them (inf/nan/-0, wrap-around values)
_DATA = {
    "float64": [1.5, -2.25, 0.0, -0.0, 1e300, -np.inf, np.nan, 3.0],
    "float32": [1.5, -2.25, 0.0, 1e-30, 3e38, np.inf, np.nan, -7.0],
    "float16": [1.5, -2.25, 0.0, 1e-3, 6e4, -np.inf, np.nan, 0.1],
    "int64": [1, -2, 0, 7, -9, 2**62, 3, 100],
    "uint8": [1, 2, 0, 7, 250, 255, 3, 100],
    "bool": [True, False, True, True, False, False, True, False],
}


def _host(dt, shape=(2, 4)):
    return np.array(_DATA[dt], dtype=dt).reshape(shape)


def _float16_refused():
    try:
        ag.tensor(np.zeros(1, np.float16))
        return False
    except TypeError:
        return True


# method name -> (args builder: dtype -> (args, kwargs) with host arrays for tensors)
def _t(dt):
    return np.array([2, 3, 1, 0, 5, 1, 2, 4], dtype=dt).reshape(2, 4)


BINARY = {
    "add_(300)": ("add_", lambda dt: ((300,), {})),
    "add_(-1)": ("add_", lambda dt: ((-1,), {})),
    "add_(2.5)": ("add_", lambda dt: ((2.5,), {})),
    "add_(True)": ("add_", lambda dt: ((True,), {})),
    "add_(t, alpha=3)": ("add_", lambda dt: ((_t(dt),), {"alpha": 3})),
    "add_(1, alpha=300)": ("add_", lambda dt: ((1,), {"alpha": 300})),
    "add_(1, alpha=-255)": ("add_", lambda dt: ((1,), {"alpha": -255})),
    "add_(2, alpha=0.5)": ("add_", lambda dt: ((2,), {"alpha": 0.5})),
    "add_(True, alpha=True)": ("add_", lambda dt: ((True,), {"alpha": True})),
    "add_(True, alpha=2)": ("add_", lambda dt: ((True,), {"alpha": 2})),
    "add_(1, alpha=1e6)": ("add_", lambda dt: ((1,), {"alpha": 1e6})),
    "add_(float64 t)": ("add_", lambda dt: ((_t("float64") / 3,), {})),
    "add_(int64 t)": ("add_", lambda dt: ((_t("int64"),), {})),
    "add_(float32 0-d)": ("add_", lambda dt: ((np.array(1e-4, np.float32),), {})),
    "sub_(300)": ("sub_", lambda dt: ((300,), {})),
    "sub_(t, alpha=2)": ("sub_", lambda dt: ((_t(dt),), {"alpha": 2})),
    "sub_(1e-4)": ("sub_", lambda dt: ((1e-4,), {})),
    "mul_(300)": ("mul_", lambda dt: ((300,), {})),
    "mul_(1e-8)": ("mul_", lambda dt: ((1e-8,), {})),
    "mul_(1e5)": ("mul_", lambda dt: ((1e5,), {})),
    "mul_(-1)": ("mul_", lambda dt: ((-1,), {})),
    "mul_(t)": ("mul_", lambda dt: ((_t(dt),), {})),
    "mul_(float32 0-d 1e-8)": ("mul_", lambda dt: ((np.array(1e-8, np.float32),), {})),
    "mul_(float64 t)": ("mul_", lambda dt: ((_t("float64") / 7,), {})),
    "div_(3.3)": ("div_", lambda dt: ((3.3,), {})),
    "div_(1e-8)": ("div_", lambda dt: ((1e-8,), {})),
    "div_(0)": ("div_", lambda dt: ((0,), {})),
    "div_(2)": ("div_", lambda dt: ((2,), {})),
    "div_(t)": ("div_", lambda dt: ((_t(dt),), {})),
    "div_(2, floor)": ("div_", lambda dt: ((2,), {"rounding_mode": "floor"})),
    "div_(-3, trunc)": ("div_", lambda dt: ((-3,), {"rounding_mode": "trunc"})),
    "pow_(2)": ("pow_", lambda dt: ((2,), {})),
    "pow_(1.5)": ("pow_", lambda dt: ((1.5,), {})),    # (0.5: see the report, torch special-cases it)
    "pow_(-1)": ("pow_", lambda dt: ((-1,), {})),
    "pow_(300)": ("pow_", lambda dt: ((300,), {})),
    "pow_(t)": ("pow_", lambda dt: ((_t(dt),), {})),
    "clamp_(1, 5)": ("clamp_", lambda dt: ((1, 5), {})),
    "clamp_(300)": ("clamp_", lambda dt: ((300,), {})),
    "clamp_(max=-3)": ("clamp_", lambda dt: ((), {"max": -3})),
    "clamp_(-256)": ("clamp_", lambda dt: ((-256,), {})),
    "clamp_(0.5)": ("clamp_", lambda dt: ((0.5,), {})),
    "clamp_(max=1e6)": ("clamp_", lambda dt: ((), {"max": 1e6})),
    "clamp_(-inf, nan)": ("clamp_", lambda dt: ((-np.inf,), {})),
    "fill_(7)": ("fill_", lambda dt: ((7,), {})),
    "fill_(300)": ("fill_", lambda dt: ((300,), {})),
    "fill_(-1)": ("fill_", lambda dt: ((-1,), {})),
    "fill_(-256)": ("fill_", lambda dt: ((-256,), {})),
    "fill_(1.7)": ("fill_", lambda dt: ((1.7,), {})),
    "fill_(-1.5)": ("fill_", lambda dt: ((-1.5,), {})),
    "fill_(1e6)": ("fill_", lambda dt: ((1e6,), {})),
    "fill_(1e39)": ("fill_", lambda dt: ((1e39,), {})),
    "fill_(inf)": ("fill_", lambda dt: ((np.inf,), {})),
    "fill_(0-d int64 300)": ("fill_", lambda dt: ((np.array(300),), {})),
    "fill_(0-d float64 1e6)": ("fill_", lambda dt: ((np.array(1e6),), {})),
    "zero_()": ("zero_", lambda dt: ((), {})),
    "copy_(float64 t)": ("copy_", lambda dt: ((np.array([1e6, -1.7, 2.5, 0, 300, -1, 7, 1e-9]).reshape(2, 4),), {})),
    "copy_(int64 t)": ("copy_", lambda dt: ((np.array([300, -1, 2, 0, 256, -255, 7, 1]).reshape(2, 4),), {})),
    "copy_(row)": ("copy_", lambda dt: ((_t(dt)[0],), {})),
}

# every unary in-place method the registry declares (Tensor.<name>_ from @op(inplace=True))
UNARY = sorted({n + "_" for d in OPS.values() if d.inplace for n in (d.name,) + d.aliases})
INPLACE = {**BINARY, **{f"{m}()": (m, lambda dt: ((), {})) for m in UNARY if m not in ("clamp_", "clip_")},
           "clip_(0, 2)": ("clip_", lambda dt: ((0, 2), {})), "clamp_()": ("clamp_", lambda dt: ((), {}))}
#: an alias's in-place method -> the op its errors name (clip_ -> clamp)
_CANONICAL = {a + "_": d.name for d in OPS.values() if d.inplace for a in d.aliases}
CASES = [(c, dt) for c in INPLACE for dt in DTYPES]


def test_the_table_covers_every_inplace_method():
    declared = {n + "_" for d in OPS.values() if d.inplace for n in (d.name,) + d.aliases}
    listed = {m for m, _ in INPLACE.values()}
    assert declared <= listed
    assert {"add_", "sub_", "mul_", "div_", "pow_", "clamp_", "fill_", "zero_", "copy_"} <= listed
    assert {"exp_", "sqrt_", "abs_", "neg_", "sign_", "relu_", "clamp_"} <= listed


def _ours(a):
    return ag.tensor(a) if isinstance(a, np.ndarray) else a


def _run(method, x, args, kwargs):
    """x.method(*args) with NumPy warnings as errors: (result or exception)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return getattr(x, method)(*args, **kwargs), None
        except Exception as e:  # noqa: BLE001 - compared with torch's below
            return None, e


def _close(ours, theirs, dt):
    tol = {"float16": 1e-3, "float32": 1e-6}.get(dt, 0 if dt in ("int64", "uint8", "bool") else 1e-12)
    np.testing.assert_allclose(ours.astype(np.float64) if dt != "bool" else ours,
                               theirs.astype(np.float64) if dt != "bool" else theirs,
                               rtol=tol, atol=0, equal_nan=True)


@pytest.mark.parametrize("case,dt", CASES, ids=[f"{c}-{dt}" for c, dt in CASES])
def test_inplace_method_matches_torch(case, dt):
    if dt == "float16" and _float16_refused():
        pytest.skip("this backend has no float16")
    method, build = INPLACE[case]
    args, kwargs = build(dt)
    host = _host(dt)
    x = ag.tensor(host)
    v0 = x._version
    res, err = _run(method, x, tuple(_ours(a) for a in args), kwargs)
    assert not isinstance(err, (Warning, OverflowError, ValueError, KeyError, AttributeError)), \
        f"{case} on {dt}: {type(err).__name__}: {err}"
    if err is None:
        assert res is x, f"{case}: the in-place method must return self"
        assert x._version > v0, f"{case}: the version counter must bump"
        assert tuple(x.shape) == (2, 4) and x.dtype is getattr(ag, dt)
    else:
        assert any(n.rstrip("_") in str(err) for n in (method, _CANONICAL.get(method, method))), \
            f"the error must name the op: {err}"
        assert x._version == v0 and np.array_equal(npy(x), host, equal_nan=True), "a refused write writes nothing"

    # without torch: the out-of-place op's value, cast back to x's dtype
    if err is None and method not in ("fill_", "zero_", "copy_"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ref = getattr(ag.tensor(host), method[:-1])(*(_ours(a) for a in args), **kwargs)
        _close(npy(x), npy(ref.to(x.dtype)), dt)

    torch = _torch()
    tx = torch.from_numpy(host.copy())
    targs = tuple(torch.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a for a in args)
    try:
        tres = getattr(tx, method)(*targs, **kwargs)
        terr = None
    except Exception as e:  # noqa: BLE001
        terr = e
    if terr is not None:
        assert err is not None, f"{case} on {dt}: torch raises {type(terr).__name__}: {terr}; we gave {res}"
        return
    assert err is None, f"{case} on {dt}: torch gives {tres}; we raise {type(err).__name__}: {err}"
    assert str(tres.dtype).removeprefix("torch.") == x.dtype.name
    _close(npy(x), tres.numpy(), dt)


# --- the fast path (float32/float64, the optimizer's) stays exact and quiet ---------------------

@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_fast_inplace_path_is_quiet_and_keeps_the_array(dt):
    x = ag.tensor([1.0, 0.0, -1.0], dtype=getattr(ag, dt))
    arr = x._data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.div_(0)
        x.mul_(ag.tensor([0.0, 1.0, 0.0], dtype=x.dtype))
        x.add_(ag.tensor([np.inf, -np.inf, np.inf], dtype=x.dtype), alpha=2)
    np.testing.assert_array_equal(npy(x), [np.nan, np.nan, np.nan])
    assert x.dtype is getattr(ag, dt) and tuple(x.shape) == (3,)
    if hasattr(arr, "__array_interface__"):          # NumPy: truly in place, no new buffer
        assert x._data is arr


def test_half_inplace_rounds_once_like_torch():
    if _float16_refused():
        pytest.skip("this backend has no float16")
    h = ag.tensor([1.0, 3.0, 1e-3, 6e4], dtype=ag.float16)
    # computed in float32 and rounded once: 3 * 1e-8 is a float16 denormal, not 3 * 0
    np.testing.assert_array_equal(npy(h.clone().mul_(1e-8)), np.float16(np.float32([1.0, 3.0, 1e-3, 6e4]) * np.float32(1e-8)))
    np.testing.assert_array_equal(npy(h.clone().div_(3.3)),
                                  np.float16(np.float16([1.0, 3.0, 1e-3, 6e4]).astype(np.float32) / np.float32(3.3)))
    assert h.clone().mul_(1e-8).dtype is ag.float16


# --- item 2: gradient accumulation is quiet ----------------------------------------------------

def test_accumulating_inf_and_minus_inf_into_grad_is_quiet():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * np.inf).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x * -np.inf).sum().backward()
    assert tuple(x.grad.shape) == (2,) and x.grad.dtype is ag.float32
    assert np.isnan(npy(x.grad)).all()                 # torch: inf + -inf = nan, silently


# --- item 3: s / t is reciprocal(t) * s, saving the reciprocal -----------------------------------

def test_scalar_divided_by_tensor_survives_inplace_on_the_divisor():
    x = ag.tensor([1.0, 2.0, 4.0, -0.5], requires_grad=True)
    a = x * 1
    y = 3 / a
    a.mul_(2)                              # torch saved 1/a, not a: backward still runs
    y.sum().backward()
    np.testing.assert_allclose(npy(x.grad), -3 / np.array([1.0, 2.0, 4.0, -0.5]) ** 2, rtol=1e-6)
    assert x.grad.dtype is ag.float32 and tuple(x.grad.shape) == (4,)
    torch = pytest.importorskip("torch")
    tx = torch.tensor([1.0, 2.0, 4.0, -0.5], requires_grad=True)
    ta = tx * 1
    ty = 3 / ta
    ta.mul_(2)
    ty.sum().backward()
    np.testing.assert_allclose(npy(x.grad), tx.grad.numpy(), rtol=1e-6)


def test_scalar_divided_by_tensor_values_dtypes_and_gradcheck():
    x = ag.tensor([0.3, -2.0, 7.0], dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(lambda t: 3 / t, (x,)) and ag.gradgradcheck(lambda t: 3 / t, (x,))
    i = ag.tensor([1, 2, 3])
    r = 3 / i
    assert r.dtype is ag.float32 and tuple(r.shape) == (3,)
    np.testing.assert_allclose(npy(r), [3.0, 1.5, 1.0])
    if not _float16_refused():
        h = ag.tensor([1.0, 3.0, 1e-3, 6e4], dtype=ag.float16)
        out = 3 / h
        assert out.dtype is ag.float16
        torch = pytest.importorskip("torch")
        th = torch.tensor([1.0, 3.0, 1e-3, 6e4], dtype=torch.float16)
        np.testing.assert_array_equal(npy(out), (3 / th).numpy())


# --- item 4 (issue 10 #26): double backward through abs / leaky_relu gives zeros ---------------

DOUBLE = {
    "abs": (lambda x: x.abs(), lambda x: x.abs()),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: __import__("torch").nn.functional.leaky_relu(x, 0.1)),
    "leaky_relu default": (lambda x: F.leaky_relu(x), lambda x: __import__("torch").nn.functional.leaky_relu(x)),
    "max_pool2d": (lambda x: F.max_pool2d(x.reshape(1, 1, 2, 2), 2),
                   lambda x: __import__("torch").nn.functional.max_pool2d(x.reshape(1, 1, 2, 2), 2)),
}


@pytest.mark.parametrize("case", list(DOUBLE))
def test_second_backward_through_piecewise_linear_ops_gives_zeros(case):
    ours, theirs = DOUBLE[case]
    data = [-1.5, 0.5, 2.0, -0.25]
    x = ag.tensor(data, requires_grad=True)
    g, = ag.grad(ours(x).sum(), x, create_graph=True)
    assert g.requires_grad
    g.sum().backward()
    assert tuple(x.grad.shape) == (4,) and x.grad.dtype is ag.float32
    np.testing.assert_array_equal(npy(x.grad), np.zeros(4))
    torch = _torch()
    tx = torch.tensor(data, requires_grad=True)
    tg, = torch.autograd.grad(theirs(tx).sum(), tx, create_graph=True)
    np.testing.assert_allclose(npy(g), tg.detach().numpy())
    tg.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), tx.grad.numpy(force=True))   # (torch's may be a ZeroTensor)


def test_leaky_relu_gradcheck_and_values():
    x = ag.tensor([-1.5, 0.5, 2.0, -0.25, 3.0], dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(lambda t: F.leaky_relu(t, 0.2), (x,))
    assert ag.gradgradcheck(lambda t: F.leaky_relu(t, 0.2), (x,))
    y = F.leaky_relu(x, 0.2)
    assert y.dtype is ag.float64 and tuple(y.shape) == (5,)
    np.testing.assert_allclose(npy(y), [-0.3, 0.5, 2.0, -0.05, 3.0])


# --- item 5: softmax / log_softmax / leaky_relu refuse integer input, as torch ------------------

INT_REFUSED = {
    "autograd.softmax": (lambda x: ag.softmax(x, 0), lambda t, x: t.softmax(x, 0)),
    "autograd.log_softmax": (lambda x: ag.log_softmax(x, 0), lambda t, x: t.log_softmax(x, 0)),
    "F.softmax": (lambda x: F.softmax(x, 0), lambda t, x: t.nn.functional.softmax(x, 0)),
    "F.log_softmax": (lambda x: F.log_softmax(x, 0), lambda t, x: t.nn.functional.log_softmax(x, 0)),
    "Tensor.softmax": (lambda x: x.softmax(0), lambda t, x: x.softmax(0)),
    "F.leaky_relu": (lambda x: F.leaky_relu(x), lambda t, x: t.nn.functional.leaky_relu(x)),
    **{f"F.{n}": (lambda x, n=n: getattr(F, n)(x), lambda t, x, n=n: getattr(t.nn.functional, n)(x))
       for n in ("elu", "gelu", "silu", "softplus", "mish")},
}


@pytest.mark.parametrize("dt", ["int64", "bool"])
@pytest.mark.parametrize("case", list(INT_REFUSED))
def test_integer_input_is_refused_like_torch(case, dt):
    ours, theirs = INT_REFUSED[case]
    host = np.array([1, 2, 0], dtype=dt)
    with pytest.raises(NotImplementedError, match=case.split(".")[-1].replace("Tensor", "")):
        ours(ag.tensor(host))
    torch = _torch()
    with pytest.raises(NotImplementedError):
        theirs(torch, torch.from_numpy(host))


def test_softmax_of_integers_with_dtype_computes():
    x = ag.tensor([1, 2])
    for f in (lambda t: F.softmax(t, 0, dtype=ag.float32), lambda t: ag.softmax(t, 0, dtype=ag.float32)):
        y = f(x)
        assert y.dtype is ag.float32 and tuple(y.shape) == (2,)
        np.testing.assert_allclose(npy(y), [0.26894142, 0.73105858], rtol=1e-6)


# --- item 6: clamp's bounds must fit the dtype (torch's checked conversion) -------------------

CLAMP = {
    "uint8 min=300": ("uint8", (300,), {}),
    "uint8 max=300": ("uint8", (), {"max": 300}),
    "uint8 min=-1": ("uint8", (-1,), {}),
    "uint8 min=-255": ("uint8", (-255,), {}),
    "uint8 min=-256": ("uint8", (-256,), {}),
    "uint8 max=-3": ("uint8", (), {"max": -3}),
    "uint8 min=300.0": ("uint8", (300.0,), {}),
    "int8 min=-129": ("int8", (-129,), {}),
    "float16 min=1e6": ("float16", (1e6,), {}),
    "float16 max=65519.": ("float16", (), {"max": 65519.0}),
    "float16 -1e6..1e6": ("float16", (-1e6, 1e6), {}),
    "float16 max=inf": ("float16", (), {"max": np.inf}),
    "float16 min=nan": ("float16", (np.nan,), {}),
    "float32 min=1e39": ("float32", (1e39,), {}),
    "float32 max=70000": ("float32", (), {"max": 70000}),
    "int64 min=True": ("int64", (True,), {}),
    "bool min=2": ("bool", (2,), {}),
}


@pytest.mark.parametrize("case", list(CLAMP))
def test_clamp_bounds_checked_like_torch(case):
    dt, args, kwargs = CLAMP[case]
    if dt == "float16" and _float16_refused():
        pytest.skip("this backend has no float16")
    host = np.array([1, 2, 120 if dt == "int8" else 250, 0], dtype=dt)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            out, err = ag.clamp(ag.tensor(host), *args, **kwargs), None
        except Exception as e:  # noqa: BLE001
            out, err = None, e
    assert not isinstance(err, (OverflowError, Warning)), f"bare {type(err).__name__}: {err}"
    if err is not None:
        assert isinstance(err, RuntimeError) and "clamp" in str(err) and "overflow" in str(err)
    torch = _torch()
    try:
        tout, terr = torch.clamp(torch.from_numpy(host), *args, **kwargs), None
    except Exception as e:  # noqa: BLE001
        tout, terr = None, e
    assert (err is None) == (terr is None), f"{case}: ours {err!r}, torch {terr!r}"
    if out is not None:
        assert out.dtype.name == str(tout.dtype).removeprefix("torch.") and tuple(out.shape) == (4,)
        np.testing.assert_array_equal(npy(out), tout.numpy())


def test_clamp_uint8_wraps_negative_bounds_without_torch():
    out = ag.clamp(ag.tensor([1, 2, 250], dtype=ag.uint8), -1)     # -1 is 255 in uint8
    assert out.dtype is ag.uint8 and tuple(out.shape) == (3,)
    np.testing.assert_array_equal(npy(out), [255, 255, 255])
    with pytest.raises(RuntimeError, match="clamp.*overflow"):
        ag.clamp(ag.tensor([1, 2], dtype=ag.uint8), 300)
