"""Issue 10 divergences in reductions, elementwise ops and activations, checked against PyTorch 2.13
(where installed) and against hand-derived values (everywhere), on every backend."""
import math
import warnings

import numpy as np
import pytest

import autograd as ag
from tests.helpers import npy

INF, NAN = math.inf, math.nan

try:
    import torch
except Exception:  # noqa: BLE001
    torch = None


def need_torch():
    if torch is None:
        pytest.skip("PyTorch not installed: the torch comparison is skipped")


def _masked_exact():
    """Backend.masked is being made an exact select on every backend (issue 10, backend part);
    until it is, rules routed through it give 0 * inf = nan on NumPy."""
    be = ag.tensor([1.0])._backend
    xp = be.xp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = be.masked(xp.asarray([INF]), xp.asarray([False]))
    return not bool(np.isnan(be.to_numpy(out)).any())


def _backend_dtypes():
    try:
        ag.zeros(1, dtype=ag.float16)
    except (TypeError, ValueError):
        return ()
    return ("float16",)


def needs_float16():
    if "float16" not in _backend_dtypes():
        pytest.skip("this backend has no float16")


def needs_exact_masked():
    if not _masked_exact():
        pytest.skip("Backend.masked is not yet an exact select on this backend (backend part of #5)")


def run(lib, f, vals, dtype="float64", up=None):
    """(value, grad) of f at vals in `lib` (ag or torch), backward with `up` (default: ones)."""
    dt = getattr(lib, dtype)
    x = lib.tensor(vals, dtype=dt, requires_grad=True)
    y = f(x)
    if up is None:
        y.sum().backward()
    else:
        y.backward(lib.tensor(up, dtype=y.dtype))
    return y, x.grad


def check(f, vals, expect_y, expect_g, dtype="float64", up=None, ftorch=None):
    """f's value and gradient equal the expectations (NaNs equal), shapes and dtypes exact; the
    same against torch where installed."""
    y, g = run(ag, f, vals, dtype, up)
    assert y.dtype is getattr(ag, dtype) and g.dtype is getattr(ag, dtype)
    ey, eg = np.asarray(expect_y, dtype=np.float64), np.asarray(expect_g, dtype=np.float64)
    assert tuple(y.shape) == ey.shape and tuple(g.shape) == eg.shape
    np.testing.assert_allclose(npy(y).astype(np.float64), ey, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(npy(g).astype(np.float64), eg, rtol=1e-6, atol=1e-12)
    if torch is not None:
        ty, tg = run(torch, ftorch or f, vals, dtype, up)
        np.testing.assert_allclose(ty.detach().double().numpy(), ey, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(tg.double().numpy(), eg, rtol=1e-6, atol=1e-12)


# --- #2 dim=() and dim=[] reduce over every dim ----------------------------------------------

@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "amin", "logsumexp", "norm"])
@pytest.mark.parametrize("dim", [(), []])
@pytest.mark.parametrize("keepdim", [False, True])
def test_empty_dim_list_reduces_all_dims(name, dim, keepdim):
    a = np.arange(6.0).reshape(2, 3)
    x = ag.tensor(a, dtype=ag.float32, requires_grad=True)
    y = getattr(x, name)(dim=dim, keepdim=keepdim)
    ref = {"sum": a.sum(), "mean": a.mean(), "var": a.var(ddof=1), "std": a.std(ddof=1), "amax": a.max(),
           "amin": a.min(), "logsumexp": np.log(np.exp(a).sum()), "norm": np.sqrt((a * a).sum())}[name]
    assert tuple(y.shape) == ((1, 1) if keepdim else ())
    assert y.dtype is ag.float32
    np.testing.assert_allclose(npy(y).reshape(()), ref, rtol=1e-5)
    y.sum().backward()
    assert tuple(x.grad.shape) == (2, 3)
    if torch is not None and not (name == "logsumexp" and not keepdim):   # torch raises there (its bug)
        t = getattr(torch.tensor(a, dtype=torch.float32), name)(dim=dim, keepdim=keepdim)
        assert tuple(t.shape) == tuple(y.shape)
        np.testing.assert_allclose(npy(y), t.numpy(), rtol=1e-5)


