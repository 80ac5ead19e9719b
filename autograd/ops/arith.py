"""Arithmetic: + - * / ** // % and negation, with PyTorch's type promotion, plus comparisons and
logical/bitwise operators (not differentiable).

PyTorch's integer semantics are kept where NumPy's differ: integer division by zero raises,
integer powers with negative exponents follow C++'s `powi` (2 ** -1 == 0), Python ints wrap
around to small integer dtypes (`_core.wrap_int`). Floor division and remainder of floats follow
Python's algorithm (`1.0 // 0.1 == 9`), as both libraries do.
"""
from __future__ import annotations

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


@op(aliases=("subtract",))
def sub(input, other, *, alpha=1):
    if type(alpha) is not int or alpha != 1:
        other = _scaled(input, other, alpha, "sub")
    return binary(Sub, input, other)


@op(aliases=("multiply",))
def mul(input, other):
    return binary(Mul, input, other)


@op(aliases=("divide", "true_divide"))
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


@op()
def floor_divide(input, other):
    a, b = _int_operands(input, other, "floor_divide")
    if not a.dtype.is_floating_point:
        return nondiff(a, lambda B, x: B.xp.floor_divide(x, b._data))
    return apply(FloorDivide, (a, b))


@op()
def remainder(input, other):
    """Python's modulo: the result takes the divisor's sign (PyTorch's remainder, `%`)."""
    a, b = _int_operands(input, other, "remainder")
    if not a.dtype.is_floating_point:
        return nondiff(a, lambda B, x: B.xp.remainder(x, b._data))
    return apply(Remainder, (a, b))


@op()
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


@op()
def bitwise_and(input, other): return logical(input, other, "and")
@op()
def bitwise_or(input, other): return logical(input, other, "or")
@op()
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


@op()
def logical_and(input, other): return _logical2(input, other, "and")
@op()
def logical_or(input, other): return _logical2(input, other, "or")
@op()
def logical_xor(input, other): return _logical2(input, other, "xor")


@op()
def logical_not(input):
    if input.dtype is not _dt.bool_:               # torch: nonzero is true, for any dtype
        input = compare(input, 0, "ne")
    return nondiff(input, lambda B, a: B.xp.logical_not(a))


@op()
def bitwise_not(input):
    if input.dtype is _dt.bool_:
        return logical_not(input)
    if input.dtype.is_floating_point:
        raise TypeError(f"bitwise_not: ~ is only defined for integer and bool tensors, got {input.dtype.name}")
    return nondiff(input, lambda B, a: B.xp.bitwise_invert(a))


from .unary import log, where  # noqa: E402 - the rules above use them
