"""Elementwise ops of one tensor (and the piecewise ones of two: maximum, minimum, where, clamp).

An integer or bool input of a floating function (exp, sin, ...) is computed in the default
float dtype, as in PyTorch. Rounding and sign are piecewise constant: zero gradient.
"""
from __future__ import annotations

import math

from backends import dtypes as _dt
from .. import graph as _graph
from ..grad_mode import grad_enabled
from ..graph import depends_on, eager_rule, primitive, saved_array
from ..tensor import Tensor, _wrap
from ._core import apply, as_tensor_like, binary, checked_scalar, floating, nondiff, pair, result_dtype, zero_scalar, \
    zeros_like_scalar
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


_TRACED = {}                # fn -> fn wrapped by autograd.compile.recorded (made on a first trace)


def traced_kernel(fn):
    """fn (of arrays and Python values, returning arrays) recorded as one step of the autograd.compile
    trace running now (autograd.compile.recorded): the tracing branch of a hot rule calls its eager
    array-level kernel this way, one replayed call instead of its composite's several ops."""
    k = _TRACED.get(fn)
    if k is None:
        from ..compile import recorded
        k = _TRACED[fn] = recorded(fn)
    return k


def _relu_grad(be, gd, od):
    """relu's rule on arrays (threshold_backward): g where out != 0, else +0 (as the eager rule)."""
    return be.masked(gd, be.xp.not_equal(od, zero_scalar(be, od.dtype)))


@primitive(save=("out",), warns=False)
class Relu:
    def forward(B, x): return B.xp.maximum(x, zero_scalar(B, x.dtype))
    # relu'(0) = 0 and relu'(nan) = 1, as PyTorch's threshold_backward (out <= 0 ? 0 : g); out is
    # 0, positive or nan, so out != 0 is that mask in one pass. Like torch's, the result depends on
    # `out` (with zero derivative), so the gradient can be differentiated again
    def backward(ctx, g):
        if eager_rule():                    # not recorded: threshold_backward on arrays, no Tensor in between
            od = saved_array(ctx, 0)
            be = g._backend
            return _wrap(be.masked(g._data, be.xp.not_equal(od, zero_scalar(be, od.dtype))), be)
        out = ctx.out
        if _graph.TRACER is not None and not grad_enabled():   # autograd.compile: one recorded kernel
            be = g._backend
            return _wrap(traced_kernel(_relu_grad)(be, g._data, out._data), be)
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
        xp = ctx.x._backend.xp              # xp calls, not operators: autograd.compile records them
        mask = None
        if lo is not None:                  # bounds are inclusive; compared in x's dtype, as forward
            mask = xp.greater_equal(x, xp.asarray(lo, dtype=x.dtype))
        if hi is not None:
            le = xp.less_equal(x, xp.asarray(hi, dtype=x.dtype))
            mask = le if mask is None else xp.logical_and(mask, le)
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


def where(condition, input=None, other=None):
    """condition ? input : other, elementwise (broadcast); scalars take the tensor's dtype.
    where(condition) alone is nonzero(condition, as_tuple=True), as in torch."""
    if input is None and other is None:
        from .scatter import nonzero
        return nonzero(condition, as_tuple=True)
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


# --- trigonometric, hyperbolic and their inverses; exp2, log2, log10 ----------------------------
# Rules as PyTorch's derivatives.yaml: each reads the input (or the output where torch does), and is
# written in differentiable ops so that it can be differentiated again.

_LN2, _LN10 = math.log(2.0), math.log(10.0)


@primitive(save=("out",))
class Tan:
    def forward(B, x): return B.xp.tan(x)
    def backward(ctx, g): return g * (1 + ctx.out * ctx.out)


@primitive(save=("x",))
class Sinh:
    def forward(B, x): return B.xp.sinh(x)
    def backward(ctx, g): return g * cosh(ctx.x)


@primitive(save=("x",))
class Cosh:
    def forward(B, x): return B.xp.cosh(x)
    def backward(ctx, g): return g * sinh(ctx.x)


