"""Elementwise ops of one tensor (and the piecewise ones of two: maximum, minimum, where, clamp).

An integer or bool input of a floating function (exp, sin, ...) is computed in the default
float dtype, as in PyTorch. Rounding and sign are piecewise constant: zero gradient.
"""
from __future__ import annotations

import math

from ..graph import depends_on, primitive
from ..tensor import Tensor
from ._core import apply, as_tensor_like, binary, floating, nondiff, pair, zeros_like_scalar
from ._registry import op


@primitive(save=("out",))
class Exp:
    def forward(B, x): return B.xp.exp(x)
    def backward(ctx, g): return g * ctx.out


@primitive(save=("x",))
class Log:
    def forward(B, x): return B.xp.log(x)
    def backward(ctx, g): return g / ctx.x


@primitive(save=("x",))
class Log1p:
    def forward(B, x): return B.xp.log1p(x)
    def backward(ctx, g): return g / (1 + ctx.x)


@primitive(save=("x",))
class Expm1:
    def forward(B, x): return B.xp.expm1(x)
    def backward(ctx, g): return g * exp(ctx.x)


@primitive(save=("out",))
class Sqrt:
    def forward(B, x): return B.xp.sqrt(x)
    def backward(ctx, g): return g / (2 * ctx.out)


@primitive(save=("x",))
class Abs:
    def forward(B, x): return B.xp.abs(x)
    def backward(ctx, g): return g * sign(ctx.x)     # abs'(0) = 0, as PyTorch


@primitive(save=("x",))
class Sin:
    def forward(B, x): return B.xp.sin(x)
    def backward(ctx, g): return g * cos(ctx.x)


@primitive(save=("x",))
class Cos:
    def forward(B, x): return B.xp.cos(x)
    def backward(ctx, g): return -g * sin(ctx.x)


@primitive(save=("out",))
class Tanh:
    def forward(B, x): return B.xp.tanh(x)

    def backward(ctx, g):
        y = ctx.out
        return g * (1 - y * y)


@primitive(save=("out",))
class Sigmoid:
    def forward(B, x):
        # never exponentiate a positive number: exact for large |x|, no overflow warnings
        xp = B.xp
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def backward(ctx, g):
        y = ctx.out
        return g * (y * (1 - y))


@primitive(save=("x",))
class Erf:
    def forward(B, x): return B.erf(x)
    def backward(ctx, g): return g * (2 / math.sqrt(math.pi) * exp(-(ctx.x * ctx.x)))


@primitive()
class Masked:
    """g where mask else 0, for a constant boolean mask: the gradient of every piecewise-linear op."""
    def forward(B, g, mask): return B.masked(g, mask)
    def backward(ctx, gg): return apply(Masked, (gg,), ctx.mask)


def masked(g, mask):
    return apply(Masked, (g,), mask._data if isinstance(mask, Tensor) else mask)


@primitive(save=("out",))
class Relu:
    def forward(B, x): return B.xp.maximum(x, B.xp.zeros((), dtype=x.dtype))
    def backward(ctx, g):
        out = ctx.out
        # relu'(0) = 0, as PyTorch; like torch's threshold_backward the result depends on `out`
        # (with zero derivative), so the gradient can be differentiated again
        return depends_on(masked(g, out._data > 0), out)


@primitive(save=("x",))
class Clamp:
    def forward(B, x, lo, hi):
        xp = B.xp
        if lo is not None:
            x = xp.maximum(x, xp.asarray(lo, dtype=x.dtype))
        if hi is not None:
            x = xp.minimum(x, xp.asarray(hi, dtype=x.dtype))
        return x

    def backward(ctx, g):
        x = ctx.x._data
        lo, hi = ctx.lo, ctx.hi
        mask = None
        if lo is not None:
            mask = x >= lo                                         # bounds are inclusive
        if hi is not None:
            mask = (x <= hi) if mask is None else mask & (x <= hi)
        return g if mask is None else masked(g, mask)


