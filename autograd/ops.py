"""Every op of the engine, each declared once: forward on arrays beside its gradient rule.

Primitives (`@primitive`) compute on backend arrays through `B.xp` (array-API spelling) and
give one gradient per input, written with differentiable Tensor ops so that `create_graph`
works for all of them. Rules return gradients of the broadcast shape; the engine's single
`sum_to` reduces them to each input's shape. Everything below the primitives is composed
from them and needs no rule of its own.
"""
from __future__ import annotations

import math
import numbers
from collections import namedtuple

from backends import dtypes as _dt
from .grad_mode import state
from .graph import primitive, record
from .tensor import Tensor, _wrap, _default_dtype

# ----------------------------------------------------------------------------------------
# dispatch


def apply(op, inputs, *params):
    """Run `op` on `inputs` (Tensors on one backend); record it if any input requires grad.

    This is the hot path of every op: one- and two-input calls avoid building lists."""
    n = len(inputs)
    if n == 2:
        a, b = inputs
        be = a._backend
        if b._backend is not be:
            _device_error(op.name, inputs)
        args = (a._data, b._data)
        rg = a._rg or b._rg
    elif n == 1:
        a = inputs[0]
        be = a._backend
        args = (a._data,)
        rg = a._rg
    else:
        be = inputs[0]._backend
        for t in inputs:
            if t._backend is not be:
                _device_error(op.name, inputs)
        args = tuple(t._data for t in inputs)
        rg = any(t._rg for t in inputs)
    try:
        out = op.forward(be, *args, *params)
    except (ValueError, TypeError, IndexError) as e:
        raise _op_error(op.name, inputs, e) from None
    if type(out) is not be.array_type:       # NumPy turns 0-d results into scalars
        out = be.asarray(out)
    if state.anomaly:
        from .anomaly import check_forward
        check_forward(op.name, out, be)
    if rg and state.enabled:
        return record(op, inputs, out, params, be)
    res = _wrap(out, be)
    if op.view:                # a view shares its base's version counter, recorded or not
        res._vc = inputs[0]._vc
    return res


def _device_error(name, inputs):
    devs = ", ".join(str(t.device) for t in inputs)
    raise RuntimeError(f"{name}: expected all tensors on the same device, but found tensors on {devs}")


def _op_error(name, inputs, e):
    desc = ", ".join(f"{tuple(t.shape)} {t.dtype.name}" for t in inputs)
    msg = str(e)
    if "broadcast" in msg:
        return RuntimeError(f"{name}: shapes {' and '.join(str(tuple(t.shape)) for t in inputs)} are not "
                            f"broadcastable")
    return type(e)(f"{name}: invalid input ({desc}): {msg}")


def _is_scalar(x):
    return type(x) in (float, int, bool) or isinstance(x, numbers.Number)


def _scalar_dtype(x):
    if isinstance(x, bool):
        return _dt.bool_
    if isinstance(x, numbers.Integral):
        return _dt.int64
    if isinstance(x, numbers.Real):
        return _dt.float32  # stands for "a float scalar"; the default dtype where it decides
    raise TypeError(f"unsupported scalar type {type(x).__name__} (complex numbers are not supported)")


def as_tensor_like(x, ref: Tensor, name="op"):
    """x (Tensor, scalar, NumPy array) as a Tensor on ref's backend."""
    if isinstance(x, Tensor):
        return x
    be = ref._backend
    if type(x) is float or type(x) is int:   # the common case: a Python number with a float tensor
        dt = ref._data.dtype
        if be.dtype_from_native(dt).is_floating_point:
            return _wrap(be.asarray(x, dtype=dt), be)
    if _is_scalar(x):
        sd = _scalar_dtype(x)
        rd = ref.dtype
        if sd.category > rd.category:
            dt = _default_dtype() if sd.is_floating_point else sd
        else:
            dt = rd
        if not isinstance(x, (float, int)):
            x = x.item()                      # a NumPy scalar
        return _wrap(be.asarray(x, dtype=be.native_dtype(dt)), be)
    from .tensor import tensor
    try:
        return tensor(x, device=ref.device)
    except Exception as e:
        raise TypeError(f"{name}: unsupported operand of type {type(x).__name__}") from e


def result_dtype(*ts):
    """PyTorch's promotion: dimensioned tensors decide unless a 0-d tensor is of a higher category."""
    dims = [t.dtype for t in ts if t._data.ndim]
    zeros = [t.dtype for t in ts if not t._data.ndim]
    best = None
    for d in dims:
        best = d if best is None else _dt.promote_types(best, d)
    zbest = None
    for d in zeros:
        zbest = d if zbest is None else _dt.promote_types(zbest, d)
    if best is None:
        return zbest
    if zbest is not None and zbest.category > best.category:
        return zbest
    return best


