"""Scans along one dim: cumsum, cumprod, cummax/cummin, logcumsumexp, and diff.

The array API has cumulative_sum and cumulative_prod; a running max/min and a running logaddexp
are built here as log-step (Hillis-Steele) scans: ceil(log2(n)) vectorized steps, each one
elementwise op of the slice with itself shifted, so no loop ever runs over elements. Gradients are
PyTorch's formulas (derivatives.yaml / FunctionsManual.cpp): cumsum's is a reversed cumsum,
cumprod's handles zeros the way torch does (an O(n) masked formula, or the O(n^2) product of the
others when the backward itself is recorded), cummax/cummin scatter-add to the indices, and
logcumsumexp's splits the gradient by sign so that it stays in log space.

Also the selection primitives the sorting family shares: `take_along` (x's values at indices along
a dim, as `take_along_axis`; its gradient scatter-adds back) and `flip`.
"""
from __future__ import annotations

from collections import namedtuple

from backends import dtypes as _dt
from ..grad_mode import grad_enabled
from ..graph import primitive
from ..tensor import Tensor, _wrap
from ._core import apply, norm_dim
from ._registry import op


# ------------------------------------------------------------------------------------------------
# selection primitives (shared with sorting.py)

def _axis_index(xp, shape, idx, axis):
    """An advanced index that names, for every element of idx, the element of an array of `shape`
    at position idx along `axis` and at the same position elsewhere (take_along_axis's index)."""
    out = []
    for d, n in enumerate(idx.shape):
        if d == axis:
            out.append(idx)
        else:
            s = [1] * idx.ndim
            s[d] = n
            out.append(xp.reshape(xp.arange(n, dtype=idx.dtype), tuple(s)))
    return tuple(out)


@primitive()
class TakeAlong:
    """x's values at integer indices idx along `axis` (idx has x's rank); the gradient is
    scatter-added back to those indices (repeats accumulate: cummax's repeated indices)."""
    def forward(B, x, idx, axis): return B.xp.take_along_axis(x, idx, axis=axis)
    def backward(ctx, g): return apply(PutAlong, (g,), ctx.idx, ctx.axis, ctx.input_shapes[0])


@primitive()
class PutAlong:
    """Zeros of `shape` with g added at idx along `axis`: TakeAlong's adjoint (and back)."""
    def forward(B, g, idx, axis, shape):
        xp = B.xp
        return B.scatter_add(xp.zeros(shape, dtype=g.dtype), _axis_index(xp, shape, idx, axis), g)

    def backward(ctx, gg): return apply(TakeAlong, (gg,), ctx.idx, ctx.axis)


def take_along(x, idx, axis):
    """x's values at idx (a backend int64 array of x's rank) along axis, differentiable."""
    return apply(TakeAlong, (x,), idx, axis)


@primitive()
class Flip:
    def forward(B, x, axis): return B.xp.flip(x, axis=axis)
    def backward(ctx, g): return apply(Flip, (g,), ctx.axis)


def flip(x, axis):
    return apply(Flip, (x,), axis)


def int64(be, a):
    return _wrap(be.xp.astype(a, be.native_dtype(_dt.int64)), be)


# ------------------------------------------------------------------------------------------------
# log-step scans on backend arrays

def _shifted(xp, a, k, axis):
    """(a[k:], a[:-k]) along axis, as full basic indices (the standard wants every axis named)."""
    hi = tuple(slice(k, None) if d == axis else slice(None) for d in range(a.ndim))
    lo = tuple(slice(None, -k) if d == axis else slice(None) for d in range(a.ndim))
    return a[hi], a[lo]


def log_scan(xp, a, axis, f):
    """The inclusive scan of a along axis under the associative binary f (Hillis-Steele): step k
    combines each element with the one 2**k before it. ceil(log2(n)) vectorized steps."""
    n, k = a.shape[axis], 1
    while k < n:
        hi, lo = _shifted(xp, a, k, axis)
        head = tuple(slice(None, k) if d == axis else slice(None) for d in range(a.ndim))
        a = xp.concat((a[head], f(hi, lo)), axis=axis)
        k *= 2
    return a


def is_floating(xp, dtype):
    """A floating dtype of the namespace (spelled without `isdtype`, which older namespaces lack)."""
    return dtype in (xp.float32, xp.float64) or dtype == getattr(xp, "float16", None)


def positions(xp, shape, axis):
    s = [1] * len(shape)
    s[axis] = shape[axis]
    return xp.broadcast_to(xp.reshape(xp.arange(shape[axis], dtype=xp.int64), tuple(s)), shape)


