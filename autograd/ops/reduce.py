"""Reductions: sum, mean, var/std, max/min (and arg-), logsumexp, norm, prod, any/all, and the
fused softmax/log_softmax. A reduction's gradient broadcasts back over the reduced dims."""
from __future__ import annotations

from collections import namedtuple

from backends import dtypes as _dt
from ..graph import primitive
from ..tensor import _wrap
from ._core import apply, as_tensor_like, builtins_max, floating, keep_shape, nondiff, norm_dim, norm_dims
from ._registry import op


@primitive()
class Sum:
    def forward(B, x, axes, keepdim): return B.xp.sum(x, axis=axes, keepdims=keepdim)
    def backward(ctx, g): return apply(Unsum, (g,), ctx.axes, ctx.keepdim, ctx.input_shapes[0])


@primitive()
class Unsum:
    """Broadcast a reduced gradient back over the summed axes: the adjoint of Sum."""
    def forward(B, g, axes, keepdim, shape):
        xp = B.xp
        if not keepdim:
            g = xp.reshape(g, keep_shape(shape, axes))
        return xp.broadcast_to(g, shape)

    def backward(ctx, gg): return apply(Sum, (gg,), ctx.axes, ctx.keepdim)


@primitive()
class SumTo:
    """Sum a broadcast gradient down to `shape`: the engine's one unbroadcast."""
    def forward(B, g, axes, shape):
        xp = B.xp
        lead = g.ndim - len(shape)
        inner = tuple(a for a in axes if a >= lead)
        if inner:
            g = xp.sum(g, axis=inner, keepdims=True)
        if lead:
            g = xp.sum(g, axis=tuple(range(lead)))    # no reshape: the result owns its memory
        return g

    def backward(ctx, gg): return gg.expand(ctx.input_shapes[0])


@primitive(save=("x", "out"))
class Amax:
    """Max over dims; tied maxima share the gradient evenly (also used for max without dim)."""
    def forward(B, x, axes, keepdim, is_min):
        return (B.xp.min if is_min else B.xp.max)(x, axis=axes, keepdims=keepdim)

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        axes = ctx.axes
        if not ctx.keepdim:
            ks = keep_shape(x.shape, axes)
            out, g = out.reshape(ks), g.reshape(ks)
        mask = x == out
        return g * mask / mask.sum(dim=axes, keepdim=True)


@primitive()
class Pick:
    """Values at given indices along a dim (max/min with dim): the gradient goes to that index only."""
    def forward(B, x, dim, idx, keepdim):
        v = B.xp.take_along_axis(x, idx, axis=dim)
        return v if keepdim else B.xp.squeeze(v, axis=dim)

    def backward(ctx, g):
        dim, idx = ctx.dim, ctx.idx
        if not ctx.keepdim:
            g = g.unsqueeze(dim)
        size = ctx.input_shapes[0][dim]
        xp = g._backend.xp
        shape = [1] * idx.ndim
        shape[dim] = size
        positions = xp.reshape(xp.arange(size, dtype=idx.dtype), tuple(shape))
        return g * _wrap(positions == idx, g._backend)


@primitive(save=("x", "out"))
class Norm2:
    """Euclidean norm; its gradient at 0 is 0 (a subgradient), as PyTorch."""
    def forward(B, x, axes, keepdim): return B.xp.sqrt(B.xp.sum(x * x, axis=axes, keepdims=keepdim))

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.keepdim:
            ks = keep_shape(x.shape, ctx.axes)
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
        return g - ctx.out.exp() * g.sum(ctx.dim, keepdim=True)


@primitive(save=("out",))
class Softmax:
    def forward(B, x, dim):
        xp = B.xp
        m = xp.max(x, axis=dim, keepdims=True)
        e = xp.exp(x - xp.where(xp.isfinite(m), m, xp.zeros((), dtype=x.dtype)))
        return e / xp.sum(e, axis=dim, keepdims=True)

    def backward(ctx, g):
        out = ctx.out
        gy = g * out
        return gy - out * gy.sum(ctx.dim, keepdim=True)


@primitive(save=("x", "out"))
class Logsumexp:
    def forward(B, x, axes, keepdim):
        xp = B.xp
        m = xp.max(x, axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, xp.zeros((), dtype=x.dtype))   # all -inf must not give nan
        out = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        return out if keepdim else xp.reshape(out, tuple(s for i, s in enumerate(x.shape) if i not in axes))

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.keepdim:
            ks = keep_shape(x.shape, ctx.axes)
            out, g = out.reshape(ks), g.reshape(ks)
        return g * (x - out).exp()


@op()
def sum(input, dim=None, keepdim=False, *, dtype=None):
    x = input
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.category < 2:
        x = x.to(_dt.int64)                       # like PyTorch: integer and bool sums are int64
    return apply(Sum, (x,), norm_dims(dim, x.ndim, "sum"), keepdim)


def _count(x, axes):
    n = 1
    for a in axes:
        n *= x._data.shape[a]
    return n


@op()
def mean(input, dim=None, keepdim=False, *, dtype=None):
    x = input
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating point, "
                           f"but got {x.dtype.name}")
    n = _count(x, norm_dims(dim, x.ndim, "mean"))
    return sum(x, dim, keepdim) / n if n else sum(x, dim, keepdim) * float("nan")