def pair(a, b, name):
    """Two operands as Tensors on one backend with a common dtype."""
    if not isinstance(a, Tensor):
        a = as_tensor_like(a, b, name)
    elif not isinstance(b, Tensor):
        b = as_tensor_like(b, a, name)
    da, db = a._data.dtype, b._data.dtype
    if da != db:
        dt = result_dtype(a, b)
        a, b = a.to(dt), b.to(dt)
    return a, b


def _binary(op, a, b):
    a, b = pair(a, b, op.name)
    return apply(op, (a, b))


def norm_dim(dim, ndim, name):
    n = builtins_max(ndim, 1)
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"{name}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim}) for a tensor with {ndim} dims")
    return dim % n


def norm_dims(dim, ndim, name):
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        ds = tuple(norm_dim(d, ndim, name) for d in dim)
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"{name}: dim {tuple(dim)} appears multiple times in the list of dims")
        return tuple(sorted(ds)) if ndim else ()
    return (norm_dim(dim, ndim, name),) if ndim else ()


# ----------------------------------------------------------------------------------------
# arithmetic

@primitive()
class Add:
    def forward(B, a, b): return a + b
    def backward(ctx, g): return g, g


@primitive()
class Sub:
    def forward(B, a, b): return a - b
    def backward(ctx, g): return g, -g


@primitive(save=(0, 1))
class Mul:
    def forward(B, a, b): return a * b

    def backward(ctx, g):
        a, b = ctx.unpack()
        return (g * b if ctx.next[0] is not None else None,
                g * a if ctx.next[1] is not None else None)


@primitive(save=(0, 1))
class Div:
    def forward(B, a, b): return a / b

    def backward(ctx, g):
        a, b = ctx.unpack()
        ga = g / b
        return ga, (-ga * a / b if ctx.next[1] is not None else None)


@primitive()
class Neg:
    def forward(B, x): return -x
    def backward(ctx, g): return -g


@primitive(save=(0,))
class PowScalar:
    """x ** c for a Python number c."""
    def forward(B, x, c): return x ** c

    def backward(ctx, g):
        (x,) = ctx.unpack()
        c = ctx.params[0]
        if c == 0:
            return g * 0
        return g * (c * x ** (c - 1))


@primitive(save=(0, 1, "out"))
class Pow:
    def forward(B, a, b): return B.xp.pow(a, b)

    def backward(ctx, g):
        a, b, out = ctx.unpack()
        ga = gb = None
        if ctx.next[0] is not None:
            ga = g * b * a ** (b - 1)
        if ctx.next[1] is not None:
            # d/db a**b = a**b log a, taken as 0 where a == 0 and b >= 0 (PyTorch's convention)
            safe = where((a == 0) & (b >= 0), 1.0, a)
            gb = g * where((a == 0) & (b >= 0), 0.0, out * log(safe))
        return ga, gb


