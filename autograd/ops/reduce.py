"""Reductions: sum, mean, var/std, max/min (and arg-), logsumexp, norm, prod, any/all, and the
fused softmax/log_softmax. A reduction's gradient broadcasts back over the reduced dims."""
from __future__ import annotations

from collections import namedtuple

from backends import dtypes as _dt
from ..grad_mode import grad_enabled
from ..graph import primitive
from ..tensor import _wrap
from ._core import apply, floating, keep_shape, norm_dim, norm_dims
from ._registry import op

_INF, _NAN = float("inf"), float("nan")


def _all_dims(dim):
    """PyTorch reads dim=() and dim=[] as "every dim" in its reductions (not "none")."""
    return None if isinstance(dim, (tuple, list)) and not dim else dim


def _kd(keepdim, keepdims):
    """torch accepts NumPy's spelling `keepdims=` beside `keepdim=` in its reductions."""
    return keepdim if keepdims is None else keepdims


def _half(x):
    """float16 reductions accumulate in float32 and cast back, as PyTorch's do."""
    return x.dtype is _dt.float16


def _f16(xp):
    """The namespace's float16, or None (array_api_strict has none)."""
    return getattr(xp, "float16", None)


def _sum16(xp, x, axes, keepdim):
    return xp.astype(xp.asarray(xp.sum(x, axis=axes, keepdims=keepdim, dtype=xp.float32)), xp.float16)


@primitive()
class Sum:
    def forward(B, x, axes, keepdim): return B.xp.sum(x, axis=axes, keepdims=keepdim)
    def backward(ctx, g): return apply(Unsum, (g,), ctx.axes, ctx.keepdim, ctx.input_shapes[0])


@primitive(name="sum")
class SumTyped:
    """Sum keeping x's dtype: float16 accumulates in float32 and casts back (as PyTorch), a small
    integer dtype asked for with dtype= stays that dtype (NumPy would widen it)."""
    def forward(B, x, axes, keepdim):
        xp = B.xp
        if x.dtype == _f16(xp):
            return _sum16(xp, x, axes, keepdim)
        return xp.sum(x, axis=axes, keepdims=keepdim, dtype=x.dtype)

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
    """Max over dims; tied maxima share the gradient evenly. `evenly` is max()/min() without dim
    (PyTorch's evenly_distribute_backward): a NaN maximum sends the gradient to the NaN elements,
    by selection. amax/amin keep PyTorch's (g / count) * mask, NaN everywhere for a NaN maximum."""
    def forward(B, x, axes, keepdim, is_min, evenly):
        return (B.xp.min if is_min else B.xp.max)(x, axis=axes, keepdims=keepdim)

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        axes = ctx.axes
        if not ctx.keepdim:
            ks = keep_shape(x.shape, axes)
            out, g = out.reshape(ks), g.reshape(ks)
        xp = x._backend.xp
        if ctx.evenly:
            xd, od = x._data, out._data
            mask = xp.isnan(xd) if bool(xp.any(xp.isnan(od))) else xd == od
            return masked(g / float(xp.sum(xp.astype(mask, xp.int64))), mask)
        mask = x == out
        return (g / mask.sum(dim=axes, keepdim=True)) * mask


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
        return masked(g, positions == idx)


@primitive(save=("x", "out"))
class Norm2:
    """Euclidean norm; its gradient at 0 is 0 (a subgradient), as PyTorch. float16 is squared and
    summed in float32 (300**2 overflows float16)."""
    def forward(B, x, axes, keepdim):
        xp = B.xp
        if x.dtype == _f16(xp):
            xf = xp.astype(x, xp.float32)
            return xp.astype(xp.sqrt(xp.sum(xf * xf, axis=axes, keepdims=keepdim)), xp.float16)
        return xp.sqrt(xp.sum(x * x, axis=axes, keepdims=keepdim))

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.keepdim:
            ks = keep_shape(x.shape, ctx.axes)
            out, g = out.reshape(ks), g.reshape(ks)
        zero = out == 0
        return g * x / where(zero, 1.0, out) * ~zero


