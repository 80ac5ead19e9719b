"""The engine against torch: custom Functions (one recorder, mark_dirty, materialize_grads),
double backward through relu, backward twice through a graph that saved nothing, thread-local
record_source, hooks that return a wrong gradient, and errors that name the op (issue 10:
section 1, items 26, 27, 31, 33)."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import autograd as ag
from autograd import graph
from tests.helpers import npy, sample


def torch_or_skip():
    return pytest.importorskip("torch", reason="torch is the oracle for this comparison")


def assert_like(t, ref, dtype):
    """Shape, dtype and values of tensor t against a NumPy/torch reference."""
    ref = np.asarray(ref.detach() if hasattr(ref, "detach") else ref)
    assert tuple(t.shape) == ref.shape
    assert t.dtype is dtype
    np.testing.assert_allclose(npy(t), ref, rtol=1e-6, atol=1e-12)


# --- Function records through the primitives' recorder (section 1) --------------------------------

class MulSave(ag.Function):
    @staticmethod
    def forward(ctx, a, b, scale):
        out = a * b * scale
        ctx.save_for_backward(a, out)
        ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return g * out / a, g * a * ctx.scale, None


def test_function_node_has_the_primitive_edge_and_saved_representation():
    x = sample((3,), "pos")
    y = sample((3,), "pos") * 1                # a computed input: its edge is (node, index)
    c = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64)   # needs no gradient: edge None
    out = MulSave.apply(x, y, 2.0)
    ctx = out.grad_fn
    assert ctx.next == graph.edges((x, y, c))[:2] + (None,)
    assert ctx.next == (x, (y.grad_fn, 0), None)
    prim = (x * y).grad_fn                     # the primitive saves (a, b) the same way
    assert type(prim.saved[0]) is type(ctx.saved[0]) is ag.Tensor
    # its own output is kept as (array, version counter, backend, index), never as the Tensor
    arr, vc, be, idx = ctx.saved[1]
    assert arr is out._data and vc is out._vc and idx == 0
    assert ctx.versions == (0, 0)
    out.sum().backward()
    np.testing.assert_allclose(npy(x.grad), 2 * npy(y))
    assert ctx.saved is None                   # freed like a primitive's
    assert ag.gradcheck(lambda a, b: MulSave.apply(a, b, 2.0), (sample((3,), "pos"), sample((3,), "pos", 1)))


def test_function_nodes_are_seen_by_the_memory_profiler_with_their_source():
    x = sample((4,), "pos")
    with ag.profile_memory() as prof:
        line = sys._getframe().f_lineno + 1
        out = MulSave.apply(x, sample((4,), "pos", 1), 3.0)
        assert prof.current == 2 * 4 * 8           # x and the output, float64
    assert out.grad_fn.source == (__file__, line)


# --- record_source is thread-local (item 33) ------------------------------------------------------

def test_record_source_is_thread_local():
    x = ag.tensor([1.0], requires_grad=True)
    seen = {}
    started, go = threading.Event(), threading.Event()

    def worker():
        started.set()
        go.wait(5)
        seen["other"] = (x * 2).grad_fn.source

    th = threading.Thread(target=worker)
    th.start()
    started.wait(5)
    with ag.record_source():
        go.set()
        th.join(5)
        line = sys._getframe().f_lineno + 1
        mine = (x * 2).grad_fn.source
    assert mine == (__file__, line)
    assert seen["other"] is None               # the other thread never switched it on
    assert (x * 2).grad_fn.source is None      # and it is off again here


def test_record_source_env_default_reaches_every_thread():
    code = ("import threading, autograd as ag\n"
            "x = ag.tensor([1.0], requires_grad=True)\n"
            "r = {}\n"
            "t = threading.Thread(target=lambda: r.setdefault('s', (x * 2).grad_fn.source)); t.start(); t.join()\n"
            "assert r['s'] is not None and (x * 2).grad_fn.source is not None, r\n"
            "with ag.record_source(False):\n"
            "    assert (x * 2).grad_fn.source is None\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, TAPEGRAD_RECORD_SOURCE="1", PYTHONPATH=root)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=root)


# --- Function: materialize_grads, mark_dirty, mark_non_differentiable, needs_input_grad (item 33) ---

def _two_outputs(materialize, seen):
    class Two(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1, g2))
            g = g1 * 2
            return g if g2 is None else g + g2 * 3
    return Two


def test_set_materialize_grads_false_passes_none_for_unused_outputs():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    p, _ = _two_outputs(False, seen).apply(x)
    p.sum().backward()
    assert seen[0][1] is None
    assert_like(seen[0][0], [1.0, 1.0], ag.float32)
    np.testing.assert_array_equal(npy(x.grad), [2.0, 2.0])
    seen.clear()
    p, _ = _two_outputs(True, seen).apply(x)   # the default: zeros
    p.sum().backward()
    assert_like(seen[0][1], [0.0, 0.0], ag.float32)


def test_set_materialize_grads_matches_torch():
    torch = torch_or_skip()
    for mat in (True, False):
        tseen = []

        class TTwo(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(mat)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                tseen.append(g2)
                return g1 * 2 if g2 is None else g1 * 2 + g2 * 3

        tx = torch.tensor([1.0, 2.0], requires_grad=True)
        TTwo.apply(tx)[0].sum().backward()
        seen = []
        x = ag.tensor([1.0, 2.0], requires_grad=True)
        _two_outputs(mat, seen).apply(x)[0].sum().backward()
        assert (seen[0][1] is None) == (tseen[0] is None)
        np.testing.assert_array_equal(npy(x.grad), tx.grad.numpy())


class AddOneInPlace(ag.Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_mark_dirty_returns_the_input_with_new_history_and_version():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    x = a * 1
    y = AddOneInPlace.apply(x)
    assert y is x
    assert x.version == 2                      # add_ bumped it, and mark_dirty, as torch
    assert x.grad_fn.name == "AddOneInPlace" and x.requires_grad
    np.testing.assert_array_equal(npy(x), [2.0, 3.0])
    y.sum().backward()
    assert_like(a.grad, [2.0, 2.0], ag.float32)


def test_mark_dirty_matches_torch():
    torch = torch_or_skip()

    class T(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(3)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    class A(ag.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(3)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)              # saved after the write: no version error
            return x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    tx = torch.tensor([1.0, -2.0], requires_grad=True)
    t_mid = tx * 1
    ty = T.apply(t_mid)
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    mid = x * 1
    y = A.apply(mid)
    assert (y is mid) == (ty is t_mid) and mid.version == t_mid._version
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_like(x.grad, tx.grad, ag.float32)
    # written after it was saved: both refuse
    ty2, y2 = T.apply(tx * 1), A.apply(x * 1)
    ty2.add_(1)
    y2.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty2.sum().backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y2.sum().backward()


def test_mark_dirty_errors_like_torch():
    class NotReturned(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g

    a = ag.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="NotReturned: some elements marked as dirty .* not returned"):
        NotReturned.apply(a * 1)
    with pytest.raises(RuntimeError, match="AddOneInPlace: a leaf Variable that requires grad"):
        AddOneInPlace.apply(a)
    c = ag.tensor([1.0])                       # nothing requires grad: bumped, not recorded
    r = AddOneInPlace.apply(c)
    assert r is c and c.version == 2 and not r.requires_grad and r.grad_fn is None


def test_mark_non_differentiable_and_needs_input_grad_like_torch():
    torch = torch_or_skip()
    got = {}

    def make(lib, key):
        class ND(lib.Function):
            @staticmethod
            def forward(ctx, x, k, w, none):
                got[key] = tuple(ctx.needs_input_grad)
                a, idx = x * k, x.argmax()
                ctx.mark_non_differentiable(idx)
                return a, idx, x * w

            @staticmethod
            def backward(ctx, ga, gidx, gb):
                got[key + "g"] = (tuple(gidx.shape), str(gidx.dtype).split(".")[-1], float(gidx.sum()))
                return ga * 2 + gb * 3, None, None, None
        return ND

    TND, AND = make(torch.autograd, "t"), make(ag, "a")
    tx = torch.tensor([1.0, 3.0], requires_grad=True)
    x = ag.tensor([1.0, 3.0], requires_grad=True)
    tr = TND.apply(tx, 2.0, torch.tensor(3.0), None)
    r = AND.apply(x, 2.0, ag.tensor(3.0), None)
    assert got["a"] == got["t"] == (True, False, False, False)
    assert [t.requires_grad for t in r] == [t.requires_grad for t in tr] == [True, False, True]
    assert r[1].dtype is ag.int64
    (tr[0].sum() + tr[2].sum()).backward()
    (r[0].sum() + r[2].sum()).backward()
    assert got["ag"] == got["tg"] == ((), "int64", 0.0)    # a zero gradient for the index output
    assert_like(x.grad, tx.grad, ag.float32)
    with ag.no_grad():                         # needs_input_grad does not depend on grad mode
        AND.apply(x, 2.0, ag.tensor(3.0, requires_grad=True), None)
    assert got["a"] == (True, False, True, False)


def test_function_arguments_given_by_name_are_inputs_like_torch():
    torch = torch_or_skip()
    got = {}

    def make(lib, key):
        class K(lib.Function):
            @staticmethod
            def forward(ctx, x, w=None, scale=2.0):
                got[key] = tuple(ctx.needs_input_grad)
                return x * w * scale

            @staticmethod
            def backward(ctx, g):
                return g, g * 5, None
        return K

    tx, tw = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    x, w = ag.ones(2, requires_grad=True), ag.ones(2, requires_grad=True)
    make(torch.autograd, "t").apply(tx, w=tw, scale=3.0).sum().backward()
    make(ag, "a").apply(x, w=w, scale=3.0).sum().backward()
    assert got["a"] == got["t"] == (True, True, False)
    assert_like(w.grad, tw.grad, ag.float32)
    assert_like(x.grad, tx.grad, ag.float32)


# --- item 26: double backward through relu ---------------------------------------------------------

def test_relu_double_backward_gives_zeros_like_torch():
    torch = torch_or_skip()
    vals = [-1.0, 2.0, 3.0, 0.5]
    x = ag.tensor(vals, dtype=ag.float64, requires_grad=True)
    g, = ag.grad(ag.relu(x).sum(), x, create_graph=True)
    tx = torch.tensor(vals, dtype=torch.float64, requires_grad=True)
    tg, = torch.autograd.grad(torch.relu(tx).sum(), tx, create_graph=True)
    assert g.requires_grad == tg.requires_grad is True
    assert_like(g, tg, ag.float64)
    gg, = ag.grad(g.sum(), x, retain_graph=True)
    assert_like(gg, torch.autograd.grad(tg.sum(), tx, retain_graph=True)[0], ag.float64)
    g.sum().backward()
    tg.sum().backward()
    assert_like(x.grad, tx.grad, ag.float64)     # zeros, not None


def test_relu_gradgradcheck_and_mixed_second_derivative():
    x = sample((5,), "nonzero")
    assert ag.gradgradcheck(ag.relu, (x,))
    assert ag.gradgradcheck(lambda t: ag.relu(t) * t, (x,))
    # a plain backward builds no extra node
    y = ag.relu(x)
    y.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), (npy(x) > 0).astype(float))


def test_clamp_double_backward_refuses_like_torch():
    torch = torch_or_skip()
    x = ag.tensor([-1.0, 2.0], requires_grad=True)
    g, = ag.grad(x.clamp(0, 1).sum(), x, create_graph=True)
    tx = torch.tensor([-1.0, 2.0], requires_grad=True)
    tg, = torch.autograd.grad(tx.clamp(0, 1).sum(), tx, create_graph=True)
    assert g.requires_grad == tg.requires_grad is False
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        tg.sum().backward()
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        g.sum().backward()


# --- item 27: backward twice through a graph that saved nothing ----------------------------------

def test_second_backward_without_saved_tensors_works_like_torch():
    torch = torch_or_skip()
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    y, ty = (x + 1).sum(), (tx + 1).sum()
    for _ in range(2):
        y.backward()
        ty.backward()
    assert_like(x.grad, tx.grad, ag.float32)


def test_second_backward_with_saved_tensors_raises_like_torch():
    torch = torch_or_skip()
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    y, ty = (x.exp() + 1).sum(), (tx.exp() + 1).sum()
    y.backward()
    ty.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        ty.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*'exp'"):
        y.backward()
    assert_like(x.grad, tx.grad, ag.float32)   # the failed second pass added nothing


def test_second_backward_through_function_that_saved_nothing():
    class Double(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            assert ctx.saved_tensors == ()
            return g * 2

    x = ag.tensor([1.0], requires_grad=True)
    y = Double.apply(x).sum()
    y.backward()
    y.backward()
    assert_like(x.grad, [4.0], ag.float32)


# --- item 31: errors that name the op ---------------------------------------------------------------

def test_size_of_0d_tensor_raises_like_torch():
    torch = torch_or_skip()
    for d in (0, -1, 1):
        with pytest.raises(IndexError, match="no dimensions"):
            torch.ones(()).size(d)
        with pytest.raises(IndexError, match=f"size: Dimension specified as {d} but tensor has no dimensions"):
            ag.ones(()).size(d)
    assert ag.ones(()).size() == () and ag.ones(3).size(-1) == 3


@pytest.mark.parametrize("call", [lambda t: t.sum(1), lambda t: t.sum(-2), lambda t: t.mean((0, 1)),
                                  lambda t: t.squeeze(1), lambda t: t.amax(dim=2)])
def test_out_of_range_dims_on_0d_raise_like_torch(call):
    torch = torch_or_skip()
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-1, 0\]"):
        call(torch.ones(()))
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-1, 0\]"):
        call(ag.ones(()))


def test_dims_0_and_minus_1_on_0d_work_like_torch():
    torch = torch_or_skip()
    for d in (0, -1):
        r, tr = ag.ones(()).sum(d), torch.ones(()).sum(d)
        assert_like(r, tr, ag.float32)
        assert tuple(ag.ones(()).squeeze(d).shape) == ()


def test_sign_of_bool_like_torch():
    torch = torch_or_skip()
    t = ag.tensor([True, False]).sign()
    tt = torch.tensor([True, False]).sign()
    assert t.dtype is ag.bool and str(tt.dtype) == "torch.bool"
    np.testing.assert_array_equal(npy(t), tt.numpy())


def test_invert_of_float_names_bitwise_not():
    torch = torch_or_skip()
    with pytest.raises(TypeError):
        ~torch.ones(2)
    with pytest.raises(TypeError, match="bitwise_not"):
        ~ag.ones(2)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_of_empty_raises_like_torch(name):
    torch = torch_or_skip()
    for shape, dim in (((0,), None), ((0, 3), 0)):
        with pytest.raises(IndexError) as te:
            getattr(torch.ones(shape), name)(dim)
        with pytest.raises(IndexError) as e:
            getattr(ag.ones(*shape), name)(dim)
        assert str(e.value) == str(te.value)
    r = getattr(ag.ones(0, 3), name)(1)
    assert tuple(r.shape) == (0,) and r.dtype is ag.int64


@pytest.mark.parametrize("py, dtype", [(float, "float64"), (int, "int64"), (bool, "bool")])
def test_to_python_types_like_torch(py, dtype):
    torch = torch_or_skip()
    x = ag.tensor([1.5, 0.0])
    assert str(torch.tensor([1.5, 0.0]).to(dtype=py).dtype) == f"torch.{dtype}"
    for r in (x.to(dtype=py), x.to(py)):
        assert r.dtype is getattr(ag, dtype)
        np.testing.assert_array_equal(npy(r), np.array([1.5, 0.0]).astype(dtype))


def test_to_rejects_a_dtype_string_as_device_and_a_bad_dtype():
    with pytest.raises(RuntimeError, match="float32"):
        ag.ones(2).to("float32")
    with pytest.raises(TypeError, match="to\\(\\): dtype must be"):
        ag.ones(2).to(dtype=5)


@pytest.mark.parametrize("shape", ["a", 1.5, (2, "x")])
def test_reshape_non_int_shape_raises_type_error_like_torch(shape):
    torch = torch_or_skip()
    with pytest.raises(TypeError):
        torch.ones(2).reshape(shape)
    with pytest.raises(TypeError, match="reshape\\(\\): argument 'shape' must be a tuple of ints"):
        ag.ones(2).reshape(shape)


def test_hook_returning_wrong_shape_is_named_like_torch():
    torch = torch_or_skip()

    def bad(g):
        return g[:2]

    for leaf in (False, True):
        tx = torch.ones(3, requires_grad=True)
        x = ag.ones(3, requires_grad=True)
        ty, y = (tx, x) if leaf else (tx * 2, x * 2)
        ty.register_hook(bad)
        y.register_hook(bad)
        with pytest.raises(RuntimeError, match="hook 'bad' has changed the size of value"):
            (ty * 3).sum().backward()
        with pytest.raises(RuntimeError, match=r"hook 'bad' has changed the size of value: the gradient has "
                                               r"shape \(3,\), the hook returned shape \(2,\)"):
            (y * 3).sum().backward()


def test_hook_returning_wrong_dtype_or_type_is_named():
    torch = torch_or_skip()
    tx = torch.ones(3, requires_grad=True)
    x = ag.ones(3, requires_grad=True)
    (tx * 2).register_hook(lambda g: g.double())
    ty = tx * 2
    ty.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match="has changed the type of value"):
        ty.sum().backward()
    y = x * 2
    y.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the type of value"):
        y.sum().backward()
    y = x * 2
    y.register_hook(lambda g: 5)
    with pytest.raises(TypeError, match="hook '<lambda>' returned an object of type int"):
        y.sum().backward()
    y = x * 2                                  # a hook returning a good replacement still works
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert_like(x.grad, [20.0, 20.0, 20.0], ag.float32)


def test_broadcast_errors_name_the_op_and_keep_the_cause():
    torch = torch_or_skip()
    with pytest.raises(RuntimeError, match="must match the size"):
        torch.ones(2) + torch.ones(3)
    with pytest.raises(RuntimeError, match=r"add: shapes \(2,\) and \(3,\) are not broadcastable") as e:
        ag.ones(2) + ag.ones(3)
    assert e.value.__cause__ is not None       # the backend's own error, chained
    with pytest.raises(RuntimeError, match=r"where: shapes \(2,\) and \(3,\) and \(2,\) are not broadcastable"):
        ag.where(ag.ones(2) > 0, ag.ones(3), ag.ones(2))
    # matmul's inputs do not broadcast elementwise: its own message, not a broadcast one
    with pytest.raises(ValueError, match=r"matmul: .*cannot be multiplied") as e:
        ag.ones(2, 3) @ ag.ones(4, 3)
    assert "broadcast" not in str(e.value)


def test_op_errors_are_decided_from_shapes_not_message_text():
    @graph.primitive(broadcast=True)
    class Fails:
        def forward(B, a, b):
            raise ValueError("operands could not be broadcast together")   # misleading text

        def backward(ctx, g):
            return g, g

    a = ag.ones(2, 3)
    with pytest.raises(ValueError, match=r"fails: invalid input \(\(2, 3\) float32, \(3,\) float32\)") as e:
        ag.ops.apply(Fails, (a, ag.ones(3)))           # broadcastable: not a broadcast error
    assert isinstance(e.value.__cause__, ValueError)
    with pytest.raises(RuntimeError, match=r"fails: shapes \(2, 3\) and \(2,\) are not broadcastable"):
        ag.ops.apply(Fails, (a, ag.ones(2)))
