"""Views, in-place writes through them, contiguity and casts: issue 10 items 1, 8, 9, 18, 22, 23, 24
and 31 (narrow, chunk, split, squeeze, unflatten, size). PyTorch is the oracle where installed; every
test also checks against NumPy or hand-derived values so it means something without it."""
import numpy as np
import pytest

import autograd as ag
from tests.helpers import npy


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is the oracle for this check")


def _data(shape=(3, 4), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --- item 1: an int index is a view --------------------------------------------------------

# case: (the write on a tensor, the same write on a NumPy array)
ELEMENT_WRITES = {
    "x[1].add_(5)": (lambda x: x[1].add_(5), lambda r: r[1].__iadd__(5)),
    "x[2].fill_(7)": (lambda x: x[2].fill_(7), lambda r: r[2].fill(7)),
    "x[-1].zero_()": (lambda x: x[-1].zero_(), lambda r: r[-1].fill(0)),
    "x[0, 1].mul_(2)": (lambda x: x[0, 1].mul_(2), lambda r: r.__setitem__((0, 1), r[0, 1] * 2)),
    "x[1, -1].copy_": (lambda x: x[1, -1].copy_(x[0, 0] * 0 + 9), lambda r: r.__setitem__((1, -1), 9)),
    "x[0][2].sub_(1)": (lambda x: x[0][2].sub_(1), lambda r: r.__setitem__((0, 2), r[0, 2] - 1)),
    "iterate": (lambda x: [e.add_(1) for e in x], lambda r: r.__iadd__(1)),
    "iterate rows then elements": (lambda x: [[v.mul_(3) for v in e] for e in x], lambda r: r.__imul__(3)),
    "select": (lambda x: x.select(1, 2).add_(4), lambda r: r[:, 2].__iadd__(4)),
    "unbind": (lambda x: [e.mul_(i) for i, e in enumerate(x.unbind(1))], lambda r: r.__imul__(np.arange(4))),
    "x[1] += 1": (lambda x: x[1].__iadd__(1), lambda r: r[1].__iadd__(1)),
    "x[..., 2]": (lambda x: x[..., 2].neg_(), lambda r: r[..., 2].__imul__(-1)),
    "x[1, None]": (lambda x: x[1, None].add_(2), lambda r: r[1].__iadd__(2)),
    "x[1, 2] = 4": (lambda x: x[1].__setitem__(2, 4.0), lambda r: r.__setitem__((1, 2), 4)),
}


@pytest.mark.parametrize("case", list(ELEMENT_WRITES))
def test_int_index_gives_a_view_writes_reach_the_base(case):
    xv = _data()
    x = ag.tensor(xv, dtype=ag.float64)
    ref = xv.copy()
    write, np_write = ELEMENT_WRITES[case]
    np_write(ref)
    write(x)
    assert tuple(x.shape) == (3, 4) and x.dtype is ag.float64
    np.testing.assert_array_equal(npy(x), ref)
    assert x.version >= 1


def test_int_index_view_shape_dtype_and_shared_version():
    x = ag.tensor(_data(), dtype=ag.float32)
    e = x[1, 2]
    assert tuple(e.shape) == () and e.dtype is ag.float32
    assert e._base is x and e._is_view()
    e.add_(1)
    assert x.version == 1 and e.version == 1
    for v in (x[0], x.select(0, 1), x.unbind(1)[0], x[:, 1:][1, 0], x.narrow(1, 1, 2)):
        assert v._base is x
        before = x.version
        v.mul_(1)
        assert x.version == before + 1


def test_int_index_view_under_no_grad_on_leaf_requiring_grad():
    x = ag.tensor(_data(), requires_grad=True)
    with ag.no_grad():
        x[1, 2].fill_(7.0)
        x[0].add_(1.0)
    assert float(npy(x)[1, 2]) == 7.0
    np.testing.assert_allclose(npy(x)[0], _data()[0] + 1, rtol=1e-6)


def test_int_index_matches_torch_element_writes():
    torch = _torch()
    xv = _data()
    for case, (f, _) in ELEMENT_WRITES.items():
        x, t = ag.tensor(xv, dtype=ag.float32), torch.tensor(xv, dtype=torch.float32)
        f(x)
        f(t)
        np.testing.assert_allclose(npy(x), t.numpy(), rtol=1e-6, err_msg=case)


# --- item 23: in-place on a view of a non-leaf rebases the base's history ------------------------

def _zeros(m, x):
    return m.zeros(3, 4, dtype=x.dtype)


REBASE = {
    "slice mul_": lambda m, x, w: (lambda y: (y[0:2].mul_(3), (y * w).sum())[1])(x * 2),
    "row zero_": lambda m, x, w: (lambda y: (y[0].zero_(), (y * w).sum())[1])(x * 2),
    "t() add_": lambda m, x, w: (lambda y: (y.t().add_(w.t()), (y * y).sum())[1])(x * 2),
    "view(-1) setitem": lambda m, x, w: (lambda y: (y.view(-1).__setitem__(3, 5.0), (y * w).sum())[1])(x * 2),
    "element mul_ by tensor": lambda m, x, w: (lambda y: (y[1, 2].mul_(w[0, 0]), (y * y).sum())[1])(x.sin()),
    "chain of views": lambda m, x, w: (lambda y: (y[1:].t()[2].mul_(w[0, 1:3]), (y * w).sum())[1])(x * 1),
    "reshape then slice": lambda m, x, w: (lambda y: (y.reshape(2, 6)[1, 1:4].add_(w[0, :3]), (y ** 2).sum())[1])(x * 1),
    "unsqueeze permute": lambda m, x, w: (lambda y: (y.unsqueeze(0).permute(2, 0, 1)[1].div_(w[0, 0] + 3), (y * w).sum())[1])(x * 1.5),
    "multiple writes": lambda m, x, w: (lambda y: (y[0].mul_(2), y[1].add_(w[1]), y[0:2, 1].mul_(w[2, :2]),
                                                   y[2].copy_(x[0] * w[1]), (y * y).sum())[-1])(x * 1),
    "view then base written": lambda m, x, w: (lambda y, v: (y.mul_(w), (v * v).sum())[1])(*(lambda y: (y, y[0:2]))(x * 1)),
    "overlapping views": lambda m, x, w: (lambda y, a, b: (b.mul_(w[1:]), (a * a).sum() + (y * w).sum())[1])(
        *(lambda y: (y, y[0:2], y[1:3]))(x * 1)),
    "sibling after write": lambda m, x, w: (lambda y, a, b: (a.mul_(w[0]), b.add_(w[1]), (a * b).sum() + y.sum())[-1])(
        *(lambda y: (y, y[0], y[1]))(x * 1)),
    "write into view of plain base": lambda m, x, w: (lambda a, v: (v.copy_(x[0] * w[0]), (a * a).sum() + (v * w[2]).sum())[1])(
        *(lambda a: (a, a[1]))(_zeros(m, x))),
    "view of plain base gets history": lambda m, x, w: (lambda a, v: (a.add_(x * w), (v * v).sum())[1])(
        *(lambda a: (a, a[1:, 2:]))(_zeros(m, x))),
    "setitem on a view": lambda m, x, w: (lambda y: (y[1].__setitem__(slice(1, 3), w[0, :2]), (y * y).sum())[1])(x * 1),
    "clamp_ on a view": lambda m, x, w: (lambda y: (y[:, 1:3].clamp_(-0.5, 0.5), (y * w).sum())[1])(x * 1),
    "view of a view written twice": lambda m, x, w: (lambda y: (lambda v: (v[0].mul_(w[0, 0]), v.add_(w[:2, 1:3]),
                                                                          (y * y).sum())[-1])(y[:2, 1:3]))(x * 1),
}


@pytest.mark.parametrize("case", list(REBASE))
def test_inplace_on_view_of_nonleaf_matches_torch(case):
    torch = _torch()
    xv, wv = _data(seed=1), _data(seed=2)
    x = ag.tensor(xv, dtype=ag.float64, requires_grad=True)
    w = ag.tensor(wv, dtype=ag.float64, requires_grad=True)
    tx, tw = torch.tensor(xv, requires_grad=True), torch.tensor(wv, requires_grad=True)
    out, tout = REBASE[case](ag, x, w), REBASE[case](torch, tx, tw)
    assert tuple(out.shape) == () and out.dtype is ag.float64
    np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
    out.backward()
    tout.backward()
    np.testing.assert_allclose(npy(x.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(npy(w.grad), tw.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", ["slice mul_", "chain of views", "multiple writes", "overlapping views",
                                  "write into view of plain base", "element mul_ by tensor"])
def test_inplace_on_view_gradcheck(case):
    xv, wv = _data(seed=3), _data(seed=4)
    x = ag.tensor(xv, dtype=ag.float64, requires_grad=True)
    w = ag.tensor(wv, dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(lambda a, b: REBASE[case](ag, a, b), (x, w))
    assert ag.gradgradcheck(lambda a, b: REBASE[case](ag, a, b), (x, w))


def test_inplace_on_view_rebases_base_by_hand():
    """Without torch: y = 2x; y[0:2] *= 3  ->  d sum(y)/dx is 6 on rows 0-1 and 2 on row 2."""
    x = ag.tensor(_data(), dtype=ag.float64, requires_grad=True)
    y = x * 2
    v = y[0:2]
    v.mul_(3)
    assert y.grad_fn is not None and y.grad_fn is not v.grad_fn
    assert v._base is y and v.requires_grad
    np.testing.assert_allclose(npy(y), np.concatenate([_data()[:2] * 6, _data()[2:] * 2]))
    y.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [[6.0] * 4, [6.0] * 4, [2.0] * 4])
    assert x.grad.dtype is ag.float64 and tuple(x.grad.shape) == (3, 4)


def test_view_read_after_base_written_in_place_sees_new_history():
    x = ag.tensor(_data(), dtype=ag.float64, requires_grad=True)
    y = x * 2
    v = y[0]
    y.mul_(3)
    v.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [[6.0] * 4, [0.0] * 4, [0.0] * 4])


def test_write_into_view_of_plain_base_gives_base_history():
    x = ag.tensor(_data()[0], dtype=ag.float64, requires_grad=True)
    a = ag.zeros(3, 4, dtype=ag.float64)
    other = a[2]                     # a view made before the base has any history
    a[1].copy_(x * 2)
    assert a.requires_grad and a.grad_fn is not None and other.requires_grad      # torch too
    a.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [2.0] * 4)
    b = ag.zeros(3, 4, dtype=ag.float64)
    late = b[1:]
    b.add_(x)                        # the base gains history: its existing views too (torch)
    assert late.requires_grad and late.grad_fn is not None


