"""Sorting and what is built on it: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
quantile, nanquantile, unique, unique_consecutive; and the searches and counts searchsorted,
bucketize, histc, bincount.

Everything starts from one stable argsort on backend arrays (NaN sorts as the largest value, as in
torch); values are then taken at those indices with `take_along`, whose gradient scatters back to
them, so sort, topk, kthvalue, median(dim), mode and quantile need no rule of their own.
median() and nanmedian() without dim share the gradient evenly between the elements equal to the
result (torch's evenly_distribute_backward). unique, searchsorted, bucketize, histc and bincount
return counts or indices and are not differentiable (as in torch).
"""
from __future__ import annotations

from collections import namedtuple

from backends import dtypes as _dt
from ..graph import primitive
from ..tensor import Tensor, _wrap
from ._core import apply, as_tensor_like, norm_dim, result_dtype
from ._registry import op
from .scan import int64, is_floating, log_scan, positions, take_along

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])


# ------------------------------------------------------------------------------------------------
# backend-array helpers

def argsort_array(xp, a, axis, descending=False):
    """Stable argsort as int64 (ties keep their order, NaN is the largest). Descending is the
    ascending sort of the flipped slice, flipped back: ties still keep their original order."""
    if a.dtype == xp.bool:
        a = xp.astype(a, xp.uint8)
    if not descending:
        return xp.astype(xp.argsort(a, axis=axis, stable=True), xp.int64)
    n = a.shape[axis]
    s = xp.astype(xp.argsort(xp.flip(a, axis=axis), axis=axis, stable=True), xp.int64)
    return (n - 1) - xp.flip(s, axis=axis)


def _slice(a, axis, start, stop):
    return a[tuple(slice(start, stop) if d == axis else slice(None) for d in range(a.ndim))]


def _isnan(xp, a):
    return xp.isnan(a) if is_floating(xp, a.dtype) else xp.zeros(a.shape, dtype=xp.bool)


def _count(xp, mask, axis, keepdims=True):
    return xp.sum(xp.astype(mask, xp.int64), axis=axis, keepdims=keepdims)


def _quiet(be, f):
    """f() between the backend's enter_quiet/exit_quiet (comparisons with NaN warn on some builds)."""
    token = be.enter_quiet()
    try:
        return f()
    finally:
        be.exit_quiet(token)


def _zero_index(be, shape=()):
    return int64(be, be.xp.zeros(shape, dtype=be.xp.int64))


# ------------------------------------------------------------------------------------------------
# sort, argsort, msort, topk, kthvalue

@op()
def sort(input, dim=-1, descending=False, *, stable=False):
    """(values, indices), always stable (torch's is for stable=True; with its default, ties in
    slices longer than a few elements come out in an unspecified order)."""
    d = norm_dim(dim, input.ndim, "sort")
    be = input._backend
    if input.ndim == 0:
        return sort_result(input.clone(), _zero_index(be))
    idx = _quiet(be, lambda: argsort_array(be.xp, input._data, d, descending))
    return sort_result(take_along(input, idx, d), int64(be, idx))


@op()
def argsort(input, dim=-1, descending=False, *, stable=False):
    d = norm_dim(dim, input.ndim, "argsort")
    be = input._backend
    if input.ndim == 0:
        return _zero_index(be)
    return int64(be, _quiet(be, lambda: argsort_array(be.xp, input._data, d, descending)))


@op()
def msort(input):
    return sort(input, 0).values