def _sumexp(xp, x, axes, keepdim, m):
    e = xp.exp(x - m)
    return _sum16(xp, e, axes, keepdim) if x.dtype == _f16(xp) else xp.sum(e, axis=axes, keepdims=keepdim)


def _log_softmax(xp, z, dim):
    e = xp.exp(z)
    s = _sum16(xp, e, dim, True) if z.dtype == _f16(xp) else xp.sum(e, axis=dim, keepdims=True)
    return z - xp.log(s)


def _stable(xp, x, axes, f):
    """f(x, m) with m the max over axes, for slices whose max is finite. A slice of all -inf, or
    with +inf or NaN, is computed on zeros and marked: f's caller fills in PyTorch's value, and
    no inf - inf or log(0) is ever evaluated (no NumPy warnings). Returns (result, ok or None)."""
    m = xp.max(x, axis=axes, keepdims=True)
    ok = xp.isfinite(m)
    if bool(xp.all(ok)):
        return f(x, m), None
    zero = xp.zeros((), dtype=x.dtype)
    return f(xp.where(ok, x, zero), xp.where(ok, m, zero)), ok


@primitive(save=("out",))
class LogSoftmax:
    """Fused for stability and speed: x - max - log(sum(exp(x - max))). A slice holding +inf or
    NaN, or all -inf, is NaN (as PyTorch); float16 sums in float32 and casts back, as PyTorch."""
    def forward(B, x, dim):
        xp = B.xp
        if x.size == 0:
            return xp.asarray(x, copy=True)
        out, ok = _stable(xp, x, dim, lambda x, m: _log_softmax(xp, x - m, dim))
        return out if ok is None else xp.where(ok, out, xp.asarray(_NAN, dtype=x.dtype))

    def backward(ctx, g):
        return g - ctx.out.exp() * g.sum(ctx.dim, keepdim=True)


@primitive(save=("out",))
class Softmax:
    """exp(x - max) / sum: a slice holding +inf or NaN, or all -inf, is NaN (as PyTorch). float16 is
    computed in float32 (PyTorch's softmax kernel does; 70,000 equal logits must not give 0)."""
    def forward(B, x, dim):
        xp = B.xp
        if x.size == 0:
            return xp.asarray(x, copy=True)
        half = x.dtype == _f16(xp)
        if half:
            x = xp.astype(x, xp.float32)

        def f(x, m):
            e = xp.exp(x - m)
            return e / xp.sum(e, axis=dim, keepdims=True)
        out, ok = _stable(xp, x, dim, f)
        if ok is not None:
            out = xp.where(ok, out, xp.asarray(_NAN, dtype=x.dtype))
        return xp.astype(out, xp.float16) if half else out

    def backward(ctx, g):
        out = ctx.out
        gy = g * out
        return gy - out * gy.sum(ctx.dim, keepdim=True)


@primitive(save=("x", "out"))
class Logsumexp:
    """log(sum(exp(x - max))) + max. A slice of all -inf gives -inf, one with +inf gives inf, NaN
    gives NaN (its max), as PyTorch; an empty slice gives -inf."""
    def forward(B, x, axes, keepdim):
        xp = B.xp
        if x.size == 0:
            out = xp.full(keep_shape(x.shape, axes), -_INF, dtype=x.dtype)
        else:
            out, ok = _stable(xp, x, axes, lambda x, m: xp.log(_sumexp(xp, x, axes, True, m)) + m)
            if ok is not None:
                out = xp.where(ok, out, xp.max(x, axis=axes, keepdims=True))
        return out if keepdim else xp.reshape(out, tuple(s for i, s in enumerate(x.shape) if i not in axes))

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.keepdim:
            ks = keep_shape(x.shape, ctx.axes)
            out, g = out.reshape(ks), g.reshape(ks)
        xp = x._backend.xp
        ok = xp.isfinite(out._data)
        if bool(xp.all(ok)):
            return g * (x - out).exp()
        # PyTorch's exp(x - out) where out is +-inf or NaN: 0 where x < out, else NaN; computed
        # on safe values so that no inf - inf is evaluated
        be, okt = x._backend, _wrap(ok, x._backend)
        fine = g * (where(okt, x, 0.0) - where(okt, out, 0.0)).exp()
        bad = _wrap(xp.where(x._data < out._data, xp.zeros((), dtype=x._data.dtype),
                             xp.asarray(_NAN, dtype=x._data.dtype)), be)
        return where(okt, fine, bad)


