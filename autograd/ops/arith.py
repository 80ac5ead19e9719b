"""Arithmetic: + - * / ** // % and negation, with PyTorch's type promotion, plus comparisons and
logical/bitwise operators (not differentiable).

PyTorch's integer semantics are kept where NumPy's differ: integer division by zero raises,
integer powers with negative exponents follow C++'s `powi` (2 ** -1 == 0), Python ints wrap
around to small integer dtypes (`_core.wrap_int`). Floor division and remainder of floats follow
Python's algorithm (`1.0 // 0.1 == 9`), as both libraries do.
"""
from __future__ import annotations

import builtins
import math

from backends import dtypes as _dt
from ..graph import primitive
from ..tensor import Tensor, _wrap, _default_dtype
from ._core import Float32Math, apply, binary, checked_scalar, in_float32, is_scalar, nondiff, pair, result_dtype
from . import _core
from ._registry import op


@primitive(broadcast=True)
class Add:
    def forward(B, a, b): return a + b
    def backward(ctx, g): return g, g


@primitive(broadcast=True)
class Sub:
    def forward(B, a, b): return a - b
    def backward(ctx, g): return g, -g


@primitive(save=("a", "b"), save_if={"a": 1, "b": 0}, broadcast=True)
class Mul:
    def forward(B, a, b): return a * b

    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return g * ctx.b if need_a else None, g * ctx.a if need_b else None


@primitive(save=("a", "b"), save_if={"a": 1}, broadcast=True)
class Div:
    def forward(B, a, b): return a / b

    def backward(ctx, g):
        b = ctx.b
        ga = g / b
        return (ga if ctx.needs_input_grad[0] else None), (-ga * ctx.a / b if ctx.needs_input_grad[1] else None)


@primitive()
class Neg:
    def forward(B, x): return -x
    def backward(ctx, g): return -g


@primitive(save=("x",))
class PowScalar:
    """x ** c for a Python number c."""
    def forward(B, x, c): return x ** c

    def backward(ctx, g):
        c = ctx.c
        if c == 0:                                  # PyTorch: zeros, even where x ** -1 is inf
            return _zeros(g)
        return g * (c * ctx.x ** (c - 1))


@primitive(save=("a", "b", "out"), broadcast=True)
class Pow:
    def forward(B, a, b): return B.xp.pow(a, b)

    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:      # 0 where b == 0 (PyTorch), not 0 * a ** -1, which is NaN at a == 0
            ga = where(b == 0, 0.0, g * b * a ** (b - 1))
        if need_b:
            # d/db a**b = a**b log a, taken as 0 where a == 0 and b >= 0 (PyTorch's convention)
            zero_base = (a == 0) & (b >= 0)
            gb = g * where(zero_base, 0.0, out * log(where(zero_base, 1.0, a)))
        return ga, gb


def _zeros(t):
    from ..factories import zeros_like
    return zeros_like(t)


def _scaled(input, other, alpha, name):
    """other * alpha for add/sub, with PyTorch's rules for alpha: no float alpha for an integer
    result, a bool alpha only for a bool one, alpha cast to the result's dtype."""
    dt = pair(input, other, name)[0].dtype
    if isinstance(alpha, bool):
        if dt is not _dt.bool_:
            raise RuntimeError(f"{name}: Boolean alpha only supported for Boolean results (got {dt.name})")
    elif not isinstance(alpha, int) and not dt.is_floating_point:
        raise RuntimeError(f"{name}: For integral input tensors, argument alpha must not be a floating point "
                           f"number (got alpha={alpha} with {dt.name})")
    if dt is _dt.bool_:                     # bool + bool * alpha stays bool (and, not a Python int)
        alpha = bool(alpha)
        return (bool(other) and alpha) if is_scalar(other) else other * alpha
    return other * checked_scalar(alpha, dt, name)


@op()
def add(input, other, *, alpha=1):
    if type(alpha) is not int or alpha != 1:
        other = _scaled(input, other, alpha, "add")
    return binary(Add, input, other)


@op(inplace=True, aliases=("subtract",))
def sub(input, other, *, alpha=1):
    if type(alpha) is not int or alpha != 1:
        other = _scaled(input, other, alpha, "sub")
    return binary(Sub, input, other)