def test_view_of_leaf_requiring_grad_in_place_raises_like_torch():
    x = ag.randn(2, 3, requires_grad=True)
    for make in (lambda t: t[0], lambda t: t[0:1], lambda t: t.t(), lambda t: t.view(-1), lambda t: t[1, 2]):
        with pytest.raises(RuntimeError, match=r"a view of a leaf Variable that requires grad is being used in "
                                               r"an in-place operation"):
            make(x).mul_(2)
    assert x.version == 0
    with ag.no_grad():
        x[0].mul_(2)                 # allowed without grad, as in torch
    assert x.version == 1


@pytest.mark.parametrize("make,name", [(lambda y: y.unbind(0)[1], "Unbind"), (lambda y: list(y)[0], "Unbind"),
                                       (lambda y: y.split(1)[0], "Split"), (lambda y: y.chunk(2)[1], "Split"),
                                       (lambda y: y.unbind(0)[0][1:], "Unbind")])
def test_inplace_on_multi_output_view_raises_like_torch(make, name):
    x = ag.randn(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"Output [0-9] of {name} is a view and is being modified inplace. This view is the "
                                           r"output of a function that returns multiple views"):
        make(x * 1).add_(1)
    for e in ag.zeros(3, 4):         # no autograd involved: plain writes, as in torch
        e.add_(1)