@primitive(save=("x", "out"))
class NormInf:
    """max (is_min: min) of |x|. PyTorch's rule: the gradient is shared by the elements at the
    norm, and by NaN elements, times sgn(x) (0 at NaN)."""
    def forward(B, x, axes, keepdim, is_min):
        return (B.xp.min if is_min else B.xp.max)(B.xp.abs(x), axis=axes, keepdims=keepdim)

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        axes = ctx.axes
        if not ctx.keepdim:
            ks = keep_shape(x.shape, axes)
            out, g = out.reshape(ks), g.reshape(ks)
        xp, be = x._backend.xp, x._backend
        ax = xp.abs(x._data)
        m = (ax == out._data) | xp.isnan(ax)
        mask = _wrap(xp.astype(m, x._data.dtype), be)
        count = _wrap(xp.sum(xp.astype(m, x._data.dtype), axis=axes, keepdims=True), be)
        return sign(x) * ((g / count) * mask)


@primitive(save=("x", "out"))
class NormP:
    """sum(|x|**p)**(1/p) for p other than 2 and +-inf, with PyTorch's norm_backward (a zero norm
    has a zero gradient; p = 0 counts nonzeros and has a zero gradient). float16 in float32."""
    def forward(B, x, p, axes, keepdim):
        xp = B.xp
        a = xp.abs(xp.astype(x, xp.float32) if x.dtype == _f16(xp) else x)
        if p == 0:
            r = xp.sum(xp.astype(a != 0, a.dtype), axis=axes, keepdims=keepdim)
        elif p == 1:
            r = xp.sum(a, axis=axes, keepdims=keepdim)
        else:
            r = xp.sum(a ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)
        return xp.astype(xp.asarray(r), x.dtype)

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        p = ctx.p
        if not ctx.keepdim:
            ks = keep_shape(x.shape, ctx.axes)
            out, g = out.reshape(ks), g.reshape(ks)
        if p == 0:
            return _zeros(x)
        if p == 1:
            return sign(x) * g
        be = x._backend
        zero_x = _wrap(x._data == 0, be)
        zero_n = _wrap(out._data == 0, be)
        ax = x.abs()
        if p < 1:
            scaled = sign(x) * where(zero_x, 0.0, where(zero_x, 1.0, ax) ** (p - 1))
            return scaled * g * out ** (1 - p)
        scale = where(zero_n, 0.0, g / where(zero_n, 1.0, out) ** (p - 1))
        scaled = sign(x) * ax ** (p - 1) if p < 2 else x * ax ** (p - 2)
        return scaled * scale


@primitive(save=("x", "out"))
class Prod:
    """The product over axes (`whole`: over every element, dim=None), with torch's prod_backward:
    out / x where the tensor has no zeros; otherwise the product of the others as an exclusive
    cumprod from each side (over every element with more than one zero, outside create_graph,
    the gradient is 0, as torch's shortcut)."""
    def forward(B, x, axes, keepdim, whole): return B.xp.prod(x, axis=axes, keepdims=keepdim, dtype=x.dtype)

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        axes = ctx.axes
        if not axes:
            return g
        if not ctx.keepdim:
            ks = keep_shape(x.shape, axes)
            out, g = out.reshape(ks), g.reshape(ks)
        if x.numel() == 0:
            return g.expand(x.shape)
        xp = x._backend.xp
        zeros = int(xp.sum(xp.astype(x._data == 0, xp.int64)))
        if not zeros:
            return g * (out / x)
        if not ctx.whole:                       # prod(x, dim): the formula whatever the zeros
            return g * _prod_others(x, axes[0])
        if zeros > 1 and not grad_enabled():
            return _zeros(x)
        return (g.reshape(-1) * _prod_others(x.reshape(-1), 0)).reshape(x.shape)


