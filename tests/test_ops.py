"""Named op behaviours that a table does not express: tie-breaking, (values, indices) results, repeated
indices, stability for large logits, PyTorch's edge conventions, dtype preservation, rounding.

Every op's shapes, dtypes, values and gradients against PyTorch are checked by the one registry,
tests/opinfo.py (run by test_conformance.py); add an op's cases there, not here.
"""
import numpy as np
import pytest

import autograd as ag
from tests.helpers import npy, sample


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_reduction_on_0d_and_empty():
    x = sample((), seed=1)
    assert ag.gradcheck(lambda t: t.sum(), (x,))
    assert ag.gradcheck(lambda t: t.sum(0), (x,))
    e = sample((0, 3))
    s = e.sum(0)
    np.testing.assert_array_equal(npy(s), np.zeros(3))
    s.sum().backward()
    assert tuple(e.grad.shape) == (0, 3)


def test_max_min_ties_share_gradient_evenly():
    x = ag.tensor([1.0, 3.0, 3.0, 2.0], dtype=ag.float64, requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(npy(x.grad), [0, 0.5, 0.5, 0])
    y = ag.tensor([[1.0, 1.0], [0.0, 2.0]], requires_grad=True)
    y.amin(dim=1).sum().backward()
    np.testing.assert_array_equal(npy(y.grad), [[0.5, 0.5], [1, 0]])


def test_max_with_dim_returns_values_indices_and_grad_goes_to_first():
    x = ag.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]], requires_grad=True)
    r = x.max(dim=1)
    vals, idx = r
    assert r.values is vals and r.indices is idx
    np.testing.assert_array_equal(npy(vals), [5, 7])
    np.testing.assert_array_equal(npy(idx), [1, 0])
    assert idx.dtype == ag.int64
    vals.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [[0, 1, 0], [1, 0, 0]])
    m = sample((3, 4), "distinct")
    assert ag.gradcheck(lambda t: t.max(dim=0, keepdim=True).values, (m,))
    assert ag.gradcheck(lambda t: t.min(dim=-1).values, (m,))


def test_argmax_argmin():
    a = np.array([[1.0, 9.0, 3.0], [4.0, -2.0, 8.0]])
    x = ag.tensor(a)
    assert x.argmax().item() == 1
    np.testing.assert_array_equal(npy(x.argmax(1)), a.argmax(1))
    np.testing.assert_array_equal(npy(x.argmin(0)), a.argmin(0))
    assert tuple(x.argmax(1, keepdim=True).shape) == (2, 1)


def test_getitem_repeated_indices_accumulate():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[ag.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [3, 0, 1])


def test_getitem_bool_mask():
    x = sample((3, 4), seed=9)
    mask = x > 0
    np.testing.assert_array_equal(npy(x[mask]), npy(x)[npy(x) > 0])
    assert ag.gradcheck(lambda t: t[mask], (x,))
    rows = ag.tensor([True, False, True])
    np.testing.assert_array_equal(npy(x[rows]), npy(x)[[0, 2]])


def test_softmax_is_stable_for_large_logits():
    x = ag.tensor([1024.5, 1025.1, 1026.0], dtype=ag.float64, requires_grad=True)
    s = ag.softmax(x, dim=0)
    ls = ag.log_softmax(x, dim=0)
    ref = _softmax(np.array([1024.5, 1025.1, 1026.0]), 0)
    np.testing.assert_allclose(npy(s), ref, rtol=1e-12)
    np.testing.assert_allclose(npy(ls), np.log(ref), rtol=1e-12)
    (ls[2] + s[0]).backward()
    assert np.all(np.isfinite(npy(x.grad)))
    assert ag.gradcheck(lambda t: ag.log_softmax(t, 0), (x,))
    x32 = ag.tensor([1024.5, 1025.1, 1026.0], requires_grad=True)
    ag.log_softmax(x32, 0).sum().backward()
    assert np.all(np.isfinite(npy(x32.grad)))
    lse = ag.logsumexp(ag.tensor([-float("inf"), -float("inf")]), dim=0)
    assert npy(lse) == -np.inf


def test_comparisons_are_bool_and_not_differentiable():
    a = sample((3,), seed=1)
    b = sample((3,), seed=2)
    for r, ref in [(a == b, np.equal), (a != b, np.not_equal), (a < b, np.less), (a <= b, np.less_equal),
                   (a > b, np.greater), (a >= b, np.greater_equal)]:
        assert r.dtype == ag.bool and not r.requires_grad and r.grad_fn is None
        np.testing.assert_array_equal(npy(r), ref(npy(a), npy(b)))
    assert (a > 0.0).dtype == ag.bool


def test_edge_conventions_match_pytorch():
    x = ag.tensor([0.0, -1.0, 2.0], requires_grad=True)
    ag.relu(x).sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [0, 0, 1])            # relu'(0) = 0
    x.grad = None
    ag.abs(x).sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [0, -1, 1])           # abs'(0) = 0
    y = ag.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    y.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(npy(y.grad), [0, 1, 1, 1, 0])      # bounds inclusive
    z = ag.tensor([0.0], requires_grad=True)
    z.norm().backward()
    np.testing.assert_array_equal(npy(z.grad), [0])                  # norm'(0) = 0 (subgradient)
    m = ag.tensor([1.0, 2.0], requires_grad=True)
    ag.maximum(m, ag.tensor([1.0, 0.0])).sum().backward()
    np.testing.assert_array_equal(npy(m.grad), [0.5, 1.0])           # ties split


@pytest.mark.parametrize("dtype", [ag.float16, ag.float32, ag.float64])
def test_ops_keep_dtype_and_grads_match_input_dtype(dtype, device):
    if dtype == ag.float16 and device == "array_api_strict":
        pytest.skip("the array API standard (and so array_api_strict) has no float16")
    x = ag.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=dtype, requires_grad=True)
    b = ag.tensor([0.1, 0.2], dtype=dtype, requires_grad=True)
    y = (ag.tanh(x @ x + b) * 2.0 + 1).softmax(-1).sum()
    assert y.dtype == dtype
    y.backward()
    assert x.grad.dtype == dtype and b.grad.dtype == dtype
    assert tuple(b.grad.shape) == (2,)


@pytest.mark.parametrize("name", ["round", "floor", "ceil", "trunc"])
def test_rounding_has_zero_gradient(name):
    x = ag.tensor([-1.5, -0.4, 0.6, 2.5], dtype=ag.float64, requires_grad=True)
    y = getattr(x, name)()
    np.testing.assert_array_equal(npy(y), getattr(np, name)(npy(x)))
    y.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), np.zeros(4))