def test_no_grad_view_modified_in_place_with_grad_raises_like_torch():
    x = ag.randn(3, requires_grad=True)
    y = x * 2
    with ag.no_grad():
        v = y[0:2]
    with pytest.raises(RuntimeError, match=r"A view was created in no_grad mode and is being modified inplace "
                                           r"with grad mode enabled"):
        v.mul_(2)
    a = ag.zeros(3)
    with ag.no_grad():
        u = a[0:2]
    with pytest.raises(RuntimeError, match=r"A view was created in no_grad mode"):
        u.copy_(x[:2])               # would otherwise leave `a` without history
    assert a.grad_fn is None and not a.requires_grad
    u.add_(1)                        # nothing requires grad: a plain write
    with ag.no_grad():
        v.mul_(2)
    np.testing.assert_array_equal(npy(a), [1.0, 1.0, 0.0])


def test_inplace_on_expanded_view_raises_like_torch():
    for y in (ag.zeros(3), ag.randn(3, requires_grad=True) * 1):
        e = y.expand(2, 3)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single "
                                               "memory location"):
            e.add_(1)


# --- item 18: contiguity --------------------------------------------------------------------

def test_contiguous_copies_a_non_contiguous_tensor():
    x = ag.tensor(_data(), dtype=ag.float32)
    t = x.t()
    assert x.is_contiguous() and not t.is_contiguous()
    assert not x[:, 1:3].is_contiguous() and x[1:].is_contiguous() and x[1].is_contiguous()
    c = t.contiguous()
    assert c is not t and c.is_contiguous() and tuple(c.shape) == (4, 3) and c.dtype is ag.float32
    np.testing.assert_array_equal(npy(c), _data().T.astype(np.float32))
    c.add_(1)
    np.testing.assert_array_equal(npy(x), _data().astype(np.float32))     # no aliasing
    assert x.contiguous() is x