@op()
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    x = input
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = norm_dims(dim, x.ndim, "var")
    d = x - mean(x, dim=axes, keepdim=True)
    return sum(d * d, dim=axes, keepdim=keepdim) / builtins_max(_count(x, axes) - correction, 0)


@op()
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


@op()
def amax(input, dim=(), keepdim=False):
    return _amax(input, None if dim == () else dim, keepdim, False, "amax")


@op()
def amin(input, dim=(), keepdim=False):
    return _amax(input, None if dim == () else dim, keepdim, True, "amin")


def _amax(x, dim, keepdim, is_min, name):
    axes = norm_dims(dim, x.ndim, name)
    if x.numel() == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0")
    return apply(Amax, (x,), axes, keepdim, is_min)


values_indices = namedtuple("values_indices", ["values", "indices"])


@op()
def max(input, dim=None, keepdim=False):
    """Without dim: the maximum (ties share the gradient). With dim: (values, indices)."""
    from ..tensor import Tensor
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    if dim is None:
        return _amax(input, None, False, False, "max")
    return _extremum_dim(input, dim, keepdim, "max")


@op()
def min(input, dim=None, keepdim=False):
    from ..tensor import Tensor
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    if dim is None:
        return _amax(input, None, False, True, "min")
    return _extremum_dim(input, dim, keepdim, "min")


def _extremum_dim(x, dim, keepdim, name):
    d = norm_dim(dim, x.ndim, name)
    B = x._backend
    if x.ndim == 0:
        return values_indices(x.clone(), _wrap(B.xp.zeros((), dtype=B.native_dtype(_dt.int64)), B))
    xp = B.xp
    idx = (xp.argmax if name == "max" else xp.argmin)(x._data, axis=d, keepdims=True)
    values = apply(Pick, (x,), d, idx, keepdim)
    ind = idx if keepdim else xp.squeeze(idx, axis=d)
    return values_indices(values, _wrap(xp.astype(ind, B.native_dtype(_dt.int64)), B))


@op()
def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmax")


@op()
def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmin")


def _arg(x, dim, keepdim, name):
    if not x.numel():
        if dim is None:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        d = norm_dim(dim, x.ndim, name)
        if x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    B = x._backend
    f = getattr(B.xp, name)
    if dim is None:
        r = f(B.xp.reshape(x._data, (-1,)))
        if keepdim:
            r = B.xp.reshape(r, (1,) * x.ndim)
    else:
        r = f(x._data, axis=norm_dim(dim, x.ndim, name), keepdims=keepdim)
    return _wrap(B.xp.astype(B.xp.asarray(r), B.native_dtype(_dt.int64)), B)


@op()
def logsumexp(input, dim, keepdim=False):
    return apply(Logsumexp, (floating(input),), norm_dims(dim, input.ndim, "logsumexp"), keepdim)


@op()
def norm(input, p="fro", dim=None, keepdim=False):
    x = input
    if p in ("fro", 2, 2.0):
        return apply(Norm2, (x,), norm_dims(dim, x.ndim, "norm"), keepdim)
    if p == float("inf"):
        return amax(x.abs(), dim if dim is not None else (), keepdim)
    if p == float("-inf"):
        return amin(x.abs(), dim if dim is not None else (), keepdim)
    if p == 1:
        return sum(x.abs(), dim, keepdim)
    if p == 0:
        return sum((x != 0).to(x.dtype), dim, keepdim)
    return sum(x.abs() ** p, dim, keepdim) ** (1.0 / p)


@op()
def prod(input, dim=None, keepdim=False, *, dtype=None):
    # product through exp-sum-log loses signs and zeros; a plain fold keeps both
    x = input if dtype is None else input.to(dtype)
    if dim is None:
        flat = x.reshape(-1)
        r = flat[0] if flat.numel() else as_tensor_like(1.0, x)
        for i in range(1, flat.shape[0]):
            r = r * flat[i]
        return r
    d = norm_dim(dim, x.ndim, "prod")
    parts = x.unbind(d)
    r = parts[0]
    for p in parts[1:]:
        r = r * p
    return r.unsqueeze(d) if keepdim else r


@op()
def any(input, dim=None, keepdim=False):
    return nondiff(input, lambda B, a: B.xp.any(a, axis=None if dim is None else norm_dims(dim, a.ndim, "any"),
                                                keepdims=keepdim))


@op()
def all(input, dim=None, keepdim=False):
    return nondiff(input, lambda B, a: B.xp.all(a, axis=None if dim is None else norm_dims(dim, a.ndim, "all"),
                                                keepdims=keepdim))


@op()
def softmax(input, dim=-1, dtype=None):
    x = input.to(dtype) if dtype is not None else floating(input)
    return apply(Softmax, (x,), norm_dim(dim, x.ndim, "softmax"))


@op()
def log_softmax(input, dim=-1, dtype=None):
    x = input.to(dtype) if dtype is not None else floating(input)
    return apply(LogSoftmax, (x,), norm_dim(dim, x.ndim, "log_softmax"))


from .unary import maximum, minimum, where  # noqa: E402 - used at call time above