def running_arg(B, x, axis, is_min):
    """torch's cummax/cummin indices: the last position at which the running max (min) was
    reached, ties included; a NaN is a new maximum (minimum) and stays one."""
    xp = B.xp
    if x.dtype == xp.bool:
        x = xp.astype(x, xp.uint8)
    run = log_scan(xp, x, axis, xp.minimum if is_min else xp.maximum)
    mark = x == run
    if is_floating(xp, x.dtype):
        mark = mark | xp.isnan(x)
    pos = xp.where(mark, positions(xp, x.shape, axis), xp.zeros((), dtype=xp.int64))
    return log_scan(xp, pos, axis, xp.maximum)


# ------------------------------------------------------------------------------------------------
# cumsum, cumprod

def _scan_input(input, dtype):
    """input cast for a cumulative sum/product: `dtype=` if given, int64 for integer and bool
    (torch's rule), else its own dtype. A 0-d tensor scans as one element."""
    x = input
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.category < 2:
        x = x.to(_dt.int64)
    return x


def _accumulate(xp, f, x, axis):
    """f (cumulative_sum / _prod) along axis; float16 accumulates in float32, as torch's CPU kernel."""
    if x.dtype == getattr(xp, "float16", None):
        return xp.astype(f(xp.astype(x, xp.float32), axis=axis), x.dtype)
    return f(x, axis=axis, dtype=x.dtype)


@primitive()
class Cumsum:
    def forward(B, x, axis):
        return _accumulate(B.xp, B.xp.cumulative_sum, x, axis)

    def backward(ctx, g):
        if g.numel() <= 1 or g.shape[ctx.axis] == 1:
            return g
        return reversed_cumsum(g, ctx.axis)


def reversed_cumsum(g, axis):
    """sum over j >= i, by flips (exact with infs, unlike total - cumsum)."""
    return flip(apply(Cumsum, (flip(g, axis),), axis), axis)


def _scan(input, dim, name, f):
    d = norm_dim(dim, input.ndim, name)
    if input.ndim == 0:
        return f(input.reshape(1), 0).reshape(())
    return f(input, d)


@op(inplace=True)
def cumsum(input, dim, *, dtype=None):
    x = _scan_input(input, dtype)
    return _scan(x, dim, "cumsum", lambda t, d: apply(Cumsum, (t,), d))


@primitive(save=("x", "out"))
class Cumprod:
    """Cumulative product; the gradient is torch's cumprod_backward (see the module docstring)."""
    def forward(B, x, axis):
        return _accumulate(B.xp, B.xp.cumulative_prod, x, axis)

    def backward(ctx, g):
        return cumprod_backward(g, ctx.x, ctx.out, ctx.axis)


def cumprod_backward(g, x, out, axis):
    n = x.shape[axis]
    if x.numel() <= 1 or n == 1:
        return g
    be = x._backend
    xp = be.xp
    zero = x._data == 0
    if not bool(xp.any(zero)):
        return reversed_cumsum(out * g, axis) / x
    if grad_enabled():
        return _cumprod_backward_n2(g, x, axis)
    # O(n): with z1, z2 the first two zeros of a slice, an element before z1 gets
    # rev_cumsum(out * g over [0, z1)) / x, the element z1 gets out[z1 - 1] times
    # sum over [z1, z2) of g * cumprod(x with z1 replaced by 1), everything after z1 gets 0
    cz = xp.cumulative_sum(xp.astype(zero, xp.int64), axis=axis)
    before = _wrap(cz == 0, be)
    one = cz == 1
    first = xp.argmax(xp.astype(one, xp.int8), axis=axis, keepdims=True)
    first_mask = (positions(xp, x.shape, axis) == first) & one
    w = where(before, out * g, 0.0)
    g_before = where(before, reversed_cumsum(w, axis) / where(before, x, 1.0), 0.0)
    mid = _wrap(one & ~first_mask, be)
    inner = (cumprod(where(mid, x, 1.0), axis) * where(_wrap(one, be), g, 0.0)).sum(axis, keepdim=True)
    prev = take_along(out, xp.where(first > 0, first - 1, xp.zeros((), dtype=first.dtype)), axis)
    prev = where(_wrap(first == 0, be), 1.0, prev)
    return where(_wrap(first_mask, be), inner * prev, g_before)


def _cumprod_backward_n2(g, x, axis):
    """sum_{j >= k} g_j prod_{i <= j, i != k} x_i for every k at once (differentiable): the slice
    is repeated along a new axis k with x_k replaced by 1, scanned, masked to j >= k and summed."""
    be = x._backend
    xp = be.xp
    n = x.shape[axis]
    xm = _movelast(x, axis)
    gm = _movelast(g, axis)
    ar = xp.arange(n)
    eye = _wrap(xp.reshape(ar, (n, 1)) == xp.reshape(ar, (1, n)), be)        # [k, j]
    later = _wrap(xp.reshape(ar, (n, 1)) <= xp.reshape(ar, (1, n)), be)      # j >= k
    rep = where(eye, 1.0, xm.unsqueeze(-2))                                  # (..., k, j)
    omitted = cumprod(rep, -1)
    gk = where(later, omitted * gm.unsqueeze(-2), 0.0).sum(-1)               # (..., k)
    return _moveback(gk, axis, x.ndim)


