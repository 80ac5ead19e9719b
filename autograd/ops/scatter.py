"""Gather and scatter: index_select, gather, scatter*, index_add/copy/fill/put, masked_*, take, put,
nonzero. PyTorch's semantics (dims, index checks, error cases), built on advanced indexing.

Every selection here is the engine's advanced `Getitem` with an index tuple of backend arrays
(gather's is the index at `dim` and broadcasting aranges elsewhere), so its gradient is the
existing scatter-add and second order comes free. Writes are `IndexPut` (replace: scatter,
index_copy, masked_fill, ...) and `IndexAdd` below (accumulate: scatter_add, index_add,
index_put(accumulate=True)), whose gradients are again selections. Indices are checked here, as
PyTorch checks them (NumPy would wrap a negative index where torch refuses it).
"""
from __future__ import annotations

from backends import dtypes as _dt
from ..graph import primitive
from ..tensor import Tensor, _wrap
from ._core import apply, as_tensor_like, device_error, norm_dim
from ._registry import op
from .index import Getitem, IndexPut, convert_index

_I64 = _dt.int64


@primitive()
class IndexAdd:
    """x with v added at x[index] (repeated indices accumulate): scatter_add, index_add."""
    def forward(B, x, v, index):
        return B.scatter_add(B.xp.asarray(x, copy=True), index, v)

    def backward(ctx, g):
        need_x, need_v = ctx.needs_input_grad
        return (g if need_x else None), (apply(Getitem, (g,), ctx.index, False) if need_v else None)


@primitive()
class ScatterReduce:
    """x with v combined into x[index] by a ufunc ("multiply", "maximum", "minimum", "add"): the
    forward of scatter_reduce and of scatter(reduce=); scatter_reduce's gradient is composed in
    `scatter_reduce`, and torch defines none for scatter(reduce=)."""
    def forward(B, x, v, index, reduce):
        return B.scatter_reduce(B.xp.asarray(x, copy=True), index, v, reduce)

    def backward(ctx, g):
        raise RuntimeError("scatter: the derivative of scatter with reduce= is not implemented (as in torch); "
                           "use scatter_reduce, which has one")


# ------------------------------------------------------------------------------------------------
# index checks and index grids

def _index_tensor(index, name, what="index"):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument '{what}' must be Tensor, not {type(index).__name__}")
    if index.dtype not in (_dt.int64, _dt.int32):
        raise RuntimeError(f"{name}(): Expected dtype int64 for {what}, got {index.dtype.name}")
    return index


def _same_device(name, *ts):
    be = ts[0]._backend
    if any(t._backend is not be for t in ts):
        device_error(name, ts)


def _ints(index):
    """index's backend array as int64."""
    a = index._data
    B = index._backend
    i64 = B.native_dtype(_I64)
    return a if a.dtype == i64 else B.xp.astype(a, i64)


def _minmax(index):
    B = index._backend
    a = index._data
    return int(B.xp.min(a)), int(B.xp.max(a))


def _check_range(index, n, name, dim=None, negative=False):
    """Every index in [0, n) (in [-n, n) with `negative`), as torch checks it."""
    if index.numel() == 0:
        return
    lo, hi = _minmax(index)
    low = -n if negative else 0
    bad = lo if lo < low else hi if hi >= n else None
    if bad is not None:
        where = f"dimension {dim} with size {n}" if dim is not None else f"a tensor with {n} elements"
        raise IndexError(f"{name}(): index {bad} is out of bounds for {where}")


def _arange(B, n, pos, ndim):
    """arange(n) shaped to broadcast along axis pos of ndim axes."""
    shape = [1] * ndim
    shape[pos] = n
    return B.xp.reshape(B.xp.arange(n, dtype=B.native_dtype(_I64)), tuple(shape))