@op(inplace=True, aliases=("multiply",))
def mul(input, other):
    return binary(Mul, input, other)


@op(inplace=True, aliases=("divide", "true_divide"))
def div(input, other, *, rounding_mode=None):
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                             f"'{rounding_mode}'")
        return _rounding_div(input, other, rounding_mode)
    a, b = input, other
    if not isinstance(a, Tensor):           # s / t (Tensor.__rtruediv__): PyTorch computes reciprocal(t) * s
        return mul(_reciprocal(b), a)
    if isinstance(b, Tensor):
        if a._data.dtype != b._data.dtype:
            dt = result_dtype(a, b)
            if not dt.is_floating_point:     # each operand straight to float: never through uint8
                dt = _default_dtype()
            if dt is not _dt.float16:        # (float16 with a 0-d operand: pair computes it in float32)
                a, b = a.to(dt), b.to(dt)
        elif not a.dtype.is_floating_point:  # true division of integers gives the default float
            a, b = a.to(_default_dtype()), b.to(_default_dtype())
    elif not a.dtype.is_floating_point:
        a = a.to(_default_dtype())
        if isinstance(b, int):
            b = float(b)                      # not wrapped into a's integer dtype first
    try:
        a, b = pair(a, b, "div")
    except Float32Math:
        return in_float32(div, a, b)
    return apply(Div, (a, b))


@primitive(save=("out",))
class Reciprocal:
    """1 / x. Its rule reads the output, not x (PyTorch's), so `s / t` survives an in-place write
    into t before backward."""
    def forward(B, x): return 1.0 / x
    def backward(ctx, g): return g * -(ctx.out * ctx.out)


def _reciprocal(t):
    if not t.dtype.is_floating_point:
        t = t.to(_default_dtype())
    return apply(Reciprocal, (t,))


@op(inplace=True)
def reciprocal(input):
    """1 / input; integer and bool inputs give the default float dtype (1 / 0 is inf)."""
    return _reciprocal(input)


# --- floor division and remainder -----------------------------------------------------------

@primitive()
class RoundingDiv:
    """a / b rounded (floor: Python's floor division; trunc: toward zero). Piecewise constant:
    its gradient is zero (PyTorch's div(rounding_mode=...))."""
    def forward(B, a, b, mode):
        return B.xp.floor_divide(a, b) if mode == "floor" else B.xp.trunc(a / b)

    def backward(ctx, g):
        return tuple(_zeros(g) if n else None for n in ctx.needs_input_grad)


@primitive()
class FloorDivide:
    def forward(B, a, b): return B.xp.floor_divide(a, b)

    def backward(ctx, g):
        raise RuntimeError("floor_divide: derivative for floor_divide is not implemented (PyTorch defines "
                           "none; div(a, b, rounding_mode='floor') has a zero gradient)")


@primitive(save=("a", "b"))
class Remainder:
    """Python's modulo (the result takes the divisor's sign); a zero result keeps the dividend's
    sign, as C's fmod does and PyTorch does (-6.0 % 3 is -0.0)."""
    def forward(B, a, b):
        xp = B.xp
        r = xp.remainder(a, b)
        return xp.where(r == 0, xp.copysign(r, a), r)

    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return g if need_a else None, (-g * div(ctx.a, ctx.b, rounding_mode="floor") if need_b else None)


@primitive(save=("a", "b"))
class Fmod:
    """C's fmod: the remainder of truncated division, with the dividend's sign. The array API has no
    fmod; for positive operands Python's modulo is fmod exactly, so fmod(a, b) is
    copysign(|a| mod |b|, a)."""
    def forward(B, a, b):
        xp = B.xp
        return xp.copysign(xp.remainder(xp.abs(a), xp.abs(b)), a)

    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return g if need_a else None, (-g * div(ctx.a, ctx.b, rounding_mode="trunc") if need_b else None)


