"""In-place ops and version counters: stale saved tensors are named, leaves and views guarded,
recorded in-place ops give the out-of-place gradient (PyTorch as the oracle)."""
import inspect
import re

import numpy as np
import pytest

import autograd as ag

pytestmark = pytest.mark.usefixtures("source_lines")  # these tests check the recorded file:line
from tests.helpers import npy


def here():
    """The caller's next line: where the op under test is written."""
    return inspect.currentframe().f_back.f_lineno + 1


def test_modified_saved_input_names_op_line_shape_versions():
    x = ag.randn(2, 3, requires_grad=True)
    y = x * 2
    line = here()
    z = y.sin()                      # sin saves its input y
    y.add_(1)
    y.mul_(3)                        # two writes: version 2
    with pytest.raises(RuntimeError) as e:
        z.sum().backward()
    msg = str(e.value)
    assert "saved by op 'sin'" in msg
    assert f"{__file__}:{line}" in msg
    assert "shape (2, 3)" in msg
    assert "is at version 2; expected version 0" in msg


def test_modified_saved_output_is_caught():
    x = ag.randn(4, requires_grad=True)
    line = here()
    z = x.exp()                      # exp saves its output
    z.add_(1)                        # recorded (z requires grad), bumps z's counter
    with pytest.raises(RuntimeError, match=rf"saved by op 'exp' \(created at {re.escape(__file__)}:{line}\) "
                                           r"is at version 1; expected version 0"):
        z.sum().backward()


def test_modification_before_use_is_fine_and_versions_count():
    x = ag.randn(3, requires_grad=True)
    y = x * 1
    assert y.version == 0
    y.add_(1)
    y.mul_(2)
    assert y.version == 2
    z = y.sin()
    z.sum().backward()
    np.testing.assert_allclose(npy(x.grad), np.cos(npy(y)) * 2, rtol=1e-6)


@pytest.mark.parametrize("name,call", [
    ("add_", lambda t: t.add_(1)), ("sub_", lambda t: t.sub_(1)), ("mul_", lambda t: t.mul_(2)),
    ("div_", lambda t: t.div_(2)), ("zero_", lambda t: t.zero_()), ("fill_", lambda t: t.fill_(1.5)),
    ("copy_", lambda t: t.copy_(ag.ones(3))), ("clamp_", lambda t: t.clamp_(0, 1)),
    ("setitem", lambda t: t.__setitem__(0, 5.0)),
])
def test_inplace_on_leaf_requiring_grad_raises_outside_no_grad(name, call):
    x = ag.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"a leaf Variable that requires grad \(shape \(3,\)\) is being used "
                                           r"in an in-place operation"):
        call(x)
    assert x.version == 0
    before = npy(x).copy()
    with ag.no_grad():
        call(x)
    assert x.version == 1
    assert not np.array_equal(npy(x), before) or name in ("clamp_",)


@pytest.mark.parametrize("make_view", [
    lambda a: a.reshape(6), lambda a: a.permute(1, 0), lambda a: a[0], lambda a: a[:, 1:],
    lambda a: a.T, lambda a: a.unsqueeze(0), lambda a: a.reshape(3, 2)[1:],
])
@pytest.mark.parametrize("rg", [False, True])
def test_views_share_version_counter(make_view, rg):
    a = ag.randn(2, 3, requires_grad=rg)
    base = a * 1 if rg else a
    v = make_view(base)
    with ag.no_grad():
        v.mul_(2)
    assert base.version == 1 and v.version == 1
    with ag.no_grad():
        base.add_(1)
    assert v.version == 2


def test_expand_shares_version_counter():
    a = ag.randn(1, 3)
    e = a.expand(4, 3)
    a.add_(1)
    assert e.version == 1


def test_write_through_untracked_view_invalidates_saved_base():
    a = ag.randn(2, 3)
    w = ag.randn(2, 3, requires_grad=True)
    line = here()
    p = w * a                        # saves a, which does not require grad
    a.reshape(6).add_(1)             # a write through a view a's gradient needs
    with pytest.raises(RuntimeError, match=rf"saved by op 'mul' \(created at .*:{line}\) is at version 1"):
        p.sum().backward()


def test_advanced_index_is_a_copy_with_its_own_counter():
    a = ag.randn(4)
    b = a[[0, 2]]
    b.add_(1)
    assert a.version == 0 and b.version == 1


def test_recorded_write_into_view_of_leaf_raises():
    x = ag.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mul_: a view of a leaf Variable that requires grad is being used in an "
                                           r"in-place operation \(shape \(3,\), a view of a tensor of shape \(2, 3\)\)"):
        x[0].mul_(2)
    y = x * 1
    y.reshape(6).add_(1)             # a view of a non-leaf: rebased (tests/test_views_inplace.py)
    assert y.grad_fn.name == "copy_slices"


def _torch():
    return pytest.importorskip("torch")


CASES = {
    "add_mul_chain": lambda m, x, w: (lambda y: (y.add_(w).mul_(w), y.sin().sum())[1])(x * 1),
    "div_sub": lambda m, x, w: (lambda y: (y.div_(w * w + 3).sub_(x), (y * y).sum())[1])(x.exp() * 1),
    "setitem_value": lambda m, x, w: (lambda y: (y.__setitem__((0, slice(None)), w[1]), (y * x).sum())[1])(x * 2),
    "clamp_": lambda m, x, w: (lambda y: (y.clamp_(-0.5, 0.5), (y * w).sum())[1])(x * 1),
    "copy_": lambda m, x, w: (lambda y: (y.copy_(w * 3), (y * x).sum())[1])(x * 1),
    "fill_": lambda m, x, w: (lambda y: (y.fill_(2.0), (y * x).sum())[1])(x * w),
    "zero_then_add": lambda m, x, w: (lambda y: (y.zero_(), y.add_(w * x), y.pow(2).sum())[2])(x * 1),
}


@pytest.mark.parametrize("case", list(CASES))
def test_recorded_inplace_gradient_matches_torch(case):
    torch = _torch()
    rng = np.random.default_rng(1)
    xv, wv = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    x = ag.tensor(xv, dtype=ag.float64, requires_grad=True)
    w = ag.tensor(wv, dtype=ag.float64, requires_grad=True)
    tx = torch.tensor(xv, requires_grad=True)
    tw = torch.tensor(wv, requires_grad=True)
    out = CASES[case](ag, x, w)
    tout = CASES[case](torch, tx, tw)
    out.backward()
    tout.backward()
    np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
    np.testing.assert_allclose(npy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(npy(w.grad), tw.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_recorded_inplace_on_nonleaf_equals_out_of_place():
    rng = np.random.default_rng(2)
    xv = rng.standard_normal(5)
    x1 = ag.tensor(xv, requires_grad=True)
    y = x1 * 3
    y.mul_(x1)                       # y = 3x * x
    y.add_(1)
    y.sum().backward()
    x2 = ag.tensor(xv, requires_grad=True)
    ((x2 * 3) * x2 + 1).sum().backward()
    np.testing.assert_allclose(npy(x1.grad), npy(x2.grad), rtol=1e-6)
    np.testing.assert_allclose(npy(x1.grad), 6 * xv, rtol=1e-5)