def test_any_all_dim_tuple_and_keepdims_alias():
    x = ag.tensor([[0.0, 1.0, 2.0], [3.0, 0.0, 5.0]])
    assert tuple(x.any(dim=(0, 1)).shape) == () and bool(x.any(dim=(0, 1)))
    assert not bool(x.all(dim=[0, 1]))
    e = x.any(dim=())                     # torch: dim=() reduces nothing for any/all
    assert tuple(e.shape) == (2, 3) and e.dtype is ag.bool
    assert x.any(0, keepdims=True).dtype is ag.bool
    u = ag.tensor([1, 2], dtype=ag.uint8).any()
    assert u.dtype is ag.uint8 and int(u) == 1            # torch keeps uint8
    for name in ["sum", "mean", "var", "std", "amax", "amin", "logsumexp", "prod", "any", "all", "argmax"]:
        assert tuple(getattr(x, name)(0, keepdims=True).shape) == (1, 3), name
    assert tuple(x.max(0, keepdims=True).values.shape) == (1, 3)


def test_var_mean_std_mean():
    a = np.arange(6.0).reshape(2, 3)
    x = ag.tensor(a)
    v, m = ag.var_mean(x, 1)
    np.testing.assert_allclose(npy(v), a.var(1, ddof=1))
    np.testing.assert_allclose(npy(m), a.mean(1))
    s, m = ag.std_mean(x, dim=(), correction=0)
    assert tuple(s.shape) == () and tuple(m.shape) == ()
    np.testing.assert_allclose(float(s), a.std(), rtol=1e-6)


# --- #3 softplus gradient ----------------------------------------------------------------------

