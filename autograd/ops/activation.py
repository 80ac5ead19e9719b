"""Activations composed from primitives (PyTorch's formulas and defaults; no rules of their own).

torch has no Tensor methods for these (they live in torch.nn.functional), so none are made."""
from __future__ import annotations

import math

from backends import dtypes as _dt
from ..graph import depends_on, primitive
from ..tensor import _wrap
from ._core import apply
from ._registry import op
from .unary import clamp, erf, expm1, sigmoid, tanh, where


def _float_only(x, name):
    """torch's activation kernels take floating point input only (an integer tensor raises rather
    than being computed in float)."""
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f"{name}: not implemented for {x.dtype.name} tensors (shape "
                                  f"{tuple(x.shape)}); torch's kernel takes floating point input only")
    return x


@primitive(save=("x",))
class LeakyRelu:
    """x where x > 0, else slope * x. A primitive so that, like torch's leaky_relu_backward, its
    gradient depends on x (with zero derivative): differentiated again it gives zeros."""
    def forward(B, x, slope): return B.xp.where(x > 0, x, x * slope)

    def backward(ctx, g):
        x = ctx.x
        xp = x._backend.xp
        mask = xp.greater(x._data, xp.zeros((), dtype=x._data.dtype))   # an xp call: autograd.compile records it
        return depends_on(where(_wrap(mask, x._backend), g, g * ctx.slope), x)


@op(method=False)
def leaky_relu(input, negative_slope=0.01):
    x = _float_only(input, "leaky_relu")
    if x.dtype is _dt.float16:        # slope * x in float32, rounded once, as torch's kernel
        return leaky_relu(x.to(_dt.float32), negative_slope).to(_dt.float16)
    return apply(LeakyRelu, (x,), negative_slope)


@op(method=False)
def elu(input, alpha=1.0):
    _float_only(input, "elu")
    # expm1 of min(x, 0): the branch where() discards must not overflow into inf * 0 = nan
    # (x <= 0, not x > 0: a nan input takes the identity branch, so its gradient is 1 as in torch)
    return where(input <= 0, alpha * expm1(clamp(input, max=0.0)), input)


@primitive(save=("x",))
class Softplus:
    """log(1 + exp(beta x)) / beta, x itself where beta x > threshold (PyTorch's formula).

    A primitive for its gradient: sigmoid(beta x) (0.5 at 0), 1 above the threshold. Composed as
    relu(bx) + log1p(exp(-|bx|)) the kinks of relu and abs at 0 cancel into a wrong 0."""
    def forward(B, x, beta, threshold):
        xp = B.xp
        bx = x * beta if beta != 1 else x
        soft = xp.maximum(bx, xp.zeros((), dtype=x.dtype)) + xp.log1p(xp.exp(-xp.abs(bx)))
        if beta != 1:
            soft = soft / beta
        return xp.where(bx > threshold, x, soft)

    def backward(ctx, g):
        x, beta = ctx.x, ctx.beta
        bx = x * beta if beta != 1 else x
        xp = x._backend.xp
        mask = xp.greater(bx._data, xp.asarray(ctx.threshold, dtype=bx._data.dtype))   # recorded by autograd.compile
        return where(_wrap(mask, x._backend), g, g * sigmoid(bx))


@op(method=False)
def softplus(input, beta=1.0, threshold=20.0):
    _float_only(input, "softplus")
    return apply(Softplus, (input,), beta, threshold)


@op(method=False)
def gelu(input, approximate="none"):
    x = _float_only(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    if x.dtype is _dt.float16:        # computed in float32 and cast back, as PyTorch's kernel
        return gelu(x.to(_dt.float32), approximate).to(_dt.float16)
    if approximate == "tanh":
        # tanh's argument is taken at x clamped to +-50, where tanh is already +-1 in any precision:
        # x**3 cannot overflow, and the gradient beyond is exactly that of 0.5 x (1 +- 1)
        # (PyTorch's gradient at +-inf is nan: inf * 0 in its formula; ours follows by letting inf through)
        xc = where(x.isinf(), x, clamp(x, -50.0, 50.0))
        return 0.5 * x * (1 + tanh(math.sqrt(2 / math.pi) * (xc + 0.044715 * xc ** 3)))
    return 0.5 * x * (1 + erf(x * (1 / math.sqrt(2))))


@op(method=False)
def silu(input):
    _float_only(input, "silu")
    return input * sigmoid(input)


@op(method=False)
def mish(input):
    _float_only(input, "mish")
    return input * tanh(softplus(input))


@primitive(save=("x",))
class LogSigmoid:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): no overflow for either sign. A primitive for
    its rule, sigmoid(-x) (torch's log_sigmoid_backward), smooth where the composite has kinks."""
    def forward(B, x):
        xp = B.xp
        return xp.minimum(x, xp.zeros((), dtype=x.dtype)) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(ctx, g): return g * sigmoid(-ctx.x)


@op(method=False, export=False)
def logsigmoid(input):
    """torch.nn.functional.logsigmoid (torch has no torch.logsigmoid: reached as ops.logsigmoid,
    for nn.functional to export)."""
    _float_only(input, "logsigmoid")
    if input.dtype is _dt.float16:         # computed in float32 and rounded once, as torch's kernel
        return logsigmoid(input.to(_dt.float32)).to(_dt.float16)
    return apply(LogSigmoid, (input,))
