"""Rearranging ops: triangles and diagonals, flips and rolls, repeats, sliding windows, grids, the
*stack and *split helpers. PyTorch's semantics, views where PyTorch returns views.

`diagonal` and `Tensor.unfold` are views made by the backend's `as_strided` (a writable view of
the input's memory, so in-place writes through them reach the base as in torch); their gradients
scatter back with the engine's `IndexAddZeros` over an index of broadcasting aranges, so second
order comes from `Getitem` for free. Everything else is a composite of existing ops (tril is a
masked select, rot90 flips and transposes, the stacks are cat), or a primitive with a one-line
rule (flip, roll).
"""
from __future__ import annotations

import builtins

from backends import dtypes as _dt
from ..graph import primitive
from ..tensor import Tensor, _wrap
from ._core import apply, norm_dim, norm_dims
from ._registry import op
from .index import Getitem, IndexAddZeros, as_view
from .shape import Permute, cat, expand, permute, pieces
from .unary import Clone, masked

_I64 = _dt.int64


def _ar(B, n, pos, ndim, start=0, step=1):
    """start + step * arange(n), shaped to broadcast along axis pos of ndim axes."""
    shape = [1] * ndim
    shape[pos] = n
    a = B.xp.arange(n, dtype=B.native_dtype(_I64))
    if step != 1:
        a = a * step
    if start:
        a = a + start
    return B.xp.reshape(a, tuple(shape))


# ------------------------------------------------------------------------------------------------
# triangles

def _tri_mask(x, diagonal, lower):
    B = x._backend
    n, m = x.shape[-2], x.shape[-1]
    r = _ar(B, n, 0, 2)
    c = _ar(B, m, 1, 2)
    return (c - r <= diagonal) if lower else (c - r >= diagonal)


