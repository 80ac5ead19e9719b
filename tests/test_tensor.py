"""Tensor basics, PyTorch's dtype rules, factories, seeding and clear errors."""
import numpy as np
import pytest

import autograd as ag
from tests.helpers import npy


def test_metadata(device):
    t = ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.ndim == 2 and t.dim() == 2 and t.numel() == 6 and len(t) == 2
    assert t.dtype == ag.float32 and str(t.device) == device and t.device == ag.device(device)
    assert t.is_leaf and not t.requires_grad and t.grad is None and t.grad_fn is None
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert ag.tensor(2.5).item() == 2.5
    assert np.asarray(t).shape == (2, 3)
    if device == "cpu":
        assert isinstance(t.numpy(), np.ndarray)
    assert float(ag.tensor([3.0])) == 3.0


def test_repr_like_torch(device):
    dev = "" if device == "cpu" else f", device='{device}'"
    assert repr(ag.tensor([1.0, 2.0])) == f"tensor([1., 2.]{dev})"
    assert repr(ag.tensor([1.0, 2.0], requires_grad=True)) == f"tensor([1., 2.]{dev}, requires_grad=True)"
    assert repr(ag.tensor([1, 2])) == f"tensor([1, 2]{dev})"
    assert "dtype=autograd.float64" in repr(ag.tensor([1.5], dtype=ag.float64))
    assert "grad_fn=<MulBackward>" in repr(ag.tensor([1.0], requires_grad=True) * 2)


def test_python_data_dtype_inference():
    assert ag.tensor([1.0, 2]).dtype == ag.float32
    assert ag.tensor([1, 2]).dtype == ag.int64
    assert ag.tensor([True, False]).dtype == ag.bool
    assert ag.tensor(np.array([1.0])).dtype == ag.float64        # NumPy arrays keep their dtype
    assert ag.tensor(np.array([1.0], dtype=np.float32)).dtype == ag.float32
    assert ag.tensor([[1, 2]], dtype=ag.float64).dtype == ag.float64


def test_float32_stays_float32_with_scalars_and_0d():
    x = ag.tensor([1.0, 2.0])
    assert (x + 1.5).dtype == ag.float32
    assert (x * np.float64(2.0)).dtype == ag.float32          # NumPy 2 would upcast; PyTorch does not
    assert (x * ag.tensor(2.0, dtype=ag.float64)).dtype == ag.float32
    assert (x + ag.tensor([1.0], dtype=ag.float64)).dtype == ag.float64   # dimensioned tensors promote
    assert (ag.tensor([1, 2]) * 1.5).dtype == ag.float32       # int tensor with a float: default dtype
    assert (ag.tensor([1, 2]) + 1).dtype == ag.int64
    assert (ag.tensor([1, 2]) / 2).dtype == ag.float32
    assert (2.0 - x).dtype == ag.float32 and (2 ** x).dtype == ag.float32


def test_ndarray_with_tensor_reaches_tensor():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([1.0, 1.0], dtype=np.float32) + x
    assert isinstance(y, ag.Tensor) and y.requires_grad
    z = np.float32(2.0) * x
    assert isinstance(z, ag.Tensor) and z.dtype == ag.float32