def test_contiguous_is_differentiable():
    x = ag.tensor(_data(), dtype=ag.float64, requires_grad=True)
    c = (x * 1).t().contiguous()
    assert c.grad_fn is not None
    (c * ag.arange(12, dtype=ag.float64).reshape(4, 3)).sum().backward()
    np.testing.assert_array_equal(npy(x.grad), np.arange(12.0).reshape(4, 3).T)
    assert ag.gradcheck(lambda a: a.t().contiguous() * 2, (x,))


def test_stride_storage_offset_is_contiguous_match_torch():
    torch = _torch()
    xv = np.arange(24.0).reshape(2, 3, 4)
    for f in (lambda a: a, lambda a: a.transpose(0, 2), lambda a: a[:, 1:], lambda a: a[1, :, 2],
              lambda a: a[..., 1:3], lambda a: a.permute(1, 0, 2)[1:], lambda a: a[0:1], lambda a: a[1]):
        x, t = f(ag.tensor(xv)), f(torch.tensor(xv, dtype=torch.float32))
        assert x.is_contiguous() == t.is_contiguous()
        assert x.stride() == t.stride()
        assert x.storage_offset() == t.storage_offset()
        if x.ndim:
            assert x.stride(-1) == t.stride(-1)


# --- item 22: casts to a non-float dtype leave the graph ------------------------------------