def _prod_others(x, axis):
    """The product of the other elements of each slice along axis, safe with zeros: the exclusive
    cumprod from the front times the exclusive cumprod from the back (torch's
    prod_safe_zeros_backward)."""
    from .scan import cumprod, flip
    from .shape import cat
    n = x.shape[axis]
    ones = _wrap(x._backend.xp.ones(keep_shape(x.shape, (axis,)), dtype=x._data.dtype), x._backend)
    front = cumprod(cat([ones, x.narrow(axis, 0, n - 1)], axis), axis)
    back = flip(cumprod(cat([ones, flip(x.narrow(axis, 1, n - 1), axis)], axis), axis), axis)
    return front * back


@primitive(save=("x",))
class Var:
    """Variance with `correction`, PyTorch's var_backward: (2 / dof) g (x - mean), no gradient
    through the mean (an inf gradient stays inf). float16 accumulates in float32. With no degrees
    of freedom the result is inf (nan for 0 / 0), as PyTorch, computed without a warning."""
    def forward(B, x, axes, keepdim, correction):
        xp = B.xp
        half = x.dtype == _f16(xp)
        xf = xp.astype(x, xp.float32) if half else x
        n = 1
        for a in axes:
            n *= x.shape[a]
        if n == 0:
            r = xp.full(keep_shape(x.shape, axes) if keepdim else
                        tuple(s for i, s in enumerate(x.shape) if i not in axes), _NAN, dtype=xf.dtype)
        else:
            d = xf - xp.sum(xf, axis=axes, keepdims=True) / n
            ss = xp.sum(d * d, axis=axes, keepdims=keepdim)
            dof = n - correction
            if dof > 0:
                r = ss / dof
            else:
                r = xp.where(ss > 0, xp.asarray(_INF, dtype=xf.dtype), xp.asarray(_NAN, dtype=xf.dtype))
        return xp.astype(xp.asarray(r), x.dtype) if half else r

    def backward(ctx, g):
        x, axes = ctx.x, ctx.axes
        if not ctx.keepdim:
            g = g.reshape(keep_shape(x.shape, axes))
        dof = _count(x, axes) - ctx.correction
        return (2.0 / dof if dof > 0 else _INF) * g * (x - mean(x, axes, keepdim=True))


@primitive(save=("out",))
class StdSqrt:
    """std = sqrt(var), with PyTorch's std_backward: a zero std has a zero gradient (not g / 0)."""
    def forward(B, v): return B.xp.sqrt(v)

    def backward(ctx, g):
        out = ctx.out
        nz = out._data != 0
        return masked(g / (2 * where(_wrap(nz, out._backend), out, 1.0)), nz)


def _zeros(t):
    be = t._backend
    return _wrap(be.xp.zeros(t._data.shape, dtype=t._data.dtype), be)


@op()
def sum(input, dim=None, keepdim=False, *, dtype=None, keepdims=None):
    x = input
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.category < 2:
        x = x.to(_dt.int64)                       # like PyTorch: integer and bool sums are int64
    dt = x.dtype
    prim = SumTyped if dt is _dt.float16 or (dt.category < 2 and dt is not _dt.int64) else Sum
    return apply(prim, (x,), norm_dims(_all_dims(dim), x.ndim, "sum"), _kd(keepdim, keepdims))


def _count(x, axes):
    n = 1
    for a in axes:
        n *= x._data.shape[a]
    return n


@op()
def mean(input, dim=None, keepdim=False, *, dtype=None, keepdims=None):
    x = input
    keepdim = _kd(keepdim, keepdims)
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating point, "
                           f"but got {x.dtype.name}")
    axes = norm_dims(_all_dims(dim), x.ndim, "mean")
    if _half(x):
        return mean(x.to(_dt.float32), axes, keepdim).to(_dt.float16)
    n = _count(x, axes)
    return sum(x, axes, keepdim) / n if n else sum(x, axes, keepdim) * _NAN


@op()
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, keepdims=None):
    x = input
    keepdim = _kd(keepdim, keepdims)
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"var(): input dtype should be floating point, but got {x.dtype.name}")
    return apply(Var, (x,), norm_dims(_all_dims(dim), x.ndim, "var"), keepdim, correction)


