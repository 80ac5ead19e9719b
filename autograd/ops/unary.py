"""Elementwise ops of one tensor (and the piecewise ones of two: maximum, minimum, where, clamp).

An integer or bool input of a floating function (exp, sin, ...) is computed in the default
float dtype, as in PyTorch. Rounding and sign are piecewise constant: zero gradient.
"""
from __future__ import annotations

import math

from backends import dtypes as _dt
from ..graph import depends_on, primitive
from ..tensor import Tensor, _wrap
from ._core import apply, as_tensor_like, binary, checked_scalar, floating, nondiff, pair, result_dtype, zeros_like_scalar
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


@primitive(warns=False)
class Masked:
    """g where mask else 0, for a constant boolean mask: the gradient of every piecewise-linear op."""
    def forward(B, g, mask): return B.masked(g, mask)
    def backward(ctx, gg): return apply(Masked, (gg,), ctx.mask)


def masked(g, mask):
    return apply(Masked, (g,), mask._data if isinstance(mask, Tensor) else mask)


@primitive(save=("out",), warns=False)
class Relu:
    def forward(B, x): return B.xp.maximum(x, B.xp.zeros((), dtype=x.dtype))
    # relu'(0) = 0 and relu'(nan) = 1, as PyTorch's threshold_backward (out <= 0 ? 0 : g); out is
    # 0, positive or nan, so out != 0 is that mask in one pass. Like torch's, the result depends on
    # `out` (with zero derivative), so the gradient can be differentiated again
    def backward(ctx, g):
        out = ctx.out
        xp = out._backend.xp                # xp calls, not `!=`: autograd.compile records them
        return depends_on(masked(g, xp.not_equal(out._data, xp.zeros((), dtype=out._data.dtype))), out)


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


def _tie_split(ctx, g, a_loses, b_loses):
    """PyTorch's maximum/minimum rule, by selection (an inf gradient stays out of the losing side):
    ties share the gradient evenly, the loser gets 0, and where a NaN decides both get it all."""
    a, b = ctx.a._data, ctx.b._data
    eq = a == b
    t = where(_wrap(eq, g._backend), g * 0.5, g) if g._backend.xp.any(eq) else g
    need_a, need_b = ctx.needs_input_grad
    return (masked(t, ~a_loses(a, b)) if need_a else None,
            masked(t, ~b_loses(a, b)) if need_b else None)


@primitive(save=("a", "b"), broadcast=True)
class Maximum:
    def forward(B, a, b): return B.xp.maximum(a, b)
    def backward(ctx, g): return _tie_split(ctx, g, lambda a, b: a < b, lambda a, b: a > b)


@primitive(save=("a", "b"), broadcast=True)
class Minimum:
    def forward(B, a, b): return B.xp.minimum(a, b)
    def backward(ctx, g): return _tie_split(ctx, g, lambda a, b: a > b, lambda a, b: a < b)


@primitive(save=("x", "lo", "hi"))
class ClampT:
    """clamp with tensor bounds (broadcast): PyTorch's clamp_backward_min_max, by selection. With
    lo > hi every output is hi, so hi gets the gradient."""
    def forward(B, x, lo, hi): return B.xp.minimum(B.xp.maximum(x, lo), hi)

    def backward(ctx, g):
        x, lo, hi = ctx.x._data, ctx.lo._data, ctx.hi._data
        nx, nlo, nhi = ctx.needs_input_grad
        return (masked(g, (x >= lo) & (x <= hi)) if nx else None,
                masked(g, (x < lo) & (lo < hi)) if nlo else None,
                masked(g, (x > hi) | (hi < lo)) if nhi else None)


@primitive(save=("x", "bound"))
class ClampT1:
    """clamp with one tensor bound (is_max: the upper one)."""
    def forward(B, x, bound, is_max): return (B.xp.minimum if is_max else B.xp.maximum)(x, bound)

    def backward(ctx, g):
        x, b = ctx.x._data, ctx.bound._data
        nx, nb = ctx.needs_input_grad
        inside = (x <= b) if ctx.is_max else (x >= b)
        outside = (x > b) if ctx.is_max else (x < b)
        return masked(g, inside) if nx else None, masked(g, outside) if nb else None


@primitive(save=("cond",), broadcast=True)
class Where:
    def forward(B, cond, a, b): return B.xp.where(cond, a, b)

    def backward(ctx, g):
        c = ctx.cond
        zero = zeros_like_scalar(g)
        _, need_a, need_b = ctx.needs_input_grad
        return None, where(c, g, zero) if need_a else None, where(c, zero, g) if need_b else None


def _zero_grad(g):
    """A zero gradient of g's shape: zeros, not g * 0 (an inf gradient must not give nan)."""
    be = g._backend
    return _wrap(be.xp.zeros(g._data.shape, dtype=g._data.dtype), be)