def _int_operands(input, other, name):
    """pair() for the integer-aware division family: bool refused (PyTorch has no kernel), integer
    division by zero raises as PyTorch's does."""
    a, b = pair(input, other, name)         # (name is never "div": a float16 // scalar stays float16)
    if a.dtype is _dt.bool_:
        raise NotImplementedError(f"{name}: not implemented for bool tensors (shapes {tuple(a.shape)} and "
                                  f"{tuple(b.shape)})")
    if not a.dtype.is_floating_point:
        xp = b._backend.xp
        if bool(xp.any(b._data == 0)):
            raise RuntimeError(f"{name}: ZeroDivisionError (integer division by zero, {a.dtype.name} "
                               f"tensors of shapes {tuple(a.shape)} and {tuple(b.shape)})")
    return a, b


def _rounding_div(input, other, mode):
    a, b = _int_operands(input, other, f"div(rounding_mode='{mode}')")
    if not a.dtype.is_floating_point:      # integers stay integers, computed exactly
        return nondiff(a, lambda B, x: _int_div(B, x, b._data, mode))
    return apply(RoundingDiv, (a, b), mode)


def _int_div(B, x, y, rounding_mode):
    q = B.xp.floor_divide(x, y)
    if rounding_mode == "trunc":                  # floor rounds down; trunc rounds toward zero
        q = q + B.xp.astype((q * y != x) & ((x < 0) != (y < 0)), q.dtype)
    return q


@op(inplace=True)
def floor_divide(input, other):
    a, b = _int_operands(input, other, "floor_divide")
    if not a.dtype.is_floating_point:
        return nondiff(a, lambda B, x: B.xp.floor_divide(x, b._data))
    return apply(FloorDivide, (a, b))


@op(inplace=True)
def remainder(input, other):
    """Python's modulo: the result takes the divisor's sign (PyTorch's remainder, `%`)."""
    a, b = _int_operands(input, other, "remainder")
    if not a.dtype.is_floating_point:
        return nondiff(a, lambda B, x: B.xp.remainder(x, b._data))
    return apply(Remainder, (a, b))


@op(inplace=True)
def fmod(input, other):
    """C's fmod: the remainder of truncated division; the result takes the dividend's sign."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod: input must be a Tensor, got {type(input).__name__}")
    a, b = _int_operands(input, other, "fmod")
    if not a.dtype.is_floating_point:
        def f(B, x):
            xp = B.xp
            r = xp.remainder(x, b._data)            # exact for integers: r - b cannot overflow
            return xp.where((r != 0) & ((r < 0) != (x < 0)), r - b._data, r)
        return nondiff(a, f)
    return apply(Fmod, (a, b))


@op(inplace=True, aliases=("negative",))
def neg(input):
    return apply(Neg, (input,))


# --- powers ------------------------------------------------------------------------------------

def _int_pow(B, a, b):
    """a ** b for integer arrays as PyTorch's powi: for b < 0, 1 ** b == 1, (-1) ** b == +-1, else 0."""
    xp = B.xp
    neg = b < 0
    r = xp.pow(a, xp.where(neg, xp.zeros_like(b), b))
    if not bool(xp.any(neg)):
        return r
    r = xp.broadcast_arrays(r, neg)[0]
    one, zero = xp.ones_like(r), xp.zeros_like(r)
    odd = (b % 2) != 0
    special = xp.where(a == 1, one, xp.where(a == -1, xp.where(odd, -one, one), zero))
    return xp.where(neg, special, r)


@op()
def pow(input, exponent):
    a, b = input, exponent
    if isinstance(a, Tensor) and is_scalar(b):
        if hasattr(b, "item") and not isinstance(b, (int, float)):
            b = b.item()                             # a NumPy scalar
        dt = a.dtype
        if isinstance(b, bool):
            if dt is not _dt.bool_:
                b = int(b)
            else:                                    # bool ** bool: x ** True is x, x ** False is True
                return a.clone() if b else nondiff(a, lambda B, x: B.xp.ones_like(x))
        if isinstance(b, float):
            if not dt.is_floating_point:
                a = a.to(_default_dtype())
            return apply(PowScalar, (a,), b)
        if dt.is_floating_point:
            return apply(PowScalar, (a,), b)
        if dt is _dt.bool_:
            a, dt = a.to(_dt.int64), _dt.int64
        if b < 0:
            raise RuntimeError(f"pow: Integers to negative integer powers are not allowed ({dt.name} tensor "
                               f"of shape {tuple(a.shape)} ** {b})")
        checked_scalar(b, dt, "pow")               # torch's overflow check (b >= 0 here)
        return nondiff(a, lambda B, x: x ** b)
    if not isinstance(b, Tensor) and not isinstance(a, Tensor):
        raise TypeError(f"pow: expected a Tensor operand, got {type(a).__name__} and {type(b).__name__}")
    a, b = pair(a, b, "pow")                        # c ** t: c is wrapped like any scalar operand
    if not a.dtype.is_floating_point:
        if a.dtype is _dt.bool_:
            raise NotImplementedError(f"pow: not implemented for bool tensors (shapes {tuple(a.shape)} and "
                                      f"{tuple(b.shape)})")
        bd = b._data
        return nondiff(a, lambda B, x: _int_pow(B, x, bd))
    return apply(Pow, (a, b))


