"""gradcheck must catch a wrong backward, and say where."""
import pytest

import autograd as ag
from autograd.graph import Op
from autograd.ops import apply
from tests.helpers import sample


def _wrong_exp(scale):
    def fwd(B, x):
        return B.xp.exp(x)

    def bwd(ctx, g):
        (y,) = ctx.unpack()
        return g * y * scale
    return Op("wrong_exp", fwd, bwd, save=("out",))


def test_gradcheck_passes_correct_rule():
    op = _wrong_exp(1.0)
    x = sample((2, 3))
    assert ag.gradcheck(lambda t: apply(op, (t,)), (x,))


def test_gradcheck_catches_rule_off_by_one_percent():
    op = _wrong_exp(1.01)
    x = sample((2, 3))
    with pytest.raises(ag.GradcheckError) as e:
        ag.gradcheck(lambda t: apply(op, (t,)), (x,))
    msg = str(e.value)
    assert "input 0" in msg and "analytic" in msg and "numerical" in msg and "element (0, 0)" in msg
    assert ag.gradcheck(lambda t: apply(op, (t,)), (x,), raise_exception=False) is False
    assert ag.gradcheck(lambda t: apply(op, (t,)), (x,), raise_exception=False, fast_mode=True) is False


def test_gradgradcheck_catches_wrong_second_derivative():
    class BadSquare(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            # right value, wrong derivative: 2x computed as x*x/x*2 would be fine; x.detach() is not
            return g * 2 * x.detach()

    x = sample((3,), "pos")
    assert ag.gradcheck(lambda t: BadSquare.apply(t), (x,))
    with pytest.raises(ag.GradcheckError):
        ag.gradgradcheck(lambda t: BadSquare.apply(t), (x,))


def test_gradcheck_requires_float64():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ag.GradcheckError, match="float64"):
        ag.gradcheck(lambda t: t * 2, (x,))


def test_fast_mode_passes_correct_gradients():
    x = sample((3, 4))
    w = sample((4, 2), seed=3)
    assert ag.gradcheck(lambda a, b: ag.tanh(a @ b), (x, w), fast_mode=True)