def test_factories():
    assert npy(ag.zeros(2, 3)).tolist() == [[0.0] * 3] * 2
    assert ag.zeros((2, 3)).shape == (2, 3)
    assert npy(ag.ones(2)).tolist() == [1.0, 1.0]
    assert ag.full((2,), 7).dtype == ag.int64 and ag.full((2,), 7.0).dtype == ag.float32
    assert ag.empty(3).shape == (3,)
    np.testing.assert_array_equal(npy(ag.arange(5)), np.arange(5))
    assert ag.arange(5).dtype == ag.int64 and ag.arange(0.0, 1.0, 0.25).dtype == ag.float32
    np.testing.assert_allclose(npy(ag.arange(0.0, 1.0, 0.25)), [0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(npy(ag.linspace(0, 1, 5)), np.linspace(0, 1, 5), rtol=1e-6)
    np.testing.assert_array_equal(npy(ag.eye(3)), np.eye(3))
    x = ag.randn(2, 3, dtype=ag.float64)
    assert x.dtype == ag.float64
    assert ag.zeros_like(x).dtype == ag.float64 and ag.ones_like(x).shape == (2, 3)
    assert ag.full_like(x, 3.0).tolist() == [[3.0] * 3] * 2
    r = ag.randint(0, 5, (100,))
    assert r.dtype == ag.int64 and 0 <= r.min().item() and r.max().item() < 5
    u = ag.rand(1000)
    assert 0 <= u.min().item() and u.max().item() < 1
    assert sorted(npy(ag.randperm(6)).tolist()) == list(range(6))
    n = np.arange(3.0)
    t = ag.from_numpy(n)
    n[0] = 9
    assert t[0].item() == 9                                     # shares memory


def test_manual_seed_reproducible():
    ag.manual_seed(123)
    a = (ag.randn(3), ag.rand(2), ag.randint(0, 10, (4,)))
    ag.manual_seed(123)
    b = (ag.randn(3), ag.rand(2), ag.randint(0, 10, (4,)))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(npy(u), npy(v))
    ag.manual_seed(124)
    assert not np.array_equal(npy(ag.randn(3)), npy(a[0]))


def test_randn_statistics():
    ag.manual_seed(0)
    x = npy(ag.randn(20000, dtype=ag.float64))
    assert abs(x.mean()) < 0.03 and abs(x.std() - 1) < 0.03


def test_to_and_casts(device):
    x = ag.tensor([1.5, 2.5], requires_grad=True)
    d = x.double()
    assert d.dtype == ag.float64 and d.requires_grad
    d.sum().backward()
    assert x.grad.dtype == ag.float32
    if device != "array_api_strict":      # the array API standard has no float16
        assert x.to(ag.float16).dtype == ag.float16
    assert x.to(device) is x
    assert x.to(dtype=ag.float64).dtype == ag.float64 and x.long().dtype == ag.int64
    assert x.detach().int().tolist() == [1, 2]


def test_errors_name_op_and_shapes():
    a, b = ag.ones(2, 3), ag.ones(4, 5)
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        a @ b
    with pytest.raises(RuntimeError, match=r"add: shapes \(2, 3\) and \(4, 5\) are not broadcastable"):
        a + b
    with pytest.raises(IndexError, match=r"sum: Dimension out of range.*got 5.*2 dims"):
        a.sum(5)
    with pytest.raises(RuntimeError, match=r"shape '\[7\]' is invalid for input of size 6"):
        a.reshape(7)
    with pytest.raises(RuntimeError, match="cat: sizes of tensors must match"):
        ag.cat([ag.ones(2, 3), ag.ones(3, 2)], 0)
    with pytest.raises(IndexError, match="index"):
        a[5]
    with pytest.raises(ValueError, match="matmul"):
        ag.tensor(1.0) @ ag.ones(2)
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        bool(ag.ones(2))
    with pytest.raises(RuntimeError, match="expand"):
        ag.ones(3).expand(2, 4)


def test_inplace_leaf_requiring_grad_raises_outside_no_grad():
    w = ag.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    with ag.no_grad():
        w.add_(1)
        w -= 0.5
    assert w.item() == 1.5 and w.requires_grad and w.is_leaf


def test_version_counter_catches_modified_saved_tensor():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y.exp()                      # saves its output
    w = (y * y).sum()                # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"(?s)modified by an inplace operation.*'mul'.*version 1; expected version 0.*record_source"):
        w.backward()
    del z


def test_setitem_records_gradient():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = ag.tensor(5.0, requires_grad=True)
    y = x * 1
    y[1] = v * 2
    (y * ag.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [1.0, 0.0, 100.0])
    assert v.grad.item() == 20.0
    t = ag.zeros(3)
    t[0] = 4.0
    t[ag.tensor([1, 2])] = ag.tensor([5.0, 6.0])
    assert t.tolist() == [4.0, 5.0, 6.0]


def test_deepcopy_of_a_leaf_mixes_with_the_original_and_copies_grad():
    """copy.deepcopy (modules with buffers, AveragedModel, TransformerEncoder's layer copies) must give a
    tensor on the same backend: it used to copy the backend object, and ops then refused 'cpu, cpu'."""
    import copy
    t = ag.arange(6, dtype=ag.float64).requires_grad_()
    (t * 3).sum().backward()
    c = copy.deepcopy(t)
    assert c is not t and c.is_leaf and c.requires_grad and c.dtype == t.dtype
    assert (c + t).tolist() == [2.0 * i for i in range(6)]
    assert c.grad.tolist() == [3.0] * 6 and c.grad is not t.grad
    c.detach().add_(1)                       # new storage
    assert t.tolist() == [float(i) for i in range(6)]
    view = ag.arange(6)[::2]
    assert copy.deepcopy(view).tolist() == [0, 2, 4]
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(t * 2)