# --- comparisons and logical operators (not differentiable) -------------------------------------

_CMP = {"eq": lambda x, y: x == y, "ne": lambda x, y: x != y, "lt": lambda x, y: x < y,
        "le": lambda x, y: x <= y, "gt": lambda x, y: x > y, "ge": lambda x, y: x >= y}


def compare(a, b, name):
    a, b = pair(a, b, name)
    be = a._backend
    out = be.asarray(_compare_arrays(a._data, b._data, name, be))
    if _core.TRACER is not None:          # autograd.compile is tracing: it records the comparison
        _core.TRACER.kernel(_compare_arrays, (a, b), (name, be), out)
    return _wrap(out, be)


def _compare_arrays(x, y, name, be):
    try:
        return _CMP[name](x, y)
    except TypeError:
        if be.dtype_of(x) is not _dt.bool_:      # bool < bool: array_api_strict orders integers only
            raise
        u8 = be.native_dtype(_dt.uint8)
        return _CMP[name](be.xp.astype(x, u8), be.xp.astype(y, u8))


@op(inplace=True)
def eq(input, other): return compare(input, other, "eq")
@op(inplace=True)
def ne(input, other): return compare(input, other, "ne")
@op(inplace=True)
def lt(input, other): return compare(input, other, "lt")
@op(inplace=True)
def le(input, other): return compare(input, other, "le")
@op(inplace=True)
def gt(input, other): return compare(input, other, "gt")
@op(inplace=True)
def ge(input, other): return compare(input, other, "ge")


_LOGICAL = {"and": "logical_and", "or": "logical_or", "xor": "logical_xor"}
_BITWISE = {"and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor"}


def logical(a, b, name):
    """&, |, ^: logical on bool tensors, bitwise on integers (promoted), refused on floats."""
    a, b = pair(a, b, name)
    if a.dtype.is_floating_point:
        raise NotImplementedError(f"{_BITWISE[name]}: not implemented for floating point tensors "
                                  f"({a.dtype.name}, shapes {tuple(a.shape)} and {tuple(b.shape)}); "
                                  f"only integer and bool tensors")
    xp = a._backend.xp
    f = getattr(xp, _LOGICAL[name] if a.dtype is _dt.bool_ else _BITWISE[name])
    return _wrap(a._backend.asarray(f(a._data, b._data)), a._backend)


@op(inplace=True)
def bitwise_and(input, other): return logical(input, other, "and")
@op(inplace=True)
def bitwise_or(input, other): return logical(input, other, "or")
@op(inplace=True)
def bitwise_xor(input, other): return logical(input, other, "xor")


def _logical2(input, other, name):
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"logical_{name}: expected two Tensors, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    a, b = input.to(_dt.bool_), other.to(_dt.bool_)
    if a._backend is not b._backend:
        raise RuntimeError(f"logical_{name}: expected all tensors on the same device, but found {a.device} and "
                           f"{b.device}")
    f = getattr(a._backend.xp, _LOGICAL[name])
    return _wrap(a._backend.asarray(f(a._data, b._data)), a._backend)


@op(inplace=True)
def logical_and(input, other): return _logical2(input, other, "and")
@op(inplace=True)
def logical_or(input, other): return _logical2(input, other, "or")
@op(inplace=True)
def logical_xor(input, other): return _logical2(input, other, "xor")