@primitive()
class Round:
    """round / floor / ceil / trunc: piecewise constant, so the gradient is zero (as PyTorch)."""
    def forward(B, x, mode): return getattr(B.xp, mode)(x)
    def backward(ctx, g): return _zero_grad(g)


@primitive()
class Sign:
    """sign: -1, 0 or 1; sign(nan) = 0 and sign(-0.) = +0, as PyTorch. Gradient zero, recorded."""
    def forward(B, x):
        xp = B.xp
        one = xp.ones((), dtype=x.dtype)
        zero = xp.zeros((), dtype=x.dtype)
        return xp.where(x > 0, one, xp.where(x < 0, -one, zero))

    def backward(ctx, g): return _zero_grad(g)


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
    if input.dtype is _dt.bool_:
        raise NotImplementedError(f"abs: not implemented for bool tensors (shape {tuple(input.shape)})")
    return apply(Abs, (input,))


@op(inplace=True)
def rsqrt(input):
    return 1 / sqrt(input)


@op(inplace=True)
def square(input):
    if input.dtype.name == "bool":          # torch squares a bool tensor as int64
        input = input.long()
    return input * input


@op(inplace=True)
def relu(input):
    if input.dtype is _dt.bool_:
        raise RuntimeError(f"relu: Boolean inputs not supported for relu (shape {tuple(input.shape)})")
    return apply(Relu, (input,))


@op(inplace=True, aliases=("clip",))
def clamp(input, min=None, max=None):
    """min(max(input, min), max), with PyTorch's result dtype: the bounds take part in type
    promotion (an int tensor clamped at 0.5 is float). With min > max every element is max."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    x = input
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        bounds = [as_tensor_like(b, x, "clamp") for b in (min, max) if b is not None]
        dt = result_dtype(x, *bounds)
        x, bounds = x.to(dt), [b.to(dt) for b in bounds]
        if len(bounds) == 2:
            return apply(ClampT, (x, *bounds))
        return apply(ClampT1, (x, bounds[0]), min is None)
    dt = x.dtype
    for b in (min, max):
        if b is not None:
            cat = 2 if isinstance(b, float) else 0 if isinstance(b, bool) else 1
            if cat > dt.category:
                dt = _default_float() if cat == 2 else _dt.int64
    if dt is not x.dtype:
        x = x.to(dt)
    if min is not None:
        min = checked_scalar(min, dt, "clamp")
    if max is not None:
        max = checked_scalar(max, dt, "clamp")
    return apply(Clamp, (x,), min, max)


@op()
def maximum(input, other):
    _tensor_other(other, "maximum")
    return binary(Maximum, input, other)


def _tensor_other(other, name):
    if not isinstance(other, Tensor):          # torch takes no Python number here (clamp does)
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")


@op()
def minimum(input, other):
    _tensor_other(other, "minimum")
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


def _rounding(x, mode, decimals=0):
    """Integers are already whole: returned as they are (a copy), as PyTorch; bool is refused."""
    if x.dtype.is_floating_point:
        if decimals:
            return round(x * 10.0 ** decimals) / 10.0 ** decimals
        return apply(Round, (x,), mode)
    if x.dtype is _dt.bool_ or decimals:
        raise NotImplementedError(f"{mode}: not implemented for {x.dtype.name} tensors"
                                  + (" with decimals" if decimals else ""))
    return nondiff(x, lambda B, a: B.xp.asarray(a, copy=True))


@op(inplace=True)
def round(input, *, decimals=0): return _rounding(input, "round", decimals)
@op(inplace=True)
def floor(input): return _rounding(input, "floor")
@op(inplace=True)
def ceil(input): return _rounding(input, "ceil")
@op(inplace=True, aliases=("fix",))
def trunc(input): return _rounding(input, "trunc")


@op(inplace=True)
def sign(input):
    if input.dtype is _dt.bool_:
        return nondiff(input, lambda B, a: B.xp.asarray(a, copy=True))
    return apply(Sign, (input,))


@op()
def isnan(input): return _float_test(input, "isnan", False)
@op()
def isinf(input): return _float_test(input, "isinf", False)
@op()
def isfinite(input): return _float_test(input, "isfinite", True)


def _float_test(x, name, integer_answer):
    # integers and bools are never nan or inf (the array API only defines these for numbers)
    if x.dtype.is_floating_point:
        return nondiff(x, lambda B, a: getattr(B.xp, name)(a))
    return nondiff(x, lambda B, a: B.xp.full(a.shape, integer_answer, dtype=B.native_dtype(_dt.bool_)))


def _default_float():
    from ..tensor import _default_dtype
    return _default_dtype()