@primitive(save=("a", "b"), broadcast=True)
class Maximum:
    def forward(B, a, b): return B.xp.maximum(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * ((a > b) + (a == b) * 0.5)       # ties share the gradient evenly
        return ga, g - ga


@primitive(save=("a", "b"), broadcast=True)
class Minimum:
    def forward(B, a, b): return B.xp.minimum(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * ((a < b) + (a == b) * 0.5)
        return ga, g - ga


@primitive(save=("cond",), broadcast=True)
class Where:
    def forward(B, cond, a, b): return B.xp.where(cond, a, b)

    def backward(ctx, g):
        c = ctx.cond
        zero = zeros_like_scalar(g)
        _, need_a, need_b = ctx.needs_input_grad
        return None, where(c, g, zero) if need_a else None, where(c, zero, g) if need_b else None


@primitive()
class Round:
    """round / floor / ceil / trunc: piecewise constant, so the gradient is zero (as PyTorch)."""
    def forward(B, x, mode): return getattr(B.xp, mode)(x)
    def backward(ctx, g): return g * 0


@primitive()
class Cast:
    def forward(B, x, native): return B.xp.astype(x, native)
    def backward(ctx, g): return g                   # the engine casts back to the input dtype


@primitive()
class Clone:
    def forward(B, x): return B.xp.asarray(x, copy=True)
    def backward(ctx, g): return g


def _floating_unary(prim, name):
    def f(input):
        return apply(prim, (floating(input),))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Elementwise {name} (integer and bool inputs give the default float dtype)."
    return f


exp = op(inplace=True)(_floating_unary(Exp, "exp"))
log = op(inplace=True)(_floating_unary(Log, "log"))
log1p = op(inplace=True)(_floating_unary(Log1p, "log1p"))
expm1 = op(inplace=True)(_floating_unary(Expm1, "expm1"))
sqrt = op(inplace=True)(_floating_unary(Sqrt, "sqrt"))
sin = op(inplace=True)(_floating_unary(Sin, "sin"))
cos = op(inplace=True)(_floating_unary(Cos, "cos"))
tanh = op(inplace=True)(_floating_unary(Tanh, "tanh"))
sigmoid = op(inplace=True)(_floating_unary(Sigmoid, "sigmoid"))
erf = op(inplace=True)(_floating_unary(Erf, "erf"))


@op(inplace=True, aliases=("absolute",))
def abs(input):
    return apply(Abs, (input,))


@op(inplace=True)
def rsqrt(input):
    return 1 / sqrt(input)


@op(inplace=True)
def square(input):
    return input * input


@op(inplace=True)
def relu(input):
    return apply(Relu, (input,))


@op(inplace=True, aliases=("clip",))
def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None:
            input = maximum(input, min)
        if max is not None:
            input = minimum(input, max)
        return input
    return apply(Clamp, (input,), min, max)


@op()
def maximum(input, other):
    return binary(Maximum, input, other)


@op()
def minimum(input, other):
    return binary(Minimum, input, other)


def where(condition, input, other):
    """condition ? input : other, elementwise (broadcast); scalars take the tensor's dtype."""
    cond, a, b = condition, input, other
    if not isinstance(cond, Tensor):
        raise TypeError("where: condition must be a bool Tensor")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = as_tensor_like(a, cond)
        if not a.dtype.is_floating_point and isinstance(b, float):
            a = a.to(_default_float())
    a, b = pair(a, b, "where")
    if cond.dtype.name != "bool":
        cond = cond != 0
    return apply(Where, (cond, a, b))


op(method=False)(where)          # Tensor.where(condition, other) has its own argument order


@op(inplace=True)
def round(input, *, decimals=0):
    if decimals:
        return round(input * 10.0 ** decimals) / 10.0 ** decimals
    return apply(Round, (input,), "round")


@op(inplace=True)
def floor(input): return apply(Round, (input,), "floor")
@op(inplace=True)
def ceil(input): return apply(Round, (input,), "ceil")
@op(inplace=True, aliases=("fix",))
def trunc(input): return apply(Round, (input,), "trunc")


@op(inplace=True)
def sign(input):
    if input.dtype.name == "bool":                 # torch: the sign of a bool is itself
        return nondiff(input, lambda B, a: B.xp.asarray(a, copy=True))
    return nondiff(input, lambda B, a: B.xp.sign(a))


@op()
def isnan(input): return nondiff(input, lambda B, a: B.xp.isnan(a))
@op()
def isinf(input): return nondiff(input, lambda B, a: B.xp.isinf(a))
@op()
def isfinite(input): return nondiff(input, lambda B, a: B.xp.isfinite(a))


def _default_float():
    from ..tensor import _default_dtype
    return _default_dtype()