@op(inplace=True)
def logical_not(input):
    if input.dtype is not _dt.bool_:               # torch: nonzero is true, for any dtype
        input = compare(input, 0, "ne")
    return nondiff(input, lambda B, a: B.xp.logical_not(a))


@op(inplace=True)
def bitwise_not(input):
    if input.dtype is _dt.bool_:
        return logical_not(input)
    if input.dtype.is_floating_point:
        raise TypeError(f"bitwise_not: ~ is only defined for integer and bool tensors, got {input.dtype.name}")
    return nondiff(input, lambda B, a: B.xp.bitwise_invert(a))


# --- two-argument floating functions: atan2, hypot, copysign, xlogy, logaddexp, lerp, addcmul ------

def _float_pair(input, other, name):
    """pair(), then the default float dtype for an integer or bool result (torch's rule for atan2,
    copysign, xlogy: floating functions of two numbers)."""
    a, b = input, other
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        if not result_dtype(a, b).is_floating_point:    # each straight to float: never through uint8
            return a.to(_default_dtype()), b.to(_default_dtype())
    elif ta and not a.dtype.is_floating_point:
        a = a.to(_default_dtype())
    elif tb and not b.dtype.is_floating_point:
        b = b.to(_default_dtype())
    a, b = pair(a, b, name)
    if not a.dtype.is_floating_point:                   # a bool tensor and a bool scalar
        a, b = a.to(_default_dtype()), b.to(_default_dtype())
    return a, b


def _both_tensors(input, other, name):
    for i, t in ((1, input), (2, other)):
        if not isinstance(t, Tensor):
            arg = "input" if i == 1 else "other"
            raise TypeError(f"{name}(): argument '{arg}' (position {i}) must be Tensor, not {type(t).__name__}")


def _floats_only(a, name):
    if not a.dtype.is_floating_point:
        raise NotImplementedError(f"{name}: not implemented for {a.dtype.name} tensors (shape {tuple(a.shape)}); "
                                  f"torch's kernel takes floating point input only")


@primitive(save=("a", "b"), broadcast=True)
class Atan2:
    def forward(B, a, b): return B.xp.atan2(a, b)

    def backward(ctx, g):
        # torch's atan2_backward, with 0 (not 0 * inf) where a = b = 0
        a, b = ctx.a, ctx.b
        r2 = a * a + b * b
        recip = where(r2 == 0, 0.0, 1 / where(r2 == 0, 1.0, r2))
        need_a, need_b = ctx.needs_input_grad
        return g * b * recip if need_a else None, g * -a * recip if need_b else None


@op(inplace=True, aliases=("arctan2",))
def atan2(input, other):
    _both_tensors(input, other, "atan2")
    return apply(Atan2, _float_pair(input, other, "atan2"))


@primitive(save=("a", "b", "out"), broadcast=True)
class Hypot:
    def forward(B, a, b): return B.xp.hypot(a, b)

    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        out = ctx.out
        return g * ctx.a / out if need_a else None, g * ctx.b / out if need_b else None


@op(inplace=True)
def hypot(input, other):
    _both_tensors(input, other, "hypot")
    a, b = pair(input, other, "hypot")
    _floats_only(a, "hypot")
    return apply(Hypot, (a, b))


@primitive(save=("a", "out"), broadcast=True)
class Copysign:
    def forward(B, a, b): return B.xp.copysign(a, b)

    def backward(ctx, g):
        # torch: grad * (result / self), 0 where self == 0; the sign source gets a zero gradient
        a, out = ctx.a, ctx.out
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:
            z = a._data == 0
            ratio = out / where(_wrap(z, a._backend), 1.0, a)
            ga = masked(g * ratio, ~z)
        if need_b:
            gb = _zero_grad(g)
        return ga, gb


@op(inplace=True)
def copysign(input, other):
    return apply(Copysign, _float_pair(input, other, "copysign"))