@primitive(save=(0, 1))
class Matmul:
    def forward(B, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("both arguments to matmul need to be at least 1D")
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            raise ValueError(f"shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                             f"({ka} != {kb})")
        return a @ b

    def backward(ctx, g):
        # 1-D operands are promoted to matrices (a: 1 x k, b: k x 1) and the unit dim dropped after
        a, b = ctx.unpack()
        if a._data.ndim >= 2 and b._data.ndim >= 2:            # no 1-D promotion: one op per gradient
            return (apply(MatmulT, (g, b), False, True) if ctx.next[0] is not None else None,
                    apply(MatmulT, (a, g), True, False) if ctx.next[1] is not None else None)
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        ga = gb = None
        if ctx.next[0] is not None:
            ga = g @ b2.mT
            if a.ndim == 1:
                ga = ga.squeeze(-2)
        if ctx.next[1] is not None:
            gb = a2.mT @ g
            if b.ndim == 1:
                gb = gb.squeeze(-1)
        return ga, gb


@primitive(save=(0, 1))
class MatmulT:
    """op(a) @ op(b), op transposing the last two dims where flagged: matmul's gradients in one op."""
    def forward(B, a, b, ta, tb):
        xp = B.xp
        return xp.matmul(xp.matrix_transpose(a) if ta else a, xp.matrix_transpose(b) if tb else b)

    def backward(ctx, g):
        # C = A'B' with A' = op(a), B' = op(b): dA' = g B'^T, dB' = A'^T g, transposed back where flagged
        a, b = ctx.unpack()
        ta, tb = ctx.params
        ga = gb = None
        if ctx.next[0] is not None:
            ga = apply(MatmulT, (b, g), tb, True) if ta else apply(MatmulT, (g, b), False, not tb)
        if ctx.next[1] is not None:
            gb = apply(MatmulT, (g, a), True, ta) if tb else apply(MatmulT, (a, g), not ta, False)
        return ga, gb


# ----------------------------------------------------------------------------------------
# elementwise

@primitive(save=("out",))
class Exp:
    def forward(B, x): return B.xp.exp(x)
    def backward(ctx, g): return g * ctx.unpack()[0]


@primitive(save=(0,))
class Log:
    def forward(B, x): return B.xp.log(x)
    def backward(ctx, g): return g / ctx.unpack()[0]


@primitive(save=(0,))
class Log1p:
    def forward(B, x): return B.xp.log1p(x)
    def backward(ctx, g): return g / (1 + ctx.unpack()[0])


@primitive(save=(0,))
class Expm1:
    def forward(B, x): return B.xp.expm1(x)
    def backward(ctx, g): return g * exp(ctx.unpack()[0])


@primitive(save=("out",))
class Sqrt:
    def forward(B, x): return B.xp.sqrt(x)
    def backward(ctx, g): return g / (2 * ctx.unpack()[0])


@primitive(save=(0,))
class Abs:
    def forward(B, x): return B.xp.abs(x)
    def backward(ctx, g): return g * sign(ctx.unpack()[0])     # abs'(0) = 0, as PyTorch


@primitive(save=(0,))
class Sin:
    def forward(B, x): return B.xp.sin(x)
    def backward(ctx, g): return g * cos(ctx.unpack()[0])


@primitive(save=(0,))
class Cos:
    def forward(B, x): return B.xp.cos(x)
    def backward(ctx, g): return -g * sin(ctx.unpack()[0])


@primitive(save=("out",))
class Tanh:
    def forward(B, x): return B.xp.tanh(x)

    def backward(ctx, g):
        y = ctx.unpack()[0]
        return g * (1 - y * y)


@primitive(save=("out",))
class Sigmoid:
    def forward(B, x):
        # never exponentiate a positive number: exact for large |x|, no overflow warnings
        xp = B.xp
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def backward(ctx, g):
        y = ctx.unpack()[0]
        return g * (y * (1 - y))


@primitive()
class Masked:
    """g where mask else 0, for a constant boolean mask: the gradient of every piecewise-linear op."""
    def forward(B, g, mask): return B.masked(g, mask)
    def backward(ctx, gg): return apply(Masked, (gg,), ctx.params[0])


def masked(g, mask):
    return apply(Masked, (g,), mask._data if isinstance(mask, Tensor) else mask)


@primitive(save=("out",))
class Relu:
    def forward(B, x): return B.xp.maximum(x, B.xp.zeros((), dtype=x.dtype))
    def backward(ctx, g): return masked(g, ctx.unpack()[0]._data > 0)   # relu'(0) = 0, as PyTorch


@primitive(save=(0,))
class Erf:
    def forward(B, x): return B.erf(x)

    def backward(ctx, g):
        x = ctx.unpack()[0]
        return g * (2 / math.sqrt(math.pi) * exp(-(x * x)))


@primitive(save=(0,))
class Clamp:
    def forward(B, x, lo, hi):
        xp = B.xp
        if lo is not None:
            x = xp.maximum(x, xp.asarray(lo, dtype=x.dtype))
        if hi is not None:
            x = xp.minimum(x, xp.asarray(hi, dtype=x.dtype))
        return x

    def backward(ctx, g):
        x = ctx.unpack()[0]
        lo, hi = ctx.params
        x = x._data
        mask = None
        if lo is not None:
            mask = x >= lo                                         # bounds are inclusive
        if hi is not None:
            mask = (x <= hi) if mask is None else mask & (x <= hi)
        return g if mask is None else masked(g, mask)


@primitive(save=(0, 1))
class Maximum:
    def forward(B, a, b): return B.xp.maximum(a, b)

    def backward(ctx, g):
        a, b = ctx.unpack()
        ga = g * ((a > b) + (a == b) * 0.5)       # ties share the gradient evenly
        return ga, g - ga


@primitive(save=(0, 1))
class Minimum:
    def forward(B, a, b): return B.xp.minimum(a, b)

    def backward(ctx, g):
        a, b = ctx.unpack()
        ga = g * ((a < b) + (a == b) * 0.5)
        return ga, g - ga


@primitive(save=(0,))
class Where:
    def forward(B, c, a, b): return B.xp.where(c, a, b)

    def backward(ctx, g):
        c = ctx.unpack()[0]
        zero = zeros_like_scalar(g)
        return (None,
                where(c, g, zero) if ctx.next[1] is not None else None,
                where(c, zero, g) if ctx.next[2] is not None else None)


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


# ----------------------------------------------------------------------------------------
# reductions

@primitive()
class Sum:
    def forward(B, x, axes, keepdim, in_shape): return B.xp.sum(x, axis=axes, keepdims=keepdim)

    def backward(ctx, g):
        axes, keepdim, in_shape = ctx.params
        return apply(Unsum, (g,), axes, keepdim, in_shape)


@primitive()
class Unsum:
    """Broadcast a reduced gradient back over the summed axes: the adjoint of Sum."""
    def forward(B, g, axes, keepdim, shape):
        xp = B.xp
        if not keepdim:
            g = xp.reshape(g, _keep_shape(shape, axes))
        return xp.broadcast_to(g, shape)

    def backward(ctx, gg):
        axes, keepdim, shape = ctx.params
        return apply(Sum, (gg,), axes, keepdim, shape)


@primitive()
class SumTo:
    """Sum a broadcast gradient down to `shape`: the engine's one unbroadcast."""
    def forward(B, g, axes, shape, in_shape):
        xp = B.xp
        lead = len(in_shape) - len(shape)
        inner = tuple(a for a in axes if a >= lead)
        if inner:
            g = xp.sum(g, axis=inner, keepdims=True)
        if lead:
            g = xp.sum(g, axis=tuple(range(lead)))    # no reshape: the result owns its memory
        return g

    def backward(ctx, gg): return apply(Expand, (gg,), ctx.params[2])


@primitive(save=(0, "out"))
class Amax:
    """Max over dims; tied maxima share the gradient evenly (also used for max without dim)."""
    def forward(B, x, axes, keepdim, is_min): return (B.xp.min if is_min else B.xp.max)(x, axis=axes, keepdims=keepdim)

    def backward(ctx, g):
        x, out = ctx.unpack()
        axes, keepdim, _ = ctx.params
        if not keepdim:
            ks = _keep_shape(x.shape, axes)
            out, g = out.reshape(ks), g.reshape(ks)
        mask = x == out
        return g * mask / mask.sum(dim=axes, keepdim=True)


@primitive()
class Pick:
    """Values at given indices along a dim (max/min with dim): the gradient goes to that index only."""
    def forward(B, x, dim, idx, keepdim, size):
        v = B.xp.take_along_axis(x, idx, axis=dim)
        return v if keepdim else B.xp.squeeze(v, axis=dim)

    def backward(ctx, g):
        dim, idx, keepdim, size = ctx.params
        if not keepdim:
            g = g.unsqueeze(dim)
        xp = g._backend.xp
        shape = [1] * idx.ndim
        shape[dim] = size
        positions = xp.reshape(xp.arange(size, dtype=idx.dtype), tuple(shape))
        return g * _wrap(positions == idx, g._backend)


@primitive(save=(0, "out"))
class Norm2:
    """Euclidean norm; its gradient at 0 is 0 (a subgradient), as PyTorch."""
    def forward(B, x, axes, keepdim): return B.xp.sqrt(B.xp.sum(x * x, axis=axes, keepdims=keepdim))

    def backward(ctx, g):
        x, out = ctx.unpack()
        axes, keepdim = ctx.params
        if not keepdim:
            ks = _keep_shape(x.shape, axes)
            out, g = out.reshape(ks), g.reshape(ks)
        zero = out == 0
        return g * x / where(zero, 1.0, out) * ~zero


@primitive(save=("out",))
class LogSoftmax:
    """Fused for stability and speed: x - max - log(sum(exp(x - max)))."""
    def forward(B, x, dim):
        xp = B.xp
        m = xp.max(x, axis=dim, keepdims=True)
        m = xp.where(xp.isfinite(m), m, xp.zeros((), dtype=x.dtype))
        z = x - m
        return z - xp.log(xp.sum(xp.exp(z), axis=dim, keepdims=True))

    def backward(ctx, g):
        out = ctx.unpack()[0]
        dim = ctx.params[0]
        return g - exp(out) * sum(g, dim, keepdim=True)


@primitive(save=("out",))
class Softmax:
    def forward(B, x, dim):
        xp = B.xp
        m = xp.max(x, axis=dim, keepdims=True)
        e = xp.exp(x - xp.where(xp.isfinite(m), m, xp.zeros((), dtype=x.dtype)))
        return e / xp.sum(e, axis=dim, keepdims=True)

    def backward(ctx, g):
        out = ctx.unpack()[0]
        gy = g * out
        return gy - out * sum(gy, ctx.params[0], keepdim=True)


@primitive(save=(0, "out"))
class Logsumexp:
    def forward(B, x, axes, keepdim):
        xp = B.xp
        m = xp.max(x, axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, xp.zeros((), dtype=x.dtype))   # all -inf must not give nan
        out = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        return out if keepdim else xp.reshape(out, tuple(s for i, s in enumerate(x.shape) if i not in axes))

    def backward(ctx, g):
        x, out = ctx.unpack()
        axes, keepdim = ctx.params
        if not keepdim:
            ks = _keep_shape(x.shape, axes)
            out, g = out.reshape(ks), g.reshape(ks)
        return g * exp(x - out)


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


# ----------------------------------------------------------------------------------------
# shape

@primitive(view=True)
class Reshape:
    def forward(B, x, shape, in_shape): return B.xp.reshape(x, shape)
    def backward(ctx, g): return g.reshape(ctx.params[1])


@primitive(view=True)
class Permute:
    def forward(B, x, dims): return B.xp.permute_dims(x, dims)

    def backward(ctx, g):
        dims = ctx.params[0]
        inv = [0] * len(dims)
        for i, d in enumerate(dims):
            inv[d] = i
        return g.permute(*inv)


@primitive(view=True)
class Expand:
    def forward(B, x, shape): return B.xp.broadcast_to(x, shape)
    def backward(ctx, g): return g                      # the engine sums it back to the input's shape


@primitive(view=True)
class Getitem:
    def forward(B, x, index, in_shape, basic): return B.getitem(x, index)
    def backward(ctx, g): return index_add_zeros(g, *ctx.params)


@primitive()
class IndexAddZeros:
    """zeros(shape) with g added at index (repeated indices accumulate): getitem's adjoint."""
    def forward(B, g, index, shape, basic):
        out = B.xp.zeros(shape, dtype=g.dtype)
        if basic:
            B.setitem(out, index, g)
        else:
            B.scatter_add(out, index, g)
        return out

    def backward(ctx, gg):
        index, _, basic = ctx.params
        return apply(Getitem, (gg,), index, gg.shape, basic)


@primitive()
class Cat:
    def forward(B, *arrays_and_dim):
        *arrays, dim, sizes = arrays_and_dim
        return B.xp.concat(arrays, axis=dim)

    def backward(ctx, g):
        dim, sizes = ctx.params
        out, start = [], 0
        for s in sizes:
            out.append(g.narrow(dim, start, s))
            start += s
        return tuple(out)


@primitive()
class Pad:
    def forward(B, x, pads, value):
        xp = B.xp
        shape = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, pads))
        out = xp.full(shape, value, dtype=x.dtype)
        out[tuple(slice(lo, lo + s) for s, (lo, hi) in zip(x.shape, pads))] = x
        return out

    def backward(ctx, g):
        pads = ctx.params[0]
        return g[tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in enumerate(pads))]