def _movelast(t, axis):
    perm = [d for d in range(t.ndim) if d != axis] + [axis]
    return t.permute(*perm)


def _moveback(t, axis, ndim):
    perm = list(range(ndim - 1))
    perm.insert(axis, ndim - 1)
    return t.permute(*perm)


@op(inplace=True)
def cumprod(input, dim, *, dtype=None):
    x = _scan_input(input, dtype)
    return _scan(x, dim, "cumprod", lambda t, d: apply(Cumprod, (t,), d))


# ------------------------------------------------------------------------------------------------
# cummax, cummin

cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])


def _cumext(input, dim, is_min):
    name = "cummin" if is_min else "cummax"
    d = norm_dim(dim, input.ndim, name)
    be = input._backend
    xp = be.xp
    res = cummin_result if is_min else cummax_result
    if input.ndim == 0:
        return res(input.clone(), int64(be, xp.zeros((), dtype=xp.int64)))
    if input.numel() == 0:
        return res(input.clone(), int64(be, xp.zeros(input._data.shape, dtype=xp.int64)))
    quiet = be.enter_quiet()
    try:
        idx = running_arg(be, input._data, d, is_min)
    finally:
        be.exit_quiet(quiet)
    return res(take_along(input, idx, d), int64(be, idx))


@op()
def cummax(input, dim):
    return _cumext(input, dim, False)


@op()
def cummin(input, dim):
    return _cumext(input, dim, True)


# ------------------------------------------------------------------------------------------------
# logcumsumexp

@primitive(save=("x", "out"))
class Logcumsumexp:
    """A log-step scan of logaddexp: stable for any magnitudes, -inf and inf included (a slice of
    -inf stays -inf, inf absorbs, NaN propagates). float16 is computed in float32."""
    def forward(B, x, axis):
        xp = B.xp
        half = x.dtype == getattr(xp, "float16", None)
        a = xp.astype(x, xp.float32) if half else x
        out = log_scan(xp, a, axis, xp.logaddexp)
        return xp.astype(out, x.dtype) if half else out

    def backward(ctx, g):
        x, out, axis = ctx.x, ctx.out, ctx.axis
        if g.numel() == 0:
            return g
        # torch's logcumsumexp_backward: the positive and negative parts of g in log space
        lowest = float(g.dtype.min)
        log_abs = g.abs().log()
        pos = where(g > 0, log_abs, lowest)
        neg = where(g < 0, log_abs, lowest)
        rev = lambda t: flip(apply(Logcumsumexp, (flip(t, axis),), axis), axis)   # noqa: E731
        return (rev(pos - out) + x).exp() - (rev(neg - out) + x).exp()


@op()
def logcumsumexp(input, dim):
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"logcumsumexp: not implemented for {input.dtype.name} tensors (shape "
                           f"{tuple(input.shape)}); convert the input to a floating dtype")
    return _scan(input, dim, "logcumsumexp", lambda t, d: apply(Logcumsumexp, (t,), d))


# ------------------------------------------------------------------------------------------------
# diff

@op()
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim, after concatenating prepend and append; bool
    tensors differ by logical_xor (as torch)."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"diff: order must be non-negative but got {n}")
    d = norm_dim(dim, input.ndim, "diff")
    parts = []
    for name, t in (("prepend", prepend), (None, input), ("append", append)):
        if t is None:
            continue
        if name is not None:
            if not isinstance(t, Tensor):
                raise TypeError(f"diff: {name} must be a Tensor, got {type(t).__name__}")
            if t.ndim != input.ndim:
                raise RuntimeError("diff expects prepend or append to be the same dimension as input")
            for i in range(input.ndim):
                if i != d and t.shape[i] != input.shape[i]:
                    raise RuntimeError(f"diff expects the shape of tensor to prepend or append to match that of "
                                       f"input except along the differencing dimension; input.size({i}) = "
                                       f"{input.shape[i]}, but got tensor.size({i}) = {t.shape[i]}")
        parts.append(t)
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        hi, lo = x.narrow(d, 1, m - 1), x.narrow(d, 0, m - 1)
        x = logical_xor(hi, lo) if x.dtype is _dt.bool_ else hi - lo
    return x if n else x.clone()


from .arith import logical_xor  # noqa: E402 - used at call time above
from .shape import cat  # noqa: E402
from .unary import where  # noqa: E402