def _grid(index, dim):
    """The advanced index that takes x[i][j][index[i][j][k]] (dim 2): index at dim, aranges elsewhere."""
    B = index._backend
    nd = index.ndim
    return tuple(_ints(index) if k == dim else _arange(B, index.shape[k], k, nd) for k in range(nd))


def _at_dim(index, dim):
    """The advanced index that takes index (a vector or a 0-d tensor) along dim: index_select's."""
    return (slice(None),) * dim + (_flat_ints(index),)


def _flat_ints(index):
    return index._backend.xp.reshape(_ints(index), (-1,))


def _select(x, idx):
    """x[idx] for an advanced index of backend arrays: a copy, recorded (gradient: scatter-add)."""
    out = apply(Getitem, (x,), idx, False)
    out._vc = [0]
    return out


def _as1d(t):
    return t.reshape(1) if t.ndim == 0 else t


def _gather_checks(x, d, index, name, src=None):
    if index.ndim != x.ndim:
        raise RuntimeError(f"{name}(): Index tensor must have the same number of dimensions as input tensor "
                           f"(index {tuple(index.shape)}, input {tuple(x.shape)})")
    if src is not None and src.ndim != x.ndim:
        raise RuntimeError(f"{name}(): Index tensor must have the same number of dimensions as src tensor "
                           f"(index {tuple(index.shape)}, src {tuple(src.shape)})")
    if index.numel() == 0:
        return
    for k in range(x.ndim):
        if k != d and index.shape[k] > x.shape[k]:
            raise RuntimeError(f"{name}(): Size does not match at dimension {k} expected index {list(index.shape)} "
                               f"to be no larger than self {list(x.shape)} apart from dimension {d}")
        if src is not None and index.shape[k] > src.shape[k]:
            raise RuntimeError(f"{name}(): Expected index {list(index.shape)} to be no larger than src "
                               f"{list(src.shape)} at dimension {k}")
    _check_range(index, x.shape[d], name, d)


# ------------------------------------------------------------------------------------------------
# selections

@op()
def gather(input, dim, index, *, sparse_grad=False):
    x = input
    _index_tensor(index, "gather")
    _same_device("gather", x, index)
    d = norm_dim(dim, x.ndim, "gather")
    shape = tuple(index.shape)
    xs, idx = _as1d(x), _as1d(index)
    _gather_checks(xs, d, idx, "gather")
    out = _select(xs, _grid(idx, d))
    return out.reshape(shape) if index.ndim == 0 else out


@op()
def take_along_dim(input, indices, dim=None):
    x = input
    _index_tensor(indices, "take_along_dim", "indices")
    if dim is None:
        return gather(x.reshape(-1), 0, indices.reshape(-1))
    if x.ndim != indices.ndim:
        raise RuntimeError(f"take_along_dim(): input and indices should have the same number of dimensions, but got "
                           f"{x.ndim} dimensions for input, and {indices.ndim} dimensions for indices")
    d = norm_dim(dim, x.ndim, "take_along_dim")
    from .shape import broadcast_shapes, expand
    try:
        xs = list(x.shape)
        xs[d] = 1
        ix = list(indices.shape)
        ix[d] = 1
        b = list(broadcast_shapes(tuple(xs), tuple(ix)))
    except RuntimeError as e:
        raise RuntimeError(f"take_along_dim(): {e}") from None
    bx, bi = list(b), list(b)
    bx[d], bi[d] = x.shape[d] if x.ndim else 1, indices.shape[d] if indices.ndim else 1
    n = x.shape[d] if x.ndim else 1
    _check_range(indices, n, "take_along_dim", d, negative=True)
    if indices.numel():                # torch takes a negative index from the end here (gather does not)
        B = indices._backend
        indices = _wrap(B.xp.where(indices._data < 0, indices._data + n, indices._data), B)
    return gather(expand(x, tuple(bx)) if x.ndim else x, d, expand(indices, tuple(bi)) if indices.ndim else indices)