# ----------------------------------------------------------------------------------------
# public functions: primitives wrapped with argument handling, then composites

def add(a, b, alpha=1):
    if alpha != 1:
        b = b * alpha
    return _binary(Add, a, b)


def sub(a, b, alpha=1):
    if alpha != 1:
        b = b * alpha
    return _binary(Sub, a, b)


def mul(a, b): return _binary(Mul, a, b)


def div(a, b, rounding_mode=None):
    a, b = pair(a, b, "div")
    if rounding_mode is not None:
        if not a.dtype.is_floating_point:         # integer // stays integer (x / y is float, and refused by
            return _nondiff(a, lambda B, x: _int_div(B, x, b._data, rounding_mode))   # array-API libraries)
        return _nondiff(a, lambda B, x: (B.xp.floor if rounding_mode == "floor" else B.xp.trunc)(x / b._data))
    if not a.dtype.is_floating_point:     # true division of integers gives the default float
        a, b = a.to(_default_dtype()), b.to(_default_dtype())
    return apply(Div, (a, b))


def _int_div(B, x, y, rounding_mode):
    q = B.xp.floor_divide(x, y)
    if rounding_mode == "trunc":                  # floor rounds down; trunc rounds toward zero
        q = q + B.xp.astype((q * y != x) & ((x < 0) != (y < 0)), q.dtype)
    return q