def _tri(x, diagonal, lower, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions (got {tuple(x.shape)})")
    return masked(x, _tri_mask(x, int(diagonal), lower))


@op(inplace=True)
def tril(input, diagonal=0):
    return _tri(input, diagonal, True, "tril")


@op(inplace=True)
def triu(input, diagonal=0):
    return _tri(input, diagonal, False, "triu")


# ------------------------------------------------------------------------------------------------
# diagonals

def _diag_geometry(shape, offset, d1, d2):
    n1, n2 = shape[d1], shape[d2]
    k = builtins.max(0, builtins.min(n1, n2 - offset) if offset >= 0 else builtins.min(n1 + offset, n2))
    return k, builtins.max(-offset, 0), builtins.max(offset, 0)      # length, first row, first column


def _diag_index(B, shape, offset, d1, d2):
    """The advanced index whose result is the diagonal (other dims first, the diagonal last)."""
    k, r0, c0 = _diag_geometry(shape, offset, d1, d2)
    others = [j for j in range(len(shape)) if j not in (d1, d2)]
    nd = len(others) + 1
    idx = []
    for j in range(len(shape)):
        if j == d1:
            idx.append(_ar(B, k, nd - 1, nd, r0))
        elif j == d2:
            idx.append(_ar(B, k, nd - 1, nd, c0))
        else:
            idx.append(_ar(B, shape[j], others.index(j), nd))
    return tuple(idx)


@primitive(view=True, warns=False)
class Diagonal:
    def forward(B, x, offset, dim1, dim2):
        shape = x.shape
        k, r0, c0 = _diag_geometry(shape, offset, dim1, dim2)
        lay = B.layout(x)
        v = None
        if lay is not None:
            sl = [slice(None)] * x.ndim
            if k:                                    # start at the first diagonal element
                sl[dim1], sl[dim2] = slice(r0, None), slice(c0, None)
            y = x[tuple(sl)] if k else x
            st = B.layout(y)[0]
            others = [j for j in range(x.ndim) if j not in (dim1, dim2)]
            v = B.as_strided(y, tuple(shape[j] for j in others) + (k,),
                             tuple(st[j] for j in others) + (st[dim1] + st[dim2],))
        if v is None:                                # no strides: a copy (the caller sees it is no view)
            v = B.getitem(x, _diag_index(B, shape, offset, dim1, dim2))
        return v

    def backward(ctx, g):
        shape = ctx.input_shapes[0]
        return apply(IndexAddZeros, (g,), _diag_index(g._backend, shape, ctx.offset, ctx.dim1, ctx.dim2), shape,
                     False)


def _as_view_or_copy(out, x, op_, params):
    """out as a view of x where the backend made one (it exposes strides), else as a copy."""
    if x._backend.layout(x._data) is None:
        out._vc = [0]
        return out
    return as_view(out, x, op_, params)


@op()
def diagonal(input, offset=0, dim1=0, dim2=1):
    x = input
    if x.ndim < 2:
        raise RuntimeError(f"diagonal(): input must have at least 2 dimensions, got {tuple(x.shape)}")
    d1, d2 = norm_dim(dim1, x.ndim, "diagonal"), norm_dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal(): dimensions cannot be identical {dim1}, {dim2}")
    params = (int(offset), d1, d2)
    return _as_view_or_copy(apply(Diagonal, (x,), *params), x, Diagonal, params)


_diagonal = diagonal          # diag's parameter `diagonal` hides the function there


@op()
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    x = input
    nd = x.ndim + 1
    d1, d2 = norm_dim(dim1, nd, "diag_embed"), norm_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    xs = x if x.ndim else x.reshape(1)
    m = xs.shape[-1]
    n = m + builtins.abs(int(offset))
    batch = list(xs.shape[:-1])
    shape, it = [], iter(batch)
    for j in range(nd):
        shape.append(n if j in (d1, d2) else next(it))
    B = x._backend
    nb = len(batch)
    idx, b = [], 0
    for j in range(nd):
        if j == d1:
            idx.append(_ar(B, m, nb, nb + 1, builtins.max(-offset, 0)))
        elif j == d2:
            idx.append(_ar(B, m, nb, nb + 1, builtins.max(offset, 0)))
        else:
            idx.append(_ar(B, batch[b], b, nb + 1))
            b += 1
    return apply(IndexAddZeros, (xs,), tuple(idx), tuple(shape), False)


@op()
def diag(input, diagonal=0):
    x = input
    if x.ndim == 1:
        n = x.shape[0] + builtins.abs(int(diagonal))
        B = x._backend
        r = _ar(B, x.shape[0], 0, 1, builtins.max(-diagonal, 0))
        c = _ar(B, x.shape[0], 0, 1, builtins.max(diagonal, 0))
        return apply(IndexAddZeros, (x,), (r, c), (n, n), False)
    if x.ndim == 2:
        return apply(Clone, (_diagonal(x, diagonal),))      # torch's diag of a matrix is a copy
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")


@op()
def trace(input):
    x = input
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    return diagonal(x).sum()


# ------------------------------------------------------------------------------------------------
# moving dims

def _dims_list(d):
    return list(d) if isinstance(d, (tuple, list)) else [d]


@op(aliases=("moveaxis",))
def movedim(input, source, destination):
    x = input
    src, dst = _dims_list(source), _dims_list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same "
                           f"number of dims as destination ({dst} dims)")
    nd = x.ndim
    src = [norm_dim(d, nd, "movedim") for d in src]
    dst = [norm_dim(d, nd, "movedim") for d in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({_dims_list(source)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({_dims_list(destination)})")
    if nd == 0:
        return x.reshape(())
    order = [-1] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(j for j in range(nd) if j not in src)
    order = [o if o >= 0 else next(rest) for o in order]
    return permute(x, tuple(order))


# ------------------------------------------------------------------------------------------------
# flips and rolls

@primitive(warns=False)
class Flip:
    def forward(B, x, dims):
        return B.xp.asarray(B.xp.flip(x, axis=dims), copy=True) if dims else B.xp.asarray(x, copy=True)

    def backward(ctx, g):
        return apply(Flip, (g,), ctx.dims)


@op()
def flip(input, dims):
    x = input
    dims = norm_dims(dims if isinstance(dims, (tuple, list)) else (dims,), x.ndim, "flip")
    return apply(Flip, (x,), dims)


@op()
def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: Input must be >= 2-d (got {tuple(input.shape)})")
    return flip(input, (1,))


@op()
def flipud(input):
    if input.ndim < 1:
        raise RuntimeError(f"flipud: Input must be >= 1-d (got {tuple(input.shape)})")
    return flip(input, (0,))


@primitive(warns=False)
class Roll:
    def forward(B, x, shifts, dims):
        return B.xp.roll(x, shifts, axis=dims)

    def backward(ctx, g):
        return apply(Roll, (g,), tuple(-s for s in ctx.shifts), ctx.dims)


@op()
def roll(input, shifts, dims=None):
    x = input
    shifts = tuple(int(s) for s in _dims_list(shifts))
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: 0")
        return apply(Roll, (x.reshape(-1),), shifts, (0,)).reshape(tuple(x.shape))
    dims = _dims_list(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    dims = tuple(norm_dim(d, x.ndim, "roll", wrap_scalar=False) for d in dims)
    return apply(Roll, (x,), shifts, dims)


@op()
def rot90(input, k=1, dims=(0, 1)):
    x = input
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = norm_dim(dims[0], x.ndim, "rot90"), norm_dim(dims[1], x.ndim, "rot90")
    if d0 == d1:
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k = k % 4
    if k in (1, 3):      # torch transposes its flipped copy in place: the result is no view of anything
        perm = list(range(x.ndim))
        perm[d0], perm[d1] = d1, d0
        return apply(Permute, (flip(x, (d1,) if k == 1 else (d0,)),), tuple(perm))
    if k == 2:
        return flip(x, (d0, d1))
    return x.clone()


# ------------------------------------------------------------------------------------------------
# repeats and windows

def _repeat_index(reps, n):
    """The index that repeats position i reps[i] times: searchsorted over the running total."""
    B = reps._backend
    r = reps._data
    i64 = B.native_dtype(_I64)
    if r.dtype != i64:
        r = B.xp.astype(r, i64)
    cumsum = getattr(B.xp, "cumulative_sum", None) or B.xp.cumsum     # NumPy-1-era CuPy: cumsum only
    ends = cumsum(r)
    total = int(ends[-1]) if n else 0
    pos = B.xp.arange(total, dtype=i64)
    return B.xp.searchsorted(ends, pos, side="right"), total


@op()
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    x = input
    if repeats is None:                             # repeat_interleave(repeats): arange(n) repeated
        reps = x
        if reps.ndim > 1 or reps.dtype not in (_dt.int64, _dt.int32):
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor of integers")
        reps = reps.reshape(-1)
        if reps.numel() and int(reps._backend.xp.min(reps._data)) < 0:
            raise RuntimeError("repeat_interleave: repeats can not be negative")
        idx, _ = _repeat_index(reps, reps.shape[0])
        return _wrap(idx, reps._backend).to(x.dtype)
    if dim is None:
        x = x.reshape(-1)
        d = 0
    else:
        d = norm_dim(dim, x.ndim, "repeat_interleave")
        if x.ndim == 0:
            x = x.reshape(1)
    n = x.shape[d]
    B = x._backend
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1 or repeats.dtype not in (_dt.int64, _dt.int32):
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor of integers")
        reps = repeats.reshape(-1)
        if reps.shape[0] == 1 and n != 1:
            reps = _wrap(B.xp.broadcast_to(reps._data, (n,)), B)
        elif reps.shape[0] != n:
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {reps.shape[0]} and input.size({d}) = {n}")
    else:
        reps = _wrap(B.xp.full((n,), int(repeats), dtype=B.native_dtype(_I64)), B)
    if reps.numel() and int(B.xp.min(reps._data)) < 0:
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    idx, total = _repeat_index(reps, n)
    if output_size is not None and output_size != total:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the repeats' total {total}")
    out = apply(Getitem, (x,), (slice(None),) * d + (idx,), False)
    out._vc = [0]
    return out


@op()
def tile(input, dims):
    x = input
    dims = tuple(int(s) for s in _dims_list(dims))
    if len(dims) < x.ndim:
        dims = (1,) * (x.ndim - len(dims)) + dims
    return x.repeat(dims)


@primitive(view=True, warns=False)
class Unfold:
    def forward(B, x, dimension, size, step):
        shape = x.shape
        nwin = (shape[dimension] - size) // step + 1
        out_shape = tuple(nwin if j == dimension else s for j, s in enumerate(shape)) + (size,)
        lay = B.layout(x)
        v = None
        if lay is not None:
            st = lay[0]
            v = B.as_strided(x, out_shape, tuple(s * step if j == dimension else s for j, s in enumerate(st))
                             + (st[dimension],))
        if v is None:
            v = B.getitem(x, _unfold_index(B, shape, dimension, size, step))
        return v

    def backward(ctx, g):
        shape = ctx.input_shapes[0]
        return apply(IndexAddZeros, (g,), _unfold_index(g._backend, shape, ctx.dimension, ctx.size, ctx.step), shape,
                     False)


def _unfold_index(B, shape, d, size, step):
    nd = len(shape) + 1
    nwin = (shape[d] - size) // step + 1
    return tuple(_ar(B, nwin, d, nd, 0, step) + _ar(B, size, nd - 1, nd) if j == d else _ar(B, s, j, nd)
                 for j, s in enumerate(shape))


def unfold(input, dimension, size, step):
    """Tensor.unfold (a method in tensor.py, not an @op: torch.nn.functional.unfold is im2col, another op)."""
    x = input
    d = norm_dim(dimension, x.ndim, "unfold")
    n = x.shape[d] if x.ndim else 1
    if size > n:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if x.ndim == 0:                  # a 0-d tensor unfolds as a 1-element vector, to (size,)
        return unfold(x.reshape(1), 0, size, step).reshape(int(size))
    params = (d, int(size), int(step))
    return _as_view_or_copy(apply(Unfold, (x,), *params), x, Unfold, params)


# ------------------------------------------------------------------------------------------------
# grids, at-least-n-d, stacks and splits

def _seq(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0]), True
    return list(tensors), len(tensors) != 1


@op(method=False)
def meshgrid(*tensors, indexing=None):
    ts, _ = _seq(tensors)
    if not ts:
        raise RuntimeError("meshgrid: expects a non-empty TensorList")
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: Expected 0D or 1D tensor in the tensor list but got: {tuple(t.shape)}")
        if t.dtype is not ts[0].dtype:
            raise RuntimeError("meshgrid: expects all tensors to have the same dtype")
        if t._backend is not ts[0]._backend:
            raise RuntimeError("meshgrid: expects all tensors to have the same device")
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    out = []
    for i, t in enumerate(ts):
        s = [1] * len(ts)
        s[i] = -1
        out.append(expand(t.reshape(s), shape))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def _atleast(tensors, n):
    ts, many = _seq(tensors)
    out = []
    for t in ts:
        if t.ndim >= n:
            out.append(t)
        elif n == 3 and t.ndim == 2:
            out.append(t.reshape(tuple(t.shape) + (1,)))
        elif n == 3 and t.ndim == 1:
            out.append(t.reshape(1, t.shape[0], 1))
        else:
            out.append(t.reshape((1,) * (n - t.ndim) + tuple(t.shape)))
    return tuple(out) if many else out[0]


@op(method=False)
def atleast_1d(*tensors):
    return _atleast(tensors, 1)


@op(method=False)
def atleast_2d(*tensors):
    return _atleast(tensors, 2)


@op(method=False)
def atleast_3d(*tensors):
    return _atleast(tensors, 3)


def _list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return list(tensors)


def _cat(ts, dim, name):
    try:
        return cat(ts, dim)
    except RuntimeError as e:
        raise RuntimeError(f"{name}: {e}") from None


@op(method=False)
def hstack(tensors):
    ts = [atleast_1d(t) for t in _list(tensors, "hstack")]
    return _cat(ts, 0 if ts[0].ndim == 1 else 1, "hstack")


@op(method=False, aliases=("row_stack",))
def vstack(tensors):
    return _cat([atleast_2d(t) for t in _list(tensors, "vstack")], 0, "vstack")


@op(method=False)
def dstack(tensors):
    return _cat([atleast_3d(t) for t in _list(tensors, "dstack")], 2, "dstack")


@op(method=False)
def column_stack(tensors):
    ts = [t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in _list(tensors, "column_stack")]
    return _cat(ts, 1, "column_stack")


@op()
def tensor_split(input, indices_or_sections, dim=0):
    x = input
    if x.ndim == 0:
        raise RuntimeError("tensor_split: expected at least a 1-dimensional tensor")
    d = norm_dim(dim, x.ndim, "tensor_split")
    n = x.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.dtype not in (_dt.int64,) or ios.ndim > 1:
            raise RuntimeError("tensor_split: tensor_indices_or_sections must be a zero-dimensional or one-dimensional "
                               "tensor with dtype long")
        ios = int(ios.item()) if ios.ndim == 0 else [int(v) for v in ios.tolist()]
    if isinstance(ios, int) and not isinstance(ios, bool):
        if ios <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, ios)
        sizes = [q + 1] * r + [q] * (ios - r)
        bounds, s = [], 0
        for z in sizes:
            bounds.append((s, s + z))
            s += z
    else:
        cuts = [int(v) for v in ios]
        bounds, prev = [], 0
        for c in cuts + [n]:
            c = builtins.min(builtins.max(c + n if c < 0 else c, 0), n) if c is not n else n
            bounds.append((prev, builtins.max(c, prev)))
            prev = c
    return pieces(x, d, bounds)        # one node for all pieces: one concatenation in backward


def _split_named(x, ios, dim, name):
    if isinstance(ios, int) and not isinstance(ios, bool):
        n = x.shape[dim]
        if ios == 0 or n % ios:
            raise RuntimeError(f"{name}: attempted to split along dimension {dim}, but the size of the dimension {n} "
                               f"is not divisible by the split_size {ios}!")
    return tensor_split(x, ios, dim)


@op()
def hsplit(input, indices_or_sections):
    if input.ndim < 1:
        raise RuntimeError(f"hsplit: requires a tensor with at least 1 dimension, but got a tensor with {input.ndim} "
                           f"dimensions!")
    return _split_named(input, indices_or_sections, 1 if input.ndim > 1 else 0, "hsplit")


@op()
def vsplit(input, indices_or_sections):
    if input.ndim < 2:
        raise RuntimeError(f"vsplit: requires a tensor with at least 2 dimension, but got a tensor with {input.ndim} "
                           f"dimensions!")
    return _split_named(input, indices_or_sections, 0, "vsplit")


@op()
def dsplit(input, indices_or_sections):
    if input.ndim < 3:
        raise RuntimeError(f"dsplit: requires a tensor with at least 3 dimension, but got a tensor with {input.ndim} "
                           f"dimensions!")
    return _split_named(input, indices_or_sections, 2, "dsplit")

