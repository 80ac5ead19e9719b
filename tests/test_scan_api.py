"""Scans, sorting and counting (issue 11) beyond what the registry checks: the named-tuple results,
in-place variants, second derivatives with zeros (cumprod, prod), numerical stability of
logcumsumexp, bin edges of histc and larger random inputs, each against torch (or, for stability,
against an independent float64 NumPy reference), on the test's backend."""
import numpy as np
import pytest

import autograd as ag
from helpers import npy

torch = pytest.importorskip("torch", reason="torch 2.13 is the oracle of these tests")
RNG = np.random.default_rng(11)


def _t(a, device, grad=False):
    return ag.tensor(np.asarray(a), device=device, requires_grad=grad)


def _same(ours, theirs, rtol=1e-7, atol=1e-12):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(npy(ours), theirs.detach().numpy(), rtol=rtol, atol=atol, equal_nan=True)


# --- named tuples ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name,args", [("sort", ()), ("topk", (2,)), ("kthvalue", (2,)), ("median", (1,)),
                                       ("nanmedian", (1,)), ("mode", ()), ("cummax", (1,)), ("cummin", (1,))])
def test_values_indices_named_tuples(name, args, device):
    x_np = np.array([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]])
    ours = getattr(ag, name)(_t(x_np, device), *args)
    theirs = getattr(torch, name)(torch.tensor(x_np), *args)
    assert type(ours).__name__ == type(theirs).__name__ == name
    assert ours._fields == ("values", "indices")
    _same(ours.values, theirs.values)
    _same(ours.indices, theirs.indices)
    values, indices = ours                       # unpacks like torch's
    assert values is ours.values and indices is ours.indices


def test_aminmax_fields(device):
    r = ag.aminmax(_t([[1.0, 5.0], [-2.0, 3.0]], device), dim=0)
    assert r._fields == ("min", "max")
    assert npy(r.min).tolist() == [-2.0, 3.0] and npy(r.max).tolist() == [1.0, 5.0]


# --- in-place variants ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cumsum_", "cumprod_"])
def test_inplace_scans_write_into_the_tensor(name, device):
    x_np = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])
    x = _t(x_np, device)
    v = x.version
    assert getattr(x, name)(1) is x
    assert x.version == v + 1
    _same(x, getattr(torch.tensor(x_np), name)(1))


def test_inplace_scan_of_a_view_reaches_the_gradient(device):
    x_np = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])
    x, tx = _t(x_np, device, True), torch.tensor(x_np, requires_grad=True)
    y, ty = x * 2, tx * 2
    y.cumprod_(1)
    ty.cumprod_(1)
    y.sum().backward()
    ty.sum().backward()
    _same(x.grad, tx.grad)


# --- second derivatives with zeros --------------------------------------------------------------

@pytest.mark.parametrize("fn", [lambda m, x: m.cumprod(x, 1), lambda m, x: m.cumprod(x, 0),
                                lambda m, x: m.prod(x, 1), lambda m, x: m.prod(x)],
                         ids=["cumprod1", "cumprod0", "prod1", "prod"])
@pytest.mark.parametrize("data", ["one-zero", "two-zeros", "no-zero"])
def test_double_backward_with_zeros_matches_torch(fn, data, device):
    x_np = {"one-zero": [[1.5, 0.0, 2.0, -0.5], [2.0, -1.5, 3.0, 0.5]],
            "two-zeros": [[1.5, 0.0, 2.0, 0.0], [0.0, -1.5, 0.0, 0.5]],
            "no-zero": [[1.5, 0.25, 2.0, -0.5], [2.0, -1.5, 3.0, 0.5]]}[data]
    x_np = np.array(x_np)
    x, tx = _t(x_np, device, True), torch.tensor(x_np, requires_grad=True)
    y, ty = fn(ag, x), fn(torch, tx)
    w = np.cos(np.arange(ty.numel())).reshape(tuple(ty.shape))
    (g,) = ag.grad(y, x, _t(w, device), create_graph=True)
    (tg,) = torch.autograd.grad(ty, tx, torch.tensor(w), create_graph=True)
    _same(g, tg, atol=1e-10)
    (g * g).sum().backward()
    (tg * tg).sum().backward()
    _same(x.grad, tx.grad, rtol=1e-6, atol=1e-10)


def test_prod_gradient_with_zeros_and_infs_follows_torch(device):
    # the corner the exclusive-cumprod formula decides: a NaN in a slice with infs, a zero elsewhere
    x_np = np.array([[np.inf, -np.inf, np.nan, 1.0], [0.0, 2.0, 3.0, 4.0]])
    for dim in (None, 1, 0):
        x, tx = _t(x_np, device, True), torch.tensor(x_np, requires_grad=True)
        (ag.prod(x) if dim is None else ag.prod(x, dim)).sum().backward()
        (torch.prod(tx) if dim is None else torch.prod(tx, dim)).sum().backward()
        _same(x.grad, tx.grad)


# --- logcumsumexp: stable where a naive formula is not ----------------------------------------------

def test_logcumsumexp_is_stable_against_a_float64_reference(device):
    x_np = np.concatenate([RNG.uniform(-2000, 2000, 50), [-np.inf, -np.inf], RNG.normal(0, 1e-3, 20)])
    ref = np.logaddexp.accumulate(x_np)           # an independent sequential reference
    out = npy(ag.logcumsumexp(_t(x_np, device), 0))
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-9)
    out32 = npy(ag.logcumsumexp(_t(x_np.astype(np.float32), device), 0))
    np.testing.assert_allclose(out32, ref.astype(np.float32), rtol=1e-5, atol=1e-4)