def neg(x): return apply(Neg, (x,))


def pow(a, b):
    if isinstance(a, Tensor) and _is_scalar(b) and not isinstance(b, bool):
        b = b.item() if hasattr(b, "item") else b
        if not a.dtype.is_floating_point and isinstance(b, float):
            a = a.to(_default_dtype())
        return apply(PowScalar, (a,), b)
    if _is_scalar(a) and isinstance(b, Tensor):     # c ** x
        if not b.dtype.is_floating_point:
            b = b.to(_default_dtype())
        return exp(b * math.log(a)) if a > 0 else _binary(Pow, a, b)
    return _binary(Pow, a, b)


def matmul(a, b):
    a, b = pair(a, b, "matmul")
    return apply(Matmul, (a, b))


def _unary(op):
    def f(x):
        if not x.dtype.is_floating_point:
            x = x.to(_default_dtype())
        return apply(op, (x,))
    f.__name__ = op.name
    return f


exp, log, log1p, expm1, sqrt, sin, cos, tanh, sigmoid, erf = (
    _unary(o) for o in (Exp, Log, Log1p, Expm1, Sqrt, Sin, Cos, Tanh, Sigmoid, Erf))


def abs(x): return apply(Abs, (x,))


def relu(x): return apply(Relu, (x,))


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None:
            x = maximum(x, min)
        if max is not None:
            x = minimum(x, max)
        return x
    return apply(Clamp, (x,), min, max)


clip = clamp


def maximum(a, b): return _binary(Maximum, a, b)


def minimum(a, b): return _binary(Minimum, a, b)


def where(cond, a, b):
    if not isinstance(cond, Tensor):
        raise TypeError("where: condition must be a bool Tensor")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = as_tensor_like(a, cond)
        if not a.dtype.is_floating_point and isinstance(b, float):
            a = a.to(_default_dtype())
    a, b = pair(a, b, "where")
    if cond.dtype is not _dt.bool_:
        cond = cond != 0
    return apply(Where, (cond, a, b))


def round(x, decimals=0):
    if decimals:
        return round(x * 10.0 ** decimals) / 10.0 ** decimals
    return apply(Round, (x,), "round")