def test_cast_to_int_or_bool_does_not_require_grad():
    xv = np.array([-1.5, 0.0, 2.25, 3.0])
    x = ag.tensor(xv, dtype=ag.float64, requires_grad=True)
    for c, dt in ((x.bool(), ag.bool), (x.long(), ag.int64), (x.int(), ag.int32), (x.round().to(ag.int64), ag.int64),
                  (x.to(dtype=ag.uint8), ag.uint8)):
        assert c.dtype is dt and not c.requires_grad and c.grad_fn is None and c.is_leaf
    (x * x.bool()).sum().backward()
    np.testing.assert_array_equal(npy(x.grad), (xv != 0).astype(float))
    x.grad = None
    (x * x.round().to(ag.int64)).sum().backward()
    np.testing.assert_array_equal(npy(x.grad), np.round(xv))
    assert x.grad.dtype is ag.float64
    y = x.float()
    assert y.requires_grad and y.dtype is ag.float32


def test_to_python_types_like_torch():
    x = ag.tensor([1.5, 2.0])
    assert x.to(dtype=float).dtype is ag.float64
    assert x.to(int).dtype is ag.int64
    assert x.to(bool).dtype is ag.bool


# --- item 24: only what the rule needs is saved -----------------------------------------------

def test_mul_div_save_only_what_the_gradient_needs():
    x = ag.tensor(_data()[0], dtype=ag.float64, requires_grad=True)
    a = x.sin()
    b = a * 3
    c = a / 4
    d = 5 * a
    a.add_(1)                        # none of b, c, d needs a itself
    (b + c + d).sum().backward()
    np.testing.assert_allclose(npy(x.grad), np.cos(_data()[0]) * (3 + 0.25 + 5), rtol=1e-12)


def test_mul_div_do_not_keep_an_operand_no_gradient_needs():
    import gc
    import weakref
    x = ag.tensor(_data()[0], dtype=ag.float64, requires_grad=True)
    c = ag.tensor(_data()[1], dtype=ag.float64)
    for f in (lambda s: s * c, lambda s: c * s, lambda s: s / c):
        s = x.sin()
        ref = weakref.ref(s)
        b = f(s)                     # s's gradient needs c; c needs none, so s itself is not kept
        del s
        gc.collect()
        assert ref() is None
        assert any(t is c for t in b.grad_fn.saved_tensors)
        b.sum().backward()
    np.testing.assert_allclose(npy(x.grad), np.cos(_data()[0]) * (2 * _data()[1] + 1 / _data()[1]), rtol=1e-12)
    y = ag.tensor(_data()[1], dtype=ag.float64, requires_grad=True)
    p = x * y                        # both need gradients: both saved
    assert all(t is not None for t in p.grad_fn.saved_tensors)


def test_mul_div_still_catch_a_needed_saved_tensor():
    x = ag.tensor(_data()[0], dtype=ag.float64, requires_grad=True)
    for f in (lambda x, a: x * a, lambda x, a: a * x, lambda x, a: x / a, lambda x, a: a / x):
        a = ag.tensor(_data()[1], dtype=ag.float64)
        b = f(x, a)
        a.add_(1)                    # a is needed for x's gradient: torch raises too
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            b.sum().backward()


# --- item 8: create_graph gives each leaf its own writable .grad ------------------------------