@primitive(save=("x",))
class Asin:
    def forward(B, x): return B.xp.asin(x)
    def backward(ctx, g): return g * rsqrt(1 - ctx.x * ctx.x)


@primitive(save=("x",))
class Acos:
    def forward(B, x): return B.xp.acos(x)
    def backward(ctx, g): return -g * rsqrt(1 - ctx.x * ctx.x)


@primitive(save=("x",))
class Atan:
    def forward(B, x): return B.xp.atan(x)
    def backward(ctx, g): return g / (ctx.x * ctx.x + 1)


@primitive(save=("x",))
class Asinh:
    def forward(B, x): return B.xp.asinh(x)
    def backward(ctx, g): return g * rsqrt(ctx.x * ctx.x + 1)


@primitive(save=("x",))
class Acosh:
    def forward(B, x): return B.xp.acosh(x)
    def backward(ctx, g): return g * rsqrt(ctx.x * ctx.x - 1)


@primitive(save=("x",))
class Atanh:
    def forward(B, x): return B.xp.atanh(x)
    def backward(ctx, g): return g / (1 - ctx.x * ctx.x)


@primitive(save=("out",))
class Exp2:
    def forward(B, x): return B.xp.pow(B.xp.asarray(2.0, dtype=x.dtype), x)
    def backward(ctx, g): return g * (ctx.out * _LN2)


@primitive(save=("x",))
class Log2:
    def forward(B, x): return B.xp.log2(x)
    def backward(ctx, g): return g / (ctx.x * _LN2)


@primitive(save=("x",))
class Log10:
    def forward(B, x): return B.xp.log10(x)
    def backward(ctx, g): return g / (ctx.x * _LN10)


tan = op(inplace=True)(_floating_unary(Tan, "tan"))
sinh = op(inplace=True)(_floating_unary(Sinh, "sinh"))
cosh = op(inplace=True)(_floating_unary(Cosh, "cosh"))
asin = op(inplace=True, aliases=("arcsin",))(_floating_unary(Asin, "asin"))
acos = op(inplace=True, aliases=("arccos",))(_floating_unary(Acos, "acos"))
atan = op(inplace=True, aliases=("arctan",))(_floating_unary(Atan, "atan"))
asinh = op(inplace=True, aliases=("arcsinh",))(_floating_unary(Asinh, "asinh"))
acosh = op(inplace=True, aliases=("arccosh",))(_floating_unary(Acosh, "acosh"))
atanh = op(inplace=True, aliases=("arctanh",))(_floating_unary(Atanh, "atanh"))
exp2 = op(inplace=True)(_floating_unary(Exp2, "exp2"))
log2 = op(inplace=True)(_floating_unary(Log2, "log2"))
log10 = op(inplace=True)(_floating_unary(Log10, "log10"))


@op(inplace=True)
def sinc(input):
    """sin(pi x) / (pi x), 1 at 0 (torch.sinc). Composed: the rule is the quotient's, and at 0 the
    selected constant gives 0, as torch's masked formula does."""
    x = floating(input)
    if x.dtype is _dt.float16:             # pi x overflows float16: computed in float32, as torch's kernel
        return sinc(x.to(_dt.float32)).to(_dt.float16)
    zero = x == 0
    safe = where(zero, 1.0, x)
    px = safe * math.pi
    return where(zero, 1.0, sin(px) / px)


