"""Arithmetic: + - * / ** and negation, with PyTorch's type promotion, plus comparisons and
logical/bitwise operators (not differentiable)."""
from __future__ import annotations

import math

from backends import dtypes as _dt
from ..graph import primitive
from ..tensor import Tensor, _wrap, _default_dtype
from ._core import apply, binary, is_scalar, nondiff, pair
from ._registry import op


@primitive(broadcast=True)
class Add:
    def forward(B, a, b): return a + b
    def backward(ctx, g): return g, g


@primitive(broadcast=True)
class Sub:
    def forward(B, a, b): return a - b
    def backward(ctx, g): return g, -g


@primitive(save=("a", "b"), broadcast=True)
class Mul:
    def forward(B, a, b): return a * b

    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return g * ctx.b if need_a else None, g * ctx.a if need_b else None


@primitive(save=("a", "b"), broadcast=True)
class Div:
    def forward(B, a, b): return a / b

    def backward(ctx, g):
        b = ctx.b
        ga = g / b
        return ga, (-ga * ctx.a / b if ctx.needs_input_grad[1] else None)


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
        if c == 0:
            return g * 0
        return g * (c * ctx.x ** (c - 1))


@primitive(save=("a", "b", "out"), broadcast=True)
class Pow:
    def forward(B, a, b): return B.xp.pow(a, b)

    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:
            ga = g * b * a ** (b - 1)
        if need_b:
            # d/db a**b = a**b log a, taken as 0 where a == 0 and b >= 0 (PyTorch's convention)
            zero_base = (a == 0) & (b >= 0)
            gb = g * where(zero_base, 0.0, out * log(where(zero_base, 1.0, a)))
        return ga, gb


@op()
def add(input, other, *, alpha=1):
    if alpha != 1:
        other = other * alpha
    return binary(Add, input, other)


@op(aliases=("subtract",))
def sub(input, other, *, alpha=1):
    if alpha != 1:
        other = other * alpha
    return binary(Sub, input, other)


@op(aliases=("multiply",))
def mul(input, other):
    return binary(Mul, input, other)


@op(aliases=("divide", "true_divide"))
def div(input, other, *, rounding_mode=None):
    a, b = pair(input, other, "div")
    if rounding_mode is not None:
        if not a.dtype.is_floating_point:         # integer // stays integer (x / y is float, and refused by
            return nondiff(a, lambda B, x: _int_div(B, x, b._data, rounding_mode))   # array-API libraries)
        return nondiff(a, lambda B, x: (B.xp.floor if rounding_mode == "floor" else B.xp.trunc)(x / b._data))
    if not a.dtype.is_floating_point:     # true division of integers gives the default float
        a, b = a.to(_default_dtype()), b.to(_default_dtype())
    return apply(Div, (a, b))


def _int_div(B, x, y, rounding_mode):
    q = B.xp.floor_divide(x, y)
    if rounding_mode == "trunc":                  # floor rounds down; trunc rounds toward zero
        q = q + B.xp.astype((q * y != x) & ((x < 0) != (y < 0)), q.dtype)
    return q


@op(inplace=True, aliases=("negative",))
def neg(input):
    return apply(Neg, (input,))


@op()
def pow(input, exponent):
    a, b = input, exponent
    if isinstance(a, Tensor) and is_scalar(b) and not isinstance(b, bool):
        b = b.item() if hasattr(b, "item") else b
        if not a.dtype.is_floating_point and isinstance(b, float):
            a = a.to(_default_dtype())
        return apply(PowScalar, (a,), b)
    if is_scalar(a) and isinstance(b, Tensor):     # c ** x
        if not b.dtype.is_floating_point:
            b = b.to(_default_dtype())
        return (b * math.log(a)).exp() if a > 0 else binary(Pow, a, b)
    return binary(Pow, a, b)


@op()
def remainder(input, other):
    """Python's modulo: the result takes the divisor's sign."""
    return input - div(input, other, rounding_mode="floor") * other


# --- comparisons and logical operators (not differentiable)

_CMP = {"eq": lambda x, y: x == y, "ne": lambda x, y: x != y, "lt": lambda x, y: x < y,
        "le": lambda x, y: x <= y, "gt": lambda x, y: x > y, "ge": lambda x, y: x >= y}


def compare(a, b, name):
    a, b = pair(a, b, name)
    be = a._backend
    return _wrap(be.asarray(_CMP[name](a._data, b._data)), be)


@op()
def eq(input, other): return compare(input, other, "eq")
@op()
def ne(input, other): return compare(input, other, "ne")
@op()
def lt(input, other): return compare(input, other, "lt")
@op()
def le(input, other): return compare(input, other, "le")
@op()
def gt(input, other): return compare(input, other, "gt")
@op()
def ge(input, other): return compare(input, other, "ge")


def logical(a, b, name):
    a, b = pair(a, b, name)
    xp = a._backend.xp
    f = {"and": xp.logical_and, "or": xp.logical_or, "xor": xp.logical_xor}[name]
    if a.dtype.name != "bool":
        f = {"and": xp.bitwise_and, "or": xp.bitwise_or, "xor": xp.bitwise_xor}[name]
    return _wrap(a._backend.asarray(f(a._data, b._data)), a._backend)


@op()
def logical_not(input):
    return nondiff(input, lambda B, a: B.xp.logical_not(a))


@op()
def bitwise_not(input):
    if input.dtype is _dt.bool_:
        return logical_not(input)
    if input.dtype.is_floating_point:
        raise TypeError(f"bitwise_not: ~ is only defined for integer and bool tensors, got {input.dtype.name}")
    return nondiff(input, lambda B, a: B.xp.bitwise_invert(a))


from .unary import log, where  # noqa: E402 - the rules above use them