def test_create_graph_grads_are_distinct_and_writable():
    a = ag.randn(3, requires_grad=True)
    b = ag.randn(3, requires_grad=True)
    (a + b).sum().backward(create_graph=True)
    a.grad.mul_(10)
    np.testing.assert_array_equal(npy(b.grad), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(npy(a.grad), [10.0, 10.0, 10.0])
    x = ag.randn(3, requires_grad=True)
    x.sum().backward(create_graph=True)
    x.grad.zero_()
    np.testing.assert_array_equal(npy(x.grad), [0.0, 0.0, 0.0])
    z = ag.tensor([1.0, 2.0], requires_grad=True)
    (z * z).sum().backward(create_graph=True)
    g = z.grad
    assert g.requires_grad and g.grad_fn is not None       # still carries its graph
    (gz,) = ag.grad(g.sum(), z)
    np.testing.assert_array_equal(npy(gz), [2.0, 2.0])
    g.zero_()                                               # writable (recorded, as in torch)
    np.testing.assert_array_equal(npy(z.grad), [0.0, 0.0])


# --- items 9 and 31: narrow, chunk, split, squeeze, unflatten, size -----------------------------

NARROW = [(0, -2, 2), (0, -5, 1), (0, 5, 0), (0, 0, 5), (0, 1, 3), (-1, 2, 0)]
NARROW_BAD = [(0, -2, 3, RuntimeError, r"start \(3\) \+ length \(3\) exceeds dimension size \(5\)"),
              (0, -6, 1, IndexError, r"start out of range \(expected to be in range of \[-5, 5\], but got -6\)"),
              (0, 6, 0, IndexError, r"start out of range"),
              (0, 2, 4, RuntimeError, r"start \(2\) \+ length \(4\) exceeds dimension size \(5\)"),
              (0, 2, -1, RuntimeError, "length must be non-negative"),
              (1, 0, 1, IndexError, "Dimension out of range")]


@pytest.mark.parametrize("dim,start,length", NARROW)
def test_narrow_like_torch(dim, start, length):
    xv = np.arange(5.0)
    r = ag.tensor(xv).narrow(dim, start, length)
    s = start + 5 if start < 0 else start
    np.testing.assert_array_equal(npy(r), xv[s:s + length])
    assert tuple(r.shape) == (length,) and r.dtype is ag.float64


@pytest.mark.parametrize("dim,start,length,exc,msg", NARROW_BAD)
def test_narrow_errors_like_torch(dim, start, length, exc, msg):
    with pytest.raises(exc, match=msg):
        ag.tensor(np.arange(5.0)).narrow(dim, start, length)
    with pytest.raises(RuntimeError, match="narrow.. cannot be applied to a 0-dim tensor"):
        ag.tensor(1.0).narrow(0, 0, 1)


def test_narrow_with_tensor_start_and_gradient():
    x = ag.tensor(np.arange(5.0), dtype=ag.float64, requires_grad=True)
    r = x.narrow(0, ag.tensor(-3), 2)
    np.testing.assert_array_equal(npy(r), [2.0, 3.0])
    r.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [0, 0, 1, 1, 0])


def test_chunk_split_errors_and_zero_sizes_like_torch():
    x = ag.ones(3)
    for n in (0, -1):
        with pytest.raises(RuntimeError, match=rf"chunk expects `chunks` to be greater than 0, got: {n}"):
            x.chunk(n)
    with pytest.raises(RuntimeError, match="split_size can only be 0 if dimension size is 0, but got dimension "
                                           "size of 3"):
        x.split(0)
    (e,) = ag.ones(0).split(0)
    assert tuple(e.shape) == (0,)
    parts = x.split([0, 3])
    assert [tuple(p.shape) for p in parts] == [(0,), (3,)]
    with pytest.raises(RuntimeError, match=r"split_with_sizes expects split_sizes to sum exactly to 3"):
        x.split([1, 1])


def test_squeeze_tuple_unflatten_minus_one_size_of_0d_like_torch():
    x = ag.ones(1, 2, 1)
    assert tuple(x.squeeze((0, 2)).shape) == (2,)
    assert tuple(x.squeeze((0, 1)).shape) == (2, 1)
    assert tuple(x.squeeze(-1).shape) == (1, 2)
    y = ag.ones(2, 6)
    assert tuple(y.unflatten(1, (-1, 3)).shape) == (2, 2, 3)
    assert tuple(y.unflatten(-1, (2, -1)).shape) == (2, 2, 3)
    with pytest.raises(RuntimeError, match=r"unflatten: Provided sizes \[-1, 4\] don't multiply up to the size of "
                                           r"dim 1 \(6\) in the input tensor"):
        y.unflatten(1, (-1, 4))
    with pytest.raises(RuntimeError, match=r"unflatten: Provided sizes \[2, 4\] don't multiply up"):
        y.unflatten(1, (2, 4))
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        y.unflatten(1, (-1, -1))
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        ag.ones(()).size(0)
    assert ag.ones(()).size() == ()