@op()
def index_select(input, dim, index):
    x = input
    _index_tensor(index, "index_select")
    _same_device("index_select", x, index)
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = norm_dim(dim, x.ndim, "index_select")
    xs = _as1d(x)
    _check_range(index, xs.shape[d], "index_select", d)
    out = _select(xs, _at_dim(index, d))
    return out.reshape(()) if x.ndim == 0 and index.numel() == 1 else out


@op()
def take(input, index):
    x = input
    _index_tensor(index, "take")
    if index.dtype is not _dt.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype.name}")
    _same_device("take", x, index)
    flat = x.reshape(-1)
    _check_range(index, flat.shape[0], "take", negative=True)
    if flat.shape[0] == 0 and index.numel():
        raise IndexError("take(): tried to take from an empty tensor")
    return _select(flat, (_ints(index),))


@op()
def masked_select(input, mask):
    x = input
    _mask_tensor(mask, "masked_select")
    from .shape import expand
    shape = _bshape("masked_select", x, mask)
    m = expand(mask, shape) if tuple(mask.shape) != shape else mask
    return _select(expand(x, shape) if tuple(x.shape) != shape else x, (m._data,))


def _mask_tensor(mask, name):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask.dtype is not _dt.bool_:
        raise RuntimeError(f"{name}: expected BoolTensor for mask, but got mask with dtype {mask.dtype.name}")


def _bshape(name, *ts):
    from .shape import broadcast_shapes
    try:
        return broadcast_shapes(*(tuple(t.shape) for t in ts))
    except RuntimeError:
        raise RuntimeError(f"{name}: shapes {' and '.join(str(tuple(t.shape)) for t in ts)} are not broadcastable") \
            from None


# ------------------------------------------------------------------------------------------------
# writes

def _value_tensor(value, x, name):
    """A scatter/fill value as a 0-d tensor of x's dtype (a Tensor value must be 0-d)."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"{name} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        return value.to(x.dtype)
    if value is None or not isinstance(value, (bool, int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"{name}(): value must be a number or a 0-d Tensor, not {type(value).__name__}")
    return as_tensor_like(value, x, name).to(x.dtype)


def _same_dtype(name, x, src, what="src"):
    if src.dtype is not x.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to {what}.dtype ({x.dtype.name} and "
                           f"{src.dtype.name})")


def _put(x, v, idx):
    return apply(IndexPut, (x, v), idx, False)


def _src_operands(name, x, dim, index, src):
    """scatter / scatter_add / scatter_reduce with a src tensor: the checks in torch's order; (the dim,
    x and index at least 1-D, src cut to the index's shape)."""
    _same_device(name, x, index, src)
    _same_dtype(name, x, src)
    d = norm_dim(dim, x.ndim, name)
    xs, idx, ss = _as1d(x), _as1d(index), _as1d(src)
    _gather_checks(xs, d, idx, name, ss)
    v = ss[tuple(slice(0, s) for s in idx.shape)] if tuple(ss.shape) != tuple(idx.shape) else ss
    return d, xs, idx, v


_REDUCE_SCATTER = {"add": "add", "multiply": "multiply"}


@op(inplace=True)
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    x = input
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src                     # scatter(input, dim, index, 2.0): the value form
    if src is None and value is None:
        raise TypeError("scatter(): expected a src Tensor or a value")
    _index_tensor(index, "scatter")
    d = norm_dim(dim, x.ndim, "scatter")
    if src is not None:
        d, xs, idx, v = _src_operands("scatter", x, d, index, src)
    else:
        _same_device("scatter", x, index)
        xs, idx = _as1d(x), _as1d(index)
        _gather_checks(xs, d, idx, "scatter")
        v = _value_tensor(value, x, "scatter")
    if reduce is not None and reduce not in _REDUCE_SCATTER:
        raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
    grid = _grid(idx, d)
    if reduce is None:
        out = _put(xs, v, grid)
    else:
        out = apply(ScatterReduce, (xs, v), grid, _REDUCE_SCATTER[reduce])
    return out.reshape(()) if x.ndim == 0 else out