@op()
def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (smallest) along dim, in sorted order (also for sorted=False, which torch
    leaves unspecified)."""
    d = norm_dim(dim, input.ndim, "topk")
    be = input._backend
    n = input.shape[d] if input.ndim else 1
    if not isinstance(k, int) or not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k out of range (k = {k}, dimension {d} of size {n})")
    if input.ndim == 0:
        return topk_result(input.clone(), _zero_index(be))
    idx = _quiet(be, lambda: _slice(argsort_array(be.xp, input._data, d, largest), d, 0, k))
    return topk_result(take_along(input, idx, d), int64(be, idx))


def _pick(input, pos, d, keepdim, result, order=None):
    """(values, indices) of input at sorted-order position `pos` (an int64 array of keepdim shape)
    along d, as `result`; the gradient goes to that element only. `order`: the stable argsort
    along d where the caller has it."""
    be = input._backend
    xp = be.xp
    if order is None:
        order = argsort_array(xp, input._data, d)
    idx = xp.take_along_axis(order, pos, axis=d)
    values = take_along(input, idx, d)
    if not keepdim:
        values, idx = values.squeeze(d), xp.squeeze(idx, axis=d)
    return result(values, int64(be, idx))


def _scalar_pick(input, result):
    be = input._backend
    return result(input.clone(), _zero_index(be))


def _nonempty_dim(input, d, name):
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


@op()
def kthvalue(input, k, dim=-1, keepdim=False):
    d = norm_dim(dim, input.ndim, "kthvalue")
    n = input.shape[d] if input.ndim else 1
    if not isinstance(k, int) or not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d} (k = {k}, size {n})")
    if input.ndim == 0:
        return _scalar_pick(input, kthvalue_result)
    if input.numel() == 0:
        return _empty_pick(input, d, keepdim, kthvalue_result)
    xp = input._backend.xp
    shape = tuple(1 if i == d else s for i, s in enumerate(input.shape))
    return _quiet(input._backend, lambda: _pick(input, xp.full(shape, k - 1, dtype=xp.int64), d, keepdim,
                                                kthvalue_result))


def _empty_pick(input, d, keepdim, result):
    """The (values, indices) of a reduction along a non-empty dim of an empty tensor: empty, and
    recorded (its gradient, empty too, is defined)."""
    be = input._backend
    xp = be.xp
    idx = xp.zeros(tuple(1 if i == d else s for i, s in enumerate(input.shape)), dtype=xp.int64)
    values = take_along(input, idx, d)
    if not keepdim:
        values, idx = values.squeeze(d), xp.squeeze(idx, axis=d)
    return result(values, int64(be, idx))


# ------------------------------------------------------------------------------------------------
# median, nanmedian

@primitive(save=("x",))
class Chosen:
    """`value`, an element chosen from x (median and nanmedian over all elements): its gradient is
    shared evenly by the elements equal to it, or by the NaN elements where it is NaN (torch's
    evenly_distribute_backward)."""
    def forward(B, x, value): return value

    def backward(ctx, g):
        x = ctx.x
        xp = x._backend.xp
        v = ctx.value
        mask = xp.isnan(x._data) if bool(xp.any(_isnan(xp, v))) else x._data == v
        return masked(g / float(xp.sum(xp.astype(mask, xp.int64))), mask)


def _median_pos(xp, a, d, ignore_nan):
    """The sorted-order position of the (nan)median of each slice, keepdim-shaped: the lower median
    of the non-NaN values; with a NaN and not ignore_nan, the first NaN (torch's result is NaN)."""
    n = a.shape[d]
    nans = _count(xp, _isnan(xp, a), d)
    valid = n - nans
    if ignore_nan:
        return xp.where(valid > 0, (valid - 1) // 2, xp.zeros((), dtype=xp.int64))
    return xp.where(nans > 0, valid, xp.full(valid.shape, (n - 1) // 2, dtype=xp.int64))


def _median(input, dim, keepdim, ignore_nan, name, result):
    be = input._backend
    xp = be.xp
    if dim is None:
        if input.numel() == 0:
            if not input.dtype.is_floating_point:
                raise RuntimeError(f"{name}(): the median of an empty {input.dtype.name} tensor is undefined")
            return apply(Chosen, (input,), xp.full((), float("nan"), dtype=input._data.dtype))
        flat = xp.reshape(input._data, (-1,))

        def value():
            pos = _median_pos(xp, flat, 0, ignore_nan)
            order = argsort_array(xp, flat, 0)
            return xp.reshape(xp.take(flat, xp.take(order, pos)), ())
        return apply(Chosen, (input,), _quiet(be, value))
    d = norm_dim(dim, input.ndim, name)
    if input.ndim == 0:
        return _scalar_pick(input, result)
    _nonempty_dim(input, d, name)
    if input.numel() == 0:
        return _empty_pick(input, d, keepdim, result)
    return _quiet(be, lambda: _pick(input, _median_pos(xp, input._data, d, ignore_nan), d, keepdim, result))


@op()
def median(input, dim=None, keepdim=False):
    """The lower median (torch does not average the two middle values); NaN where a NaN is present."""
    return _median(input, dim, keepdim, False, "median", median_result)


@op()
def nanmedian(input, dim=None, keepdim=False):
    return _median(input, dim, keepdim, True, "nanmedian", nanmedian_result)


# ------------------------------------------------------------------------------------------------
# mode

@op()
def mode(input, dim=-1, keepdim=False):
    """The most frequent value of each slice; among equally frequent values the smallest, at the
    last index where it occurs (torch's CPU result). NaN elements count as distinct values."""
    d = norm_dim(dim, input.ndim, "mode")
    if input.ndim == 0:
        return _scalar_pick(input, mode_result)
    _nonempty_dim(input, d, "mode")
    if input.numel() == 0:
        return _empty_pick(input, d, keepdim, mode_result)
    be = input._backend
    xp = be.xp

    def pick():
        a = input._data
        n = a.shape[d]
        order = argsort_array(xp, a, d)
        s = xp.take_along_axis(a, order, axis=d)
        i = positions(xp, s.shape, d)
        diff = _slice(s, d, 1, None) != _slice(s, d, 0, n - 1)          # run boundaries (NaN != NaN)
        true = xp.ones(_slice(s, d, 0, 1).shape, dtype=xp.bool)
        start = xp.concat((true, diff), axis=d)
        end = xp.concat((diff, true), axis=d)
        zero = xp.zeros((), dtype=xp.int64)
        run_start = log_scan(xp, xp.where(start, i, zero), d, xp.maximum)
        freq = xp.where(end, i - run_start + 1, zero)
        first = xp.argmax(freq, axis=d, keepdims=True)                  # the first: the smallest value
        return _pick(input, xp.astype(first, xp.int64), d, keepdim, mode_result, order)
    return _quiet(be, pick)


# ------------------------------------------------------------------------------------------------
# quantile, nanquantile

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    be = input._backend
    xp = be.xp
    if not input.dtype.is_floating_point or input.dtype is _dt.float16:
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype, got {input.dtype.name}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor, got shape {tuple(q.shape)}")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor ({q.dtype.name} "
                               f"and {input.dtype.name})")
        qa = q._data
        if q._backend is not be:
            raise RuntimeError(f"{name}() q tensor must be on the same device as the input tensor")
        if qa.size and not bool(xp.all((qa >= 0) & (qa <= 1))):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
        scalar_q = q.ndim == 0
        qa = xp.reshape(qa, (-1,))
    else:
        qf = float(q)
        if not 0 <= qf <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {qf}")
        scalar_q = True
        qa = xp.asarray([qf], dtype=input._data.dtype)
    # the reduced dim goes last, kept where keepdim asks (torch's quantile_compute)
    if dim is None:
        x = input.reshape(-1)
        kept = (1,) * input.ndim if keepdim else ()
    else:
        d = norm_dim(dim, input.ndim, name)
        if input.ndim == 0:
            x, kept = input.reshape(1), ()
        else:
            if input.shape[d] == 0:
                raise RuntimeError(f"{name}() input tensor must be non-empty")
            perm = [i for i in range(input.ndim) if i != d] + [d]
            x = input.permute(*perm)
            kept = tuple(1 if i == d else s for i, s in enumerate(input.shape)) if keepdim else \
                tuple(s for i, s in enumerate(input.shape) if i != d)
    a = x._data
    n = a.shape[-1]
    nq = qa.shape[0]

    def ranked():
        order = argsort_array(xp, a, a.ndim - 1)
        nan = _isnan(xp, a)
        qq = xp.reshape(qa, (1,) * (a.ndim - 1) + (nq,))
        if ignore_nan:
            valid = _count(xp, ~nan, a.ndim - 1)
            ranks = qq * xp.astype(valid - 1, a.dtype)
            ranks = xp.where(ranks < 0, xp.zeros((), dtype=a.dtype), ranks)
        else:
            last = n - 1
            has_nan = xp.any(nan, axis=a.ndim - 1, keepdims=True)
            ranks = xp.where(has_nan, xp.asarray(float(last), dtype=a.dtype), qq * last)
        if interpolation == "lower":
            ranks = xp.floor(ranks)
        elif interpolation == "higher":
            ranks = xp.ceil(ranks)
        elif interpolation == "nearest":
            ranks = xp.round(ranks)                       # half to even, as torch's round
        below = xp.astype(ranks, xp.int64)
        above = xp.astype(xp.ceil(ranks), xp.int64)
        take = lambda r: xp.take_along_axis(order, xp.broadcast_to(r, a.shape[:-1] + (nq,)), axis=a.ndim - 1)  # noqa: E731
        return take(below), take(above), ranks - xp.astype(below, a.dtype)
    ib, ia, w = _quiet(be, ranked)
    vb = take_along(x, ib, x.ndim - 1)
    if interpolation in ("linear", "midpoint"):
        va = take_along(x, ia, x.ndim - 1)
        if interpolation == "midpoint":
            w = xp.full(w.shape, 0.5, dtype=w.dtype)
        wt = _wrap(w, be)
        # torch's lerp: start + w * (end - start) for w < 0.5, else end - (end - start) * (1 - w)
        vb = where(wt < 0.5, vb + wt * (va - vb), va - (va - vb) * (1 - wt))
    # (..., nq) -> (nq, *kept) or kept for a scalar q
    out = vb.permute(vb.ndim - 1, *range(vb.ndim - 1)) if vb.ndim > 1 else vb
    return out.reshape(kept) if scalar_q else out.reshape((nq,) + kept)


@op()
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@op()
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# ------------------------------------------------------------------------------------------------
# unique, unique_consecutive

def _runs(xp, s, axis):
    """Where a new run of equal values (or equal slices, compared along every other axis) starts in
    s along axis (NaN != NaN: each NaN is a run of its own, as torch)."""
    n = s.shape[axis]
    if n == 0:
        return xp.zeros((0,), dtype=xp.bool)
    diff = _slice(s, axis, 1, None) != _slice(s, axis, 0, n - 1)
    if s.ndim > 1:
        diff = xp.any(diff, axis=tuple(i for i in range(s.ndim) if i != axis))
    return xp.concat((xp.ones((1,), dtype=xp.bool), diff))


def _unique_result(be, values, starts, order, shape_inverse, n, return_inverse, return_counts):
    """Assemble (values, inverse, counts) from the run starts of sorted slices; `order` maps sorted
    positions back to the input (None: the input was not sorted)."""
    xp = be.xp
    run_id = xp.cumulative_sum(xp.astype(starts, xp.int64)) - 1
    out = [values]
    if return_inverse:
        inv = run_id
        if order is not None:
            inv = xp.take(run_id, argsort_array(xp, order, 0))
        out.append(int64(be, xp.reshape(inv, shape_inverse)))
    if return_counts:
        first = xp.nonzero(starts)[0]
        ends = xp.concat((first[1:], xp.asarray([n], dtype=first.dtype))) if first.shape[0] else first
        out.append(int64(be, ends - first))
    return out[0] if len(out) == 1 else tuple(out)


def _dense_rank(xp, a):
    """For each column of a 2-d array, every element's rank among the column's distinct values
    (0-based, equal values share a rank; each NaN is a value of its own)."""
    order = argsort_array(xp, a, 0)
    s = xp.take_along_axis(a, order, axis=0)
    new = xp.astype(s[1:, :] != s[:-1, :], xp.int64)
    ranks = xp.cumulative_sum(xp.concat((xp.zeros((1, a.shape[1]), dtype=xp.int64), new), axis=0), axis=0)
    return xp.take_along_axis(ranks, argsort_array(xp, order, 0), axis=0)


def _lex_rank(xp, rows):
    """The rank of each row of a 2-d array in lexicographic order, by prefix doubling: column
    ranks, then ranks of adjacent pairs of ranks (r1 * n + r2 keeps their order), halving the
    number of columns each step: log2(columns) vectorized steps, no loop over elements."""
    n = rows.shape[0]
    r = _dense_rank(xp, rows)
    while r.shape[1] > 1:
        if r.shape[1] % 2:
            r = xp.concat((r, xp.zeros((n, 1), dtype=xp.int64)), axis=1)
        r = _dense_rank(xp, r[:, 0::2] * n + r[:, 1::2])
    return r[:, 0]


def _unique(input, sort_first, return_inverse, return_counts, dim, name):
    be = input._backend
    xp = be.xp
    a = input._data
    if dim is None:
        flat = xp.reshape(a, (-1,))
        n = flat.shape[0]
        order = argsort_array(xp, flat, 0) if sort_first else None
        s = xp.take(flat, order) if sort_first else flat
        starts = _runs(xp, s, 0)
        values = _wrap(xp.take(s, xp.nonzero(starts)[0]), be)
        return _unique_result(be, values, starts, order, tuple(a.shape), n, return_inverse, return_counts)
    d = norm_dim(dim, input.ndim, name)
    if input.ndim == 0:
        raise IndexError(f"{name}: Dimension out of range for a 0-d tensor (dim={dim})")
    if any(s == 0 for i, s in enumerate(a.shape) if i != d):
        raise RuntimeError(f"{name}: There are 0 sized dimensions, and they aren't selected, so unique cannot "
                           f"be applied (shape {tuple(a.shape)}, dim {d})")
    m = xp.moveaxis(a, d, 0) if hasattr(xp, "moveaxis") else xp.permute_dims(
        a, (d,) + tuple(i for i in range(a.ndim) if i != d))
    n = m.shape[0]
    rows = xp.reshape(m, (n, -1))
    order = None
    if sort_first:
        order = argsort_array(xp, _lex_rank(xp, rows), 0)
        rows = xp.take(rows, order, axis=0)
        m = xp.take(m, order, axis=0)
    starts = _runs(xp, rows, 0)
    picked = xp.take(m, xp.nonzero(starts)[0], axis=0)
    back = tuple(range(1, d + 1)) + (0,) + tuple(range(d + 1, a.ndim))
    values = _wrap(xp.permute_dims(picked, back), be)
    return _unique_result(be, values, starts, order, (n,), n, return_inverse, return_counts)


@op()
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Sorted unique values (torch sorts for sorted=False too); NaNs are all distinct."""
    return _quiet(input._backend, lambda: _unique(input, True, return_inverse, return_counts, dim, "unique"))


@op()
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    return _quiet(input._backend, lambda: _unique(input, False, return_inverse, return_counts, dim,
                                                  "unique_consecutive"))


# ------------------------------------------------------------------------------------------------
# searchsorted, bucketize

def _search(seq, values, right, out_int32):
    be = seq._backend
    xp = be.xp
    dt = result_dtype(seq, values)
    s, v = seq.to(dt)._data, values.to(dt)._data
    if s.ndim == 1:
        side = "right" if right else "left"
        r = xp.searchsorted(s, xp.reshape(v, (-1,)), side=side)
        r = xp.reshape(r, v.shape)
    else:
        # one search per leading index: count the elements below (or not above) each value;
        # O(n * m) comparisons, vectorized
        cmp = (s[..., None, :] <= v[..., :, None]) if right else (s[..., None, :] < v[..., :, None])
        r = xp.sum(xp.astype(cmp, xp.int64), axis=-1)
    return _wrap(xp.astype(r, be.native_dtype(_dt.int32 if out_int32 else _dt.int64)), be)


@op(method=False)
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    seq = sorted_sequence
    scalar = not isinstance(input, Tensor)
    values = as_tensor_like(input, seq, "searchsorted") if scalar else input
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of "
                               "left while right was True")
        right = side == "right"
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {tuple(seq.shape)} and input value tensor {tuple(values.shape)}")
    if seq.ndim > 1 and (values.ndim != seq.ndim or tuple(values.shape[:-1]) != tuple(seq.shape[:-1])):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {tuple(seq.shape)} and input value tensor {tuple(values.shape)}")
    if sorter is not None:
        if sorter.dtype is not _dt.int64:
            raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype, got {sorter.dtype.name}")
        if tuple(sorter.shape) != tuple(seq.shape):
            raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor {tuple(seq.shape)} and sorter tensor {tuple(sorter.shape)}")
        xp, sa = seq._backend.xp, sorter._data
        if sa.size and not bool(xp.all((sa >= 0) & (sa < seq.shape[-1]))):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        seq = _wrap(xp.take_along_axis(seq._data, sa, axis=seq.ndim - 1), seq._backend)
    return _quiet(seq._backend, lambda: _search(seq.detach(), values.detach(), right, out_int32))


@op(method=False)
def bucketize(input, boundaries, *, out_int32=False, right=False):
    if not isinstance(boundaries, Tensor) or boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim("
                           f"{getattr(boundaries, 'ndim', '?')})")
    values = input if isinstance(input, Tensor) else as_tensor_like(input, boundaries, "bucketize")
    return _quiet(boundaries._backend, lambda: _search(boundaries.detach(), values.detach(), right, out_int32))


# ------------------------------------------------------------------------------------------------
# histc, bincount

@op()
def histc(input, bins=100, min=0, max=0):
    """Counts in `bins` equal bins over [min, max] (the data's range where min == max == 0),
    elements outside it and NaN ignored, max itself in the last bin; float result, no gradient."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"torch.histc: not implemented for {input.dtype.name} tensors "
                           f"(input must be floating point)")
    if not isinstance(bins, int) or bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    be = input._backend
    xp = be.xp
    a = xp.reshape(input._data, (-1,))
    dt = a.dtype

    def compute():
        lo, hi = float(min), float(max)
        if lo == hi and a.shape[0]:
            lo, hi = float(xp.min(a)), float(xp.max(a))
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        if not (abs(lo) < float("inf") and abs(hi) < float("inf")):
            raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
        if lo > hi:
            raise RuntimeError("torch.histc: max must be larger than min")
        lo_a, hi_a = xp.asarray(lo, dtype=dt), xp.asarray(hi, dtype=dt)
        inside = (a >= lo_a) & (a <= hi_a)                      # NaN compares false: ignored
        sel = xp.take(a, xp.nonzero(inside)[0])
        pos = xp.astype((sel - lo_a) * xp.asarray(float(bins), dtype=dt) / (hi_a - lo_a), xp.int64)
        pos = xp.where(pos >= bins, xp.asarray(bins - 1, dtype=xp.int64), pos)   # max goes to the last bin
        out = be.scatter_add(xp.zeros((bins,), dtype=dt), (pos,), xp.ones(pos.shape, dtype=dt))
        return _wrap(out, be)
    return _quiet(be, compute)


@op()
def bincount(input, weights=None, minlength=0):
    if input.ndim != 1 or input.dtype.category != 1:
        if input.ndim == 1 and input.dtype.category != 1:
            raise RuntimeError(f"bincount: not implemented for {input.dtype.name} tensors "
                               f"(input must be a 1-d tensor of non-negative integers)")
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    be = input._backend
    xp = be.xp
    a = input._data
    if a.shape[0] and bool(xp.any(a < 0)):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != a.shape[0]):
        raise RuntimeError("bincount: weights should be 1-d and have the same length as input")
    n = builtin_max(int(xp.max(a)) + 1 if a.shape[0] else 0, int(minlength))
    idx = xp.astype(a, xp.int64)
    if weights is None:
        dt = be.native_dtype(_dt.int64)
        vals = xp.ones(a.shape, dtype=dt)
    else:
        wd = _dt.float32 if weights.dtype is _dt.float32 else _dt.float64       # torch's rule
        dt = be.native_dtype(wd)
        vals = xp.astype(weights._data, dt)
    return _wrap(be.scatter_add(xp.zeros((n,), dtype=dt), (idx,), vals), be)


import builtins as _builtins  # noqa: E402
builtin_max = _builtins.max

from .unary import masked, where  # noqa: E402 - used at call time above