def floor(x): return apply(Round, (x,), "floor")
def ceil(x): return apply(Round, (x,), "ceil")
def trunc(x): return apply(Round, (x,), "trunc")


def sign(x):
    return _nondiff(x, lambda B, a: B.xp.sign(a))


def zeros_like_scalar(t):
    return _wrap(t._backend.xp.zeros((), dtype=t._data.dtype), t._backend)


def _nondiff(x, f):
    """An op with zero gradient: computed on arrays, never recorded."""
    be = x._backend
    return _wrap(be.asarray(f(be, x._data)), be)


# --- reductions

def sum(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.category < 2:
        x = x.to(_dt.int64)                       # like PyTorch: integer and bool sums are int64
    axes = norm_dims(dim, x.ndim, "sum")
    return apply(Sum, (x,), axes, keepdim, x._data.shape)


def mean(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating point, "
                           f"but got {x.dtype.name}")
    axes = norm_dims(dim, x.ndim, "mean")
    n = 1
    for a in axes:
        n *= x._data.shape[a]
    return sum(x, dim, keepdim) / n if n else sum(x, dim, keepdim) * float("nan")


def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = norm_dims(dim, x.ndim, "var")
    n = 1
    for a in axes:
        n *= x._data.shape[a]
    d = x - mean(x, dim=axes, keepdim=True)
    return sum(d * d, dim=axes, keepdim=keepdim) / builtins_max(n - correction, 0)


def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return sqrt(var(x, dim, unbiased, keepdim, correction))


def amax(x, dim=None, keepdim=False):
    return _amax(x, dim, keepdim, False, "amax")


def amin(x, dim=None, keepdim=False):
    return _amax(x, dim, keepdim, True, "amin")


def _amax(x, dim, keepdim, is_min, name):
    axes = norm_dims(dim, x.ndim, name)
    if x.numel() == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0")
    return apply(Amax, (x,), axes, keepdim, is_min)


values_indices = namedtuple("values_indices", ["values", "indices"])


def max(x, dim=None, keepdim=False):
    """Without dim: the maximum (ties share the gradient). With dim: (values, indices)."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    if dim is None:
        return _amax(x, None, False, False, "max")
    return _extremum_dim(x, dim, keepdim, "max")


def min(x, dim=None, keepdim=False):
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    if dim is None:
        return _amax(x, None, False, True, "min")
    return _extremum_dim(x, dim, keepdim, "min")


def _extremum_dim(x, dim, keepdim, name):
    d = norm_dim(dim, x.ndim, name)
    if x.ndim == 0:
        return values_indices(x.clone(), _wrap(x._backend.xp.zeros((), dtype=x._backend.native_dtype(_dt.int64)), x._backend))
    xp = x._backend.xp
    idx = (xp.argmax if name == "max" else xp.argmin)(x._data, axis=d, keepdims=True)
    values = apply(Pick, (x,), d, idx, keepdim, x.shape[d])
    ind = idx if keepdim else xp.squeeze(idx, axis=d)
    return values_indices(values, _wrap(xp.astype(ind, x._backend.native_dtype(_dt.int64)), x._backend))


def argmax(x, dim=None, keepdim=False):
    return _arg(x, dim, keepdim, "argmax")


def argmin(x, dim=None, keepdim=False):
    return _arg(x, dim, keepdim, "argmin")


def _arg(x, dim, keepdim, name):
    B = x._backend
    f = getattr(B.xp, name)
    if dim is None:
        r = f(B.xp.reshape(x._data, (-1,)))
        if keepdim:
            r = B.xp.reshape(r, (1,) * x.ndim)
    else:
        r = f(x._data, axis=norm_dim(dim, x.ndim, name), keepdims=keepdim)
    return _wrap(B.xp.astype(B.xp.asarray(r), B.native_dtype(_dt.int64)), B)


def logsumexp(x, dim, keepdim=False):
    return apply(Logsumexp, (_floating(x),), norm_dims(dim, x.ndim, "logsumexp"), keepdim)


def _floating(x):
    return x if x.dtype.is_floating_point else x.to(_default_dtype())


def norm(x, p="fro", dim=None, keepdim=False):
    if p in ("fro", 2, 2.0):
        return apply(Norm2, (x,), norm_dims(dim, x.ndim, "norm"), keepdim)
    if p == float("inf"):
        return amax(abs(x), dim, keepdim)
    if p == float("-inf"):
        return amin(abs(x), dim, keepdim)
    if p == 1:
        return sum(abs(x), dim, keepdim)
    if p == 0:
        return sum((x != 0).to(x.dtype), dim, keepdim)
    return sum(abs(x) ** p, dim, keepdim) ** (1.0 / p)


# --- activations (composites; PyTorch's formulas and defaults)

def softmax(x, dim=-1, dtype=None):
    x = x.to(dtype) if dtype is not None else _floating(x)
    return apply(Softmax, (x,), norm_dim(dim, x.ndim, "softmax"))


def log_softmax(x, dim=-1, dtype=None):
    x = x.to(dtype) if dtype is not None else _floating(x)
    return apply(LogSoftmax, (x,), norm_dim(dim, x.ndim, "log_softmax"))


def leaky_relu(x, negative_slope=0.01):
    return where(x > 0, x, x * negative_slope)


def elu(x, alpha=1.0):
    # expm1 of min(x, 0): the branch where() discards must not overflow into inf * 0 = nan
    return where(x > 0, x, alpha * expm1(clamp(x, max=0.0)))


def softplus(x, beta=1.0, threshold=20.0):
    bx = x * beta if beta != 1 else x
    soft = (relu(bx) + log1p(exp(-abs(bx))))
    if beta != 1:
        soft = soft / beta
    return where(bx > threshold, x, soft)


def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1 + erf(x * (1 / math.sqrt(2))))


def silu(x):
    return x * sigmoid(x)


def mish(x):
    return x * tanh(softplus(x))


# --- predicates (not differentiable)

def isnan(x): return _nondiff(x, lambda B, a: B.xp.isnan(a))
def isinf(x): return _nondiff(x, lambda B, a: B.xp.isinf(a))
def isfinite(x): return _nondiff(x, lambda B, a: B.xp.isfinite(a))


def compare(a, b, name):
    a, b = pair(a, b, name)
    be = a._backend
    if be is not b._backend:
        _device_error(name, (a, b))
    return _wrap(be.asarray(_CMP[name](a._data, b._data)), be)


_CMP = {"eq": lambda x, y: x == y, "ne": lambda x, y: x != y, "lt": lambda x, y: x < y,
        "le": lambda x, y: x <= y, "gt": lambda x, y: x > y, "ge": lambda x, y: x >= y}


def logical(a, b, name):
    a, b = pair(a, b, name)
    xp = a._backend.xp
    f = {"and": xp.logical_and, "or": xp.logical_or, "xor": xp.logical_xor}[name]
    if a.dtype is not _dt.bool_:
        f = {"and": xp.bitwise_and, "or": xp.bitwise_or, "xor": xp.bitwise_xor}[name]
    return _wrap(a._backend.asarray(f(a._data, b._data)), a._backend)


# --- shape

def reshape(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    n = x.numel()
    if shape.count(-1) > 1:
        raise RuntimeError("reshape: only one dimension can be inferred")
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or n % known:
            raise RuntimeError(f"reshape: shape '{list(shape)}' is invalid for input of size {n}")
        shape = tuple(n // known if s == -1 else s for s in shape)
    if math.prod(shape) != n:
        raise RuntimeError(f"reshape: shape '{list(shape)}' is invalid for input of size {n}")
    if shape == x._data.shape:
        return apply(Reshape, (x,), shape, shape) if x._rg and state.enabled else _wrap_view(x)
    return apply(Reshape, (x,), shape, x._data.shape)


def _wrap_view(x):
    t = _wrap(x._data, x._backend)
    t._vc = x._vc
    return t


def permute(x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute: number of dims {len(dims)} does not match the tensor's {x.ndim}")
    dims = tuple(norm_dim(d, x.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return apply(Permute, (x,), dims)


def transpose(x, dim0, dim1):
    if x.ndim == 0:             # PyTorch: dims 0 and -1 of a 0-d tensor name the tensor itself
        return x
    d0, d1 = norm_dim(dim0, x.ndim, "transpose"), norm_dim(dim1, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return apply(Permute, (x,), tuple(dims))


def expand(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    lead = len(shape) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({x.ndim})")
    full = []
    for i, s in enumerate(shape):
        if s == -1:
            if i < lead:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
            s = x.shape[i - lead]
        elif i >= lead and x.shape[i - lead] not in (1, s):
            raise RuntimeError(f"expand: the expanded size of the tensor ({s}) must match the existing size "
                               f"({x.shape[i - lead]}) at non-singleton dimension {i}. Target sizes: "
                               f"{list(shape)}. Tensor sizes: {list(x.shape)}")
        full.append(int(s))
    full = tuple(full)
    if full == x._data.shape:
        return x
    return apply(Expand, (x,), full)


def broadcast_to(x, shape):
    return expand(x, tuple(shape))


def broadcast_tensors(*ts):
    shape = broadcast_shapes(*(t.shape for t in ts))
    return tuple(expand(t, shape) for t in ts)


def broadcast_shapes(*shapes):
    n = builtins_max(len(s) for s in shapes)
    out = []
    for i in range(n):
        dims = {s[i - n + len(s)] for s in shapes if i - n + len(s) >= 0} - {1}
        if len(dims) > 1:
            raise RuntimeError(f"shapes {' and '.join(str(tuple(s)) for s in shapes)} are not broadcastable")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def unsqueeze(x, dim):
    d = norm_dim(dim, x.ndim + 1, "unsqueeze")
    s = list(x.shape)
    s.insert(d, 1)
    return reshape(x, tuple(s))


def squeeze(x, dim=None):
    if dim is None:
        dims = tuple(i for i, s in enumerate(x.shape) if s == 1)
    else:
        dims = norm_dims(dim, x.ndim, "squeeze")
    s = tuple(sz for i, sz in enumerate(x.shape) if not (i in dims and sz == 1))
    return reshape(x, s)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    s = norm_dim(start_dim, x.ndim, "flatten")
    e = norm_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten: start_dim cannot come after end_dim")
    shape = x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:]
    return reshape(x, shape)


def unflatten(x, dim, sizes):
    d = norm_dim(dim, x.ndim, "unflatten")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of Tensors")
    # PyTorch skips 1-D empty tensors in cat
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = tensors[0]
    d = norm_dim(dim, ref.ndim, "cat")
    dt = result_dtype(*tensors)
    tensors = [t.to(dt) for t in tensors]
    for t in tensors:
        if t.ndim != ref.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape)) if i != d):
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {d}; got "
                               f"{', '.join(str(tuple(u.shape)) for u in tensors)}")
    return apply(Cat, tuple(tensors), d, tuple(t.shape[d] for t in tensors))


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of Tensors")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack: expects each tensor to be equal size, but got {sorted(shapes)}")
    d = norm_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def narrow(x, dim, start, length):
    d = norm_dim(dim, x.ndim, "narrow")
    idx = [slice(None)] * x.ndim
    idx[d] = slice(start, start + length)
    return getitem(x, tuple(idx))


def split(x, split_size_or_sections, dim=0):
    d = norm_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0:
            raise RuntimeError(f"split: split_size must be positive, got {s}")
        sizes = [s] * (n // s) + ([n % s] if n % s else [])
        if not sizes:
            sizes = [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins_sum(sizes) != n:
            raise RuntimeError(f"split: sizes {sizes} do not sum to the dim's size {n}")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(x, d, start, s))
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    d = norm_dim(dim, x.ndim, "chunk")
    n = x.shape[d]
    size = -(-n // chunks) if n else 1
    return split(x, size, d)


def unbind(x, dim=0):
    d = norm_dim(dim, x.ndim, "unbind")
    return tuple(select(x, d, i) for i in range(x.shape[d]))


def select(x, dim, index):
    d = norm_dim(dim, x.ndim, "select")
    idx = [slice(None)] * x.ndim
    idx[d] = index
    return getitem(x, tuple(idx))


def pad(x, pad, mode="constant", value=0.0):
    """PyTorch's F.pad: `pad` lists (left, right) pairs starting from the last dim."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported (only 'constant')")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise RuntimeError(f"pad: padding length {len(pad)} must be even and at most 2 * ndim ({2 * x.ndim})")
    pads = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if lo < 0 or hi < 0:
            raise NotImplementedError("pad: negative padding is not supported")
        pads[x.ndim - 1 - i] = (int(lo), int(hi))
    return apply(Pad, (x,), tuple(pads), value)


def getitem(x, index):
    index, basic = _convert_index(x, index)
    out = apply(Getitem, (x,), index, x._data.shape, basic)
    if not basic:              # advanced indexing copies: its own version counter
        out._vc = [0]
    return out


def index_add_zeros(g, index, shape, basic):
    return apply(IndexAddZeros, (g,), index, shape, basic)


def _convert_index(x, index):
    """Tensor indices to backend arrays; `basic` when no advanced (array) indexing is involved."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    basic = True
    B = x._backend
    for i in index:
        if isinstance(i, Tensor):
            if i._backend is not B:
                _device_error("index", (x, i))
            out.append(i._data)
            basic = False
        elif isinstance(i, (list,)) or (hasattr(i, "shape") and hasattr(i, "dtype")):
            a = B.asarray(i)
            out.append(a)
            basic = False
        elif isinstance(i, bool):
            out.append(B.asarray(i))
            basic = False
        else:
            out.append(i)
    # bounds are checked by the backend; re-raised by apply with the op's name
    return tuple(out), basic


import builtins as _b  # noqa: E402

builtins_max, builtins_sum = _b.max, _b.sum


@primitive()
class IndexPut:
    """x with x[index] = v (out of place): the recorded form of `x[index] = v`."""
    def forward(B, x, v, index, basic):
        out = B.xp.asarray(x, copy=True)
        B.setitem(out, index, v)
        return out

    def backward(ctx, g):
        index, basic = ctx.params
        gx = gv = None
        if ctx.next[0] is not None:
            gx = apply(IndexPut, (g, zeros_like_scalar(g)), index, basic)
        if ctx.next[1] is not None:
            gv = apply(Getitem, (g,), index, g.shape, basic)
        return gx, gv


def index_put(x, index, value):
    index, basic = _convert_index(x, index)
    if not isinstance(value, Tensor):
        value = as_tensor_like(value, x, "setitem")
    if value.dtype is not x.dtype:
        value = value.to(x.dtype)
    return apply(IndexPut, (x, value), index, basic)