@op(inplace=True)
def scatter_add(input, dim, index, src):
    x = input
    _index_tensor(index, "scatter_add")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    d, xs, idx, v = _src_operands("scatter_add", x, dim, index, src)
    out = apply(IndexAdd, (xs, v), _grid(idx, d))
    return out.reshape(()) if x.ndim == 0 else out


def _index_dim_checks(name, x, d, index, source=None):
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    n = index.numel()
    if source is not None:
        xs = list(_as1d(x).shape)
        xs[d] = n
        ss = list(source.shape) if source.ndim else [1]
        if xs != ss and not (x.ndim == 0 and source.numel() == n):
            raise RuntimeError(f"{name}(): source {list(source.shape)} must have the shape of self {list(x.shape)} "
                               f"with dim {d} of size {n} (the index's length)")


def _index_along(x, dim, index, name, source=None, negative=False):
    """index_add / index_copy / index_fill's checks, in torch's order: (the dim, x as at least 1-D)."""
    _index_tensor(index, name)
    if source is None:
        _same_device(name, x, index)
    else:
        _same_device(name, x, index, source)
        _same_dtype(name, x, source, "source")
    d = norm_dim(dim, x.ndim, name)
    _index_dim_checks(name, x, d, index, source)
    xs = _as1d(x)
    _check_range(index, xs.shape[d], name, d, negative=negative)
    return d, xs


@op(inplace=True)
def index_add(input, dim, index, source, *, alpha=1):
    x = input
    d, xs = _index_along(x, dim, index, "index_add", source)
    src = _as1d(source)
    if alpha != 1:
        src = src * alpha
    out = apply(IndexAdd, (xs, src), _at_dim(index, d))
    return out.reshape(()) if x.ndim == 0 else out


@op(inplace=True)
def index_copy(input, dim, index, source):
    x = input
    d, xs = _index_along(x, dim, index, "index_copy", source)
    out = _put(xs, _as1d(source), _at_dim(index, d))
    return out.reshape(()) if x.ndim == 0 else out


@op(inplace=True)
def index_fill(input, dim, index, value):
    x = input
    d, xs = _index_along(x, dim, index, "index_fill", negative=True)
    v = _value_tensor(value, x, "index_fill")
    B = index._backend
    i = _flat_ints(index)
    i = B.xp.where(i < 0, i + xs.shape[d], i)
    out = _put(xs, v, (slice(None),) * d + (i,))
    return out.reshape(()) if x.ndim == 0 else out


@op(inplace=True)
def index_put(input, indices, values, accumulate=False):
    x = input
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' must be Tensor, not {type(values).__name__}")
    if len(indices) > x.ndim:
        raise IndexError(f"index_put(): too many indices for tensor of dimension {x.ndim} (got {len(indices)})")
    for t in indices:
        if t is not None and (not isinstance(t, Tensor) or t.dtype not in (_dt.int64, _dt.int32, _dt.bool_, _dt.uint8)):
            raise IndexError("index_put(): tensors used as indices must be long, int, byte or bool tensors")
    _same_dtype("index_put", x, values, "values")
    idx = []
    for t in indices:
        if t is None:
            idx.append(slice(None))
        elif t.dtype is _dt.bool_ and accumulate:
            idx.extend(nonzero(t, as_tuple=True))            # add.at takes integer indices
        else:
            idx.append(t if t.dtype is not _dt.uint8 else t.bool())
    index, _ = convert_index(x, tuple(idx))
    try:
        probe = apply(Getitem, (x.detach(),), index, False)       # checks bounds and the values' shape
    except IndexError as e:
        raise IndexError(f"index_put(): {str(e).rpartition('): ')[2]}") from None
    try:
        from .shape import broadcast_shapes
        if tuple(broadcast_shapes(tuple(values.shape), tuple(probe.shape))) != tuple(probe.shape):
            raise RuntimeError
    except RuntimeError:
        raise RuntimeError(f"index_put(): shape mismatch: value tensor of shape {list(values.shape)} cannot be "
                           f"broadcast to indexing result of shape {list(probe.shape)}") from None
    if accumulate:
        return apply(IndexAdd, (x, values), index)
    return _put(x, values, index)


