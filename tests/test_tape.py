"""The tape: recording, accumulation, retain_graph, freeing, deep graphs, higher order."""
import gc
import sys
import weakref

import numpy as np
import pytest

import autograd as ag
from tests.helpers import npy, sample


def test_records_nodes_with_sequence_and_edges():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    z = y.exp().sum()
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn is not None
    assert z.grad_fn.seq > y.grad_fn.seq
    # next_functions point back along the graph; the leaf edge is the tensor itself
    exp_node = z.grad_fn.next_functions[0][0]
    mul_node = exp_node.next_functions[0][0]
    assert mul_node is y.grad_fn
    assert mul_node.next_functions[0][0] is x
    assert "MulBackward" in repr(y.grad_fn)


def test_tensor_used_twice_gets_both_contributions():
    x = ag.tensor(3.0, requires_grad=True)
    y = x * x + 2 * x
    y.backward()
    assert x.grad.item() == 2 * 3.0 + 2


def test_two_backward_calls_accumulate():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [4.0, 8.0])


def test_nonleaf_grad_only_with_retain_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = x * 3
    z.retain_grad()
    (y.sum() + (z * z).sum()).backward()
    assert y.grad is None
    np.testing.assert_array_equal(npy(z.grad), 2 * npy(z))
    assert z.retains_grad and not y.retains_grad


def test_second_backward_without_retain_graph_raises_and_names_the_fix():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = npy(x.grad).copy()
    y.backward()
    np.testing.assert_allclose(npy(x.grad), 2 * g1)


def test_saved_tensors_are_freed_after_backward():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = (y * x).sum()
    node = y.grad_fn
    assert node.saved is not None and len(node.saved) == 1
    z.backward()
    assert node.saved is None


def test_backward_on_non_scalar_needs_gradient():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()
    y.backward(ag.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(npy(x.grad), [2.0, 20.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ag.tensor([1.0, 2.0, 3.0]))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.tensor([1.0]).sum().backward()


def test_leaf_grads_never_alias_each_other():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    c = ag.tensor([[1.0, 1.0]], requires_grad=True)
    (a + b + c.reshape(2)).sum().backward()
    a.grad.mul_(10)
    np.testing.assert_array_equal(npy(b.grad), [1.0, 1.0])
    np.testing.assert_array_equal(npy(c.grad), [[1.0, 1.0]])


def test_grad_function_returns_and_does_not_touch_dot_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = ag.grad(y, [x, w])
    np.testing.assert_array_equal(npy(gx), [3, 4])
    np.testing.assert_array_equal(npy(gw), [1, 2])
    assert x.grad is None and w.grad is None


def test_grad_of_nonleaf_input_and_unused():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h ** 2).sum()
    u = ag.tensor([5.0], requires_grad=True)
    (gh,) = ag.grad(y, h, retain_graph=True)
    np.testing.assert_array_equal(npy(gh), 2 * npy(h))
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.grad(y, [x, u], retain_graph=True)
    gx, gu = ag.grad(y, [x, u], allow_unused=True)
    assert gu is None
    np.testing.assert_array_equal(npy(gx), 8 * npy(x))


def test_grad_only_runs_needed_part_of_graph():
    x = ag.tensor([1.0], requires_grad=True)
    w = ag.tensor([2.0], requires_grad=True)
    a = x.exp()
    b = w.exp()
    y = (a + b).sum()
    ag.grad(y, [x])                      # does not run b's node, so it keeps its saved tensors
    assert b.grad_fn.saved is not None


def test_backward_inputs_argument_accumulates_only_those():
    x = ag.tensor([1.0], requires_grad=True)
    w = ag.tensor([2.0], requires_grad=True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_array_equal(npy(w.grad), [1.0])


def test_deep_chain_of_100k_ops_forward_backward_and_teardown():
    assert sys.getrecursionlimit() <= 10000
    x = ag.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0
    y2 = x
    for _ in range(100_000):
        y2 = y2 + 0.0
    ref = weakref.ref(y2.grad_fn)
    del y2                                # teardown of a 100k-node graph must not recurse
    assert ref() is None


def test_dropping_output_frees_graph_without_gc():
    gc.disable()
    try:
        x = ag.tensor(np.ones((10, 10)), requires_grad=True)
        y = (x.exp() * x).tanh().sum()
        node_ref = weakref.ref(y.grad_fn)
        inner_ref = weakref.ref(y.grad_fn.next_functions[0][0])
        del y
        assert node_ref() is None and inner_ref() is None
        x2 = ag.tensor(np.ones(3), requires_grad=True)
        h = x2 * 2
        out = (h.exp() + h).sum()
        out.backward()
        r = weakref.ref(out.grad_fn)
        del out, h
        assert r() is None
    finally:
        gc.enable()


def test_no_reference_cycles_in_graph():
    gc.collect()
    gc.disable()
    try:
        x = ag.tensor(np.ones(4), requires_grad=True)
        y = ag.softmax(x.exp() * x, 0).sum()
        y.backward(retain_graph=True)
        del y
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_higher_order_x_cubed():
    x = ag.tensor([1.0, -2.0, 3.0], dtype=ag.float64, requires_grad=True)
    (g,) = ag.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(npy(g), 3 * npy(x) ** 2)
    (h,) = ag.grad(g.sum(), x)
    np.testing.assert_allclose(npy(h), 6 * npy(x))


def test_hessian_vector_product():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    A = A + A.T
    x = ag.tensor(rng.standard_normal(4), dtype=ag.float64, requires_grad=True)
    v = ag.tensor(rng.standard_normal(4), dtype=ag.float64)
    At = ag.tensor(A, dtype=ag.float64)
    f = 0.5 * (x @ (At @ x)) + ag.tanh(x).sum()
    (g,) = ag.grad(f, x, create_graph=True)
    (hv,) = ag.grad((g * v).sum(), x)
    t = np.tanh(npy(x))
    expected = A @ npy(v) + (-2 * t * (1 - t ** 2)) * npy(v)
    np.testing.assert_allclose(npy(hv), expected, rtol=1e-10)


def test_create_graph_leaf_grad_has_history():
    x = ag.tensor(2.0, dtype=ag.float64, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(12.0)


def test_detach_cuts_graph_and_shares_storage():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    with ag.no_grad():
        d.add_(1)
    np.testing.assert_array_equal(npy(y), [3.0, 5.0])


def test_requires_grad_only_for_floating():
    with pytest.raises(RuntimeError, match="floating point"):
        ag.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        ag.tensor([1, 2]).requires_grad_()


def test_gradients_have_input_dtype_and_shape_with_mixed_dtypes():
    a = ag.tensor([1.0, 2.0], requires_grad=True)                 # float32
    s = ag.tensor(3.0, dtype=ag.float64, requires_grad=True)       # 0-d float64
    y = a * s
    assert y.dtype == ag.float32
    y.sum().backward()
    assert a.grad.dtype == ag.float32 and s.grad.dtype == ag.float64
    assert tuple(s.grad.shape) == ()
    assert s.grad.item() == pytest.approx(3.0)


def test_broadcast_gradients_reduce_to_input_shape():
    a = sample((4, 1, 3), seed=1)
    b = sample((2, 1), seed=2)
    (a * b).sum().backward()
    assert tuple(a.grad.shape) == (4, 1, 3) and tuple(b.grad.shape) == (2, 1)
    np.testing.assert_allclose(npy(b.grad), np.full((2, 1), npy(a).sum()))