def test_logcumsumexp_all_minus_inf_gradient(device):
    x_np = np.array([[-np.inf, -np.inf, 0.5], [1.0, -np.inf, 2.0]])
    x, tx = _t(x_np, device, True), torch.tensor(x_np, requires_grad=True)
    ag.logcumsumexp(x, 1).sum().backward()
    torch.logcumsumexp(tx, 1).sum().backward()
    _same(x.grad, tx.grad)


# --- larger random inputs ---------------------------------------------------------------------------

def test_sort_family_on_larger_random_input_with_ties(device):
    x_np = RNG.integers(0, 7, (6, 40)).astype(np.float64)
    x_np[1, 3] = np.nan
    x, tx = _t(x_np, device), torch.tensor(x_np)
    for desc in (False, True):
        r, tr = ag.sort(x, 1, desc, stable=True), torch.sort(tx, dim=1, descending=desc, stable=True)
        _same(r.values, tr.values)
        _same(r.indices, tr.indices)
    _same(ag.cummax(x, 1).indices, torch.cummax(tx, 1).indices)
    _same(ag.cummin(x, 0).indices, torch.cummin(tx, 0).indices)
    for q in (0.1, 0.5, 0.93):
        _same(ag.quantile(x, q, 1), torch.quantile(tx, q, 1))
        _same(ag.nanquantile(x, q, 1), torch.nanquantile(tx, q, 1))
    m, tm = ag.mode(x[2:], 1), torch.mode(tx[2:], 1)
    _same(m.values, tm.values)
    # past 16 elements torch's index among equal values depends on its unstable std::sort: ours is
    # the last occurrence, which must hold the mode
    idx = npy(m.indices)
    assert np.array_equal(x_np[2:][np.arange(4), idx], npy(m.values))
    assert np.array_equal(idx, [np.flatnonzero(r == v)[-1] for r, v in zip(x_np[2:], npy(m.values))])


def test_unique_on_larger_random_input(device):
    x_np = RNG.integers(0, 4, (30, 3, 2))
    x, tx = _t(x_np, device), torch.tensor(x_np)
    for dim in (None, 0, 1, 2):
        ours = ag.unique(x, return_inverse=True, return_counts=True, dim=dim)
        theirs = torch.unique(tx, return_inverse=True, return_counts=True, dim=dim)
        for o, t in zip(ours, theirs):
            _same(o, t)
        ours = ag.unique_consecutive(x, return_inverse=True, return_counts=True, dim=dim)
        theirs = torch.unique_consecutive(tx, return_inverse=True, return_counts=True, dim=dim)
        for o, t in zip(ours, theirs):
            _same(o, t)


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_histc_bin_edges_match_torch(dt, device):
    # values on and next to the bin edges, where rounding decides the bin
    edges = np.linspace(-1, 1, 8).astype(dt)
    x_np = np.concatenate([edges, np.nextafter(edges, np.inf).astype(dt), np.nextafter(edges, -np.inf).astype(dt),
                           RNG.uniform(-1.2, 1.2, 500).astype(dt)])
    _same(ag.histc(_t(x_np, device), 7, -1, 1), torch.histc(torch.tensor(x_np), 7, -1, 1))
    _same(ag.histc(_t(x_np, device), 13), torch.histc(torch.tensor(x_np), 13))


def test_bincount_and_searchsorted_on_random_input(device):
    x_np = RNG.integers(0, 50, 1000)
    w_np = RNG.standard_normal(1000)
    _same(ag.bincount(_t(x_np, device)), torch.bincount(torch.tensor(x_np)))
    _same(ag.bincount(_t(x_np, device), _t(w_np, device), 60), torch.bincount(torch.tensor(x_np), torch.tensor(w_np), 60),
          rtol=1e-10, atol=1e-10)
    seq = np.sort(RNG.integers(0, 30, (4, 25)), axis=1)
    v = RNG.integers(-2, 33, (4, 9))
    for right in (False, True):
        _same(ag.searchsorted(_t(seq, device), _t(v, device), right=right),
              torch.searchsorted(torch.tensor(seq), torch.tensor(v), right=right))
        _same(ag.searchsorted(_t(seq[0], device), _t(v, device), right=right),
              torch.searchsorted(torch.tensor(seq[0]), torch.tensor(v), right=right))
    perm = np.argsort(RNG.random((4, 25)), axis=1)
    shuffled = np.take_along_axis(seq, perm, 1)
    sorter = np.argsort(shuffled, axis=1, kind="stable")
    _same(ag.searchsorted(_t(shuffled, device), _t(v, device), sorter=_t(sorter, device)),
          torch.searchsorted(torch.tensor(shuffled), torch.tensor(v), sorter=torch.tensor(sorter)))


def test_median_without_dim_shares_the_gradient_between_ties(device):
    x_np = np.array([[2.0, 1.0, 2.0], [3.0, 2.0, 0.0]])
    for name in ("median", "nanmedian"):
        x, tx = _t(x_np, device, True), torch.tensor(x_np, requires_grad=True)
        getattr(ag, name)(x).backward()
        getattr(torch, name)(tx).backward()
        _same(x.grad, tx.grad)


def test_diff_prepend_append_gradients(device):
    x_np, p_np, a_np = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 2)), RNG.standard_normal((3, 1))
    leaves = [_t(a, device, True) for a in (x_np, p_np, a_np)]
    tleaves = [torch.tensor(a, requires_grad=True) for a in (x_np, p_np, a_np)]
    y = ag.diff(leaves[0], 2, -1, leaves[1], leaves[2])
    ty = torch.diff(tleaves[0], 2, -1, tleaves[1], tleaves[2])
    _same(y, ty)
    w = np.cos(np.arange(ty.numel())).reshape(tuple(ty.shape))
    y.backward(_t(w, device))
    ty.backward(torch.tensor(w))
    for o, t in zip(leaves, tleaves):
        _same(o.grad, t.grad)
