"""Issue 11, "Indexing, masking, scatter": what the conformance registry cannot see. Views and in-place
writes through them (diagonal, unfold, movedim, tensor_split), in-place variants (scatter_, index_add_,
masked_fill_, tril_, ...) recorded through the tape, Tensor memory basics (stride, data_ptr, view(dtype),
contiguous copies) and DLPack interchange. PyTorch is the oracle where installed; each test also checks
hand-derived or NumPy values so it means something without it."""
import numpy as np
import pytest

import autograd as ag


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is the oracle for this check")


def _np(t):
    return np.asarray(t.detach().cpu())


def _data(shape=(3, 4), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --- views: writes through diagonal / unfold / movedim reach the base ------------------------------

VIEW_WRITES = {
    "diagonal().fill_": (lambda t: t.diagonal().fill_(7.0), lambda r: np.fill_diagonal(r, 7.0)),
    "diagonal(1).mul_": (lambda t: t.diagonal(1).mul_(2.0), lambda r: r.__setitem__((np.arange(3), np.arange(1, 4)),
                                                                                     r[np.arange(3), np.arange(1, 4)] * 2)),
    "diagonal(-1).add_": (lambda t: t.diagonal(-1).add_(1.0), lambda r: r.__setitem__((np.arange(1, 3), np.arange(2)),
                                                                                       r[np.arange(1, 3), np.arange(2)] + 1)),
    "unfold(1, 2, 2).zero_": (lambda t: t.unfold(1, 2, 2).zero_(), lambda r: r.fill(0)),
    "unfold(0, 1, 2)[0].neg_": (lambda t: t.unfold(0, 1, 2)[0].neg_(), lambda r: r.__setitem__(0, -r[0])),
    "movedim(0, 1)[1].fill_": (lambda t: t.movedim(0, 1)[1].fill_(3.0), lambda r: r.__setitem__((slice(None), 1), 3.0)),
    "moveaxis(1, 0)[2].sub_": (lambda t: t.moveaxis(1, 0)[2].sub_(1.0), lambda r: r.__setitem__((slice(None), 2), r[:, 2] - 1)),
    "tensor_split(2, 1)[1].zero_": (lambda t: t.tensor_split(2, 1)[1].zero_(), lambda r: r.__setitem__((slice(None), slice(2, 4)), 0)),
    "swapdims(0, 1)[0].add_": (lambda t: t.swapdims(0, 1)[0].add_(5.0), lambda r: r.__setitem__((slice(None), 0), r[:, 0] + 5)),
}


@pytest.mark.parametrize("case", list(VIEW_WRITES))
def test_a_write_through_a_view_reaches_the_base(device, case):
    ours, ref = VIEW_WRITES[case]
    a = _data()
    x = ag.tensor(a, device=device)
    v0 = x.version
    ours(x)
    ref(a)
    np.testing.assert_array_equal(_np(x), a)
    assert x.version > v0, "the write must bump the base's version counter"


@pytest.mark.parametrize("name", ["diagonal", "unfold", "movedim", "meshgrid", "tensor_split"])
def test_view_ops_share_storage_with_their_input_as_in_torch(device, name):
    torch = _torch()
    a = _data()
    mk = {"diagonal": lambda m, t: t.diagonal(1), "unfold": lambda m, t: t.unfold(1, 2, 1),
          "movedim": lambda m, t: m.movedim(t, 0, -1), "meshgrid": lambda m, t: m.meshgrid(t[0], t[1], indexing="ij")[0],
          "tensor_split": lambda m, t: m.tensor_split(t, 2, 1)[1]}[name]
    ours = mk(ag, ag.tensor(a, device=device))
    theirs = mk(torch, torch.from_numpy(a.copy()))
    assert theirs._base is not None
    assert ours._base is not None, f"{name} must return a view, as torch's does"
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(_np(ours), theirs.numpy())


@pytest.mark.parametrize("name", ["flip", "diag", "roll", "rot90", "gather", "index_select", "masked_select",
                                  "repeat_interleave", "take"])
def test_copying_ops_do_not_alias_their_input(device, name):
    x = ag.tensor(_data(), device=device)
    i = ag.tensor([0, 1], device=device)
    fn = {"flip": lambda t: t.flip(0), "diag": lambda t: t.diag(), "roll": lambda t: t.roll(1, 0),
          "rot90": lambda t: t.rot90(), "gather": lambda t: t.gather(1, i.reshape(1, 2)),
          "index_select": lambda t: t.index_select(0, i), "masked_select": lambda t: t.masked_select(t > 0),
          "repeat_interleave": lambda t: t.repeat_interleave(2, 0), "take": lambda t: t.take(i)}[name]
    before = _np(x).copy()
    y = fn(x)
    assert y._base is None
    y.fill_(123.0)
    np.testing.assert_array_equal(_np(x), before)


def test_recorded_write_through_diagonal_differentiates_like_torch(device):
    torch = _torch()
    a = _data()
    w = np.cos(np.arange(12.0)).reshape(3, 4)

    def run(m, leaf, weight):
        y = leaf * 2
        y.diagonal().mul_(leaf[0, :3])          # a recorded write into a view of a non-leaf
        y.unfold(1, 2, 2)[:, 1].add_(1.5)
        (y * weight).sum().backward()
        return y
    xt = torch.tensor(a, requires_grad=True)
    yt = run(torch, xt, torch.from_numpy(w))
    xo = ag.tensor(a, device=device, requires_grad=True)
    yo = run(ag, xo, ag.tensor(w, device=device))
    np.testing.assert_allclose(_np(yo), yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(_np(xo.grad), xt.grad.numpy(), rtol=1e-12)


def test_diagonal_and_unfold_double_backward_match_torch(device):
    torch = _torch()
    a = _data((2, 3, 4))

    def f(m, x):
        d = m.diagonal(x, 1, 1, 2) ** 2
        u = x.unfold(2, 2, 1) ** 3
        return d.sum() + u.sum()
    xt = torch.tensor(a, requires_grad=True)
    gt, = torch.autograd.grad(f(torch, xt), xt, create_graph=True)
    ggt, = torch.autograd.grad((gt * gt).sum(), xt)
    xo = ag.tensor(a, device=device, requires_grad=True)
    go, = ag.grad(f(ag, xo), xo, create_graph=True)
    ggo, = ag.grad((go * go).sum(), xo)
    np.testing.assert_allclose(_np(go), gt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(ggo), ggt.numpy(), rtol=1e-10)


# --- in-place variants ------------------------------------------------------------------------------

def _inplace_cases(m, dev):
    kw = {} if dev is None else {"device": dev}
    idx = m.tensor([[0, 2], [1, 1], [3, 0]], **kw)
    row = m.tensor([2, 0], **kw)
    mask = m.tensor([[True, False, False, True]] * 3, **kw)
    return {
        "scatter_": lambda t, s: t.scatter_(1, idx, s[:, :2]),
        "scatter_(value)": lambda t, s: t.scatter_(1, idx, 2.5),
        "scatter_add_": lambda t, s: t.scatter_add_(1, idx, s[:, :2]),
        "scatter_reduce_": lambda t, s: t.scatter_reduce_(1, idx, s[:, :2], "amax", include_self=False),
        "index_add_": lambda t, s: t.index_add_(0, row, s[:2], alpha=0.5),
        "index_copy_": lambda t, s: t.index_copy_(0, row, s[:2]),
        "index_fill_": lambda t, s: t.index_fill_(1, row, -1.0),
        "index_put_": lambda t, s: t.index_put_((row, row), s[0, :2], accumulate=True),
        "masked_fill_": lambda t, s: t.masked_fill_(mask, 0.25),
        "masked_scatter_": lambda t, s: t.masked_scatter_(mask, s),
        "put_": lambda t, s: t.put_(row, s[0, :2]),
        "tril_": lambda t, s: t.tril_(1),
        "triu_": lambda t, s: t.triu_(-1),
    }


@pytest.mark.parametrize("case", list(_inplace_cases(ag, None)))
def test_inplace_variant_is_recorded_and_matches_torch(device, case):
    torch = _torch()
    a, b = _data(seed=1), _data(seed=2)
    w = np.sin(np.arange(12.0)).reshape(3, 4)

    def run(m, dev):
        x = m.tensor(a, requires_grad=True, **({} if dev is None else {"device": dev}))
        s = m.tensor(b, requires_grad=True, **({} if dev is None else {"device": dev}))
        y = x * 1.0
        before = y._version
        out = _inplace_cases(m, dev)[case](y, s)
        assert out is y and y._version == before + 1
        (y * m.tensor(w, **({} if dev is None else {"device": dev}))).sum().backward()
        return y, x.grad, s.grad
    ours = run(ag, device)
    theirs = run(torch, None)
    for o, t in zip(ours, theirs):
        if t is None:
            assert o is None or not np.any(_np(o))
            continue
        np.testing.assert_allclose(_np(o), t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_inplace_on_a_leaf_that_requires_grad_is_refused(device):
    x = ag.tensor(_data(), device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.masked_fill_(x > 0, 0.0)
    with pytest.raises(RuntimeError, match="leaf"):
        x.tril_()


def test_masked_fill_inplace_cannot_grow_the_tensor(device):
    x = ag.zeros(4, device=device)
    with pytest.raises(RuntimeError):
        x.masked_fill_(ag.tensor([[True, False, True, False]] * 2, device=device), 1.0)


# --- the nanoGPT / makemore / sampling idioms, end to end ----------------------------------------------

def test_causal_mask_attention_matches_torch(device):
    torch = _torch()
    T = 5
    a = _data((2, T, T))

    def run(m, dev):
        kw = {} if dev is None else {"device": dev}
        att = m.tensor(a, requires_grad=True, **kw)
        tril = m.tril(m.ones(T, T, **kw))
        y = att.masked_fill(tril == 0, float("-inf")).softmax(-1)
        (y * m.tensor(np.cos(np.arange(2 * T * T)).reshape(2, T, T), **kw)).sum().backward()
        return y, att.grad
    for o, t in zip(run(ag, device), run(torch, None)):
        np.testing.assert_allclose(_np(o), t.detach().numpy(), rtol=1e-12, atol=1e-15)


def test_top_k_sampling_scatter_and_gather_idioms(device):
    torch = _torch()
    logits = _data((2, 6))

    def run(m, dev):
        kw = {} if dev is None else {"device": dev}
        x = m.tensor(logits, **kw)
        v = x.max(-1, keepdim=True).values * 0.5                   # a per-row threshold
        kept = x.masked_fill(x < v, float("-inf"))
        idx = m.tensor([[5], [0]], **kw)
        picked = x.gather(1, idx)
        onehot = m.zeros(2, 6, **kw).scatter_(1, idx, 1.0)
        counts = m.zeros(6, **kw).scatter_add(0, m.tensor([1, 1, 4], **kw), m.ones(3, **kw))
        return kept, picked, onehot, counts, m.nonzero(onehot), m.where(onehot > 0)[1]
    for o, t in zip(run(ag, device), run(torch, None)):
        np.testing.assert_array_equal(_np(o), t.numpy())
        assert o.dtype.name == str(t.dtype).removeprefix("torch.")


# --- Tensor basics --------------------------------------------------------------------------------------

def test_strides_offsets_and_data_ptr_follow_torch_through_views(device):
    torch = _torch()
    a = _data((4, 6))
    ours = ag.tensor(a, device=device)
    theirs = torch.from_numpy(a.copy())
    for fn in (lambda t: t, lambda t: t[1:, 2:], lambda t: t.T, lambda t: t[:, ::2], lambda t: t.diagonal(1),
               lambda t: t.unfold(1, 3, 2), lambda t: t.movedim(1, 0)[2]):
        o, t = fn(ours), fn(theirs)
        assert o.stride() == t.stride()
        assert o.storage_offset() == t.storage_offset()
        assert o.is_contiguous() == t.is_contiguous()
        if ours.data_ptr():                       # a backend that exposes addresses
            assert o.data_ptr() - ours.data_ptr() == t.data_ptr() - theirs.data_ptr()


def test_contiguous_copies_only_when_needed(device):
    x = ag.tensor(_data(), device=device)
    assert x.contiguous() is x
    t = x.T
    c = t.contiguous()
    assert c is not t and c.is_contiguous() and c.stride() == (3, 1)
    np.testing.assert_array_equal(_np(c), _np(x).T)
    c.fill_(0)
    assert np.any(_np(x) != 0), "contiguous() of a non-contiguous tensor is a copy"


def test_view_dtype_shares_memory_and_rescales_the_last_dim(device):
    torch = _torch()
    a = np.arange(8, dtype=np.float32).reshape(2, 4)
    x = ag.tensor(a, device=device)
    for dt in ("int32", "int64", "uint8", "float64"):
        o = x.view(getattr(ag, dt))
        t = torch.from_numpy(a.copy()).view(getattr(torch, dt))
        assert tuple(o.shape) == tuple(t.shape) and o.dtype.name == dt
        np.testing.assert_array_equal(_np(o), t.numpy())
    v = x.view(ag.int32)
    v.zero_()
    assert not np.any(_np(x)), "view(dtype) shares storage: zeroing it zeroes the original"
    with pytest.raises(RuntimeError, match="view"):
        ag.tensor(np.zeros((2, 3), np.float32), device=device).view(ag.int64)


def test_new_factories_take_dtype_device_and_requires_grad(device):
    x = ag.tensor([1.0, 2.0], dtype=ag.float64, device=device)
    for y in (x.new_zeros(2, 3), x.new_ones((2, 3)), x.new_empty(2, 3), x.new_full((2, 3), 4.0)):
        assert tuple(y.shape) == (2, 3) and y.dtype is ag.float64 and y.device == x.device and not y.requires_grad
    assert x.new_full((1,), 4.0).tolist() == [4.0]
    assert x.new_zeros(2, dtype=ag.int64).dtype is ag.int64
    assert x.new_ones(2, requires_grad=True).requires_grad
    t = x.new_tensor([[1, 2]])
    assert t.dtype is ag.float64 and t.tolist() == [[1.0, 2.0]]
    src = ag.tensor([3.0], device=device, requires_grad=True)
    c = x.new_tensor(src)
    assert not c.requires_grad and c.grad_fn is None
    assert x.type_as(ag.tensor([1], device=device)).dtype is ag.int64
    assert x.itemsize == 8 and x.element_size() == 8 and x.nbytes == 16


def test_format_of_a_0d_tensor_is_its_number(device):
    assert f"{ag.tensor(2.5, device=device):.2f}" == "2.50"
    assert f"{ag.tensor(7, device=device):03d}" == "007"
    with pytest.raises(TypeError):
        f"{ag.tensor([1.0, 2.0], device=device):.2f}"


# --- DLPack ---------------------------------------------------------------------------------------------

def test_from_dlpack_of_numpy_is_zero_copy():
    a = np.arange(6.0).reshape(2, 3)
    t = ag.from_dlpack(a)
    assert t.dtype is ag.float64 and tuple(t.shape) == (2, 3)
    a[0, 0] = 42.0
    assert t[0, 0].item() == 42.0, "from_dlpack shares the producer's memory"
    t[1, 2] = -1.0
    assert a[1, 2] == -1.0


def test_numpy_and_torch_read_our_tensors_through_dlpack():
    torch = _torch()
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], device="cpu")
    a = np.from_dlpack(x)
    t = torch.from_dlpack(x)
    x[0, 0] = 9.0
    assert a[0, 0] == 9.0 and t[0, 0].item() == 9.0
    assert ag.from_dlpack(torch.arange(3)).tolist() == [0, 1, 2]
    assert x.__dlpack_device__()[0] == 1                     # kDLCPU


def test_dlpack_refuses_a_tensor_that_requires_grad():
    x = ag.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        np.from_dlpack(x)


def test_from_dlpack_of_cupy_is_zero_copy():
    cp = pytest.importorskip("cupy", reason="CuPy (and a GPU) are needed for the CUDA DLPack path")
    try:
        a = cp.arange(4.0)
    except Exception as e:  # noqa: BLE001 - cupy installed without a usable GPU
        pytest.skip(f"CuPy cannot allocate on a GPU here: {e}")
    t = ag.from_dlpack(a)
    assert t.device.type == "cuda"
    a[0] = 5.0
    assert t[0].item() == 5.0
    b = cp.from_dlpack(t)
    b[1] = 7.0
    assert t[1].item() == 7.0


# --- indices factories ----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [(4, 4, 0), (3, 5, 1), (5, 3, -2), (0, 3, 0), (1, 1, 5)])
def test_tril_and_triu_indices_select_the_triangles(device, args):
    r, c, k = args
    lo = ag.tril_indices(r, c, k, device=device)
    up = ag.triu_indices(r, c, k, device=device)
    assert lo.dtype is ag.int64 and lo.shape[0] == 2 and lo.device == ag.device(device)
    assert ag.tril_indices(r, c, k, dtype=ag.int32, device=device).dtype is ag.int32
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        assert _np(lo).tolist() == torch.tril_indices(r, c, k).tolist()
        assert _np(up).tolist() == torch.triu_indices(r, c, k).tolist()
    ref_lo = np.stack(np.nonzero(np.tril(np.ones((r, c), bool), k)))
    ref_up = np.stack(np.nonzero(np.triu(np.ones((r, c), bool), k)))
    np.testing.assert_array_equal(_np(lo).reshape(ref_lo.shape), ref_lo)
    np.testing.assert_array_equal(_np(up).reshape(ref_up.shape), ref_up)


def test_tril_indices_refuses_negative_sizes(device):
    with pytest.raises(RuntimeError, match="tril_indices"):
        ag.tril_indices(-1, 3, device=device)
    with pytest.raises(RuntimeError, match="triu_indices"):
        ag.triu_indices(3, -2, device=device)


# --- shape changes in place: transpose_, t_, swapaxes_, swapdims_, squeeze_, unsqueeze_ ---------------

META = {
    "transpose_": lambda t: t.transpose_(0, 2), "swapaxes_": lambda t: t.swapaxes_(-1, 1),
    "swapdims_": lambda t: t.swapdims_(1, 0), "t_": lambda t: t[0].t_(),
    "squeeze_": lambda t: t[:, :1].squeeze_(1), "unsqueeze_": lambda t: t.unsqueeze_(-1),
    "squeeze_(all)": lambda t: t[:1, :, :1].squeeze_(), "squeeze_(tuple)": lambda t: t[:1, :, :1].squeeze_((0, 2)),
}


@pytest.mark.parametrize("case", list(META))
def test_inplace_shape_change_is_recorded_like_torch(device, case):
    torch = _torch()
    a = _data((2, 3, 4), seed=3)

    def run(m, dev):
        kw = {} if dev is None else {"device": dev}
        x = m.tensor(a, requires_grad=True, **kw)
        y = x * 1.0
        before = y._version
        z = META[case](y * 1.0) if case in ("t_", "squeeze_", "squeeze_(all)", "squeeze_(tuple)") else META[case](y)
        if case not in ("t_", "squeeze_", "squeeze_(all)", "squeeze_(tuple)"):
            assert z is y and y._version == before + 1
        w = m.tensor(np.cos(np.arange(z.numel())).reshape(tuple(z.shape)), **kw)
        (z * w).sum().backward()
        return z, x.grad
    zo, go = run(ag, device)
    zt, gt = run(torch, None)
    assert tuple(zo.shape) == tuple(zt.shape) and zo.stride() == zt.stride()
    np.testing.assert_allclose(_np(zo), zt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(_np(go), gt.numpy(), rtol=1e-12)


def test_inplace_shape_change_of_a_view_keeps_writes_reaching_the_base(device):
    torch = _torch()
    a = _data((2, 3))

    def run(m, dev):
        kw = {} if dev is None else {"device": dev}
        x = m.tensor(a, requires_grad=True, **kw)
        y = x * 1.0
        v = y.view(3, 2)
        v.t_()
        v.mul_(m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], **kw))     # a recorded write through the view
        (y * m.tensor(np.sin(np.arange(6.0)).reshape(2, 3), **kw)).sum().backward()
        return v, y, x.grad
    for o, t in zip(run(ag, device), run(torch, None)):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(_np(o), t.detach().numpy(), rtol=1e-12)


def test_inplace_shape_change_refusals(device):
    x = ag.tensor(_data(), device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.t_()
    y = ag.tensor(_data((2, 3, 4)), device=device)
    with pytest.raises(RuntimeError, match="t_"):
        y.t_()
    with pytest.raises(IndexError):
        y.transpose_(0, 3)
    z = ag.zeros(2, 3, device=device)
    row = z[0]
    with pytest.raises(NotImplementedError, match="live views"):
        z.t_()
    assert tuple(row.shape) == (3,)