@primitive(save=("a", "b"), broadcast=True)
class Xlogy:
    """x * log(y), 0 where x == 0 unless y is nan (torch.xlogy); with `log1p`, x * log1p(y)
    (torch.special.xlog1py)."""
    def forward(B, a, b, log1p):
        xp = B.xp
        r = a * (xp.log1p(b) if log1p else xp.log(b))
        return xp.where((a == 0) & ~xp.isnan(b), xp.zeros((), dtype=r.dtype), r)

    def backward(ctx, g):
        a, b, l1p = ctx.a, ctx.b, ctx.log1p
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:       # torch: xlogy(grad, other), 0 where self == 0 and other <= 0 (-1 for log1p)
            ad, bd = a._data, b._data
            ga = masked(apply(Xlogy, (g, b), l1p), ~((ad == 0) & (bd <= (-1 if l1p else 0))))
        if need_b:
            gb = g * a / (b + 1 if l1p else b)
        return ga, gb


@op(inplace=True)
def xlogy(input, other):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"xlogy(): expected a Tensor argument, got {type(input).__name__} and {type(other).__name__}")
    return apply(Xlogy, _float_pair(input, other, "xlogy"), False)


@primitive(save=("a", "b"), broadcast=True)
class LogAddExp:
    """log(exp(a) + exp(b)) (base 2 with `base2`), as torch's kernel: max + log1p(exp(-|a - b|)),
    and a itself where a and b are the same infinity."""
    def forward(B, a, b, base2):
        xp = B.xp
        m = xp.maximum(a, b)
        d = -xp.abs(a - b)
        if base2:
            r = m + xp.log1p(xp.pow(xp.asarray(2.0, dtype=a.dtype), d)) * (1 / _LN2)
        else:
            r = m + xp.log1p(xp.exp(d))
        return xp.where(xp.isinf(a) & (a == b), a, r)

    def backward(ctx, g):
        # torch: grad / (1 + exp(other - self)) and grad / (1 + exp(self - other)) (2 ** for base 2)
        a, b = ctx.a, ctx.b
        e = (lambda t: 2.0 ** t) if ctx.base2 else exp
        need_a, need_b = ctx.needs_input_grad
        return g / (1 + e(b - a)) if need_a else None, g / (1 + e(a - b)) if need_b else None


def _logaddexp(input, other, name, base2):
    _both_tensors(input, other, name)
    a, b = pair(input, other, name)
    _floats_only(a, name)
    return apply(LogAddExp, (a, b), base2)


@op()
def logaddexp(input, other):
    return _logaddexp(input, other, "logaddexp", False)


@op()
def logaddexp2(input, other):
    return _logaddexp(input, other, "logaddexp2", True)


_LN2 = math.log(2.0)


@op(inplace=True)
def lerp(input, end, weight):
    """input + weight * (end - input), as torch's kernel: from the nearer end (end - (end - input)
    * (1 - weight) where |weight| >= 0.5), so that lerp(a, b, 1) is b exactly. input, end and a
    tensor weight must share a dtype (a 0-d weight may differ, as in torch)."""
    _both_tensors(input, end, "lerp")
    _floats_only(input, "lerp")
    if end.dtype is not input.dtype:
        raise RuntimeError(f"lerp: expected dtype {input.dtype.name} for `end` but got dtype {end.dtype.name}")
    diff = end - input
    if isinstance(weight, Tensor):
        if weight.dtype is not input.dtype:
            if weight.ndim:
                raise RuntimeError(f"lerp: expected dtype {input.dtype.name} for `weight` but got dtype "
                                   f"{weight.dtype.name}")
            weight = weight.to(input.dtype)
        small = abs(weight) < 0.5
        return where(small, input + weight * diff, end - diff * (1 - weight))
    if not is_scalar(weight):
        raise TypeError(f"lerp(): argument 'weight' must be a Tensor or a number, not {type(weight).__name__}")
    w = float(weight)
    return input + w * diff if builtins.abs(w) < 0.5 else end - diff * (1 - w)


def _value_for(value, dt):
    """addcmul/addcdiv's `value`, converted to the result's dtype as torch does (truncated for
    integer results)."""
    if isinstance(value, Tensor):
        value = value.item()
    if not dt.is_floating_point and not isinstance(value, bool):
        value = int(value)
    return value