@op()
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, keepdims=None):
    x = input
    norm_dims(_all_dims(dim), x.ndim, "std")                      # errors name this op
    if _half(x):
        return std(x.to(_dt.float32), dim, unbiased, keepdim, correction=correction, keepdims=keepdims
                   ).to(_dt.float16)
    return apply(StdSqrt, (var(x, dim, unbiased, keepdim, correction=correction, keepdims=keepdims),))


@op(method=False)
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over dim, as torch.var_mean."""
    norm_dims(_all_dims(dim), input.ndim, "var_mean")            # errors name this op
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, _all_dims(dim), keepdim))


@op(method=False)
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over dim, as torch.std_mean."""
    norm_dims(_all_dims(dim), input.ndim, "std_mean")
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, _all_dims(dim), keepdim))


@op()
def amax(input, dim=(), keepdim=False, *, keepdims=None):
    return _amax(input, _all_dims(dim), _kd(keepdim, keepdims), False, "amax")


@op()
def amin(input, dim=(), keepdim=False, *, keepdims=None):
    return _amax(input, _all_dims(dim), _kd(keepdim, keepdims), True, "amin")


def _nonempty(x, dim, axes, name):
    """PyTorch's refusal to take a max/min/arg over nothing (there is no identity)."""
    if x.numel() == 0:
        if dim is None:
            if name.startswith("arg"):              # torch's words differ between the two families
                raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               f"Specify the reduction dim with the 'dim' argument.")
        for a in axes:
            if x._data.shape[a] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")


def _amax(x, dim, keepdim, is_min, name, evenly=False):
    axes = norm_dims(dim, x.ndim, name)
    _nonempty(x, dim, axes, name)
    return apply(Amax, (x,), axes, keepdim, is_min, evenly)


values_indices = namedtuple("values_indices", ["values", "indices"])


@op()
def max(input, dim=None, keepdim=False, *, keepdims=None):
    """Without dim: the maximum (ties share the gradient). With dim: (values, indices). With a
    Tensor as dim: torch's spelling of maximum."""
    return _max_or_min(input, dim, _kd(keepdim, keepdims), "max")


@op()
def min(input, dim=None, keepdim=False, *, keepdims=None):
    return _max_or_min(input, dim, _kd(keepdim, keepdims), "min")


def _max_or_min(x, dim, keepdim, name):
    from ..tensor import Tensor
    if isinstance(dim, Tensor):
        return (maximum if name == "max" else minimum)(x, dim)
    if dim is None:
        return _amax(x, None, False, name == "min", name, evenly=True)
    return _extremum_dim(x, dim, keepdim, name)


def _extremum_dim(x, dim, keepdim, name):
    d = norm_dim(dim, x.ndim, name)
    B = x._backend
    if x.ndim == 0:
        return values_indices(x.clone(), _wrap(B.xp.zeros((), dtype=B.native_dtype(_dt.int64)), B))
    _nonempty(x, d, (d,), name)
    xp = B.xp
    # NumPy's argmax/argmin pick the first NaN where there is one, as PyTorch's max/min do
    idx = (xp.argmax if name == "max" else xp.argmin)(x._data, axis=d, keepdims=True)
    values = apply(Pick, (x,), d, idx, keepdim)
    ind = idx if keepdim else xp.squeeze(idx, axis=d)
    return values_indices(values, _wrap(xp.astype(ind, B.native_dtype(_dt.int64)), B))


@op()
def argmax(input, dim=None, keepdim=False, *, keepdims=None):
    return _arg(input, dim, _kd(keepdim, keepdims), "argmax")


@op()
def argmin(input, dim=None, keepdim=False, *, keepdims=None):
    return _arg(input, dim, _kd(keepdim, keepdims), "argmin")


