"""Custom ops through autograd.Function, like torch.autograd.Function."""
import numpy as np
import pytest

import autograd as ag
from tests.helpers import npy, sample


class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x ** 3 * scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2 * ctx.scale, None


class SplitTwo(ag.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y, x * 2

    @staticmethod
    def backward(ctx, gy, gz):
        (y,) = ctx.saved_tensors
        return gy * y + gz * 2


def test_function_forward_backward_and_gradcheck():
    x = sample((3,))
    y = Cube.apply(x, 2.0)
    np.testing.assert_allclose(npy(y), 2 * npy(x) ** 3)
    assert "CubeBackward" in repr(y.grad_fn)
    assert ag.gradcheck(lambda t: Cube.apply(t, 2.0), (x,))
    assert ag.gradgradcheck(lambda t: Cube.apply(t, 2.0), (x,))


def test_needs_input_grad_and_multiple_outputs():
    seen = {}

    class Probe(ag.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = ctx.needs_input_grad
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, None

    Probe.apply(ag.tensor([1.0], requires_grad=True), ag.tensor([2.0]))
    assert seen["needs"] == (True, False)
    x = sample((2,))
    assert ag.gradcheck(lambda t: SplitTwo.apply(t), (x,))
    y, z = SplitTwo.apply(x)
    y.sum().backward()                   # z unused: its gradient is zero
    np.testing.assert_allclose(npy(x.grad), np.exp(npy(x)))


def test_function_saved_output_is_checked_for_inplace():
    class ExpF(ag.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    x = ag.tensor([1.0], requires_grad=True)
    y = ExpF.apply(x)
    z = y * 1
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_no_record_under_no_grad():
    x = ag.tensor([1.0], requires_grad=True)
    with ag.no_grad():
        y = Cube.apply(x, 1.0)
    assert y.grad_fn is None and not y.requires_grad