def _three(input, t1, t2, name):
    for i, t in enumerate((input, t1, t2)):
        if not isinstance(t, Tensor):
            arg = ("input", "tensor1", "tensor2")[i]
            raise TypeError(f"{name}(): argument '{arg}' (position {i + 1}) must be Tensor, not {type(t).__name__}")
    from .shape import broadcast_shapes
    try:
        broadcast_shapes(tuple(input.shape), tuple(t1.shape), tuple(t2.shape))
    except RuntimeError as e:
        raise RuntimeError(f"{name}: {e}") from None
    dt = result_dtype(input, t1, t2)
    if dt is _dt.bool_:
        raise NotImplementedError(f"{name}: not implemented for bool tensors")
    return dt


@op(inplace=True)
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2, in the common dtype of the three."""
    dt = _three(input, tensor1, tensor2, "addcmul")
    value = _value_for(value, dt)
    t1 = tensor1.to(dt)
    if not (type(value) is int and value == 1):
        t1 = t1 * value
    return input.to(dt) + t1 * tensor2.to(dt)


@op(inplace=True)
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2, in the common dtype of the three; integer tensor1 and
    tensor2 are refused (torch no longer divides integers here)."""
    dt = _three(input, tensor1, tensor2, "addcdiv")
    if not tensor1.dtype.is_floating_point and not tensor2.dtype.is_floating_point:
        raise RuntimeError("addcdiv: Integer division with addcdiv is no longer supported, and in a future release "
                           "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
                           "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))."
                           f"to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
                           f"float inputs. (got {tensor1.dtype.name} and {tensor2.dtype.name})")
    value = _value_for(value, dt)
    t1 = tensor1.to(dt)
    if not (type(value) is int and value == 1):
        t1 = t1 * value
    return input.to(dt) + t1 / tensor2.to(dt)


# --- shifts ------------------------------------------------------------------------------------

def _shift(input, other, left, name):
    """<< and >> as torch: a shift by a negative count or by the type's width or more gives 0
    (>> of a negative number: -1), where C (and the array API) leave it undefined."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}: expected a Tensor operand")
    a, b = pair(input, other, name)
    if a.dtype.is_floating_point or a.dtype is _dt.bool_:
        raise NotImplementedError(f"{name}: not implemented for {a.dtype.name} tensors (shapes {tuple(a.shape)} "
                                  f"and {tuple(b.shape)}); only integer tensors")
    bits = a.dtype.itemsize * 8
    bd = b._data

    def f(B, x):
        xp = B.xp
        ok = (bd >= 0) & (bd < bits)
        s = xp.where(ok, bd, xp.zeros((), dtype=bd.dtype))
        zero = xp.zeros((), dtype=x.dtype)
        if left:
            return xp.where(ok, xp.bitwise_left_shift(x, s), zero)
        fill = xp.where(x < 0, xp.asarray(-1, dtype=x.dtype), zero) if a.dtype.is_signed else zero
        return xp.where(ok, xp.bitwise_right_shift(x, s), fill)
    return nondiff(a, f)


@op(inplace=True)
def bitwise_left_shift(input, other): return _shift(input, other, True, "bitwise_left_shift")
@op(inplace=True)
def bitwise_right_shift(input, other): return _shift(input, other, False, "bitwise_right_shift")


# --- float_power, ldexp, fmax/fmin, heaviside, nextafter, gcd/lcm ------------------------------------

@op()
def float_power(input, exponent):
    """input ** exponent in float64 whatever the operands' dtypes (torch.float_power; no complex
    numbers). torch's in-place float_power_ needs a float64 tensor: not provided."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power: expected at least one Tensor argument")
    a = input.to(_dt.float64) if isinstance(input, Tensor) else float(input)
    b = exponent.to(_dt.float64) if isinstance(exponent, Tensor) else float(exponent)
    return pow(a, b)


@op(inplace=True)
def ldexp(input, other):
    """input * 2 ** other (torch.ldexp: a float result, differentiable in both)."""
    _both_tensors(input, other, "ldexp")
    x = input if input.dtype.is_floating_point else input.to(_default_dtype())
    e = other if other.dtype.is_floating_point else other.to(x.dtype)
    return x * (2.0 ** e)