def _arg(x, dim, keepdim, name):
    """The first index of the max/min (ties: the first; a NaN counts as the max and the min)."""
    B = x._backend
    f = getattr(B.xp, name)
    if dim is None:
        _nonempty(x, None, (), name)
        r = f(B.xp.reshape(x._data, (-1,)))
        if keepdim:
            r = B.xp.reshape(r, (1,) * x.ndim)
    else:
        d = norm_dim(dim, x.ndim, name)
        if x.ndim == 0:
            r = B.xp.zeros((), dtype=B.native_dtype(_dt.int64))
        else:
            _nonempty(x, d, (d,), name)
            r = f(x._data, axis=d, keepdims=keepdim)
    return _wrap(B.xp.astype(B.xp.asarray(r), B.native_dtype(_dt.int64)), B)


@op()
def logsumexp(input, dim, keepdim=False, *, keepdims=None):
    x = floating(input)
    return apply(Logsumexp, (x,), norm_dims(_all_dims(dim), x.ndim, "logsumexp"), _kd(keepdim, keepdims))


@op()
def norm(input, p="fro", dim=None, keepdim=False):
    x = input
    axes = norm_dims(_all_dims(dim), x.ndim, "norm")
    if p in ("fro", 2, 2.0):
        return apply(Norm2, (x,), axes, keepdim)
    if isinstance(p, str):
        raise RuntimeError(f"norm: p must be a number or 'fro' for a vector norm, got {p!r}")
    if p in (_INF, -_INF):
        if x.numel() == 0:
            if dim is None:
                raise RuntimeError(f"norm: cannot compute the {p} norm of an empty tensor (the operation "
                                   f"has no identity)")
            for a in axes:
                if x._data.shape[a] == 0:
                    raise RuntimeError(f"norm: cannot compute the {p} norm on the empty dimension {a} "
                                       f"(the operation has no identity)")
        return apply(NormInf, (x,), axes, keepdim, p < 0)
    return apply(NormP, (x,), float(p), axes, keepdim)


@op()
def prod(input, dim=None, keepdim=False, *, dtype=None, keepdims=None):
    """Product of all elements, or over one dim; integer and bool inputs give int64 (PyTorch)."""
    x = input
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.category < 2:
        x = x.to(_dt.int64)
    if dim is None:
        axes = tuple(range(x.ndim))
    else:
        d = norm_dim(dim, x.ndim, "prod")           # an int, as torch.prod's
        axes = (d,) if x.ndim else ()
    return apply(Prod, (x,), axes, _kd(keepdim, keepdims), dim is None)


def _bool_reduce(x, dim, keepdim, name):
    """any/all: dim may be an int or a tuple (dim=() reduces nothing, as PyTorch); uint8 gives
    uint8, every other dtype bool."""
    B = x._backend
    axes = None if dim is None else norm_dims(dim, x.ndim, name)
    r = B.xp.asarray(getattr(B.xp, name)(x._data, axis=axes, keepdims=keepdim))
    if x.dtype is _dt.uint8:
        r = B.xp.astype(r, x._data.dtype)
    return _wrap(r, B)


@op()
def any(input, dim=None, keepdim=False, *, keepdims=None):
    return _bool_reduce(input, dim, _kd(keepdim, keepdims), "any")


@op()
def all(input, dim=None, keepdim=False, *, keepdims=None):
    return _bool_reduce(input, dim, _kd(keepdim, keepdims), "all")


@op()
def count_nonzero(input, dim=None):
    """The number of nonzero elements over dim (an int, a tuple, or None for all), as int64."""
    axes = norm_dims(dim, input.ndim, "count_nonzero")
    B = input._backend
    a = input._data
    nz = a if input.dtype is _dt.bool_ else a != B.xp.zeros((), dtype=a.dtype)
    r = B.xp.sum(B.xp.astype(nz, B.native_dtype(_dt.int64)), axis=axes)
    return _wrap(B.xp.asarray(r), B)


aminmax_result = namedtuple("aminmax", ["min", "max"])