@op(inplace=True)
def masked_fill(input, mask, value):
    x = input
    _mask_tensor(mask, "masked_fill")
    v = _value_tensor(value, x, "masked_fill")
    _same_device("masked_fill", x, mask, v)
    _bshape("masked_fill", x, mask)
    from .unary import Where
    return apply(Where, (mask, v, x))


@op(inplace=True)
def masked_scatter(input, mask, source):
    x = input
    _mask_tensor(mask, "masked_scatter")
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter(): argument 'source' must be Tensor, not {type(source).__name__}")
    _same_device("masked_scatter", x, mask, source)
    _same_dtype("masked_scatter", x, source, "source")
    from .shape import expand
    shape = _bshape("masked_scatter", x, mask)
    m = expand(mask, shape) if tuple(mask.shape) != shape else mask
    xb = expand(x, shape) if tuple(x.shape) != shape else x
    n = int(m._backend.xp.count_nonzero(m._data))
    if source.numel() < n:
        raise RuntimeError(f"masked_scatter: expected source to have at least {n} elements (the mask's true "
                           f"count), got {source.numel()}")
    flat = source.reshape(-1)
    return _put(xb, flat[:n] if flat.shape[0] != n else flat, (m._data,))


@op(inplace=True)
def put(input, index, source, accumulate=False):
    x = input
    _index_tensor(index, "put")
    if index.dtype is not _dt.int64:
        raise RuntimeError(f"put(): Expected a long tensor for index, but got {index.dtype.name}")
    _same_device("put", x, index, source)
    _same_dtype("put", x, source, "source")
    if index.numel() != source.numel():
        raise RuntimeError(f"put(): Expected source and index to have the same number of elements, but got source "
                           f"with {source.numel()} and index with {index.numel()}")
    n = x.numel()
    if index.numel() and not n:
        raise IndexError("put(): tried to put into an empty tensor")
    _check_range(index, n, "put", negative=True)
    flat = x.reshape(-1)
    i = (_flat_ints(index),)
    v = source.reshape(-1)
    out = apply(IndexAdd, (flat, v), i) if accumulate else _put(flat, v, i)
    return out.reshape(tuple(x.shape))


# ------------------------------------------------------------------------------------------------
# where the nonzeros are (no gradient: integer results)

@op()
def nonzero(input, *, as_tuple=False):
    x = input
    B = x._backend
    a = x._data if x.ndim else B.xp.reshape(x._data, (1,))
    idx = B.xp.nonzero(a)
    i64 = B.native_dtype(_I64)
    idx = [B.xp.astype(i, i64) for i in idx]
    if as_tuple:
        return tuple(_wrap(i, B) for i in idx)
    if x.ndim == 0:
        return _wrap(B.xp.zeros((idx[0].shape[0], 0), dtype=i64), B)
    return _wrap(B.xp.stack(idx, axis=-1), B)


@op()
def argwhere(input):
    return nonzero(input)


# ------------------------------------------------------------------------------------------------
# scatter_reduce: sum, prod, mean, amax, amin, with or without self

_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _identity(B, dtype, reduce):
    """What a slot starts from when include_self=False: the reduction's neutral element."""
    d = B.dtype_from_native(dtype)
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if d.is_floating_point:
        return float("-inf") if reduce == "amax" else float("inf")
    if d is _dt.bool_:
        return reduce == "amin"
    return d.min if reduce == "amax" else d.max