@primitive(save=("a", "b"), broadcast=True)
class Fmax:
    """max ignoring nan (nan only where both are); the gradient goes to the chosen operand,
    to input on ties (torch's fmax/fmin rule)."""
    def forward(B, a, b, is_max):
        xp = B.xp
        r = xp.maximum(a, b) if is_max else xp.minimum(a, b)
        return xp.where(xp.isnan(a), b, xp.where(xp.isnan(b), a, r))

    def backward(ctx, g):
        a, b = ctx.a._data, ctx.b._data
        xp = ctx.a._backend.xp
        takes_a = ((a >= b) if ctx.is_max else (a <= b)) | xp.isnan(b)
        need_a, need_b = ctx.needs_input_grad
        return masked(g, takes_a) if need_a else None, masked(g, ~takes_a) if need_b else None


def _fminmax(input, other, is_max, name):
    _both_tensors(input, other, name)
    a, b = pair(input, other, name)
    if a.dtype is _dt.bool_ or not a.dtype.is_floating_point:
        xp = a._backend.xp
        bd = b._data
        f = xp.maximum if is_max else xp.minimum
        if a.dtype is _dt.bool_:
            return logical(a, b, "or" if is_max else "and")
        return nondiff(a, lambda B, x: f(x, bd))
    return apply(Fmax, (a, b), is_max)


@op()
def fmax(input, other): return _fminmax(input, other, True, "fmax")
@op()
def fmin(input, other): return _fminmax(input, other, False, "fmin")


@op(inplace=True)
def heaviside(input, values):
    """0 where input < 0, values where input == 0, 1 where input > 0 (nan gives 0, as torch). Not
    differentiable (torch defines no derivative); input and values must share a dtype."""
    _both_tensors(input, values, "heaviside")
    if input.dtype is not values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes ({input.dtype.name} "
                           f"and {values.dtype.name})")
    a, v = pair(input, values, "heaviside")
    vd = v._data

    def f(B, x):
        xp = B.xp
        one = xp.ones((), dtype=x.dtype)
        zero = xp.zeros((), dtype=x.dtype)
        return xp.where(x == 0, vd, xp.where(x > 0, one, zero)) if x.dtype != B.native_dtype(_dt.bool_) else \
            xp.where(x, xp.ones_like(x), vd)
    return nondiff(a, f)


@op(inplace=True)
def nextafter(input, other):
    """The next float after input towards other (floating point only, not differentiable)."""
    _both_tensors(input, other, "nextafter")
    a, b = pair(input, other, "nextafter")
    _floats_only(a, "nextafter")
    bd = b._data
    return nondiff(a, lambda B, x: B.xp.nextafter(x, bd))


def _gcd_arrays(B, x, y):
    """Euclid's algorithm on whole arrays: a handful of masked steps (at most ~92 for int64)."""
    xp = B.xp
    x, y = xp.broadcast_arrays(xp.abs(x), xp.abs(y))
    zero = xp.zeros((), dtype=x.dtype)
    while bool(xp.any(y != 0)):
        nz = y != 0
        r = xp.where(nz, x % xp.where(nz, y, xp.ones((), dtype=y.dtype)), zero)
        x, y = xp.where(nz, y, x), r
    return x


def _int_pair(input, other, name):
    _both_tensors(input, other, name)
    a, b = pair(input, other, name)
    if a.dtype.is_floating_point or a.dtype is _dt.bool_:
        raise NotImplementedError(f"{name}: not implemented for {a.dtype.name} tensors (shapes {tuple(a.shape)} and "
                                  f"{tuple(b.shape)}); only integer tensors")
    return a, b


@op(inplace=True)
def gcd(input, other):
    a, b = _int_pair(input, other, "gcd")
    bd = b._data
    return nondiff(a, lambda B, x: _gcd_arrays(B, x, bd))


@op(inplace=True)
def lcm(input, other):
    a, b = _int_pair(input, other, "lcm")
    bd = b._data

    def f(B, x):
        xp = B.xp
        g = _gcd_arrays(B, x, bd)
        zero = xp.zeros((), dtype=g.dtype)
        safe = xp.where(g == 0, xp.ones((), dtype=g.dtype), g)
        return xp.where(g == 0, zero, xp.abs((x // safe) * bd))
    return nondiff(a, f)


from .unary import _zero_grad, exp, log, masked, where  # noqa: E402 - the rules above use them