@op()
def aminmax(input, *, dim=None, keepdim=False):
    """(amin, amax) over dim or over everything; each with amin's / amax's gradient (ties share)."""
    if input.numel() == 0:
        if dim is None:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has "
                               "no identity.")
        d = norm_dim(dim, input.ndim, "aminmax")
        if input.ndim and input._data.shape[d] == 0:
            raise IndexError(f"aminmax(): Expected reduction dim {d} to have non-zero size.")
    if input.dtype is _dt.bool_:          # through uint8: the array API has no max of bools
        lo, hi = aminmax(input.to(_dt.uint8), dim=dim, keepdim=keepdim)
        return aminmax_result(lo.to(_dt.bool_), hi.to(_dt.bool_))
    if dim is None:
        lo, hi = amin(input, None, keepdim), amax(input, None, keepdim)
        if keepdim and input.ndim == 0:
            lo, hi = lo.reshape(()), hi.reshape(())
        return aminmax_result(lo, hi)
    d = norm_dim(dim, input.ndim, "aminmax")
    if input.ndim == 0:
        return aminmax_result(input.clone(), input.clone())
    return aminmax_result(amin(input, d, keepdim), amax(input, d, keepdim))


@primitive(save=("x",))
class NanZeroed:
    """x with NaN replaced by 0. Its gradient is torch's nansum_backward, g * !isnan(x): a product,
    not a select, so an inf gradient (nanmean of an all-NaN slice) gives NaN at the NaN elements,
    as torch."""
    def forward(B, x):
        xp = B.xp
        return xp.where(xp.isnan(x), xp.zeros((), dtype=x.dtype), x)

    def backward(ctx, g):
        be = g._backend
        keep = ~be.xp.isnan(ctx.x._data)
        return g * _wrap(be.xp.astype(keep, g._data.dtype), be)


def _nan_zeroed(x):
    if not x.dtype.is_floating_point:
        return x
    return apply(NanZeroed, (x,))


@op()
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """sum treating NaN as zero."""
    norm_dims(_all_dims(dim), input.ndim, "nansum")
    return sum(_nan_zeroed(input), dim, keepdim, dtype=dtype)


@op()
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN elements (NaN where there are none)."""
    x = input if dtype is None else input.to(dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{x.dtype.name}")
    axes = norm_dims(_all_dims(dim), x.ndim, "nanmean")
    count = sum(~isnan(x), axes, keepdim)
    return nansum(x, axes, keepdim) / count


@op()
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise, or equal (infinities of one sign
    included); NaN equals NaN only with equal_nan. Both must have one dtype (torch)."""
    from ..tensor import Tensor
    if not isinstance(other, Tensor):
        raise TypeError(f"isclose(): argument 'other' must be Tensor, not {type(other).__name__}")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"isclose: {input.dtype.name} did not match {other.dtype.name}")
    if rtol < 0:
        raise RuntimeError(f"isclose: rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"isclose: atol must be greater than or equal to zero, but got {atol}")
    a, b = input.detach(), other.detach()
    close = a == b
    if equal_nan and a.dtype.is_floating_point:
        close = close | (isnan(a) & isnan(b))
    if rtol == 0 and atol == 0:
        return close
    if a.dtype is _dt.bool_:
        from ..tensor import _default_dtype
        a, b = a.to(_default_dtype()), b.to(_default_dtype())
    allowed = atol + (rtol * b).abs()
    actual = (a - b).abs()
    return close | (isfinite(actual) & (actual <= allowed))


def tensor_allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """torch.allclose: isclose everywhere (Tensor.allclose and autograd.allclose)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


@op()
def softmax(input, dim=-1, dtype=None):
    x = _softmax_input(input, dtype, "softmax")
    return apply(Softmax, (x,), norm_dim(dim, x.ndim, "softmax"))


@op()
def log_softmax(input, dim=-1, dtype=None):
    x = _softmax_input(input, dtype, "log_softmax")
    return apply(LogSoftmax, (x,), norm_dim(dim, x.ndim, "log_softmax"))


def _softmax_input(input, dtype, name):
    """input cast to `dtype` if given; torch has no integer or bool softmax kernel (it raises rather
    than compute in float; `dtype=` is the way to get one)."""
    x = input.to(dtype) if dtype is not None else input
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f"{name}: not implemented for {x.dtype.name} tensors (shape {tuple(x.shape)}); "
                                  f"pass dtype=autograd.float32 or convert the input to a floating dtype")
    return x


from .unary import isfinite, isnan, masked, maximum, minimum, sign, where  # noqa: E402 - used at call time above