@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.0, 5.0), (0.5, 1.0)])
def test_softplus_gradient_is_sigmoid_of_beta_x(beta, threshold):
    vals = [0.0, threshold / beta, threshold / beta + 1e-6, -3.0, 30.0]
    bx = np.asarray(vals) * beta
    sig = 1 / (1 + np.exp(-bx))
    eg = np.where(bx > threshold, 1.0, sig)
    ey = np.where(bx > threshold, vals, np.log1p(np.exp(bx)) / beta)
    ftorch = (lambda x: torch.nn.functional.softplus(x, beta=beta, threshold=threshold)) if torch else None
    check(lambda x: ag.softplus(x, beta=beta, threshold=threshold), vals, ey, eg, ftorch=ftorch)
    x = ag.tensor([-1.5, 0.0, 0.7, 3.0], dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(lambda t: ag.softplus(t, beta=beta, threshold=threshold), (x,))
    assert ag.gradgradcheck(lambda t: ag.softplus(t, beta=beta, threshold=threshold), (x,))


# --- #4 std / var / norm at zero spread --------------------------------------------------------

def test_std_gradient_at_zero_spread_is_zero():
    check(lambda x: x.std(), [1.0, 1.0, 1.0], 0.0, [0.0, 0.0, 0.0])
    check(lambda x: x.std(correction=0), [2.0, 2.0], 0.0, [0.0, 0.0])
    check(lambda x: x.std(dim=1), [[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], [0.0, 1.0],
          [[0.0, 0.0, 0.0], [-0.5, 0.0, 0.5]])
    check(lambda x: x.var(), [1.0, 1.0, 1.0], 0.0, [0.0, 0.0, 0.0])
    check(lambda x: x.norm(p=3), [0.0, 0.0], 0.0, [0.0, 0.0])
    check(lambda x: x.norm(p=1.5), [0.0, 0.0], 0.0, [0.0, 0.0])
    check(lambda x: x.norm(p=0.5), [0.0, 1.0], 1.0, [0.0, 1.0])
    # torch's var_backward has no gradient path through the mean: an inf gradient stays inf
    check(lambda x: x.std(), [3.0, 1.0, -3.0], np.std([3, 1, -3], ddof=1), [INF, INF, -INF], up=INF)


def test_norm_general_p_gradients():
    x = ag.tensor([[0.5, -1.2, 2.0], [0.3, 0.0, -0.7]], dtype=ag.float64, requires_grad=True)
    for p in [0.5, 1, 1.5, 3, INF, -INF]:
        assert ag.gradcheck(lambda t: t.norm(p=p, dim=1), (x,)), p
    n0 = x.norm(p=0)
    assert n0.requires_grad and float(n0) == 5.0
    n0.backward()
    assert np.all(npy(x.grad) == 0)


# --- #5 piecewise gradients route by selection: an inf upstream gradient gives 0, not nan ----

@pytest.mark.parametrize("case", ["relu", "clamp", "clamp_tensor", "clamp_min_tensor", "maximum", "minimum",
                                  "max_dim", "max_all"])
def test_inf_upstream_gradient_is_selected_not_multiplied(case):
    if case in ("relu", "clamp", "clamp_tensor", "clamp_min_tensor", "maximum", "minimum", "max_dim", "max_all"):
        needs_exact_masked()
    vals, up = [-1.0, 0.0, 1.0, 2.0], [INF, -INF, INF, INF]
    f = {
        "relu": lambda m: (lambda x: m.relu(x)),
        "clamp": lambda m: (lambda x: x.clamp(0.5, 1.5)),
        "clamp_tensor": lambda m: (lambda x: x.clamp(m.tensor(0.5, dtype=m.float64),
                                                     m.tensor([1.5] * 4, dtype=m.float64))),
        "clamp_min_tensor": lambda m: (lambda x: x.clamp(min=m.tensor([0.5] * 4, dtype=m.float64))),
        "maximum": lambda m: (lambda x: m.maximum(x, m.tensor(0.0, dtype=m.float64))),
        "minimum": lambda m: (lambda x: m.minimum(x, m.tensor(0.0, dtype=m.float64))),
        "max_dim": lambda m: (lambda x: x.reshape(2, 2).max(1).values.repeat(2)),
        "max_all": lambda m: (lambda x: x.max().reshape(1)),
    }[case]
    expect = {"relu": [0, 0, INF, INF], "clamp": [0, 0, INF, 0], "clamp_tensor": [0, 0, INF, 0],
              "clamp_min_tensor": [0, 0, INF, INF], "maximum": [0, -INF, INF, INF],
              "minimum": [INF, -INF, 0, 0]}
    if case == "max_dim":
        vals, up = [3.0, 1.0, -3.0, 5.0], [INF, 0.0]
        y, g = run(ag, lambda x: x.reshape(2, 2).max(1).values, vals, up=up)
        np.testing.assert_array_equal(npy(g), [INF, 0, 0, 0])
        return
    if case == "max_all":
        y, g = run(ag, lambda x: x.max(), [3.0, 1.0, -3.0], up=INF)
        np.testing.assert_array_equal(npy(g), [INF, 0, 0])
        if torch is not None:
            np.testing.assert_array_equal(run(torch, lambda x: x.max(), [3.0, 1.0, -3.0], up=INF)[1].numpy(),
                                          [INF, 0, 0])
        return
    y, g = run(ag, f(ag), vals, up=up)
    np.testing.assert_array_equal(npy(g), expect[case])
    if torch is not None:
        np.testing.assert_array_equal(run(torch, f(torch), vals, up=up)[1].numpy(), expect[case])


def test_inf_upstream_through_where_rules():
    # where, elu and leaky_relu compose where(); leaky_relu with slope 0 multiplies like torch (nan)
    vals, up = [-1.0, 0.0, 1.0, 2.0], [INF, -INF, INF, INF]
    y, g = run(ag, lambda x: ag.where(x > 0, x, 0.0), vals, up=up)
    np.testing.assert_array_equal(npy(g), [0, 0, INF, INF])
    y, g = run(ag, lambda x: ag.elu(x), vals, up=up)
    np.testing.assert_array_equal(npy(g), [INF, -INF, INF, INF])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, g = run(ag, lambda x: ag.leaky_relu(x, 0.0), vals, up=up)
    np.testing.assert_array_equal(npy(g), [NAN, NAN, INF, INF])
    if torch is not None:
        F = torch.nn.functional
        np.testing.assert_array_equal(run(torch, F.elu, vals, up=up)[1].numpy(), [INF, -INF, INF, INF])
        np.testing.assert_array_equal(run(torch, lambda x: F.leaky_relu(x, 0.0), vals, up=up)[1].numpy(),
                                      [NAN, NAN, INF, INF])


def test_maximum_minimum_clamp_gradients_match_torch_at_ties_and_nan():
    # ties share evenly; a NaN decides for both operands (torch gives both the full gradient)
    a = [NAN, 1.0, NAN, 2.0, 3.0]
    b = [0.0, NAN, NAN, 2.0, 1.0]
    for name, ga_ref, gb_ref in [("maximum", [1, 1, 1, 0.5, 1], [1, 1, 1, 0.5, 0]),
                                 ("minimum", [1, 1, 1, 0.5, 0], [1, 1, 1, 0.5, 1])]:
        ta = ag.tensor(a, dtype=ag.float64, requires_grad=True)
        tb = ag.tensor(b, dtype=ag.float64, requires_grad=True)
        getattr(ag, name)(ta, tb).sum().backward()
        np.testing.assert_array_equal(npy(ta.grad), ga_ref)
        np.testing.assert_array_equal(npy(tb.grad), gb_ref)
        if torch is not None:
            pa = torch.tensor(a, dtype=torch.float64, requires_grad=True)
            pb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
            getattr(torch, name)(pa, pb).sum().backward()
            np.testing.assert_array_equal(pa.grad.numpy(), ga_ref)
            np.testing.assert_array_equal(pb.grad.numpy(), gb_ref)
    # relu'(nan) = 1 (torch's threshold_backward); clamp at nan: 0, for scalar and tensor bounds
    check(ag.relu, [NAN, 1.0, 0.0], [NAN, 1.0, 0.0], [1.0, 1.0, 0.0], ftorch=torch.relu if torch else None)
    check(lambda x: x.clamp(0.0, 1.0), [NAN, 0.5, 0.0, 1.0], [NAN, 0.5, 0.0, 1.0], [0.0, 1.0, 1.0, 1.0])
    lo, hi = ag.zeros(4, dtype=ag.float64), ag.ones(4, dtype=ag.float64)
    y, g = run(ag, lambda x: x.clamp(lo, hi), [NAN, 0.5, 0.0, 1.0])
    np.testing.assert_array_equal(npy(g), [0.0, 1.0, 1.0, 1.0])


def test_clamp_tensor_bound_gradients():
    x = ag.tensor([-1.0, 0.5, 2.0, 0.2], dtype=ag.float64, requires_grad=True)
    lo = ag.tensor([0.0, 0.0, 0.0, 0.9], dtype=ag.float64, requires_grad=True)
    hi = ag.tensor([1.0, 1.0, 1.0, 0.1], dtype=ag.float64, requires_grad=True)   # last: min > max
    y = ag.clamp(x, lo, hi)
    np.testing.assert_array_equal(npy(y), [0.0, 0.5, 1.0, 0.1])
    y.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [0, 1, 0, 0])
    np.testing.assert_array_equal(npy(lo.grad), [1, 0, 0, 0])
    np.testing.assert_array_equal(npy(hi.grad), [0, 0, 1, 1])
    b = ag.tensor([[0.1], [0.6]], dtype=ag.float64, requires_grad=True)          # broadcast bound
    y = ag.clamp(x, min=b)
    assert tuple(y.shape) == (2, 4)
    y.sum().backward()
    assert tuple(b.grad.shape) == (2, 1)
    np.testing.assert_array_equal(npy(b.grad), [[1.0], [3.0]])   # x below each bound


# --- #10 clamp's result dtype -------------------------------------------------------------------

def test_clamp_promotes_like_torch():
    i = ag.tensor([1, 2, 3], dtype=ag.int32)
    cases = [
        (lambda m, i: m.clamp(i, 0.5), [1.0, 2.0, 3.0], "float32"),
        (lambda m, i: m.clamp(i, 0.5, 2), [1.0, 2.0, 2.0], "float32"),
        (lambda m, i: m.clamp(i, max=2.5), [1.0, 2.0, 2.5], "float32"),
        (lambda m, i: m.clamp(i, 1, 2), [1, 2, 2], "int32"),
        (lambda m, i: m.clamp(i, m.tensor(1.5)), [1.5, 2.0, 3.0], "float32"),
        (lambda m, i: m.clamp(i, m.tensor(1, dtype=m.int64)), [1, 2, 3], "int32"),
        (lambda m, i: m.clamp(i, m.tensor([1, 1, 1], dtype=m.int64)), [1, 2, 3], "int64"),
        (lambda m, i: m.clamp(i.float(), 3.0, 1.0), [1.0, 1.0, 1.0], "float32"),      # min > max: max
        (lambda m, i: m.clamp(i.float(), m.tensor(3.0), m.tensor(1.0)), [1.0, 1.0, 1.0], "float32"),
    ]
    for f, ref, dt in cases:
        y = f(ag, i)
        assert y.dtype is getattr(ag, dt) and tuple(y.shape) == (3,)
        np.testing.assert_array_equal(npy(y), ref)
        if torch is not None:
            t = f(torch, torch.tensor([1, 2, 3], dtype=torch.int32))
            assert t.dtype is getattr(torch, dt)
            np.testing.assert_array_equal(t.numpy(), ref)
    b = ag.tensor([True, False])
    assert ag.clamp(b, 0).dtype is ag.int64 and ag.clamp(b, 0.5).dtype is ag.float32
    if "float16" not in _backend_dtypes():
        return
    h = ag.ones(3, dtype=ag.float16)
    assert ag.clamp(h, ag.tensor(1.0, dtype=ag.float64)).dtype is ag.float16
    assert ag.clamp(h, ag.ones(3, dtype=ag.float64)).dtype is ag.float64


# --- #12 float16 accumulates in float32; gelu-tanh finite ---------------------------------------

def test_float16_reductions_accumulate_in_float32():
    needs_float16()
    h = ag.full((70000,), 1e-3, dtype=ag.float16)
    m = h.mean()
    assert m.dtype is ag.float16 and tuple(m.shape) == ()
    assert abs(float(m) - 1e-3) < 1e-5
    assert abs(float(h.sum()) - 70.0) < 0.1
    v = ag.tensor([300.0, 400.0], dtype=ag.float16, requires_grad=True)
    n = v.norm()
    assert n.dtype is ag.float16 and float(n) == 500.0
    n.backward()
    np.testing.assert_allclose(npy(v.grad).astype(float), [0.6, 0.8], rtol=1e-3)
    assert float(ag.tensor([300.0, 400.0], dtype=ag.float16).norm(p=3)) == pytest.approx(449.75, rel=1e-3)
    assert float(ag.tensor([60000.0, 60000.0], dtype=ag.float16).mean()) == 60000.0
    assert float(ag.tensor([1.0, 2.0, 3.0], dtype=ag.float16).var()) == 1.0
    s = ag.full((70000,), 1.0, dtype=ag.float16).softmax(0)
    assert s.dtype is ag.float16 and float(s[0]) == pytest.approx(1 / 70000, rel=2e-3)
    if torch is not None:
        th = torch.full((70000,), 1e-3, dtype=torch.float16)
        assert float(th.mean()) == float(m)


def test_float16_sum_int32_sum_dtypes():
    x = ag.tensor([1, 2], dtype=ag.int32)
    assert x.sum(dtype=ag.int32).dtype is ag.int32
    assert x.sum().dtype is ag.int64


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_gelu_tanh_gradient_finite_at_extremes(dtype):
    if dtype == "float16":
        needs_float16()
    vals = [-300.0, 300.0, -10.0, 10.0, 0.0, -1e4, 1e4]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        y, g = run(ag, lambda x: ag.gelu(x, approximate="tanh"), vals, dtype)
    assert y.dtype is getattr(ag, dtype) and g.dtype is getattr(ag, dtype)
    np.testing.assert_allclose(npy(g).astype(float), [0, 1, 0, 1, 0.5, 0, 1], atol=1e-6)
    np.testing.assert_allclose(npy(y).astype(float), [0, 300, 0, 10, 0, 0, 1e4], atol=1e-3)
    if torch is not None:
        ty, tg = run(torch, lambda x: torch.nn.functional.gelu(x, approximate="tanh"), vals, dtype)
        np.testing.assert_allclose(npy(g).astype(float), tg.double().numpy(), atol=1e-6)
    x = ag.tensor([-3.0, -0.5, 0.0, 0.4, 2.5], dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(lambda t: ag.gelu(t, approximate="tanh"), (x,))
    assert ag.gradgradcheck(lambda t: ag.gelu(t, approximate="tanh"), (x,))


# --- #20 prod -------------------------------------------------------------------------------------

def test_prod_dtypes_and_shapes_like_torch():
    assert ag.tensor([1, 2], dtype=ag.int32).prod().dtype is ag.int64
    u = ag.tensor([200, 2], dtype=ag.uint8).prod()
    assert u.dtype is ag.int64 and int(u) == 400
    assert ag.tensor([True, True]).prod().dtype is ag.int64
    assert ag.tensor([1, 2], dtype=ag.int32).prod(dtype=ag.int32).dtype is ag.int32
    if "float16" in _backend_dtypes():
        assert ag.tensor([1.0, 2.0], dtype=ag.float16).prod().dtype is ag.float16
    s = ag.tensor(3.0).prod(0)
    assert tuple(s.shape) == () and float(s) == 3.0
    assert tuple(ag.tensor(3.0).prod(-1, keepdim=True).shape) == ()
    e = ag.zeros(2, 0, 3).prod(1)
    assert tuple(e.shape) == (2, 3) and np.all(npy(e) == 1)
    assert tuple(ag.zeros(2, 0, 3).prod(1, keepdim=True).shape) == (2, 1, 3)
    assert tuple(ag.zeros(2, 0, 3).prod(0).shape) == (0, 3)
    assert float(ag.zeros(3, 0).prod()) == 1.0
    with pytest.raises(IndexError):
        ag.tensor(3.0).prod(1)


@pytest.mark.parametrize("vals,dim", [
    ([2.0, 3.0, 4.0], None), ([2.0, 0.0, 4.0], None), ([0.0, 0.0, 4.0], None),
    ([[2.0, 0.0, 4.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]], 1),
    ([[2.0, 0.0, 4.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]], 0),
    ([[0.0, 0.0, 0.0, 2.0]], 1),
])
def test_prod_gradient_and_second_order_with_zeros(vals, dim):
    def f(x):
        return x.prod() if dim is None else x.prod(dim)
    x = ag.tensor(vals, dtype=ag.float64, requires_grad=True)
    g, = ag.grad(f(x).sum(), x, create_graph=True)
    gg, = ag.grad(g.sum(), x)
    a = np.asarray(vals)
    # hand reference: the product of the others, and the sum over j of prod of all but i and j
    A = a.reshape(1, -1) if dim is None else (a if dim == 1 else a.T)
    ref_g, ref_gg = np.zeros_like(A), np.zeros_like(A)
    for r in range(A.shape[0]):
        n = A.shape[1]
        for i in range(n):
            ref_g[r, i] = np.prod(np.delete(A[r], i))
            ref_gg[r, i] = sum(np.prod(np.delete(A[r], [i, j])) for j in range(n) if j != i)
    if dim == 0:
        ref_g, ref_gg = ref_g.T, ref_gg.T
    np.testing.assert_allclose(npy(g), ref_g.reshape(a.shape))
    np.testing.assert_allclose(npy(gg), ref_gg.reshape(a.shape))
    assert ag.gradcheck(f, (x,))
    assert ag.gradgradcheck(f, (x,))
    if torch is not None:
        t = torch.tensor(vals, dtype=torch.float64, requires_grad=True)
        tg, = torch.autograd.grad(f(t).sum(), t, create_graph=True)
        np.testing.assert_allclose(npy(g), tg.detach().numpy())


def test_prod_is_one_vectorized_node():
    x = (ag.rand(20000, dtype=ag.float64) + 0.5).requires_grad_()
    y = x.prod()
    assert repr(y.grad_fn) == "<ProdBackward>"
    y.backward()
    assert tuple(x.grad.shape) == (20000,)


# --- #21 NaN inputs --------------------------------------------------------------------------------

def test_nan_max_routes_gradient_to_nan_elements():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda x: x.max(), [1.0, NAN, 3.0, NAN], NAN, [0, 0.5, 0, 0.5])
        check(lambda x: x.min(), [1.0, NAN, 3.0], NAN, [0, 1, 0])
        check(lambda x: x.reshape(2, 2).max(1).values, [1.0, NAN, 3.0, NAN], [NAN, NAN], [0, 1, 0, 1])
        check(lambda x: x.amax(), [1.0, NAN, 3.0], NAN, [NAN, NAN, NAN])     # torch's amax: all nan
        check(lambda x: x.norm(p=INF), [1.0, NAN, -3.0], NAN, [0.0, 0.0, 0.0])
        check(lambda x: x.norm(p=INF), [3.0, 1.0, -3.0], 3.0, [0.5, 0.0, -0.5])
    r = ag.tensor([[NAN, 5.0, NAN]]).max(1)
    assert int(r.indices[0]) == 0 and math.isnan(float(r.values[0]))
    assert int(ag.tensor([1.0, NAN, 3.0, NAN]).argmax()) == 1
    assert int(ag.tensor([3.0, 1.0, 3.0]).argmax()) == 0 and int(ag.tensor([NAN, 1.0, NAN]).argmin()) == 0


def test_sign_of_nan_and_negative_zero():
    s = ag.sign(ag.tensor([NAN, -0.0, 0.0, INF, -2.0]))
    np.testing.assert_array_equal(npy(s), [0.0, 0.0, 0.0, 1.0, -1.0])
    assert math.copysign(1, float(s[1])) == 1.0
    assert ag.sign(ag.tensor([1, -2, 0])).dtype is ag.int64
    bs = ag.sign(ag.tensor([True, False]))
    assert bs.dtype is ag.bool and npy(bs).tolist() == [True, False]
    if torch is not None:
        np.testing.assert_array_equal(torch.sign(torch.tensor([NAN, -0.0, 0.0, INF, -2.0])).numpy(), npy(s))


def test_softmax_rows_with_inf_and_nan_are_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        check(lambda x: x.softmax(-1), [[1.0, INF, 2.0], [1.0, 2.0, 3.0]],
              [[NAN] * 3, list(np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum())],
              [[NAN] * 3, [0.0, 0.0, 0.0]])
        check(lambda x: x.softmax(-1), [-INF, -INF], [NAN, NAN], [NAN, NAN])
        check(lambda x: x.log_softmax(-1), [-INF, -INF], [NAN, NAN], [NAN, NAN])
        check(lambda x: x.log_softmax(-1), [-INF, 0.0], [-INF, 0.0], [1.0, -1.0])
        check(lambda x: x.logsumexp(-1), [-INF, -INF], -INF, [NAN, NAN])
        check(lambda x: x.logsumexp(-1), [INF, 1.0], INF, [NAN, 0.0])
        check(lambda x: x.logsumexp(-1), [NAN, 1.0], NAN, [NAN, NAN])


# --- #25 reductions over a zero-size dim ---------------------------------------------------------

def test_zero_size_reductions_like_torch():
    z = ag.zeros(3, 0)
    assert tuple(z.softmax(-1).shape) == (3, 0) and tuple(z.log_softmax(-1).shape) == (3, 0)
    lse = z.logsumexp(-1)
    assert tuple(lse.shape) == (3,) and np.all(npy(lse) == -INF)
    assert tuple(z.logsumexp(0).shape) == (0,)
    assert float(z.logsumexp(dim=(0, 1))) == -INF
    assert tuple(ag.zeros(0, 3).amax(dim=1).shape) == (0,)
    assert tuple(z.amax(dim=0).shape) == (0,)
    assert tuple(z.max(0).values.shape) == (0,) and tuple(z.argmax(0).shape) == (0,)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert np.all(np.isnan(npy(z.mean(1)))) and tuple(z.mean(1).shape) == (3,)
        assert np.all(np.isnan(npy(z.var(1)))) and tuple(z.var(1).shape) == (3,)
        assert math.isnan(float(z.std()))
    assert np.all(npy(z.sum(1)) == 0) and np.all(npy(z.prod(1)) == 1)
    assert not np.any(npy(z.any(1))) and np.all(npy(z.all(1)))
    assert np.all(npy(z.norm(dim=1)) == 0) and np.all(npy(z.norm(p=3, dim=1)) == 0)
    for f, exc, msg in [(lambda: ag.zeros(0, 3).amax(dim=0), IndexError, "amax(): Expected reduction dim 0"),
                        (lambda: z.amin(dim=1), IndexError, "amin(): Expected reduction dim 1"),
                        (lambda: z.amax(), RuntimeError, "amax(): Expected reduction dim to be specified"),
                        (lambda: z.max(), RuntimeError, "max(): Expected reduction dim to be specified"),
                        (lambda: z.max(1), IndexError, "max(): Expected reduction dim 1"),
                        (lambda: z.min(1), IndexError, "min(): Expected reduction dim 1"),
                        (lambda: z.argmax(), IndexError, "argmax(): Expected reduction dim to be specified"),
                        (lambda: z.argmax(1), IndexError, "argmax(): Expected reduction dim 1"),
                        (lambda: z.norm(p=INF, dim=1), RuntimeError, "inf norm"),
                        (lambda: z.norm(p=INF), RuntimeError, "inf norm")]:
        with pytest.raises(exc, match=msg.replace("(", r"\(").replace(")", r"\)")):
            f()
    x = ag.zeros(3, 0, requires_grad=True)
    x.logsumexp(-1).sum().backward()
    assert tuple(x.grad.shape) == (3, 0)


def test_var_without_degrees_of_freedom():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert float(ag.tensor([1.0, 2.0]).var(correction=2)) == INF
        assert math.isnan(float(ag.tensor([1.0, 1.0]).var(correction=2)))


# --- #30 sign and rounding are recorded with zero gradients ----------------------------------------

@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "round", "trunc"])
def test_sign_and_rounding_record_zero_gradients(name):
    x = ag.tensor([-1.5, 0.0, 0.4, 2.5], requires_grad=True)
    y = getattr(ag, name)(x)
    assert y.requires_grad and y.grad_fn is not None
    y.backward(ag.tensor([INF, 1.0, -INF, NAN]))          # zeros, not g * 0
    assert x.grad.dtype is ag.float32
    np.testing.assert_array_equal(npy(x.grad), [0.0, 0.0, 0.0, 0.0])
    if torch is not None:
        t = torch.tensor([-1.5, 0.0, 0.4, 2.5], requires_grad=True)
        ty = getattr(torch, name)(t)
        assert ty.requires_grad
        np.testing.assert_array_equal(npy(y), ty.detach().numpy())


def test_rounding_integer_inputs_like_torch():
    i = ag.tensor([1, 2])
    for name in ["floor", "ceil", "round", "trunc"]:
        r = getattr(ag, name)(i)
        assert r.dtype is ag.int64 and npy(r).tolist() == [1, 2]
    with pytest.raises(NotImplementedError, match="floor"):
        ag.floor(ag.tensor([True]))
    with pytest.raises(NotImplementedError, match="round"):
        ag.round(i, decimals=1)
    assert not ag.tensor([1.0, 2.0]).eq(1.0).requires_grad


# --- #32 no NumPy warnings where torch is silent --------------------------------------------------

def test_no_runtime_warnings_on_inf_rows():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        x = ag.tensor([[-INF, -INF], [0.0, 1.0]], requires_grad=True)
        (x.logsumexp(1).sum() + x.softmax(1).sum() + x.log_softmax(1)[1].sum()).backward()
        ag.softplus(ag.tensor([-1e4, 1e4, 0.0])).sum()
        ag.gelu(ag.tensor([-1e4, 1e4]), approximate="tanh")
        ag.tensor([1.0, 1.0, 1.0], requires_grad=True).std().backward()