@op(inplace=True)
def frac(input):
    """x - trunc(x), with the dividend's sign (torch.frac); the gradient passes through."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"frac: not implemented for {input.dtype.name} tensors (shape "
                                  f"{tuple(input.shape)}); torch's kernel takes floating point input only")
    return input - trunc(input)


@op(inplace=True)
def sgn(input):
    """sign for real tensors (torch.sgn is sign extended to complex numbers, which are not supported)."""
    return sign(input)


@op()
def signbit(input):
    """True where the sign bit is set: -0.0 and -nan included (torch.signbit)."""
    if input.dtype.is_floating_point:
        return nondiff(input, lambda B, a: B.xp.signbit(a))
    if input.dtype is _dt.bool_:
        return nondiff(input, lambda B, a: B.xp.zeros(a.shape, dtype=B.native_dtype(_dt.bool_)))
    return nondiff(input, lambda B, a: a < 0)


@op()
def isposinf(input): return _inf_test(input, math.inf)
@op()
def isneginf(input): return _inf_test(input, -math.inf)


def _inf_test(x, v):
    if x.dtype.is_floating_point:
        return nondiff(x, lambda B, a: a == v)
    return nondiff(x, lambda B, a: B.xp.zeros(a.shape, dtype=B.native_dtype(_dt.bool_)))


@op()
def isreal(input):
    """True everywhere: there are no complex tensors."""
    return nondiff(input, lambda B, a: B.xp.ones(a.shape, dtype=B.native_dtype(_dt.bool_)))


@primitive(save=("x",))
class NanToNum:
    def forward(B, x, nan, posinf, neginf):
        xp = B.xp
        c = lambda v: xp.asarray(v, dtype=x.dtype)     # noqa: E731
        return xp.where(xp.isnan(x), c(nan), xp.where(x == math.inf, c(posinf),
                                                      xp.where(x == -math.inf, c(neginf), x)))

    # torch: grad * isfinite(self), as a select so that an inf gradient stays out of replaced elements
    def backward(ctx, g): return masked(g, ctx.x._backend.xp.isfinite(ctx.x._data))


@op(inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan, +inf and -inf replaced by `nan`, `posinf` (default: the dtype's largest value) and
    `neginf` (its lowest). Integer and bool tensors hold none of them: returned as a copy."""
    if not input.dtype.is_floating_point:
        return nondiff(input, lambda B, a: B.xp.asarray(a, copy=True))
    dt = input.dtype
    posinf = dt.max if posinf is None else float(posinf)
    neginf = dt.min if neginf is None else float(neginf)
    return apply(NanToNum, (input,), float(nan), posinf, neginf)


@primitive(save=("x",))
class Logit:
    """log(x / (1 - x)), x clamped to [eps, 1 - eps] first when eps is given. The rule is torch's
    logit_backward: without eps nan outside [0, 1]; with eps 0 outside [eps, 1 - eps]."""
    def forward(B, x, eps):
        xp = B.xp
        if eps is not None:
            x = xp.clip(x, xp.asarray(eps, dtype=x.dtype), xp.asarray(1 - eps, dtype=x.dtype))
        return xp.log(x / (1 - x))

    def backward(ctx, g):
        x, eps = ctx.x, ctx.eps
        d = g / (x * (1 - x) + 0.0)            # + 0.0: at x = -0 the denominator is +0, as torch's
        xa = x._data
        if eps is None:
            return where(_wrap((xa < 0) | (xa > 1), x._backend), math.nan, d)
        return masked(d, ~((xa < eps) | (xa > 1 - eps)))      # nan stays in: torch's rule gives nan


@op(inplace=True)
def logit(input, eps=None):
    if eps is not None and eps < 0:
        eps = None                              # torch: a negative eps means none
    return apply(Logit, (floating(input),), None if eps is None else float(eps))


@op(inplace=True)
def clamp_min(input, min):
    return clamp(input, min=min)


@op(inplace=True)
def clamp_max(input, max):
    return clamp(input, max=max)


@op(inplace=True)
def deg2rad(input):
    return floating(input) * (math.pi / 180)


@op(inplace=True)
def rad2deg(input):
    return floating(input) * (180 / math.pi)


@op()
def positive(input):
    """input itself (torch.positive); refused for bool, as torch's unary +."""
    if input.dtype is _dt.bool_:
        raise RuntimeError(f"positive: The `+` operator, on a bool tensor is not supported (shape {tuple(input.shape)})")
    return input