@primitive(save=("x", "v", "out"))
class ScatterReduceOp:
    """x with v reduced into x[index] (scatter_reduce); the rule is torch's scatter_reduce_backward."""
    def forward(B, x, v, index, reduce, include_self):
        xp = B.xp
        out = xp.asarray(x, copy=True)
        if not include_self:
            out = B.index_put(out, index, xp.asarray(_identity(B, x.dtype, reduce), dtype=x.dtype))
        out = B.scatter_reduce(out, index, v, _UFUNC[reduce])
        if reduce == "mean":
            n = B.scatter_add(xp.full(x.shape, 1 if include_self else 0, dtype=x.dtype), index,
                              xp.ones(v.shape, dtype=x.dtype))
            n = xp.where(n == 0, xp.ones((), dtype=x.dtype), n)
            out = out / n if B.dtype_from_native(x.dtype).is_floating_point else out // n
        return out

    def backward(ctx, g):
        from .unary import where
        x, v, out, idx, reduce = ctx.x, ctx.v, ctx.out, ctx.index, ctx.reduce

        def pick(t):
            return apply(Getitem, (t,), idx, False)

        def const(fill, like):
            B = like._backend
            return _wrap(B.xp.full(tuple(like.shape), fill, dtype=like._data.dtype), B)
        if reduce == "sum":
            gx, gv = g, pick(g)
        elif reduce == "mean":
            n = apply(IndexAdd, (const(1 if ctx.include_self else 0, g), const(1, v)), idx)
            n = where(n == 0, const(1, n), n)
            gx, gv = g / n, pick(g) / pick(n)
        elif reduce == "prod":
            one = const(1, x)
            masked_x = where(x == 0, one, x)
            gx = g * apply(ScatterReduceOp, (masked_x, v), idx, reduce, ctx.include_self) / masked_x
            zero_v = v == 0
            zeros_at = pick(apply(IndexAdd, (const(0, x), zero_v.to(x.dtype)), idx))
            single = zero_v & (zeros_at == 1)
            vone = const(1, v)
            masked_v = where(single, vone, v)
            gv = where(single, pick(g * apply(ScatterReduceOp, (x, masked_v), idx, reduce, ctx.include_self)),
                       pick(g * out) / where(zero_v, vone, v))
            if bool((zeros_at > 1).any()):              # as torch: this gradient has no derivative
                gv = apply(DelayedError, (gv,), "scatter_reduce(): Double backward is unsupported for src when >1 "
                                                "zeros in src are scattered to the same position")
        else:                                           # amax, amin: shared evenly among the ties
            x_is = (x == out).to(x.dtype)
            v_is = (v == pick(out)).to(x.dtype)
            share = g / apply(IndexAdd, (x_is, v_is), idx)
            gx, gv = x_is * share, v_is * pick(share)
        if not ctx.include_self:
            gx = apply(IndexPut, (gx, const(0, gx[(0,) * gx.ndim] if gx.ndim else gx)), idx, False)
        return gx, gv


@primitive(warns=False)
class DelayedError:
    """t unchanged, with a gradient that raises: a result torch defines but cannot differentiate."""
    def forward(B, t, msg): return B.xp.asarray(t, copy=True)

    def backward(ctx, g):
        raise RuntimeError(ctx.msg)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")
_REDUCE_ALIASES = {"max": "amax", "min": "amin"}       # accepted by torch 2.13, undocumented


@op(inplace=True)
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    x = input
    _index_tensor(index, "scatter_reduce")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not {type(src).__name__}")
    reduce = _REDUCE_ALIASES.get(reduce, reduce)
    if reduce not in _REDUCES:
        raise RuntimeError(f"scatter_reduce(): reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    d, xs, idx, v = _src_operands("scatter_reduce", x, dim, index, src)
    out = apply(ScatterReduceOp, (xs, v), _grid(idx, d), reduce, bool(include_self))
    return out.reshape(()) if x.ndim == 0 else out
